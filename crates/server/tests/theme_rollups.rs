//! Theme rollups can never drift from the tags they count. Random rounds of everything that
//! changes the themes page's figures — back-dated comments through the bulk seeder, new ones
//! through the patient's handler, the classifier catching up (beside its background worker),
//! staff adding and removing tags and changing their sentiment through the comments page,
//! withdrawals, retention runs, an operator's SQL moving rows, recomputation at random moments
//! — and after each round the figures the themes page reads (`Store::theme_counts`) equal the
//! page's old query over the rows for every filter it offers, and `check_rollups` finds no
//! difference. A hand-edited theme rollup is found by the check and repaired by a rebuild, and
//! a database whose theme rollups were never built has them built when it is opened. SQLite
//! and, with `CHORUS_TEST_POSTGRES_URL`, PostgreSQL.

use std::sync::Arc;

use axum::{Router, http::StatusCode};
use chorus_server::{AppState, dashboard::seed, users};
use chorus_store::theme_rollup::ThemeCounts;
use serde_json::json;
use sqlx::Row;

#[allow(dead_code)]
mod common;

use common::{Backend, client::Client};

/// splitmix64: this test's deterministic stream (its seed is printed, and
/// `CHORUS_THEME_SEED` replays it).
struct Stream(u64);

impl Stream {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n.max(1) as u64) as usize
    }
}

const COMMENTS: [&str; 8] = [
    "The food was cold and the ward was dirty.",
    "Lovely kind staff, they explained everything clearly.",
    "We waited four hours and nobody told us why.",
    "Parking was impossible and expensive.",
    "The nurse was rude but the food was lovely.",
    "Clean, quiet and the pain relief came quickly.",
    "Nothing to add.",
    "",
];

/// The themes page's figures as it read them from the rows before theme rollups: the truth.
async fn from_rows(
    state: &AppState,
    site: &str,
    service: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> ThemeCounts {
    let mut cond = String::new();
    let mut binds = vec![site.to_string()];
    for (sql, v) in [
        (" AND r.service = ", service),
        (" AND substr(r.received_at, 1, 10) >= ", from),
        (" AND substr(r.received_at, 1, 10) <= ", to),
    ] {
        if let Some(v) = v {
            binds.push(v.to_string());
            cond += &format!("{sql}${}", binds.len());
        }
    }
    let run = |sql: String| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b.clone());
        }
        q.fetch_all(state.store.pool())
    };
    let mut out = ThemeCounts::default();
    for r in run(format!(
        "SELECT substr(r.received_at, 1, 7), t.theme, t.sentiment, COUNT(*) FROM comment_themes t
         JOIN responses r ON r.id = t.response_id
         WHERE r.site = $1 AND t.state = 'active'{cond}
         GROUP BY substr(r.received_at, 1, 7), t.theme, t.sentiment"
    ))
    .await
    .unwrap()
    {
        out.tags
            .entry(r.get(0))
            .or_default()
            .insert((r.get(1), r.get(2)), r.get(3));
    }
    for r in run(format!(
        "SELECT substr(r.received_at, 1, 7), COUNT(*) FROM comment_classified c
         JOIN responses r ON r.id = c.response_id
         WHERE r.site = $1 AND c.has_text = 1{cond}
         GROUP BY substr(r.received_at, 1, 7)"
    ))
    .await
    .unwrap()
    {
        out.with_text.insert(r.get(0), r.get(1));
    }
    out
}

fn ago(days: i64) -> String {
    chorus_server::store::iso_utc(chorus_server::util::now_secs() - days * 86_400)[..10].to_string()
}

async fn figures_equal_the_rows(state: &AppState, what: &str) {
    let filters = [
        ("demo", None, None, None),
        ("other", None, None, None),
        ("demo", Some("outpatients"), None, None),
        // Ranges that cut months: whole months from month rollups, the ends from days.
        ("demo", None, Some(ago(47)), Some(ago(3))),
        ("demo", Some("ward-7"), Some(ago(80)), None),
        ("demo", None, None, Some(ago(20))),
        ("demo", None, Some(ago(9)), Some(ago(5))),
        ("other", Some("outpatients"), Some(ago(0)), Some(ago(0))),
    ];
    let mut seen = 0;
    for (site, service, from, to) in &filters {
        let (from, to) = (from.as_deref(), to.as_deref());
        // The background worker may be classifying meanwhile: compared only when the rows
        // read the same before and after the rollups were read.
        let (rows, rolled) = loop {
            let rows = from_rows(state, site, *service, from, to).await;
            let rolled = state.store.theme_counts(site, *service, from, to).await;
            if from_rows(state, site, *service, from, to).await == rows {
                break (rows, rolled.unwrap());
            }
        };
        assert_eq!(
            rolled, rows,
            "{what}: themes of {site} {service:?} {from:?}..{to:?}"
        );
        seen += rows.with_text.values().sum::<i64>();
    }
    assert!(seen > 0, "{what}: the filters saw no comments at all");
    let check = state.store.check_rollups(None, |_, _| {}).await.unwrap();
    assert!(
        check.theme_differences.is_empty() && check.differences.is_empty(),
        "{what}: rollups differ from the rows: {check:?}"
    );
}

/// Classify everything not read yet (the background worker may be doing the same).
async fn catch_up(state: &Arc<AppState>) {
    while chorus_server::classify::classify_pending(state, 100)
        .await
        .unwrap()
        > 0
    {}
}

async fn post(app: &Router, s: &mut Stream, key: &str) -> i64 {
    let site = ["demo", "demo", "other"][s.below(3)];
    let fft = ["very_good", "neither", "poor"][s.below(3)];
    let mut body = json!({"site": site, "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": fft}}});
    let why = COMMENTS[s.below(COMMENTS.len())];
    if !why.is_empty() {
        body["response"]["answers"]["why"] = json!(why);
    }
    match s.below(3) {
        0 if site == "demo" => {}
        1 => body["service"] = json!("ward-7"),
        _ => body["service"] = json!("outpatients"),
    }
    let (status, v) = common::post_submission(app, &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// Run a statement with these values.
async fn exec(state: &AppState, sql: &str, values: &[&str]) {
    let q = values
        .iter()
        .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, v| q.bind(*v));
    q.execute(state.store.pool()).await.unwrap();
}

/// (id, text) rows of a query.
async fn pairs(state: &AppState, sql: &str) -> Vec<(i64, String)> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(state.store.pool());
    let rows = rows.await.unwrap();
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// One staff correction through the comments page, on a demo comment: a tag added, removed or
/// its sentiment changed.
async fn correct(state: &AppState, c: &mut Client, csrf: &str, s: &mut Stream) {
    let active = pairs(
        state,
        "SELECT t.response_id, t.theme FROM comment_themes t JOIN responses r ON r.id = t.response_id
         WHERE r.site = 'demo' AND t.state = 'active' ORDER BY t.response_id, t.theme",
    )
    .await;
    let sentiment = ["positive", "negative", "neutral"][s.below(3)];
    let (id, form) = match s.below(3) {
        0 if !active.is_empty() => {
            let (id, theme) = active[s.below(active.len())].clone();
            (id, vec![("action", "remove".to_string()), ("theme", theme)])
        }
        1 if !active.is_empty() => {
            let (id, theme) = active[s.below(active.len())].clone();
            let form = vec![
                ("action", "sentiment".to_string()),
                ("theme", theme),
                ("sentiment", sentiment.to_string()),
            ];
            (id, form)
        }
        _ => {
            let ids = pairs(state, "SELECT id, site FROM responses WHERE site = 'demo'").await;
            let names = state.text.for_site("demo").theme_names();
            let form = vec![
                ("action", "add".to_string()),
                ("theme", names[s.below(names.len())].clone()),
                ("sentiment", sentiment.to_string()),
            ];
            (ids[s.below(ids.len())].0, form)
        }
    };
    let mut fields: Vec<(&str, &str)> = vec![("csrf", csrf)];
    fields.extend(form.iter().map(|(k, v)| (*k, v.as_str())));
    let p = c
        .post(&format!("/dashboard/comments/{id}/themes"), &fields)
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{form:?}: {}", p.body);
}

async fn theme_rollups_equal_the_rows_whatever_happens(app: Router, state: Arc<AppState>) {
    let seed0 = std::env::var("CHORUS_THEME_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(common::rand_suffix());
    eprintln!("theme rollups test seed {seed0}");
    let mut s = Stream(seed0);
    let opts = seed::SeedOptions {
        site: "demo".into(),
        months: 3,
        per_month: 100,
        seed: seed0,
        now: chorus_server::util::now_secs(),
    };
    seed::seed(&state, &opts, |_, _| {}).await.unwrap();
    catch_up(&state).await;
    figures_equal_the_rows(&state, "after seeding").await;

    let (email, password) = ("themes@trust.nhs.uk", "a long pass phrase 77");
    let added = users::add(&state.store, email, password, "demo", "analyst");
    added.await.unwrap();
    let mut c = Client::new(&app);
    assert_eq!(
        c.sign_in(email, password).await.status,
        StatusCode::SEE_OTHER
    );
    let csrf = c.get("/dashboard/comments?site=demo").await.csrf();
    let mut posted = Vec::new();
    for round in 0..10 {
        let what = format!("seed {seed0}, round {round}");
        for i in 0..(3 + s.below(8)) {
            posted.push(post(&app, &mut s, &format!("thr-{seed0}-{round}-{i}")).await);
        }
        // Some rounds read the page before the classifier caught up.
        if s.below(3) > 0 {
            catch_up(&state).await;
        }
        for _ in 0..(1 + s.below(4)) {
            correct(&state, &mut c, &csrf, &mut s).await;
        }
        // Each kind of change at least once, then at random.
        match if round < 5 { round } else { s.below(5) } {
            // A withdrawal (or a staff delete): its tags go with it.
            0 => {
                let id = posted.swap_remove(s.below(posted.len()));
                assert!(state.store.delete_response(id).await.unwrap());
            }
            // A retention run keeping 40 days.
            1 => {
                let now = std::time::SystemTime::now();
                let n = state.store.purge("demo", 40, now).await.unwrap();
                assert!(round > 1 || n > 0, "{what}: retention removed nothing");
            }
            // An operator's SQL moving some rows to another day and service.
            2 => {
                let days = 1 + s.below(30) as i64;
                let at =
                    chorus_server::store::iso_utc(chorus_server::util::now_secs() - days * 86_400);
                let sql = format!(
                    "UPDATE responses SET received_at = $1, service = $2 WHERE id % 7 = {}",
                    s.below(7)
                );
                exec(&state, &sql, &[&at, ["ward-7", "outpatients"][s.below(2)]]).await;
            }
            // Housekeeping recomputes noted days now (else reads take them from the rows).
            3 => {
                state.store.settle_rollups().await.unwrap();
            }
            _ => {}
        }
        figures_equal_the_rows(&state, &what).await;
    }
    catch_up(&state).await;
    figures_equal_the_rows(&state, "caught up").await;
    let all = from_rows(&state, "demo", None, None, None).await;
    assert!(
        all.tags.values().map(|t| t.len()).sum::<usize>() >= 5,
        "the comments name several themes: {all:?}"
    );

    // Rebuilding gives the same figures; a theme rollup edited by hand is found and repaired.
    let before = state
        .store
        .theme_counts("demo", None, None, None)
        .await
        .unwrap();
    state.store.rebuild_rollups(None, |_, _| {}).await.unwrap();
    let after = state.store.theme_counts("demo", None, None, None).await;
    assert_eq!(after.unwrap(), before, "a rebuild changes nothing");
    exec(
        &state,
        "UPDATE theme_rollups SET comments = comments + 1
         WHERE day = (SELECT MIN(day) FROM theme_rollups WHERE length(day) = 10) AND theme <> ''",
        &[],
    )
    .await;
    let last = "DELETE FROM theme_rollups WHERE day = (SELECT MAX(day) FROM theme_rollups)";
    exec(&state, last, &[]).await;
    let check = state.store.check_rollups(None, |_, _| {}).await.unwrap();
    assert!(
        check.theme_differences.len() >= 2 && check.differences.is_empty(),
        "an edited and a deleted theme rollup are differences: {check:?}"
    );
    state.store.rebuild_rollups(None, |_, _| {}).await.unwrap();
    figures_equal_the_rows(&state, "after the repair").await;

    // Tags stored before theme rollups existed: built when the database is opened.
    exec(&state, "DELETE FROM theme_rollups", &[]).await;
    exec(&state, "UPDATE rollup_state SET themes_built = 0", &[]).await;
    let again = chorus_server::store::Store::open(&url_of(&state).await)
        .await
        .unwrap();
    let check = again.check_rollups(None, |_, _| {}).await.unwrap();
    assert!(
        check.theme_differences.is_empty(),
        "after opening: {check:?}"
    );
    let reopened = again.theme_counts("demo", None, None, None).await.unwrap();
    assert_eq!(reopened, before, "built at open");
    again.pool().close().await;
}

/// The URL the app's store was opened on (SQLite file, or the test's PostgreSQL schema).
async fn url_of(state: &AppState) -> String {
    if let Ok(row) = sqlx::query("PRAGMA database_list")
        .fetch_one(state.store.pool())
        .await
    {
        return format!("sqlite://{}", row.get::<String, _>(2));
    }
    let schema: String = sqlx::query("SELECT CAST(current_schema() AS TEXT)")
        .fetch_one(state.store.pool())
        .await
        .unwrap()
        .get(0);
    let base = std::env::var("CHORUS_TEST_POSTGRES_URL").unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, common::TestDb)> {
    common::app_with(backend, "theme-rollups", |c| {
        (c.limits.per_ip_per_minute, c.limits.per_site_per_minute) = (1_000_000, 1_000_000);
        c.sites.push(common::other_site(&["outpatients", "ward-7"]));
    })
    .await
}

on_both!(4; theme_rollups_equal_the_rows_whatever_happens);
