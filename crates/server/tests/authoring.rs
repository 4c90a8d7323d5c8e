//! Decision aids over the API: `POST /api/v1/check` answers what `chorus check` finds (the
//! same core function), and an earlier version of an aid is still accepted and scored by the
//! version the patient answered, while the current one gets the new option.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::AppState;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[allow(dead_code)] // the shared app and submission helpers only
mod common;

use common::{Backend, TestDb, app_with, json_answer, post_submission};

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    app_with(backend, "authoring", |_| {}).await
}

on_both!(2; an_earlier_version_is_scored_as_answered_and_the_current_one_has_the_new_option);

/// POST a body to `/api/v1/check` with this content type: (status, JSON).
async fn check(
    app: &Router,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let req = Request::post(format!("/api/v1/check{query}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    json_answer(app, req).await
}

fn statins() -> Value {
    serde_json::from_str(include_str!("../../core/instruments/aid-statins.json")).unwrap()
}

#[tokio::test]
async fn the_check_endpoint_answers_what_the_core_and_the_cli_find() {
    let (app, state, db) = app_on(Backend::Sqlite).await.unwrap();
    let json = "application/json";
    // Every shipped aid: no problem, no lint, a self-assessment with nothing not met.
    for (id, text) in chorus_core::library::SOURCES
        .iter()
        .filter(|(id, _)| id.starts_with("aid-"))
    {
        let (s, a) = check(&app, "?today=2026-12-01", json, text.as_bytes().to_vec()).await;
        assert_eq!(s, StatusCode::OK, "{id}: {a}");
        assert_eq!(a["problems"], json!([]), "{id}");
        assert_eq!(a["lints"], json!([]), "{id}");
        assert_eq!(a["checked_as_of"], "2026-12-01");
        let rows = a["assessment"].as_array().unwrap();
        assert!(rows.len() >= 10, "{id}: {} criteria", rows.len());
        assert!(rows.iter().all(|r| r["status"] != "not_met"), "{id}");
        assert!(rows.iter().any(|r| r["status"] == "sign_off"), "{id}");
        let md = a["self_assessment_markdown"].as_str().unwrap();
        assert!(md.starts_with("# Self-assessment: "), "{md}");
    }
    // Lints: no waiting option, past its review date, a percentage in the text. Each names its
    // criterion, and the answer is exactly the core's (as the CLI prints it).
    let mut aid = statins();
    aid["options"][1]["watchful_waiting"] = json!(false);
    aid["about"]["next_review"] = json!("2026-11-30");
    let text = aid.to_string();
    let (s, a) = check(&app, "?today=2026-12-01", json, text.clone().into_bytes()).await;
    assert_eq!(s, StatusCode::OK);
    let core = chorus_core::standards::check(&text, chorus_core::aid::Date::parse("2026-12-01"));
    let codes: Vec<&str> = a["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["no_waiting_option", "past_review"], "{a}");
    assert_eq!(a["lints"].as_array().unwrap().len(), core.lints.len());
    for (got, want) in a["lints"].as_array().unwrap().iter().zip(&core.lints) {
        assert_eq!(got["path"], want.path.as_str());
        assert_eq!(got["message"], want.message.as_str());
        assert_eq!(got["criterion"], want.criterion);
        assert_eq!(got["criterion_name"], want.criterion_name().as_str());
    }
    assert_eq!(
        a["lints"][0]["criterion_name"],
        "IPDAS qualifying: Lists the options, including doing nothing or watchful waiting"
    );
    assert!(
        a["assessment"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["criterion"] == "ipdas-q-options" && r["status"] == "not_met")
    );
    // The same date by default: today's (the review date of a shipped aid is a year ahead).
    let (_, today) = check(&app, "", json, text.clone().into_bytes()).await;
    assert_eq!(
        today["checked_as_of"],
        chorus_server::util::today().to_string()
    );
    // Errors: mixed denominators; a file that is not JSON is a problem, not a refusal.
    aid["items"][2]["outcome"]["rates"][1]["per"] = json!(1000);
    let (s, a) = check(
        &app,
        "?today=2026-12-01",
        json,
        aid.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["problems"][0]["code"], "mixed_denominators", "{a}");
    assert_eq!(a["problems"][0]["path"], "$.items[2].outcome.rates[1].per");
    let (s, a) = check(&app, "", json, b"{".to_vec()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(a["problems"][0]["code"], "invalid_json", "{a}");
    assert_eq!(
        (a["lints"].clone(), a["assessment"].clone()),
        (json!([]), Value::Null)
    );
    // Refusals, each with its code and a message that says what to do.
    for (query, ct, body, status, code) in [
        (
            "?today=1-12-2026",
            json,
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "?today=2026-02-30",
            json,
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "",
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "",
            json,
            vec![0xff, 0xfe],
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            "",
            json,
            vec![b' '; 300 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
    ] {
        let (s, a) = check(&app, query, ct, body).await;
        assert_eq!(
            (s, a["error"]["code"].as_str()),
            (status, Some(code)),
            "{query} {ct}: {a}"
        );
        assert!(a["error"]["message"].as_str().unwrap().len() > 20, "{a}");
    }
    // It stores nothing.
    assert_eq!(state.store.count().await.unwrap(), 0);
    db.remove(state).await;
}

async fn an_earlier_version_is_scored_as_answered_and_the_current_one_has_the_new_option(
    app: Router,
    state: Arc<AppState>,
) {
    let answers = json!({"avoid-operation": 8, "quick-relief": 1, "long-term": 8, "few-side-effects": 7,
        "sure-sure": true, "sure-understand": true, "sure-values": true, "sure-support": true});
    let submit = |version: u32, key: &str| {
        json!({"site": "demo", "response": {"instrument": "aid-knee-pain", "version": version,
            "locale": "en", "idempotency_key": key, "answers": answers}})
    };
    let options = |r: &Value| -> Vec<String> {
        r["scores"]["lean"]["leans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["option"].as_str().unwrap().to_string())
            .collect()
    };
    // Version 1, as a page loaded before the upgrade (or a queued offline answer) sends it.
    let (s, old) = post_submission(&app, &submit(1, "knee-version-one-0001"), None).await;
    assert_eq!(s, StatusCode::CREATED, "{old}");
    assert_eq!(old["scores"]["version"], 1);
    assert_eq!(options(&old), ["exercise", "medicines", "surgery"]);
    // The current version weighs the waiting option too.
    let (s, new) = post_submission(&app, &submit(2, "knee-version-two-0001"), None).await;
    assert_eq!(s, StatusCode::CREATED, "{new}");
    assert_eq!(new["scores"]["version"], 2);
    assert_eq!(options(&new), ["exercise", "medicines", "surgery", "wait"]);
    assert_eq!(new["scores"]["lean"]["leans"][3]["lean"], 6);
    // A version that never was is refused, naming both.
    let (s, bad) = post_submission(&app, &submit(7, "knee-version-7-00001"), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["error"]["details"][0]["code"], "wrong_version", "{bad}");
    // Served to new patients: only the current one.
    let res = app
        .clone()
        .oneshot(
            Request::get("/api/v1/instruments/aid-knee-pain")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let doc: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(doc["version"], 2);
    assert_eq!(state.store.count().await.unwrap(), 2);
}
