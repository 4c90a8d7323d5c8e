//! A patient withdraws their own feedback with the code on their receipt (`/withdraw` and
//! `POST /api/v1/withdrawals`): the response goes exactly as a staff withdrawal takes it, the
//! audit log says a patient did it, and every kind of "no" looks the same. Each runs on SQLite
//! and, when `CHORUS_TEST_POSTGRES_URL` is set, PostgreSQL.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::{AppState, users};
use serde_json::{Value, json};
use sqlx::Row;
use tower::ServiceExt;

mod common;

use common::{Backend, TestDb, client::Client};

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "withdraw-self", |config| {
        // A second site that does not let patients withdraw themselves.
        let mut other = common::other_site(&[]);
        other.withdraw_days = 0;
        config.sites.push(other);
    })
    .await
}

on_both!(
    2;
    a_patient_withdraws_with_the_code_and_it_is_gone_and_audited,
    every_kind_of_no_gets_the_same_answer_and_deletes_nothing,
    the_json_endpoint_withdraws_once,
    a_malformed_code_is_refused_at_submission,
    the_code_is_stored_only_as_a_hash_and_only_where_allowed,
    withdrawal_attempts_are_rate_limited,
);

/// Codes as the widget makes them: 28 characters of the reference alphabet.
const CODE: &str = "7K3Q9D4MABCDEFGHJKMNPQRSTVWX";
const OTHER_CODE: &str = "ZYXWVTSRQPNMKJHGFEDCBA987654";

fn submission(key: &str, site: &str, secret: Option<&str>) -> Value {
    let mut b = json!({"site": site, "service": "outpatients", "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": "poor", "why": "The long wait in clinic three"}}});
    if let Some(s) = secret {
        b["withdraw_secret"] = json!(s);
    }
    b
}

async fn send(app: &Router, key: &str, secret: Option<&str>) -> String {
    let (status, receipt) =
        common::post_submission(app, &submission(key, "demo", secret), None).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    receipt["reference"].as_str().unwrap().to_string()
}

/// The patient's form, as a browser without JavaScript posts it.
async fn post_form(app: &Router, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let p = Client::new(app).post("/withdraw", fields).await;
    (p.status, p.body)
}

async fn withdraw_json(app: &Router, body: &Value, forwarded: Option<&str>) -> (StatusCode, Value) {
    let mut req =
        Request::post("/api/v1/withdrawals").header(header::CONTENT_TYPE, "application/json");
    if let Some(ip) = forwarded {
        req = req.header("x-forwarded-for", ip);
    }
    common::json_answer(app, req.body(Body::from(body.to_string())).unwrap()).await
}

async fn audit(state: &AppState) -> Vec<(String, Option<String>, String, Option<i64>)> {
    common::rows(&state, "SELECT actor, site, detail, user_id FROM audit_log WHERE action = 'response_withdrawn' ORDER BY id", &[]).await
}

/// Move a response's receipt time back by `days`.
async fn age(state: &AppState, reference: &str, days: i64) {
    let id = chorus_server::reference::to_id(reference).unwrap();
    let at = chorus_server::store::iso_utc(chorus_server::util::now_secs() - days * 86_400);
    common::exec(
        &state,
        "UPDATE responses SET received_at = $1 WHERE id = $2",
        &[at.into(), id.into()],
    )
    .await;
}

/// The refusal a patient reads (the page without what differs by what they typed: the
/// reference is put back into its field).
fn refusal(body: &str, reference: &str) -> String {
    body.replace(&format!("value=\"{reference}\""), "value=\"…\"")
}

async fn a_patient_withdraws_with_the_code_and_it_is_gone_and_audited(
    app: Router,
    state: Arc<AppState>,
) {
    let reference = send(&app, "self-0000001", Some(CODE)).await;
    let kept = send(&app, "self-0000002", Some(OTHER_CODE)).await;
    users::add(
        &state.store,
        "admin@trust.nhs.uk",
        "correct horse battery",
        "demo",
        "admin",
    )
    .await
    .unwrap();
    let mut admin = Client::new(&app);
    admin
        .sign_in("admin@trust.nhs.uk", "correct horse battery")
        .await;
    let export = "/dashboard/exports/responses.csv?site=demo";
    let rows = |t: &str| t.lines().skip(1).filter(|l| !l.is_empty()).count();
    assert_eq!(rows(&admin.get(export).await.body), 2);

    // The link on the receipt fills in the reference; the page is the hosted pages' kind.
    let mut patient = Client::new(&app);
    let form = patient
        .get(&format!("/withdraw?reference={reference}"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains(&format!("value=\"{reference}\"")),
        "{}",
        form.body
    );
    assert_eq!(
        form.headers[header::CONTENT_SECURITY_POLICY],
        chorus_server::WWW_CSP
    );
    assert_eq!(form.headers[header::CACHE_CONTROL], "no-store");
    let welsh = patient.get("/withdraw?lang=cy").await;
    assert!(
        welsh.body.contains("<html lang=\"cy\">")
            && welsh.body.contains("Tynnu eich adborth yn ôl")
    );

    // The code as a person types it from the receipt: lower case, in its groups.
    let typed = chorus_core::withdraw::grouped(CODE).to_lowercase();
    let (status, sure) = post_form(&app, &[("reference", &reference), ("code", &typed)]).await;
    assert_eq!(status, StatusCode::OK, "{sure}");
    assert!(sure.contains("Are you sure"), "{sure}");
    assert_eq!(
        state.store.count().await.unwrap(),
        2,
        "asked first, not deleted"
    );
    let (status, done) = post_form(
        &app,
        &[
            ("reference", &reference),
            ("code", &typed),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Your feedback has been withdrawn"), "{done}");
    assert_eq!(state.store.count().await.unwrap(), 1);

    // Gone from the export and the comments; the other response stays.
    let after = admin.get(export).await.body;
    assert_eq!(rows(&after), 1, "{after}");
    let comments = admin.get("/dashboard/comments?site=demo").await.body;
    assert_eq!(comments.matches("The long wait in clinic three").count(), 1);
    // Staff find nothing by the reference any more.
    let staff = admin
        .get(&format!("/dashboard/withdraw?reference={reference}"))
        .await;
    assert_eq!(staff.status, StatusCode::NOT_FOUND);

    // Audited as the patient, with no patient text.
    let log = audit(&state).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].0, "patient (receipt secret)");
    assert_eq!(log[0].1.as_deref(), Some("demo"));
    assert_eq!(log[0].3, None, "no member of staff");
    assert!(
        log[0]
            .2
            .starts_with(&format!("{reference} (fft, received ")),
        "{log:?}"
    );
    assert!(
        !log[0].2.contains("long wait") && !log[0].2.contains(CODE),
        "{log:?}"
    );

    // The code works once: the same answer as any wrong one now.
    let (status, again) = post_form(
        &app,
        &[
            ("reference", &reference),
            ("code", CODE),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, wrong) = post_form(
        &app,
        &[("reference", &kept), ("code", CODE), ("confirm", "yes")],
    )
    .await;
    assert_eq!(refusal(&again, &reference), refusal(&wrong, &kept));
    assert_eq!(state.store.count().await.unwrap(), 1);
    assert_eq!(audit(&state).await.len(), 1);
}

async fn every_kind_of_no_gets_the_same_answer_and_deletes_nothing(
    app: Router,
    state: Arc<AppState>,
) {
    let fresh = send(&app, "self-0000011", Some(CODE)).await;
    let late = send(&app, "self-0000012", Some(OTHER_CODE)).await;
    let no_code = send(&app, "self-0000013", None).await;
    let edge = send(&app, "self-0000014", Some("2222333344445555666677778888")).await;
    age(&state, &late, 31).await;
    age(&state, &edge, 29).await;
    let never = chorus_server::reference::from_id(987_654);
    let cases: [(&str, &str, &str); 7] = [
        ("wrong code", fresh.as_str(), OTHER_CODE),
        ("a reference that was never given", never.as_str(), CODE),
        ("not a reference at all", "hello", CODE),
        (
            "sent 31 days ago, with its own code",
            late.as_str(),
            OTHER_CODE,
        ),
        ("sent without a code", no_code.as_str(), CODE),
        ("a code too short", fresh.as_str(), &CODE[..20]),
        (
            "the reference's own code with one character changed",
            fresh.as_str(),
            "7K3Q9D4MABCDEFGHJKMNPQRSTVWY",
        ),
    ];
    let mut answers = Vec::new();
    for (what, reference, code) in cases {
        for confirm in ["", "yes"] {
            let (status, body) = post_form(
                &app,
                &[
                    ("reference", reference),
                    ("code", code),
                    ("confirm", confirm),
                ],
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
            assert!(
                body.contains("We could not withdraw feedback with this reference and code"),
                "{what}"
            );
            assert!(
                !body.contains(code),
                "{what}: the code is never put back into the page"
            );
            answers.push((what, refusal(&body, reference)));
        }
        let (status, json) =
            withdraw_json(&app, &json!({"reference": reference, "secret": code}), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{what}: {json}");
        assert_eq!(json["error"]["code"], "not_withdrawn", "{what}");
    }
    for (what, a) in &answers[1..] {
        assert_eq!(
            a, &answers[0].1,
            "{what} answers differently from a wrong code"
        );
    }
    assert_eq!(state.store.count().await.unwrap(), 4);
    assert!(audit(&state).await.is_empty());

    // Empty fields are named, each linked from the summary.
    let (status, body) = post_form(&app, &[("reference", " "), ("code", "")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("href=\"#reference\"") && body.contains("href=\"#code\""),
        "{body}"
    );
    assert!(body.contains("aria-invalid=\"true\""));

    // Inside the window (29 days of 30) it still works.
    let (status, body) = post_form(
        &app,
        &[
            ("reference", &edge),
            ("code", "2222-3333-4444-5555-6666-7777-8888"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(state.store.count().await.unwrap(), 3);
}

async fn the_json_endpoint_withdraws_once(app: Router, state: Arc<AppState>) {
    let reference = send(&app, "self-0000021", Some(CODE)).await;
    let (status, json) = withdraw_json(
        &app,
        &json!({"reference": reference, "secret": OTHER_CODE}),
        None,
    )
    .await;
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_withdrawn"))
    );
    let body = json!({"reference": reference.to_lowercase(), "secret": chorus_core::withdraw::grouped(CODE)});
    let (status, json) = withdraw_json(&app, &body, None).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["reference"], reference.as_str());
    assert_eq!(state.store.count().await.unwrap(), 0);
    let (status, json) = withdraw_json(&app, &body, None).await;
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_withdrawn"))
    );
    assert_eq!(audit(&state).await.len(), 1);
    // Bad requests get the API's JSON errors.
    let (status, json) = withdraw_json(&app, &json!({"reference": reference}), None).await;
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    let res = app
        .clone()
        .oneshot(
            Request::post("/api/v1/withdrawals")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

async fn a_malformed_code_is_refused_at_submission(app: Router, state: Arc<AppState>) {
    for (n, bad) in [
        &CODE[..27],
        "7k3q9d4mabcdefghjkmnpqrstvwx",
        "7K3Q-9D4M-ABCD-EFGH-JKMN-PQRS-TVWX",
        "0K3Q9D4MABCDEFGHJKMNPQRSTVWX",
        "",
    ]
    .iter()
    .enumerate()
    {
        let (status, json) = common::post_submission(
            &app,
            &submission(&format!("bad-secret-{n:04}"), "demo", Some(bad)),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {json}");
        assert_eq!(json["error"]["code"], "invalid_withdraw_secret");
        assert!(!bad.is_empty() && !json.to_string().contains(bad) || bad.is_empty());
    }
    let mut b = submission("bad-secret-9999", "demo", None);
    b["withdraw_secret"] = json!(12345);
    let (status, json) = common::post_submission(&app, &b, None).await;
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_json"))
    );
    assert_eq!(state.store.count().await.unwrap(), 0);
}

async fn the_code_is_stored_only_as_a_hash_and_only_where_allowed(
    app: Router,
    state: Arc<AppState>,
) {
    let body = submission("self-0000031", "demo", Some(CODE));
    let (status, receipt) = common::post_submission(&app, &body, None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(receipt["withdraw_days"], 30);
    assert!(
        !receipt.to_string().contains(CODE),
        "never echoed: {receipt}"
    );
    // A retry of the same body (a lost answer, the offline queue) gets the same receipt.
    let (status, again) = common::post_submission(&app, &body, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["reference"], receipt["reference"]);
    assert_eq!(again["withdraw_days"], 30);
    // The same key with another code is another body.
    let (status, _) = common::post_submission(
        &app,
        &submission("self-0000031", "demo", Some(OTHER_CODE)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Without a code the receipt offers nothing.
    let (_, plain) =
        common::post_submission(&app, &submission("self-0000032", "demo", None), None).await;
    assert!(plain.get("withdraw_days").is_none(), "{plain}");
    // A site with self-withdrawal off keeps no hash and promises nothing.
    let (status, off) =
        common::post_submission(&app, &submission("self-0000033", "other", Some(CODE)), None).await;
    assert_eq!(status, StatusCode::CREATED, "{off}");
    assert!(off.get("withdraw_days").is_none(), "{off}");

    // Every column of every row, as text: the code is nowhere, its SHA-256 is in one place.
    let rows = sqlx::query(
        "SELECT site, COALESCE(service, ''), instrument, locale, idempotency_key, body_hash, answers, scores, COALESCE(client_scores, ''), mode, COALESCE(about, ''), received_at, COALESCE(withdraw_hash, '') FROM responses ORDER BY id",
    )
    .fetch_all(state.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 3);
    let hash = chorus_server::util::sha256_hex(CODE);
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<String> = (0..13).map(|c| r.get::<String, _>(c)).collect();
        assert!(
            cells.iter().all(|c| !c.contains(CODE)),
            "row {i}: {cells:?}"
        );
        assert_eq!(
            cells[12],
            if i == 0 { hash.as_str() } else { "" },
            "row {i}"
        );
    }
}

async fn withdrawal_attempts_are_rate_limited(app: Router, state: Arc<AppState>) {
    let _ = app;
    // The limit for one address, from the configuration, behind a trusted proxy.
    let mut config = state.config.clone();
    config.limits.per_ip_per_minute = 3;
    config.limits.trust_forwarded_for = true;
    let limited = Arc::new(AppState::new(state.store.clone(), config));
    let app = chorus_server::router(
        limited.clone(),
        chorus_server::Paths {
            pkg_dir: std::env::temp_dir(),
            www_dir: std::env::temp_dir(),
        },
    );
    let body = json!({"reference": "CH-2222-2222", "secret": CODE});
    for _ in 0..3 {
        let (status, _) = withdraw_json(&app, &body, Some("203.0.113.7")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, json) = withdraw_json(&app, &body, Some("203.0.113.7")).await;
    assert_eq!(
        (status, json["error"]["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited"))
    );
    // The page counts against the same limit.
    let req = Request::post("/withdraw")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "203.0.113.7")
        .body(Body::from(format!("reference=CH-2222-2222&code={CODE}")))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()[header::RETRY_AFTER], "60");
    // Another address is not held up.
    let (status, _) = withdraw_json(&app, &body, Some("203.0.113.8")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The running server's log (at its configured level) never holds a code: not when it is
/// sent, refused at submission, tried wrongly or used.
#[test]
fn the_code_is_never_in_the_log() {
    let dir = std::env::temp_dir().join(format!("chorus-withdraw-log-{}", common::rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let (server, addr) = common::serve_process(
        &db,
        &dir,
        "[[sites]]\nid = \"demo\"\nwithdraw_days = 30\n[limits]\nper_ip_per_minute = 1000\n",
    )
    .unwrap_or_else(|log| panic!("chorus exited before listening:\n{log}"));
    let post = |path: &str, body: &Value| {
        common::http_request(
            &addr,
            "POST",
            path,
            &body.to_string(),
            std::time::Duration::from_secs(20),
        )
        .unwrap()
    };
    let mut b = submission("log-0000001", "demo", Some(CODE));
    b["response"]["answers"] = json!({"fft": "good"});
    b.as_object_mut().unwrap().remove("service");
    let (status, receipt) = post("/api/v1/responses", &b);
    assert_eq!(status, 201, "{receipt}");
    let reference = serde_json::from_str::<Value>(&receipt).unwrap()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let mut bad = b.clone();
    bad["withdraw_secret"] = json!(CODE.to_lowercase());
    bad["response"]["idempotency_key"] = json!("log-0000002");
    assert_eq!(post("/api/v1/responses", &bad).0, 422);
    assert_eq!(
        post(
            "/api/v1/withdrawals",
            &json!({"reference": reference, "secret": OTHER_CODE})
        )
        .0,
        404
    );
    assert_eq!(
        post(
            "/api/v1/withdrawals",
            &json!({"reference": reference, "secret": CODE})
        )
        .0,
        200
    );
    let log = server.log.clone();
    drop(server);
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("Chorus listening"), "the log was read: {log}");
    for shown in [
        CODE.to_string(),
        CODE.to_lowercase(),
        chorus_core::withdraw::grouped(CODE),
    ] {
        assert!(!log.contains(&shown), "{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
