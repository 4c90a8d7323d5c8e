//! API integration tests. Every test runs against SQLite (a temporary file) and against
//! PostgreSQL (a fresh schema in `CHORUS_TEST_POSTGRES_URL`; `cargo xtask test` starts a local
//! cluster and sets it). Without that variable the PostgreSQL half says it was skipped.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::{AppState, Paths, router, store::Store};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A router over a fresh database, or `None` (with a printed reason) when the backend is not
/// available here.
async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>)> {
    let url = match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join(format!(
                "chorus-api-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            format!("sqlite://{}", dir.join("t.db").display())
        }
        Backend::Postgres => {
            let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
                eprintln!("skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL");
                return None;
            };
            // An isolated schema per test, so tests never see each other's rows.
            sqlx::any::install_default_drivers();
            let schema = format!("t_{}_{}", std::process::id(), rand_suffix());
            let admin = sqlx::AnyPool::connect(&base)
                .await
                .expect("connect to PostgreSQL");
            // The name is made of digits we generated: safe to splice.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
    };
    let store = Store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("{backend:?}: {e:#}"));
    let mut config = chorus_server::config::Config::demo();
    config.limits.per_ip_per_minute = 5; // only requests that carry a peer address are per-IP limited
    let state = Arc::new(AppState::new(store, config));
    let dir = std::env::temp_dir();
    let paths = Paths {
        pkg_dir: dir.join("no-pkg"),
        www_dir: dir.join("no-www"),
    };
    Some((router(state.clone(), paths), state))
}

/// Each case runs on both backends.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (app, state) = super::app_on(super::Backend::Sqlite).await.unwrap();
                super::$name(app, state).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some((app, state)) = super::app_on(super::Backend::Postgres).await {
                    super::$name(app, state).await;
                }
            })*
        }
    };
}

on_both!(
    stores_a_valid_response_and_returns_a_receipt,
    a_retry_returns_the_original_receipt_and_stores_nothing_new,
    the_same_key_with_another_body_is_a_conflict,
    concurrent_submissions_are_each_stored_once,
    free_text_is_redacted_before_storage,
    a_wrong_client_score_is_stored_but_never_trusted,
    each_bad_input_gets_a_clear_json_error_and_stores_nothing,
    instruments_are_listed_and_cacheable,
    the_api_scores_the_core_vectors_exactly_as_the_core_does,
    origins_services_and_sites_are_checked,
    export_writes_parseable_csv_with_redacted_text,
    a_flood_from_one_address_is_rate_limited,
    openapi_and_metrics_describe_the_service,
    staff_accounts_hash_passwords_and_hold_roles_per_site,
);

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let res = app
        .clone()
        .oneshot(req.body(body.into()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

async fn post(app: &Router, body: &Value) -> (StatusCode, Value) {
    let (s, v, _) = send(
        app,
        "POST",
        "/api/v1/responses",
        Some("application/json"),
        body.to_string(),
    )
    .await;
    (s, v)
}

fn fft(key: &str, answer: &str, why: &str) -> Value {
    json!({"site": "demo", "service": "outpatients", "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": answer, "why": why}}})
}

async fn stores_a_valid_response_and_returns_a_receipt(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let (status, receipt) = post(&app, &fft("key-00000001", "very_good", "Kind staff")).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert!(receipt["reference"].as_str().unwrap().starts_with("CH-"));
    assert_eq!(receipt["scores"]["fft"]["category"], "positive");
    assert_eq!(receipt["replayed"], false);
    assert_eq!(state.store.count().await.unwrap(), 1);
}

async fn a_retry_returns_the_original_receipt_and_stores_nothing_new(
    app: Router,
    state: Arc<AppState>,
) {
    let _ = &state;
    let body = fft("key-00000002", "good", "fine");
    let (s1, r1) = post(&app, &body).await;
    let (s2, r2) = post(&app, &body).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(r1["id"], r2["id"]);
    assert_eq!(r1["reference"], r2["reference"]);
    assert_eq!(r2["replayed"], true);
    assert_eq!(state.store.count().await.unwrap(), 1);
}

async fn the_same_key_with_another_body_is_a_conflict(app: Router, state: Arc<AppState>) {
    let _ = &state;
    post(&app, &fft("key-00000003", "good", "")).await;
    let (s, e) = post(&app, &fft("key-00000003", "poor", "")).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "idempotency_conflict");
    assert_eq!(state.store.count().await.unwrap(), 1);
}

async fn concurrent_submissions_are_each_stored_once(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let mut tasks = Vec::new();
    for n in 0..200 {
        let app = app.clone();
        // Every response is sent twice at once: retries racing each other.
        for _ in 0..2 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                post(&app, &fft(&format!("race-{n:08}"), "good", ""))
                    .await
                    .0
            }));
        }
    }
    for t in tasks {
        let s = t.await.unwrap();
        assert!(s == StatusCode::CREATED || s == StatusCode::OK, "{s}");
    }
    assert_eq!(state.store.count().await.unwrap(), 200);
}

async fn free_text_is_redacted_before_storage(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let (s, _) = post(
        &app,
        &fft(
            "key-00000004",
            "poor",
            "Ring me on 07700 900123, NHS 943 476 5919",
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let stored: String = sqlx::query_scalar("SELECT answers FROM responses")
        .fetch_one(state.store.pool())
        .await
        .unwrap();
    assert!(
        stored.contains("[phone number]") && stored.contains("[NHS number]"),
        "{stored}"
    );
    assert!(
        !stored.contains("07700") && !stored.contains("5919"),
        "{stored}"
    );
}

async fn a_wrong_client_score_is_stored_but_never_trusted(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let mut body = fft("key-00000005", "very_poor", "");
    body["response"]["client_scores"] = json!({"instrument": "fft", "version": 1, "fft": {"answer": "very_poor", "category": "positive"}});
    let (s, r) = post(&app, &body).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(r["scores"]["fft"]["category"], "negative");
    let mismatch: i64 = sqlx::query_scalar("SELECT score_mismatch FROM responses")
        .fetch_one(state.store.pool())
        .await
        .unwrap();
    assert_eq!(mismatch, 1);
    let (_, _, _) = send(&app, "GET", "/metrics", None, Body::empty()).await;
}

async fn each_bad_input_gets_a_clear_json_error_and_stores_nothing(
    app: Router,
    state: Arc<AppState>,
) {
    let _ = &state;
    let cases: Vec<(&str, Option<&str>, String, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            Some("application/json"),
            "{\"site\":".into(),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "wrong content type",
            Some("text/plain"),
            fft("key-10000001", "good", "").to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "no content type",
            None,
            fft("key-10000002", "good", "").to_string(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "oversize body",
            Some("application/json"),
            fft("key-10000003", "good", &"x".repeat(40_000)).to_string(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "unknown instrument",
            Some("application/json"),
            fft("key-10000004", "good", "")
                .to_string()
                .replace("\"fft\",", "\"nope\","),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_instrument",
        ),
        (
            "invalid option",
            Some("application/json"),
            fft("key-10000005", "excellent", "").to_string(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_response",
        ),
        (
            "honeypot filled",
            Some("application/json"),
            {
                let mut b = fft("key-10000006", "good", "");
                b["website"] = json!("http://spam.example");
                b.to_string()
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejected",
        ),
        (
            "unknown envelope field",
            Some("application/json"),
            {
                let mut b = fft("key-10000007", "good", "");
                b["extra"] = json!(1);
                b.to_string()
            },
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (name, ct, body, status, code) in cases {
        let (s, v, _) = send(&app, "POST", "/api/v1/responses", ct, body).await;
        assert_eq!(s, status, "{name}: {v}");
        assert_eq!(v["error"]["code"], code, "{name}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    let (s, v, _) = send(
        &app,
        "POST",
        "/api/v1/responses",
        Some("application/json"),
        b"{\"site\":\"\xff\"}".to_vec(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json")),
        "invalid UTF-8"
    );
    for (method, uri, status, code) in [
        (
            "GET",
            "/api/v1/responses",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "GET",
            "/api/v1/nothing-here",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "DELETE",
            "/api/v1/instruments/fft",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let (s, v, _) = send(&app, method, uri, None, Body::empty()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {uri}: {v}"
        );
    }
    let res = app
        .clone()
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (s, v) = post(&app, &fft("key-10000008", "excellent", "")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["details"][0]["code"], "invalid_option");
    assert_eq!(v["error"]["details"][0]["item"], "fft");
    assert_eq!(state.store.count().await.unwrap(), 0);
}

async fn instruments_are_listed_and_cacheable(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let (s, list, h) = send(&app, "GET", "/api/v1/instruments", None, Body::empty()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "i-statements")
    );
    let (s, inst, h) = send(&app, "GET", "/api/v1/instruments/fft", None, Body::empty()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        inst["items"][0]["text"]["en"],
        "Overall, how was your experience of our service?"
    );
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    let req = Request::get("/api/v1/instruments/fft")
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );
    let (s, e, _) = send(&app, "GET", "/api/v1/instruments/nope", None, Body::empty()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(e["error"]["code"], "unknown_instrument");
}

async fn the_api_scores_the_core_vectors_exactly_as_the_core_does(
    app: Router,
    state: Arc<AppState>,
) {
    let _ = &state;
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../core/vectors/scoring.json")).unwrap();
    let mut posted = 0;
    for (n, c) in vectors.iter().enumerate() {
        let id = c["instrument"].as_str().unwrap();
        let inst = chorus_core::library::get(id).unwrap();
        let response: chorus_core::Response = serde_json::from_value(json!({
            "instrument": id, "version": 1, "idempotency_key": format!("vector-{n:06}"), "answers": c["answers"]}))
        .unwrap();
        if chorus_core::validate_response(&inst, &response).is_err() {
            continue; // partial responses: the API rejects them, the core still scores them
        }
        let (s, r) = post(&app, &json!({"site": "demo", "response": response})).await;
        assert_eq!(s, StatusCode::CREATED, "{}: {r}", c["name"]);
        assert_eq!(
            r["scores"],
            serde_json::to_value(chorus_core::score(&inst, &response)).unwrap(),
            "{}",
            c["name"]
        );
        posted += 1;
    }
    assert!(posted >= 140, "only {posted} vectors went through the API");
}

async fn origins_services_and_sites_are_checked(app: Router, state: Arc<AppState>) {
    let post_from = |origin: &'static str, body: Value| {
        let app = app.clone();
        async move {
            let req = Request::post("/api/v1/responses")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ORIGIN, origin)
                .body(Body::from(body.to_string()))
                .unwrap();
            let res = app.oneshot(req).await.unwrap();
            let status = res.status();
            let v: Value =
                serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes())
                    .unwrap_or(Value::Null);
            (status, v)
        }
    };
    let (s, v) = post_from("https://evil.example", fft("origin-0000001", "good", "")).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("origin_not_allowed")),
        "{v}"
    );
    let (s, _) = post_from("http://127.0.0.1:8080", fft("origin-0000002", "good", "")).await;
    assert_eq!(s, StatusCode::CREATED);
    let mut other = fft("origin-0000003", "good", "");
    other["site"] = json!("nope");
    let (s, v) = post_from("http://127.0.0.1:8080", other).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_site")),
        "{v}"
    );
    // Preflight from an origin no site allows gets no CORS grant; an allowed one does.
    for (origin, granted) in [
        ("https://evil.example", false),
        ("http://localhost:8080", true),
    ] {
        let req = Request::options("/api/v1/responses")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            res.headers()
                .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
            granted,
            "{origin}"
        );
    }
    assert_eq!(state.store.count().await.unwrap(), 1);
}

async fn export_writes_parseable_csv_with_redacted_text(app: Router, state: Arc<AppState>) {
    post(
        &app,
        &fft(
            "export-0000001",
            "poor",
            "Call 07700 900123, \"quoted\", comma",
        ),
    )
    .await;
    post(&app, &fft("export-0000002", "good", "")).await;
    let mut csv_out = Vec::new();
    let n = chorus_server::offline::export_csv(&state.store, Some("demo"), None, &mut csv_out)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let mut reader = csv::Reader::from_reader(&csv_out[..]);
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[1], "reference");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let answers: Value = serde_json::from_str(&rows[0][8]).unwrap();
    assert_eq!(answers["why"], "Call [phone number], \"quoted\", comma");
    assert!(rows[0][1].starts_with("CH-"));
    let none =
        chorus_server::offline::export_csv(&state.store, Some("other"), None, std::io::sink())
            .await
            .unwrap();
    assert_eq!(none, 0);
}

async fn a_flood_from_one_address_is_rate_limited(app: Router, state: Arc<AppState>) {
    let from = |ip: [u8; 4], n: usize| {
        let app = app.clone();
        async move {
            let mut req = Request::post("/api/v1/responses")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    fft(
                        &format!("flood-{ip:?}-{n:04}").replace([' ', '[', ']', ','], ""),
                        "good",
                        "",
                    )
                    .to_string(),
                ))
                .unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                    ip, 40000,
                ))));
            let res = app.oneshot(req).await.unwrap();
            (
                res.status(),
                res.headers().get(header::RETRY_AFTER).is_some(),
            )
        }
    };
    for n in 0..5 {
        assert_eq!(
            from([10, 0, 0, 1], n).await.0,
            StatusCode::CREATED,
            "request {n}"
        );
    }
    assert_eq!(
        from([10, 0, 0, 1], 5).await,
        (StatusCode::TOO_MANY_REQUESTS, true)
    );
    // Another address is not affected, and nothing accepted before is lost.
    assert_eq!(from([10, 0, 0, 2], 0).await.0, StatusCode::CREATED);
    assert_eq!(state.store.count().await.unwrap(), 6);
    let (_, _, _) = send(&app, "GET", "/metrics", None, Body::empty()).await;
}

async fn openapi_and_metrics_describe_the_service(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let (s, doc, _) = send(&app, "GET", "/api/v1/openapi.json", None, Body::empty()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/responses",
        "/api/v1/instruments",
        "/api/v1/instruments/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    let statuses = doc["paths"]["/api/v1/responses"]["post"]["responses"]
        .as_object()
        .unwrap();
    for code in [
        "200", "201", "400", "403", "409", "413", "415", "422", "429",
    ] {
        assert!(
            statuses.contains_key(code),
            "POST /responses does not document {code}"
        );
    }
    post(&app, &fft("metrics-000001", "good", "")).await;
    post(&app, &fft("metrics-000002", "excellent", "")).await;
    let res = app
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for line in [
        "chorus_responses_stored_total 1",
        "chorus_http_requests_total{class=\"2xx\"} 2",
        "chorus_http_requests_total{class=\"4xx\"} 1",
        "chorus_http_request_duration_seconds_count 3",
        "chorus_rate_limited_total 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

async fn staff_accounts_hash_passwords_and_hold_roles_per_site(app: Router, state: Arc<AppState>) {
    let _ = app;
    use chorus_server::users;
    let store = &state.store;
    let id = users::add(
        store,
        "Ann@Example.org",
        "correct horse battery",
        "demo",
        "admin",
    )
    .await
    .unwrap();
    assert_eq!(
        users::verify(store, "ann@example.org", "correct horse battery")
            .await
            .unwrap(),
        Some(id)
    );
    assert_eq!(
        users::verify(store, "ann@example.org", "wrong password!!")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        users::verify(store, "nobody@example.org", "correct horse battery")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        users::role(store, id, "demo").await.unwrap().as_deref(),
        Some("admin")
    );
    assert_eq!(users::role(store, id, "other").await.unwrap(), None);
    // A second site with another role; the password must match the existing account.
    assert!(
        users::add(
            store,
            "ann@example.org",
            "not her password",
            "other",
            "viewer"
        )
        .await
        .is_err()
    );
    users::add(
        store,
        "ann@example.org",
        "correct horse battery",
        "other",
        "viewer",
    )
    .await
    .unwrap();
    assert_eq!(
        users::role(store, id, "other").await.unwrap().as_deref(),
        Some("viewer")
    );
    assert!(
        users::add(store, "bob@example.org", "short", "demo", "admin")
            .await
            .is_err()
    );
    assert!(
        users::add(
            store,
            "bob@example.org",
            "long enough password",
            "demo",
            "owner"
        )
        .await
        .is_err()
    );
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("horse"));
}
