//! Attacks on the dashboard and the server itself (issue 22): sign-in guesses sent all at once,
//! what the audit log shows and stores, per-site retention, the tag endpoint as an id oracle,
//! weak passwords and bad e-mail addresses, many made-up services, static files and redirects,
//! and slow or idle clients against a real listening server.
//!
//! The dashboard tests run on SQLite and, with `CHORUS_TEST_POSTGRES_URL`, on PostgreSQL (the
//! lockout's atomicity is the database's, so both are tried); the file and connection tests
//! need a real socket and run once.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::{AppState, Paths, router, store::Store, users};
use http_body_util::BodyExt;
use serde_json::json;
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

mod common;

use common::{Backend, TestDb};

const PASSWORD: &str = "correct horse battery";

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    // The shipped lock limits (5 per account, 20 per address); failures answered at once.
    common::app_with(backend, "hard", |config| {
        config.sites.push(common::other_site(&["ward-1", "ward-2"]));
    })
    .await
}

on_both!(
    4;
    concurrent_guesses_at_one_account_are_locked_before_they_are_checked,
    the_right_password_just_after_30_concurrent_wrong_ones_is_refused,
    concurrent_guesses_from_one_address_are_locked_at_its_limit,
    the_audit_log_shows_an_admin_only_their_sites_and_never_what_was_typed,
    an_e_mail_too_long_to_be_one_is_refused_before_anything_is_stored,
    retention_from_the_dashboard_covers_only_the_admins_sites,
    tagging_answers_alike_for_no_such_comment_and_another_sites_comment,
    thousands_of_made_up_services_do_not_grow_the_pages,
);

/// One answer, read whole.
struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Page {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn cookie_of(page: &Page, name: &str) -> Option<String> {
    page.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
        .filter(|v| !v.is_empty())
}

fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..at + body[at..].find('"').unwrap()].to_string()
}

/// The sign-in form's double-submit pair: (cookie value, form token).
async fn login_form(app: &Router) -> (String, String) {
    let p = send(
        app,
        Request::get("/dashboard/login")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    (cookie_of(&p, "chorus_login").unwrap(), csrf_of(&p.body))
}

/// Send the sign-in form from `peer`.
async fn sign_in_from(app: &Router, peer: SocketAddr, email: &str, password: &str) -> Page {
    let (cookie, csrf) = login_form(app).await;
    let mut req = Request::post("/dashboard/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("chorus_login={cookie}"))
        .body(Body::from(common::form_body(&[
            ("csrf", &csrf),
            ("email", email),
            ("password", password),
        ])))
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    send(app, req).await
}

fn peer(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 40000))
}

/// Sign in and return the session cookie (for a user made here with [`PASSWORD`]).
async fn session(app: &Router, state: &AppState, email: &str, site: &str, role: &str) -> String {
    users::add(&state.store, email, PASSWORD, site, role)
        .await
        .unwrap();
    let p = sign_in_from(app, peer(200), email, PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    cookie_of(&p, "chorus_session").unwrap()
}

async fn get_as(app: &Router, session: &str, uri: &str) -> Page {
    send(
        app,
        Request::get(uri)
            .header(header::COOKIE, format!("chorus_session={session}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn post_as(app: &Router, session: &str, uri: &str, fields: &[(&str, &str)]) -> Page {
    send(
        app,
        Request::post(uri)
            .header(header::COOKIE, format!("chorus_session={session}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(common::form_body(fields)))
            .unwrap(),
    )
    .await
}

/// Statuses of `n` sign-ins sent at once (each from `peer_of(i)`, for `email_of(i)`).
async fn burst(
    app: &Router,
    n: usize,
    peer_of: impl Fn(usize) -> SocketAddr,
    email_of: impl Fn(usize) -> String,
    password: &str,
) -> Vec<StatusCode> {
    // Forms first, so the guesses themselves go out together.
    let mut forms = Vec::new();
    for _ in 0..n {
        forms.push(login_form(app).await);
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = forms
        .into_iter()
        .enumerate()
        .map(|(i, (cookie, csrf))| {
            let app = app.clone();
            let barrier = barrier.clone();
            let (peer, email, password) = (peer_of(i), email_of(i), password.to_string());
            tokio::spawn(async move {
                let mut req = Request::post("/dashboard/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::COOKIE, format!("chorus_login={cookie}"))
                    .body(Body::from(common::form_body(&[
                        ("csrf", &csrf),
                        ("email", &email),
                        ("password", &password),
                    ])))
                    .unwrap();
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                barrier.wait().await;
                send(&app, req).await.status
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(statuses: &[StatusCode], s: StatusCode) -> usize {
    statuses.iter().filter(|x| **x == s).count()
}

async fn audit(state: &AppState) -> Vec<(String, String, Option<String>, String)> {
    common::rows(
        &state,
        "SELECT actor, action, site, detail FROM audit_log ORDER BY id",
        &[],
    )
    .await
}

async fn checked_failures(state: &AppState) -> usize {
    audit(state)
        .await
        .iter()
        .filter(|a| a.1 == "sign_in_failed")
        .count()
}

async fn concurrent_guesses_at_one_account_are_locked_before_they_are_checked(
    app: Router,
    state: Arc<AppState>,
) {
    users::add(
        &state.store,
        "target@trust.nhs.uk",
        PASSWORD,
        "demo",
        "admin",
    )
    .await
    .unwrap();
    // 100 wrong guesses at once, each from its own address (so only the account's limit applies).
    let statuses = burst(
        &app,
        100,
        |i| peer(u8::try_from(i).unwrap() + 1),
        |_| "target@trust.nhs.uk".into(),
        "not the password at all",
    )
    .await;
    // Exactly the account's five were checked (401); the other 95 met the lock unchecked.
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        5,
        "{statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 95);
    assert_eq!(checked_failures(&state).await, 5);
    let locked = audit(&state)
        .await
        .iter()
        .filter(|a| a.1 == "account_locked")
        .count();
    assert_eq!(locked, 1);
    // Locked: the right password is refused too.
    let p = sign_in_from(&app, peer(250), "target@trust.nhs.uk", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(p.headers.contains_key(header::RETRY_AFTER));
    assert!(cookie_of(&p, "chorus_session").is_none());
}

async fn the_right_password_just_after_30_concurrent_wrong_ones_is_refused(
    app: Router,
    state: Arc<AppState>,
) {
    users::add(
        &state.store,
        "nurse@trust.nhs.uk",
        PASSWORD,
        "demo",
        "viewer",
    )
    .await
    .unwrap();
    let statuses = burst(
        &app,
        30,
        |_| peer(7),
        |_| "nurse@trust.nhs.uk".into(),
        "a wrong guess, again",
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        5,
        "{statuses:?}"
    );
    let p = sign_in_from(&app, peer(7), "nurse@trust.nhs.uk", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS, "{}", p.body);
    assert!(cookie_of(&p, "chorus_session").is_none());
    let sessions: i64 = common::value(&state, "SELECT COUNT(*) FROM sessions", &[]).await;
    assert_eq!(sessions, 0);
}

async fn concurrent_guesses_from_one_address_are_locked_at_its_limit(
    app: Router,
    state: Arc<AppState>,
) {
    users::add(&state.store, "ok@trust.nhs.uk", PASSWORD, "demo", "viewer")
        .await
        .unwrap();
    // 100 different names at once from one address: its limit is 20.
    let statuses = burst(
        &app,
        100,
        |_| peer(9),
        |i| format!("guess{i}@trust.nhs.uk"),
        "some password or other",
    )
    .await;
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        20,
        "{statuses:?}"
    );
    assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 80);
    assert_eq!(checked_failures(&state).await, 20);
    // The address is locked even for a real account with its right password...
    let p = sign_in_from(&app, peer(9), "ok@trust.nhs.uk", PASSWORD).await;
    assert_eq!(p.status, StatusCode::TOO_MANY_REQUESTS);
    // ...and that refusal did not count against the account: from elsewhere it signs in.
    let p = sign_in_from(&app, peer(10), "ok@trust.nhs.uk", PASSWORD).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    // A success gives its reservation back: an address with a few typos and a success is
    // not nearer its lock than the typos alone.
    users::add(
        &state.store,
        "typo@trust.nhs.uk",
        PASSWORD,
        "demo",
        "viewer",
    )
    .await
    .unwrap();
    for _ in 0..3 {
        sign_in_from(&app, peer(11), "typo@trust.nhs.uk", "fat fingers here").await;
    }
    sign_in_from(&app, peer(11), "typo@trust.nhs.uk", PASSWORD).await;
    let left: i64 = common::value(
        &state,
        "SELECT failures FROM login_failures WHERE key = 'ip:10.0.0.11'",
        &[],
    )
    .await;
    assert_eq!(left, 3);
}

async fn the_audit_log_shows_an_admin_only_their_sites_and_never_what_was_typed(
    app: Router,
    state: Arc<AppState>,
) {
    let demo = session(&app, &state, "demo-admin@trust.nhs.uk", "demo", "admin").await;
    let other = session(&app, &state, "other-admin@other.nhs.uk", "other", "admin").await;
    users::add(&state.store, "dn@trust.nhs.uk", PASSWORD, "demo", "viewer")
        .await
        .unwrap();
    // A wrong password for a demo account; a password typed into the e-mail box.
    sign_in_from(&app, peer(1), "dn@trust.nhs.uk", "wrong password here").await;
    let typed = "Hunter2-secret-typed-as-email";
    let p = sign_in_from(&app, peer(1), typed, typed).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    chorus_server::apply_retention(&state).await;

    let demo_page = get_as(&app, &demo, "/dashboard/audit").await;
    assert_eq!(demo_page.status, StatusCode::OK);
    assert!(demo_page.body.contains("dn@trust.nhs.uk"));
    assert!(demo_page.body.contains("demo-admin@trust.nhs.uk"));
    let other_page = get_as(&app, &other, "/dashboard/audit").await;
    assert_eq!(other_page.status, StatusCode::OK);
    assert!(other_page.body.contains("other-admin@other.nhs.uk"));
    for not_theirs in [
        "dn@trust.nhs.uk",
        "demo-admin@trust.nhs.uk",
        "older than 730 days",
        "3 origins",
    ] {
        assert!(
            !other_page.body.contains(not_theirs),
            "{not_theirs} shown to another site"
        );
    }
    for page in [&demo_page.body, &other_page.body] {
        assert!(!page.contains("Hunter2"), "the typed name is shown");
        assert!(
            !page.contains("unknown account"),
            "a no-site event is shown"
        );
    }
    // Nowhere in the database either: not the audit log, not the failure counts.
    let everything: Vec<String> = sqlx::query("SELECT actor || ' ' || detail FROM audit_log")
        .fetch_all(state.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .chain(
            sqlx::query("SELECT key FROM login_failures")
                .fetch_all(state.store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0)),
        )
        .collect();
    assert!(
        !everything
            .iter()
            .any(|e| e.to_lowercase().contains("hunter2")),
        "{everything:?}"
    );
    assert!(everything.iter().any(|e| e.contains("unknown account #")));
    // Not even an unkeyed hash of it, which a list of common passwords would reverse.
    let plain = chorus_server::dashboard::sha256_hex(&typed.to_lowercase());
    assert!(
        !everything.iter().any(|e| e.contains(&plain[..10])),
        "{everything:?}"
    );
    // A real account's failures are counted under its id, not its address.
    assert!(
        everything
            .iter()
            .all(|e| !e.starts_with("account:") || e[8..].bytes().all(|b| b.is_ascii_digit())),
        "{everything:?}"
    );
}

async fn an_e_mail_too_long_to_be_one_is_refused_before_anything_is_stored(
    app: Router,
    state: Arc<AppState>,
) {
    let before = (audit(&state).await.len(), failure_keys(&state).await);
    let long = format!("{}@trust.nhs.uk", "a".repeat(200_000));
    let p = sign_in_from(&app, peer(3), &long, "whatever password").await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(
        p.body
            .contains("Enter an email address of at most 254 characters"),
        "{}",
        &p.body[..500.min(p.body.len())]
    );
    assert!(p.body.len() < 20_000, "the address is echoed back");
    assert_eq!(
        (audit(&state).await.len(), failure_keys(&state).await),
        before
    );
    // A password longer than any password is refused the same way, unchecked.
    let p = sign_in_from(&app, peer(3), "a@trust.nhs.uk", &"x".repeat(5000)).await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (audit(&state).await.len(), failure_keys(&state).await),
        before
    );
    // And staff accounts cannot be made with one.
    let e = users::add(&state.store, &long, PASSWORD, "demo", "admin")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("at most 254"), "{e}");
}

async fn failure_keys(state: &AppState) -> i64 {
    common::value(&state, "SELECT COUNT(*) FROM login_failures", &[]).await
}

async fn post_response(app: &Router, site: &str, service: &str, key: &str) {
    let body = json!({"site": site, "service": service, "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": "good"}}});
    let p = send(
        app,
        Request::post("/api/v1/responses")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
}

async fn age_all(state: &AppState) {
    common::exec(
        &state,
        "UPDATE responses SET received_at = '2020-01-01T00:00:00.000Z'",
        &[],
    )
    .await;
}

async fn retention_from_the_dashboard_covers_only_the_admins_sites(
    app: Router,
    state: Arc<AppState>,
) {
    post_response(&app, "demo", "emergency", "keep-0000001").await;
    post_response(&app, "other", "ward-1", "old-00000001").await;
    age_all(&state).await;
    let other = session(&app, &state, "ret@other.nhs.uk", "other", "admin").await;
    let page = get_as(&app, &other, "/dashboard/audit").await;
    let p = post_as(
        &app,
        &other,
        "/dashboard/retention",
        &[("csrf", &csrf_of(&page.body))],
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let left: Vec<String> = common::column(&state, "SELECT site FROM responses", &[]).await;
    assert_eq!(left, ["demo"], "another site's responses were deleted");
    let runs: Vec<Option<String>> = audit(&state)
        .await
        .into_iter()
        .filter(|a| a.1 == "retention")
        .map(|a| a.2)
        .collect();
    assert_eq!(runs, [Some("other".to_string())]);
}

async fn tagging_answers_alike_for_no_such_comment_and_another_sites_comment(
    app: Router,
    state: Arc<AppState>,
) {
    post_response(&app, "demo", "emergency", "tag-00000001").await;
    let id: i64 = common::value(&state, "SELECT id FROM responses", &[]).await;
    let analyst = session(&app, &state, "an@other.nhs.uk", "other", "analyst").await;
    let csrf = csrf_of(&get_as(&app, &analyst, "/dashboard").await.body);
    let tag = |id: i64| {
        let (app, analyst, csrf) = (app.clone(), analyst.clone(), csrf.clone());
        async move {
            post_as(
                &app,
                &analyst,
                &format!("/dashboard/comments/{id}/tags"),
                &[("csrf", &csrf), ("action", "add"), ("tag", "probe")],
            )
            .await
        }
    };
    let theirs = tag(id).await;
    let missing = tag(id + 1000).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.status, theirs.status);
    assert_eq!(missing.body, theirs.body);
    let tags: i64 = common::value(&state, "SELECT COUNT(*) FROM comment_tags", &[]).await;
    assert_eq!(tags, 0);
}

async fn thousands_of_made_up_services_do_not_grow_the_pages(app: Router, state: Arc<AppState>) {
    // Three real services, a few responses each.
    for (i, s) in ["emergency", "maternity", "outpatients"].iter().enumerate() {
        for j in 0..3 {
            post_response(&app, "demo", s, &format!("real-{i:04}{j:04}")).await;
        }
    }
    let admin = session(&app, &state, "svc@trust.nhs.uk", "demo", "admin").await;
    let small = get_as(&app, &admin, "/dashboard/fft").await;
    assert_eq!(small.status, StatusCode::OK);
    // 3,000 responses, each naming its own made-up service (the demo site accepts any).
    common::exec(&state, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO responses (site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, score_mismatch, received_at)
         SELECT r.site, 'made-up-service-name-' || n.i, r.instrument, r.version, r.locale, 'svc-' || n.i, r.body_hash, r.answers, r.scores, r.score_mismatch, r.received_at
         FROM n, (SELECT * FROM responses WHERE idempotency_key = 'real-00000000') r", &[]).await;
    // Rows written behind the store's back: rolled up as `chorus rollup rebuild` would.
    state.store.rebuild_rollups(None, |_, _| {}).await.unwrap();
    assert_eq!(state.store.count().await.unwrap(), 3009);
    let big = get_as(&app, &admin, "/dashboard/fft").await;
    assert_eq!(big.status, StatusCode::OK);
    eprintln!(
        "FFT page: {} bytes with 3 services, {} with 3,003",
        small.body.len(),
        big.body.len()
    );
    assert!(
        big.body.len() < small.body.len() * 3,
        "{} bytes with 3,000 services, {} without",
        big.body.len(),
        small.body.len()
    );
    // Every response still counts: the rest are one "other services" row.
    assert!(big.body.contains("(other services: "), "no other row");
    assert!(big.body.contains("<span class=\"big-number\">3009</span>"));
    let select = &big.body[big.body.find("id=\"service\"").unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(select.matches("<option").count() <= 22, "{select}");
    for real in ["emergency", "maternity", "outpatients"] {
        assert!(select.contains(real), "{real} is not offered");
    }
    // A made-up name can still be asked for, and is then offered as the selected one.
    let one = get_as(
        &app,
        &admin,
        "/dashboard/fft?service=made-up-service-name-2999",
    )
    .await;
    assert!(
        one.body
            .contains("<option value=\"made-up-service-name-2999\" selected>")
    );
    // A site with configured services offers only those, whatever is stored.
    let other = session(&app, &state, "svc@other.nhs.uk", "other", "admin").await;
    post_response(&app, "other", "ward-2", "other-000001").await;
    common::exec(
        &state,
        "UPDATE responses SET service = 'not-configured' WHERE site = 'other'",
        &[],
    )
    .await;
    let page = get_as(&app, &other, "/dashboard/fft?site=other").await;
    let select = &page.body[page.body.find("id=\"service\"").unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(select.contains("ward-1") && select.contains("ward-2"));
    assert!(!select.contains("not-configured"), "{select}");
}

// ---- Static files, redirects and headers (no database work: SQLite only) ----

async fn static_app(dir: &Path) -> (Router, Arc<AppState>) {
    let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap();
    let state = Arc::new(AppState::new(store, chorus_server::config::Config::demo()));
    let paths = Paths {
        pkg_dir: dir.join("pkg"),
        www_dir: dir.join("www"),
    };
    (router(state.clone(), paths), state)
}

fn temp(what: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "chorus-hard-{what}-{}-{}",
        std::process::id(),
        common::rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn get(app: &Router, uri: &str, accept_encoding: Option<&str>) -> Page {
    let mut req = Request::get(uri);
    if let Some(e) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, e);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn static_files_do_not_follow_links_out_of_their_folders() {
    let dir = temp("links");
    let outside = temp("outside");
    std::fs::write(outside.join("secret.txt"), "outside the site").unwrap();
    let www = dir.join("www");
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(www.join("docs")).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(www.join("docs/index.html"), "<h1>docs</h1>").unwrap();
    std::fs::write(pkg.join("chorus.js"), "/* bundle */").unwrap();
    use std::os::unix::fs::symlink;
    symlink(outside.join("secret.txt"), www.join("leak.txt")).unwrap();
    symlink(&outside, www.join("elsewhere")).unwrap();
    symlink(www.join("index.html"), www.join("alias.html")).unwrap();
    symlink(outside.join("secret.txt"), pkg.join("chorus.js.br")).unwrap();
    symlink(outside.join("secret.txt"), pkg.join("leak.js")).unwrap();
    let (app, state) = static_app(&dir).await;
    for uri in [
        "/leak.txt",
        "/elsewhere/secret.txt",
        "/elsewhere/",
        "/embed/leak.js",
        "/%6Ceak.txt",
    ] {
        let p = get(&app, uri, None).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!p.body.contains("outside the site"), "{uri}");
    }
    let p = get(&app, "/embed/chorus.js", Some("br")).await;
    assert!(!p.body.contains("outside the site"));
    // Links that stay inside the folder still work, and so does everything else.
    let p = get(&app, "/alias.html", None).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("home"));
    assert_eq!(get(&app, "/", None).await.status, StatusCode::OK);
    state.store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&outside);
}

#[tokio::test]
async fn no_path_redirects_off_the_site() {
    let dir = temp("redirect");
    std::fs::create_dir_all(dir.join("www/docs")).unwrap();
    std::fs::write(dir.join("www/docs/index.html"), "<h1>docs</h1>").unwrap();
    let (app, state) = static_app(&dir).await;
    // The folder without its slash is redirected on this site...
    let p = get(&app, "/docs", None).await;
    assert!(p.status.is_redirection(), "{}", p.status);
    assert_eq!(p.headers[header::LOCATION], "/docs/");
    // ...but never to a protocol-relative address on another host.
    for uri in ["//docs", "//docs/", "/%2Fdocs", "/%5Cdocs", "/%2F%2Fdocs"] {
        let p = get(&app, uri, None).await;
        let location = p
            .headers
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_string());
        assert!(
            location
                .as_deref()
                .is_none_or(|l| l.starts_with('/') && !l.starts_with("//") && !l.contains('\\')),
            "{uri} -> {location:?}"
        );
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{uri}");
    }
    state.store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn demo_pages_are_sent_with_a_strict_content_security_policy() {
    let dir = temp("csp");
    std::fs::create_dir_all(dir.join("www/docs")).unwrap();
    std::fs::write(dir.join("www/index.html"), "<h1>home</h1>").unwrap();
    std::fs::write(dir.join("www/docs/api.html"), "<h1>api</h1>").unwrap();
    let (app, state) = static_app(&dir).await;
    for uri in ["/", "/docs/api.html", "/no-such-page.html"] {
        let p = get(&app, uri, None).await;
        let csp = p.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert_eq!(csp, chorus_server::WWW_CSP, "{uri}");
        for part in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(part), "{uri}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }
    // The API and the dashboard keep their own, stricter policies.
    let p = get(&app, "/api/v1/instruments", None).await;
    assert!(
        p.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let p = get(&app, "/dashboard/login", None).await;
    assert!(
        p.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    state.store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- Slow and idle clients against a real listening server ----

/// A server on a free loopback port with these limits; returns its address.
async fn listening(
    dir: &Path,
    limits: impl FnOnce(&mut chorus_server::config::Limits),
) -> (SocketAddr, Arc<AppState>) {
    let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap();
    let mut config = chorus_server::config::Config::demo();
    config.limits.per_ip_per_minute = 100_000;
    limits(&mut config.limits);
    let state = Arc::new(AppState::new(store, config));
    let app = router(
        state.clone(),
        Paths {
            pkg_dir: dir.join("pkg"),
            www_dir: dir.join("www"),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let opts = chorus_server::serve::ServeOptions::from(&state.config.limits);
    tokio::spawn(chorus_server::serve::serve(
        listener,
        app,
        opts,
        std::future::pending(),
    ));
    (addr, state)
}

/// A connection to `addr` from the loopback address `from` (127.0.0.x).
async fn connect_from(from: [u8; 4], addr: SocketAddr) -> tokio::net::TcpStream {
    let s = tokio::net::TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::from((from, 0))).unwrap();
    s.connect(addr).await.unwrap()
}

/// Everything the server sends until it closes, or `None` if it is still open after `wait`.
async fn read_until_closed(s: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let done = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    done.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

fn fft_body(key: &str) -> String {
    json!({"site": "demo", "response": {"instrument": "fft", "version": 1, "locale": "en",
        "idempotency_key": key, "answers": {"fft": "very_good"}}})
    .to_string()
}

/// One POST of a response over its own connection from `from`; the status line's code.
async fn post_from(from: [u8; 4], addr: SocketAddr, key: &str) -> Option<u16> {
    let mut s = connect_from(from, addr).await;
    let body = fft_body(key);
    let req = format!(
        "POST /api/v1/responses HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let text = read_until_closed(&mut s, Duration::from_secs(10)).await?;
    text.get(9..12)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holding_300_idle_sockets_does_not_keep_patients_out() {
    let dir = temp("cap");
    // The shipped cap (64 per address); a long header timeout, so the idle sockets stay.
    let (addr, state) = listening(&dir, |l| l.header_read_timeout_seconds = 60).await;
    assert_eq!(state.config.limits.connections_per_ip(), Some(64));
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(connect_from([127, 0, 0, 1], addr).await);
    }
    // The first 64 are held open; every one after is told why and closed at once. All are
    // read at the same time: a refused one answers at once, an open one stays silent.
    let reads: Vec<_> = idle
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let got = read_until_closed(&mut s, Duration::from_secs(3)).await;
                (s, got)
            })
        })
        .collect();
    let mut idle = Vec::new();
    let mut refused = 0;
    let mut open = 0;
    for r in reads {
        let (s, got) = r.await.unwrap();
        match got {
            Some(text) => {
                assert!(text.starts_with("HTTP/1.1 503"), "{text:?}");
                assert!(text.contains("too_many_connections"), "{text:?}");
                refused += 1;
            }
            None => {
                open += 1;
                idle.push(s);
            }
        }
    }
    assert_eq!((open, refused), (64, 236));
    // A patient elsewhere is served as usual while they are held.
    let started = std::time::Instant::now();
    assert_eq!(
        post_from([127, 0, 0, 2], addr, "patient-00000001").await,
        Some(201)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // The same address, while at its cap, is refused; once its sockets close, it is served.
    let mut more = connect_from([127, 0, 0, 1], addr).await;
    let text = read_until_closed(&mut more, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(text.starts_with("HTTP/1.1 503"), "{text:?}");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        post_from([127, 0, 0, 1], addr, "patient-00000003").await,
        Some(201)
    );
    assert_eq!(state.store.count().await.unwrap(), 2);
    drop(more);
    state.store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_finish_their_headers_are_closed_after_the_header_timeout() {
    let dir = temp("headers");
    let (addr, state) = listening(&dir, |l| {
        l.header_read_timeout_seconds = 1;
        l.idle_timeout_seconds = 60;
    })
    .await;
    let started = std::time::Instant::now();
    // Nothing sent at all; half a request line and a header; a kept-alive connection after
    // one answer, waiting for a next request that never comes.
    let mut silent = connect_from([127, 0, 0, 1], addr).await;
    let mut partial = connect_from([127, 0, 0, 1], addr).await;
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut kept = connect_from([127, 0, 0, 1], addr).await;
    kept.write_all(b"GET /api/v1/instruments HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    for s in [&mut silent, &mut partial, &mut kept] {
        let text = read_until_closed(s, Duration::from_secs(10)).await;
        assert!(text.is_some(), "still open after {:?}", started.elapsed());
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    state.store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_closed_after_the_idle_timeout() {
    let dir = temp("idle");
    let (addr, state) = listening(&dir, |l| {
        l.header_read_timeout_seconds = 30;
        l.idle_timeout_seconds = 1;
        l.request_timeout_seconds = 60;
    })
    .await;
    let started = std::time::Instant::now();
    let mut s = connect_from([127, 0, 0, 1], addr).await;
    s.write_all(b"POST /api/v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"site\":")
        .await
        .unwrap();
    assert!(
        read_until_closed(&mut s, Duration::from_secs(10))
            .await
            .is_some()
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(state.store.count().await.unwrap(), 0);
    // A client that keeps sending is not idle: a normal POST still works.
    assert_eq!(
        post_from([127, 0, 0, 1], addr, "after-idle-0001").await,
        Some(201)
    );
    state.store.pool().close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The failure the issue found, end to end: the real binary with 256 file descriptors and
/// 300 idle sockets from one address. Before the cap, accept failed with "Too many open
/// files" and patients' POSTs timed out.
#[test]
fn the_server_with_256_descriptors_survives_300_idle_sockets() {
    use std::io::{BufRead, Read, Write};
    let dir = temp("fds");
    let port = common::free_port();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n 256 && exec \"$0\" serve --addr 127.0.0.1:{port} --pkg-dir \"$1\" --www-dir \"$1\""
        ))
        .arg(env!("CARGO_BIN_EXE_chorus"))
        .arg(&dir)
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("t.db").display()))
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let child = Kill(child);
    loop {
        let line = lines
            .next()
            .expect("chorus exited before listening")
            .unwrap();
        if line.contains("Chorus listening on") {
            break;
        }
    }
    let log = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let addr = format!("127.0.0.1:{port}");
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // A patient on another address.
    let mut sock = socket_from([127, 0, 0, 2], &addr);
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = fft_body("fd-limit-00000001");
    write!(
        sock,
        "POST /api/v1/responses HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    drop(idle);
    drop(child);
    let log = log.join().unwrap();
    assert!(
        !log.iter().any(|l| l.contains("Too many open files")),
        "{log:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A blocking connection from a chosen loopback address (std has no bind-before-connect).
fn socket_from(from: [u8; 4], addr: &str) -> std::net::TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr: SocketAddr = addr.parse().unwrap();
    let s = rt.block_on(connect_from(from, addr));
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s
}
