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
use futures_util::StreamExt;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;

use common::{Backend, TestDb, rand_suffix, vector_instrument};

/// A router over a fresh database, or `None` (with a printed reason) when the backend is not
/// available here.
async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    let db = TestDb::new(backend, "api").await?;
    let (url, dir) = (db.url.clone(), db.dir.clone());
    let store = Store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("{backend:?}: {e:#}"));
    let mut config = chorus_server::config::Config::demo();
    config.limits.per_ip_per_minute = 5; // only requests that carry a peer address are per-IP limited
    config.limits.request_timeout_seconds = 3;
    let state = Arc::new(AppState::new(store, config));
    // A stand-in bundle and site: what `cargo xtask dist` writes, in miniature.
    let paths = common::stand_in_bundle(
        &dir,
        &[
            ("chorus.js", b"console.log('chorus')"),
            ("chorus.js.br", b"brotli bytes"),
            ("chorus.js.gz", b"gzip bytes"),
            ("chorus-0123456789.wasm", b"\0asm\x01\0\0\0"),
            ("chorus-0123456789.wasm.br", b"brotli wasm"),
        ],
    );
    std::fs::write(
        paths.www_dir.join("index.html"),
        "<!doctype html><title>Chorus</title>",
    )
    .unwrap();
    Some((router(state.clone(), paths), state, db))
}

// Each case runs on both backends.
on_both!(
    2;
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
    the_bundle_and_site_are_served_with_the_right_types_and_caching,
    api_answers_carry_security_headers_and_never_cookies,
    retention_deletes_only_old_responses_of_configured_sites,
    junk_from_a_flooding_address_is_refused_before_it_is_read,
    a_stalled_upload_times_out_with_a_json_error,
    one_key_with_two_bodies_in_one_group_commit_gives_the_receipt_to_the_stored_body,
    no_patient_string_is_stored_outside_free_text,
    every_string_of_the_envelope_is_refused_redacted_or_reduced,
);

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
    // Staff can find the response from the reference a patient reads out.
    let found = state
        .store
        .find_reference(&receipt["reference"].as_str().unwrap().to_lowercase())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.0, found.1.as_str()),
        (receipt["id"].as_i64().unwrap(), "demo")
    );
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
    let client: String = sqlx::query_scalar("SELECT client_scores FROM responses")
        .fetch_one(state.store.pool())
        .await
        .unwrap();
    assert!(
        client.contains("\"positive\""),
        "the client's report is kept to compare: {client}"
    );
    let res = get(&app, "/metrics", None).await;
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.lines().any(|l| l == "chorus_score_mismatches_total 1"),
        "{text}"
    );
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
    // The list revalidates the same way.
    let (_, _, h) = send(&app, "GET", "/api/v1/instruments", None, Body::empty()).await;
    let list_etag = h[header::ETAG].to_str().unwrap().to_string();
    assert_ne!(list_etag, etag);
    let req = Request::get("/api/v1/instruments")
        .header(header::IF_NONE_MATCH, format!("\"other\", W/{list_etag}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::NOT_MODIFIED
    );
    // A decision aid is served whole: its about and outcomes too (the widget draws them).
    let (s, aid, _) = send(
        &app,
        "GET",
        "/api/v1/instruments/aid-statins",
        None,
        Body::empty(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(aid["about"]["next_review"], "2027-11-20");
    let heart = aid["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "heart")
        .unwrap();
    assert_eq!(heart["outcome"]["rates"][0]["events"], 7);
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
    // Per instrument: the responses as JSONL for `chorus score`, and the API's reports.
    let mut by_instrument: std::collections::BTreeMap<String, (Vec<String>, Vec<Value>)> =
        Default::default();
    for (n, c) in vectors.iter().enumerate() {
        let id = c["instrument"].as_str().unwrap();
        let inst = vector_instrument(c);
        let response: chorus_core::Response = serde_json::from_value(json!({
            "instrument": id, "version": inst.version, "idempotency_key": format!("vector-{n:06}"), "answers": c["answers"]}))
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
        let entry = by_instrument.entry(id.to_string()).or_default();
        entry.0.push(serde_json::to_string(&response).unwrap());
        entry.1.push(r["scores"].clone());
        posted += 1;
    }
    assert!(posted >= 140, "only {posted} vectors went through the API");
    // The offline command gives the API's reports, line for line, byte-equal as JSON values.
    let dir = std::env::temp_dir().join(format!(
        "chorus-vectors-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (id, (lines, api_reports)) in by_instrument {
        let cli = common::chorus_score(&dir, &id, &lines);
        assert_eq!(
            cli, api_reports,
            "chorus score and the API disagree on {id}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
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
    // The demo site takes local pages on any port (a dev server beside Chorus).
    let (s, _) = post_from("http://localhost:45123", fft("origin-0000004", "good", "")).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = post_from(
        "http://localhost.evil.example",
        fft("origin-0000005", "good", ""),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
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
        ("http://127.0.0.1:3000", true),
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
    assert_eq!(state.store.count().await.unwrap(), 2);
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
        "/api/v1/results/{site}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    let statuses = doc["paths"]["/api/v1/responses"]["post"]["responses"]
        .as_object()
        .unwrap();
    for code in [
        "200", "201", "400", "403", "408", "409", "413", "415", "422", "429", "503",
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
        "chorus_committed_rows_total 1",
        "chorus_commit_failures_total 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    let res = get(&app, "/healthz", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    // With the database gone, the instance says so (a load balancer then skips it).
    let hdir = std::env::temp_dir().join(format!(
        "chorus-health-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let store = Store::open(&format!("sqlite://{}", hdir.join("h.db").display()))
        .await
        .unwrap();
    let broken = Arc::new(AppState::new(store, chorus_server::config::Config::demo()));
    broken.store.pool().close().await;
    let dir = std::env::temp_dir();
    let paths = Paths {
        pkg_dir: dir.clone(),
        www_dir: dir,
    };
    let res = get(&router(broken, paths), "/healthz", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let _ = std::fs::remove_dir_all(&hdir);
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

async fn get(app: &Router, uri: &str, accept_encoding: Option<&str>) -> axum::response::Response {
    let mut req = Request::get(uri);
    if let Some(e) = accept_encoding {
        req = req.header(header::ACCEPT_ENCODING, e);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn header_of(res: &axum::response::Response, name: header::HeaderName) -> &str {
    res.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

async fn the_bundle_and_site_are_served_with_the_right_types_and_caching(
    app: Router,
    state: Arc<AppState>,
) {
    let _ = &state;
    let js = get(&app, "/embed/chorus.js", None).await;
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(header_of(&js, header::CONTENT_TYPE), "text/javascript");
    assert_eq!(header_of(&js, header::CACHE_CONTROL), "public, max-age=300");
    assert_eq!(header_of(&js, header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    assert_eq!(
        header_of(&js, "cross-origin-resource-policy".parse().unwrap()),
        "cross-origin"
    );
    // A browser that takes brotli gets the precompressed twin, with the original's type.
    let br = get(&app, "/embed/chorus.js", Some("gzip, deflate, br")).await;
    assert_eq!(header_of(&br, header::CONTENT_ENCODING), "br");
    assert_eq!(header_of(&br, header::CONTENT_TYPE), "text/javascript");
    assert_eq!(
        &br.into_body().collect().await.unwrap().to_bytes()[..],
        b"brotli bytes"
    );
    let gz = get(&app, "/embed/chorus.js", Some("gzip")).await;
    assert_eq!(header_of(&gz, header::CONTENT_ENCODING), "gzip");
    let wasm = get(&app, "/embed/chorus-0123456789.wasm", Some("br")).await;
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(header_of(&wasm, header::CONTENT_TYPE), "application/wasm");
    assert_eq!(header_of(&wasm, header::CONTENT_ENCODING), "br");
    assert_eq!(
        header_of(&wasm, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        get(&app, "/embed/nope.js", None).await.status(),
        StatusCode::NOT_FOUND
    );
    let site = get(&app, "/", None).await;
    assert_eq!(site.status(), StatusCode::OK);
    assert!(header_of(&site, header::CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header_of(&site, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

async fn api_answers_carry_security_headers_and_never_cookies(app: Router, state: Arc<AppState>) {
    let _ = &state;
    let req = Request::post("/api/v1/responses")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, "session=abc")
        .body(Body::from(fft("headers-000001", "good", "").to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    for res in [res, get(&app, "/api/v1/nothing", None).await] {
        assert!(!res.headers().contains_key(header::SET_COOKIE));
        assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-store");
        assert_eq!(
            header_of(&res, header::CONTENT_SECURITY_POLICY),
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert_eq!(header_of(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert_eq!(header_of(&res, header::X_FRAME_OPTIONS), "DENY");
    }
    // Instruments are public and cacheable: their own Cache-Control stands.
    let res = get(&app, "/api/v1/instruments/fft", None).await;
    assert_eq!(
        header_of(&res, header::CACHE_CONTROL),
        "public, max-age=300"
    );
}

async fn retention_deletes_only_old_responses_of_configured_sites(
    app: Router,
    state: Arc<AppState>,
) {
    post(&app, &fft("retain-000001", "good", "")).await;
    post(&app, &fft("retain-000002", "poor", "")).await;
    // Backdate one response by three years, and one of an unconfigured site likewise.
    common::exec(
        &state,
        "UPDATE responses SET received_at = $1 WHERE idempotency_key = $2",
        &["2020-01-01T00:00:00.000Z".into(), "retain-000001".into()],
    )
    .await;
    common::exec(
        &state,
        "UPDATE responses SET received_at = $1, site = $2 WHERE idempotency_key = $3",
        &[
            "2020-01-01T00:00:00.000Z".into(),
            "retired-site".into(),
            "retain-000002".into(),
        ],
    )
    .await;
    post(&app, &fft("retain-000003", "good", "")).await;
    assert_eq!(chorus_server::apply_retention(&state).await, 1);
    let left: Vec<String> =
        sqlx::query_scalar("SELECT idempotency_key FROM responses ORDER BY idempotency_key")
            .fetch_all(state.store.pool())
            .await
            .unwrap();
    assert_eq!(left, ["retain-000002", "retain-000003"]);
    // A fresh response of the configured site is untouched by a second run.
    assert_eq!(chorus_server::apply_retention(&state).await, 0);
    let res = get(&app, "/metrics", None).await;
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        text.lines()
            .any(|l| l == "chorus_retention_deleted_total 1"),
        "{text}"
    );
}

async fn junk_from_a_flooding_address_is_refused_before_it_is_read(
    app: Router,
    state: Arc<AppState>,
) {
    let junk = |ip: [u8; 4], forwarded: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut req =
                Request::post("/api/v1/responses").header(header::CONTENT_TYPE, "application/json");
            if let Some(f) = forwarded {
                req = req.header("x-forwarded-for", f);
            }
            let mut req = req.body(Body::from("{not json")).unwrap();
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                    ip, 40000,
                ))));
            let res = app.oneshot(req).await.unwrap();
            let status = res.status();
            let v: Value =
                serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes())
                    .unwrap();
            (status, v["error"]["code"].as_str().unwrap().to_string())
        }
    };
    for _ in 0..5 {
        assert_eq!(junk([10, 9, 9, 9], None).await.0, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        junk([10, 9, 9, 9], None).await,
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".to_string())
    );
    // X-Forwarded-For is ignored unless the config trusts a proxy: a client cannot dodge the
    // limit by inventing addresses.
    assert_eq!(
        junk([10, 9, 9, 9], Some("1.2.3.4")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(state.store.count().await.unwrap(), 0);
}

async fn a_stalled_upload_times_out_with_a_json_error(app: Router, state: Arc<AppState>) {
    // Half a body, then nothing: a slow-loris client.
    let first: Result<axum::body::Bytes, std::io::Error> =
        Ok(axum::body::Bytes::from_static(b"{\"site\":\"demo\","));
    let stalled = futures_util::stream::iter([first]).chain(futures_util::stream::pending());
    let req = Request::post("/api/v1/responses")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stalled))
        .unwrap();
    let started = std::time::Instant::now();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-store");
    let v: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(v["error"]["code"], "timeout", "{v}");
    assert_eq!(state.store.count().await.unwrap(), 0);
}

/// The same idempotency key with different bodies, sent at once so they share a group commit:
/// the body stored is the one whose sender gets the 201; a sender of the same body gets the
/// same receipt as a replay; a sender of another body gets 409 at once. Many rounds, since
/// which body comes first is up to the scheduler.
async fn one_key_with_two_bodies_in_one_group_commit_gives_the_receipt_to_the_stored_body(
    app: Router,
    state: Arc<AppState>,
) {
    use sqlx::Row;
    let (mut shared, rounds) = (0, 40);
    for round in 0..rounds {
        let key = format!("mixed-{round:08}");
        // Make the five land in one group commit: hold the table locked from another
        // connection, send one response that the writer then waits on, queue the five behind
        // it, and let go. The writer takes everything queued as its next batch.
        let mut lock = state.store.pool().acquire().await.unwrap();
        let sqlite = lock.backend_name() == "SQLite";
        let take = if sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN; LOCK TABLE responses IN SHARE ROW EXCLUSIVE MODE"
        };
        sqlx::raw_sql(take).execute(&mut *lock).await.unwrap();
        let blocker = {
            let (app, body) = (app.clone(), fft(&format!("blocker-{round:06}"), "good", ""));
            tokio::spawn(async move { post(&app, &body).await.0 })
        };
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        let commits = state
            .store
            .stats()
            .commits
            .load(std::sync::atomic::Ordering::Relaxed);
        // Which body is sent first changes from round to round.
        let mut bodies = ["first", "second", "first", "second", "third"];
        bodies.rotate_left(round % 5);
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|why| {
                let (app, body) = (app.clone(), fft(&key, "good", why));
                tokio::spawn(async move { (why, post(&app, &body).await) })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        sqlx::raw_sql("COMMIT").execute(&mut *lock).await.unwrap();
        drop(lock);
        assert_eq!(blocker.await.unwrap(), StatusCode::CREATED);
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        let after = state
            .store
            .stats()
            .commits
            .load(std::sync::atomic::Ordering::Relaxed);
        if after - commits < answers.len() as u64 {
            shared += 1;
        }
        let created: Vec<_> = answers
            .iter()
            .filter(|(_, (s, _))| *s == StatusCode::CREATED)
            .collect();
        assert_eq!(created.len(), 1, "round {round}: {answers:?}");
        let (winner, (_, receipt)) = created[0];
        let row = sqlx::query("SELECT id, answers FROM responses WHERE idempotency_key = $1")
            .bind(&key)
            .fetch_one(state.store.pool())
            .await
            .unwrap();
        let (id, stored): (i64, String) = (row.get(0), row.get(1));
        assert_eq!(
            receipt["id"], id,
            "round {round}: the receipt names the stored row"
        );
        let stored: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!(
            stored["why"], *winner,
            "round {round}: the 201 went to the stored body"
        );
        for (why, (status, v)) in &answers {
            if why == winner {
                assert!(
                    *status == StatusCode::CREATED
                        || (*status == StatusCode::OK && v["replayed"] == true && v["id"] == id),
                    "round {round}: {why}: {status} {v}"
                );
            } else {
                assert_eq!(*status, StatusCode::CONFLICT, "round {round}: {why}: {v}");
                assert_eq!(v["error"]["code"], "idempotency_conflict");
            }
        }
        // The loser's retry is still a conflict, the winner's a replay.
        let loser = if *winner == "first" {
            "second"
        } else {
            "first"
        };
        let (s, _) = post(&app, &fft(&key, "good", loser)).await;
        assert_eq!(s, StatusCode::CONFLICT, "round {round}");
        let (s, v) = post(&app, &fft(&key, "good", winner)).await;
        assert_eq!((s, &v["id"]), (StatusCode::OK, &json!(id)), "round {round}");
    }
    // The race is only tested if the bodies did share a group commit.
    assert!(
        shared * 2 > rounds,
        "only {shared} of {rounds} rounds put the five in one group commit"
    );
    eprintln!("{shared} of {rounds} rounds put all five in one group commit");
}

/// Strings a patient (or a careless integration) might put anywhere: none of them may be
/// stored outside the free text, where they are redacted.
const PLANTED: &[&str] = &[
    "9434765919",
    "943 476 5919",
    "07700900123",
    "07700 900123",
    "a.patient@example.com",
];

/// Every column of every stored row contains none of [`PLANTED`].
async fn assert_nothing_planted_is_stored(state: &AppState, what: &str) {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT CAST(id AS TEXT), site, service, instrument, locale, idempotency_key, body_hash, answers, scores, client_scores FROM responses",
    )
    .fetch_all(state.store.pool())
    .await
    .unwrap();
    for r in &rows {
        for i in 0..10 {
            let v: Option<String> = r.get(i);
            let v = v.unwrap_or_default();
            for p in PLANTED {
                assert!(!v.contains(p), "{what}: column {i} stores {p:?}: {v}");
            }
        }
    }
}

async fn no_patient_string_is_stored_outside_free_text(app: Router, state: Arc<AppState>) {
    // Every string inside client_scores is redacted before it is stored.
    let mut body = fft("key-planted-01", "good", "");
    body["response"]["client_scores"] = json!({
        "instrument": format!("fft {}", PLANTED.join(" ")),
        "version": 1, "fft": {"answer": "good", "category": "positive"}});
    let (s, v) = post(&app, &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let client: String =
        sqlx::query_scalar("SELECT client_scores FROM responses WHERE idempotency_key = $1")
            .bind("key-planted-01")
            .fetch_one(state.store.pool())
            .await
            .unwrap();
    assert!(client.contains("[NHS number]"), "{client}");
    assert_nothing_planted_is_stored(&state, "client_scores").await;
    // A service id on a site that takes any service: an id, not personal data.
    for service in PLANTED
        .iter()
        .copied()
        .chain(["ward 12", "Ward-12 (07700 900123)"])
    {
        let mut body = fft("key-planted-02", "good", "");
        body["service"] = json!(service);
        let (s, v) = post(&app, &body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{service}: {v}");
        assert_eq!(v["error"]["code"], "invalid_service", "{service}");
    }
    assert_nothing_planted_is_stored(&state, "service").await;
    // A key the core accepts that is an NHS or phone number is stored hashed; a retry still
    // finds its response.
    for key in ["9434765919", "07700900123", "key-943-476-5919"] {
        let (s, v) = post(&app, &fft(key, "poor", "")).await;
        assert_eq!(s, StatusCode::CREATED, "{key}: {v}");
        let (s, again) = post(&app, &fft(key, "poor", "")).await;
        assert_eq!((s, &again["id"]), (StatusCode::OK, &v["id"]), "{key}");
        let (s, _) = post(&app, &fft(key, "good", "")).await;
        assert_eq!(s, StatusCode::CONFLICT, "{key}");
    }
    assert_nothing_planted_is_stored(&state, "idempotency key").await;
    // An ordinary key is stored as sent (look-ups by key keep working).
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM responses WHERE idempotency_key = 'key-planted-01'",
    )
    .fetch_one(state.store.pool())
    .await
    .unwrap();
    assert_eq!(n, 1);
}

/// Every string leaf of a full submission (envelope, response, answers, client scores), and a
/// new key in every object, is sent with personal data in it, one at a time: each is refused,
/// redacted or reduced, and nothing planted is stored in any column. Not a list of fields
/// someone remembered: the walk finds every string the body has.
async fn every_string_of_the_envelope_is_refused_redacted_or_reduced(
    app: Router,
    state: Arc<AppState>,
) {
    fn walk(v: &Value, at: &mut Vec<String>, out: &mut Vec<(Vec<String>, bool)>) {
        match v {
            Value::String(_) => out.push((at.clone(), false)),
            Value::Object(o) => {
                out.push((at.clone(), true));
                for (k, x) in o {
                    at.push(k.clone());
                    walk(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let full = |key: &str| {
        let mut b = fft(key, "good", "Kind staff");
        b["website"] = json!("");
        b["response"]["client_scores"] = json!({"instrument": "fft", "version": 1, "fft": {"answer": "good", "category": "positive"}});
        b
    };
    let mut targets = Vec::new();
    walk(&full("k"), &mut Vec::new(), &mut targets);
    assert!(targets.len() >= 14, "{targets:?}");
    let mut created = 0;
    let mut n = 0;
    for (path, is_object) in &targets {
        for planted in
            std::iter::once(PLANTED.join(" ")).chain(PLANTED.iter().map(|p| p.to_string()))
        {
            n += 1;
            let key = format!("key-envelope-{n:04}");
            let mut body = full(&key);
            let mut at = &mut body;
            for p in path {
                at = &mut at[p.as_str()];
            }
            if *is_object {
                at[planted.as_str()] = json!("x");
            } else {
                *at = json!(planted);
            }
            let (s, v) = post(&app, &body).await;
            assert!(
                s == StatusCode::CREATED || s.is_client_error(),
                "{path:?} = {planted:?}: {s} {v}"
            );
            assert_ne!(
                s,
                StatusCode::TOO_MANY_REQUESTS,
                "{path:?}: rate limited, so nothing was tried"
            );
            if s == StatusCode::CREATED {
                created += 1;
            }
            assert_nothing_planted_is_stored(&state, &format!("{path:?}")).await;
        }
    }
    // Some were accepted (free text and client scores, redacted): the walk stored real rows.
    assert!(created >= 12, "only {created} accepted");
    assert_eq!(state.store.count().await.unwrap(), created);
}
