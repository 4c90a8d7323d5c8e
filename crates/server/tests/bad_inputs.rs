//! The table of bad inputs (docs/bad-inputs.md), case by case, on SQLite and PostgreSQL.
//!
//! A public endpoint is sent everything. For each case the test checks the status, the stable
//! error code and that the message says what was wrong; and after each one, that every row
//! stored before is exactly as it was (nothing accepted is affected) and that nothing new was
//! stored. Inputs that look odd but are a patient's real words (control characters, right-to-
//! left text, emoji, Welsh) must be accepted and stored as sent (after redaction).
//!
//! The doc's table and `CASES` below are checked against each other, so neither can drift.

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

/// One request of the table.
#[derive(Clone, Default)]
struct Req {
    content_type: Option<&'static str>,
    origin: Option<&'static str>,
    /// The client address (what per-address rate limiting sees).
    peer: Option<[u8; 4]>,
    /// Send the same request this many times first (to reach a limit).
    repeat_before: usize,
    body: Vec<u8>,
}

fn json_req(body: impl Into<Vec<u8>>) -> Req {
    Req {
        content_type: Some("application/json"),
        body: body.into(),
        ..Req::default()
    }
}

/// What the table promises for a case.
struct Case {
    /// The row's name in docs/bad-inputs.md.
    name: &'static str,
    req: fn() -> Req,
    status: StatusCode,
    /// `error.code`, or "" for an accepted response.
    code: &'static str,
    /// Words the message must contain (it says what was wrong), or the first detail's code.
    says: &'static str,
}

fn fft(key: &str, answer: &str, why: &str) -> Value {
    json!({"site": "demo", "service": "outpatients", "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": answer, "why": why}}})
}

fn sdm(key: &str, q1: Value) -> Value {
    json!({"site": "demo", "response": {
        "instrument": "sdm-q-9", "version": 1, "idempotency_key": key,
        "answers": {"q1": q1, "q2": 3}}})
}

fn text(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// A valid body with `what` spliced in place of the free text (raw JSON, so escapes and bytes
/// reach the parser exactly as written).
fn with_raw_why(key: &str, raw: &str) -> Vec<u8> {
    fft(key, "good", "WHY")
        .to_string()
        .replace("\"WHY\"", raw)
        .into_bytes()
}

/// The baseline: stored before any bad input arrives, and checked after each.
fn baseline() -> Vec<Value> {
    vec![
        fft(
            "base-00000001",
            "very_good",
            "Kind staff; ring 07700 900123",
        ),
        fft("base-00000002", "poor", "Roedd yr aros yn hir iawn"),
        sdm("base-00000003", json!(4)),
    ]
}

const CASES: &[Case] = &[
    Case {
        name: "malformed JSON",
        req: || json_req("{site: demo, response: }"),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "key must be a string",
    },
    Case {
        name: "truncated JSON",
        req: || {
            let mut b = text(fft("trunc-0000001", "good", "cut short"));
            b.truncate(b.len() / 2);
            json_req(b)
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "EOF",
    },
    Case {
        name: "empty body",
        req: || json_req(""),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "EOF",
    },
    Case {
        name: "JSON that is not an object",
        req: || json_req("\"demo\""),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "struct Submission",
    },
    Case {
        name: "deeply nested JSON (10,000 levels)",
        req: || {
            let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            json_req(deep)
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "invalid type",
    },
    Case {
        name: "deeply nested JSON in an unknown field of the response",
        req: || {
            // serde skips an unknown value without recursing: no stack to overflow. The value
            // is dropped, never stored; the response itself is fine.
            let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            let body = String::from_utf8(text(fft("nest-00000001", "good", ""))).unwrap();
            json_req(body.replacen("\"answers\":", &format!("\"meta\":{deep},\"answers\":"), 1))
        },
        status: StatusCode::CREATED,
        code: "",
        says: "",
    },
    Case {
        name: "nested value where an answer belongs",
        req: || json_req(with_raw_why("nest-00000002", "{\"a\":[{\"b\":[1,2]}]}")),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "whole number",
    },
    Case {
        name: "oversized JSON (over 32 KiB)",
        req: || json_req(text(fft("big-000000001", "good", &"x".repeat(40_000)))),
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "body_too_large",
        says: "32768 bytes",
    },
    Case {
        name: "wrong content type",
        req: || Req {
            content_type: Some("text/plain"),
            ..json_req(text(fft("ctype-0000001", "good", "")))
        },
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        says: "Content-Type: application/json",
    },
    Case {
        name: "form-encoded body",
        req: || Req {
            content_type: Some("application/x-www-form-urlencoded"),
            ..json_req("site=demo&fft=good")
        },
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        says: "Content-Type: application/json",
    },
    Case {
        name: "no content type",
        req: || Req {
            content_type: None,
            ..json_req(text(fft("ctype-0000002", "good", "")))
        },
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        says: "Content-Type: application/json",
    },
    Case {
        name: "invalid UTF-8",
        req: || {
            // "café" with the é as one Latin-1 byte: not UTF-8.
            let mut b = with_raw_why("utf8-00000001", "\"caf\u{e9}\"");
            let at = b.windows(2).position(|w| w == "\u{e9}".as_bytes()).unwrap();
            b.splice(at..at + 2, [0xe9]);
            json_req(b)
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "not valid UTF-8 (at byte",
    },
    Case {
        name: "lone UTF-16 surrogate escape",
        req: || json_req(with_raw_why("utf8-00000002", "\"\\ud800 alone\"")),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "escape",
    },
    Case {
        name: "byte order mark before the JSON",
        req: || {
            let mut b = "\u{feff}".as_bytes().to_vec();
            b.extend(text(fft("bom-000000001", "good", "")));
            json_req(b)
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "expected value",
    },
    Case {
        name: "duplicate JSON key in the envelope",
        req: || {
            let body = String::from_utf8(text(fft("dupkey-000001", "good", ""))).unwrap();
            json_req(body.replacen(
                "\"site\":\"demo\"",
                "\"site\":\"demo\",\"site\":\"other\"",
                1,
            ))
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "duplicate field `site`",
    },
    Case {
        name: "duplicate answer id (the last one counts)",
        req: || {
            json_req(with_raw_why(
                "dupkey-000002",
                "\"first\", \"why\": \"second\"",
            ))
        },
        status: StatusCode::CREATED,
        code: "",
        says: "",
    },
    Case {
        name: "unknown envelope field",
        req: || {
            let mut b = fft("field-0000001", "good", "");
            b["debug"] = json!(true);
            json_req(text(b))
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "unknown field `debug`",
    },
    Case {
        name: "control characters in free text",
        req: || {
            json_req(with_raw_why(
                "ctrl-00000001",
                "\"tab\\tnul\\u0000bell\\u0007 esc\\u001b[31m del\\u007f\"",
            ))
        },
        status: StatusCode::CREATED,
        code: "",
        says: "",
    },
    Case {
        name: "right-to-left text in free text",
        req: || {
            json_req(text(fft(
                "rtl-000000001",
                "good",
                "شكراً للممرضات \u{202e}evil\u{202c} שלום",
            )))
        },
        status: StatusCode::CREATED,
        code: "",
        says: "",
    },
    Case {
        name: "emoji in free text (1,200 of them: the limit is in characters)",
        req: || json_req(text(fft("emoji-0000001", "very_good", &"👍".repeat(1200)))),
        status: StatusCode::CREATED,
        code: "",
        says: "",
    },
    Case {
        name: "free text over the item's limit",
        req: || json_req(text(fft("long-00000001", "good", &"é".repeat(1201)))),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "text_too_long",
    },
    Case {
        name: "control characters in the service id",
        req: || {
            let mut b = fft("ctrl-00000002", "good", "");
            b["service"] = json!("ward\u{0}12");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_service",
        says: "service",
    },
    Case {
        name: "over-long service id",
        req: || {
            let mut b = fft("svc-000000001", "good", "");
            b["service"] = json!("s".repeat(20_000));
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_service",
        says: "service",
    },
    Case {
        name: "unknown mode of collection",
        req: || {
            let mut b = fft("mode-00000001", "good", "");
            b["mode"] = json!("carrier-pigeon");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_mode",
        says: "telephone",
    },
    Case {
        name: "mode of collection in capitals",
        req: || {
            let mut b = fft("mode-00000002", "good", "");
            b["mode"] = json!("SMS");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_mode",
        says: "sms",
    },
    Case {
        name: "mode of collection that is not a string",
        req: || {
            let mut b = fft("mode-00000003", "good", "");
            b["mode"] = json!(3);
            json_req(text(b))
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "invalid type: integer `3`, expected a string",
    },
    Case {
        name: "a withdrawal code too short to be secret",
        req: || {
            let mut b = fft("withdraw-0001", "good", "");
            b["withdraw_secret"] = json!("7K3Q9D4MABCD");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_withdraw_secret",
        says: "28 to 64 characters of 23456789ABCDEFGHJKMNPQRSTVWXYZ",
    },
    Case {
        name: "a withdrawal code with letters that can be misread",
        req: || {
            let mut b = fft("withdraw-0002", "good", "");
            b["withdraw_secret"] = json!("0OIL1U4MABCDEFGHJKMNPQRSTVWX");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_withdraw_secret",
        says: "upper case, no dashes",
    },
    Case {
        name: "an About you question that does not exist",
        req: || {
            let mut b = fft("about-0000001", "good", "");
            b["about"] = json!({"shoe_size": "9"});
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_about",
        says: "1 of its entries",
    },
    Case {
        name: "an About you answer that is not one of the question's",
        req: || {
            let mut b = fft("about-0000002", "good", "");
            b["about"] = json!({"age_band": "25_34", "sex": "0207 946 0000"});
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_about",
        says: "About you questions",
    },
    Case {
        name: "the About you questions sent as a response of their own",
        req: || {
            let mut b = fft("about-0000003", "good", "");
            b["response"]["instrument"] = json!("about-you");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "instrument_not_allowed",
        says: "beside another questionnaire",
    },
    Case {
        name: "unknown site",
        req: || {
            let mut b = fft("site-00000001", "good", "");
            b["site"] = json!("nowhere");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "unknown_site",
        says: "nowhere",
    },
    Case {
        name: "empty site",
        req: || {
            let mut b = fft("site-00000002", "good", "");
            b["site"] = json!("");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_site",
        says: "1 to 64",
    },
    Case {
        name: "unknown instrument",
        req: || {
            let mut b = fft("inst-00000001", "good", "");
            b["response"]["instrument"] = json!("fft-deluxe");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "unknown_instrument",
        says: "fft-deluxe",
    },
    Case {
        name: "instrument version that does not exist",
        req: || {
            let mut b = fft("inst-00000002", "good", "");
            b["response"]["version"] = json!(7);
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "wrong_version",
    },
    Case {
        name: "unknown item",
        req: || {
            let mut b = fft("item-00000001", "good", "");
            b["response"]["answers"]["colour"] = json!("blue");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "unknown_item",
    },
    Case {
        name: "unknown option",
        req: || json_req(text(fft("opt-000000001", "superb", ""))),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "invalid_option",
    },
    Case {
        name: "wrong type of answer",
        req: || json_req(text(sdm("type-00000001", json!("four")))),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "wrong_type",
    },
    Case {
        name: "required answer missing",
        req: || {
            let mut b = fft("req-000000001", "good", "");
            b["response"]["answers"] = json!({"why": "no rating"});
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "required_missing",
    },
    Case {
        name: "out-of-range value (above the scale)",
        req: || json_req(text(sdm("range-0000001", json!(6)))),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "out_of_range",
    },
    Case {
        name: "out-of-range value (negative)",
        req: || json_req(text(sdm("range-0000002", json!(-1)))),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "out_of_range",
    },
    Case {
        name: "out-of-range value (beyond 64-bit)",
        req: || json_req(with_raw_sdm("range-0000003", "1e400")),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "number out of range",
    },
    Case {
        name: "fractional value on an integer scale",
        req: || json_req(with_raw_sdm("range-0000004", "2.5")),
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "whole number",
    },
    Case {
        name: "negative instrument version",
        req: || {
            let mut b = fft("vers-00000001", "good", "");
            b["response"]["version"] = json!(-1);
            json_req(text(b))
        },
        status: StatusCode::BAD_REQUEST,
        code: "invalid_json",
        says: "u32",
    },
    Case {
        name: "malformed idempotency key",
        req: || json_req(text(fft("short", "good", ""))),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_response",
        says: "invalid_idempotency_key",
    },
    Case {
        name: "replayed idempotency key with another body",
        req: || json_req(text(fft("base-00000001", "very_poor", "changed my mind"))),
        status: StatusCode::CONFLICT,
        code: "idempotency_conflict",
        says: "already used",
    },
    Case {
        name: "disallowed origin",
        req: || Req {
            origin: Some("https://evil.example"),
            ..json_req(text(fft("origin-000001", "good", "")))
        },
        status: StatusCode::FORBIDDEN,
        code: "origin_not_allowed",
        says: "https://evil.example",
    },
    Case {
        name: "rate-limit breach (6th request in a minute from one address)",
        req: || Req {
            peer: Some([10, 20, 30, 40]),
            repeat_before: 5,
            ..json_req("{")
        },
        status: StatusCode::TOO_MANY_REQUESTS,
        code: "rate_limited",
        says: "too many",
    },
    Case {
        name: "honeypot filled",
        req: || {
            let mut b = fft("honey-0000001", "good", "");
            b["website"] = json!("https://cheap-pills.example");
            json_req(text(b))
        },
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "rejected",
        says: "not accepted",
    },
];

fn with_raw_sdm(key: &str, raw: &str) -> Vec<u8> {
    sdm(key, json!("Q1"))
        .to_string()
        .replace("\"Q1\"", raw)
        .into_bytes()
}

async fn app_on(url: &str, dir: &std::path::Path) -> (Router, Arc<AppState>) {
    let store = Store::open(url).await.unwrap();
    let mut config = chorus_server::config::Config::demo();
    // Only requests that carry a peer address are limited per address.
    config.limits.per_ip_per_minute = 5;
    let state = Arc::new(AppState::new(store, config));
    let paths = Paths {
        pkg_dir: dir.join("pkg"),
        www_dir: dir.join("www"),
    };
    (router(state.clone(), paths), state)
}

async fn send(app: &Router, r: &Req) -> (StatusCode, Value, axum::http::HeaderMap) {
    let mut req = Request::post("/api/v1/responses");
    if let Some(ct) = r.content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    if let Some(o) = r.origin {
        req = req.header(header::ORIGIN, o);
    }
    let mut req = req.body(Body::from(r.body.clone())).unwrap();
    if let Some(ip) = r.peer {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 40000,
            ))));
    }
    let res = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

/// Every stored row, every column, in id order.
async fn snapshot(state: &AppState) -> Vec<Vec<Option<String>>> {
    use sqlx::Row;
    sqlx::query(
        "SELECT CAST(id AS TEXT), site, service, instrument, CAST(version AS TEXT), locale, idempotency_key, body_hash, answers, scores, client_scores, CAST(score_mismatch AS TEXT), received_at FROM responses ORDER BY id",
    )
    .fetch_all(state.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (0..13).map(|i| r.get::<Option<String>, _>(i)).collect())
    .collect()
}

async fn run_table(url: &str, dir: &std::path::Path) {
    let (app, state) = app_on(url, dir).await;
    let mut receipts = Vec::new();
    for b in baseline() {
        let (s, v, _) = send(&app, &json_req(text(b))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        receipts.push(v);
    }
    let mut before = snapshot(&state).await;
    assert_eq!(before.len(), 3);
    let mut wrong = Vec::new();
    for case in CASES {
        let req = (case.req)();
        for _ in 0..req.repeat_before {
            send(&app, &req).await;
        }
        let (status, v, headers) = send(&app, &req).await;
        let name = case.name;
        let after = snapshot(&state).await;
        if status != case.status {
            wrong.push(format!("{name}: wanted {}, got {status} {v}", case.status));
            before = after;
            continue;
        }
        if case.code.is_empty() {
            // Accepted: stored once, exactly as sent (free text redacted), nothing else changed.
            assert_eq!(
                after[..before.len()],
                before[..],
                "{name}: earlier rows changed"
            );
            assert_eq!(after.len(), before.len() + 1, "{name}");
            let sent: chorus_server::api::Submission = serde_json::from_slice(&req.body).unwrap();
            let Some(chorus_core::Answer::Text(why)) = sent.response.answers.get("why") else {
                panic!("{name}: no free text");
            };
            let stored: Value =
                serde_json::from_str(after[before.len()][8].as_deref().unwrap()).unwrap();
            assert_eq!(
                stored["why"],
                chorus_core::redact::redact(why).text,
                "{name}"
            );
            assert_eq!(v["replayed"], false, "{name}");
            before = after;
            continue;
        }
        let message = v["error"]["message"].as_str().unwrap_or_default();
        let detail = v["error"]["details"][0]["code"]
            .as_str()
            .unwrap_or_default();
        if v["error"]["code"] != case.code
            || !(message.contains(case.says) || detail == case.says)
            || message.len() < 20
        {
            // Gathered, so one run shows every row that disagrees with the table.
            wrong.push(format!(
                "{name}: wanted `{}` saying {:?}, got {v}",
                case.code, case.says
            ));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(headers.contains_key(header::RETRY_AFTER), "{name}");
        }
        assert_eq!(after, before, "{name}: stored rows changed");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing accepted before is affected: each baseline response, retried, gets its original
    // receipt; and the server still takes a good response.
    for (b, receipt) in baseline().into_iter().zip(&receipts) {
        let (s, v, _) = send(&app, &json_req(text(b))).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            (&v["id"], &v["reference"]),
            (&receipt["id"], &receipt["reference"])
        );
    }
    let (s, _, _) = send(&app, &json_req(text(fft("after-0000001", "good", "")))).await;
    assert_eq!(s, StatusCode::CREATED);
    state.store.pool().close().await;
}

fn temp_dir() -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("chorus-bad-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_in_the_table_sqlite() {
    let dir = temp_dir();
    run_table(&format!("sqlite://{}", dir.join("t.db").display()), &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_in_the_table_postgres() {
    let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL"
        );
        return;
    };
    sqlx::any::install_default_drivers();
    let dir = temp_dir();
    let schema = format!(
        "bad_{}_{}",
        std::process::id(),
        dir.file_name()
            .unwrap()
            .to_string_lossy()
            .rsplit('-')
            .next()
            .unwrap()
    );
    let admin = sqlx::AnyPool::connect(&base).await.unwrap();
    // The name is made of digits we generated: safe to splice.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    run_table(
        &format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        &dir,
    )
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// docs/bad-inputs.md lists exactly the cases above (and names this file), so the table a web
/// team reads is the table the tests run.
#[test]
fn the_docs_table_lists_every_case() {
    let doc = include_str!("../../../docs/bad-inputs.md");
    for case in CASES {
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", case.name)))
            .unwrap_or_else(|| panic!("docs/bad-inputs.md has no row for {:?}", case.name));
        assert!(
            row.contains(&format!("| {} ", case.status.as_u16())),
            "{}: status",
            case.name
        );
        if !case.code.is_empty() {
            assert!(
                row.contains(&format!("`{}`", case.code)),
                "{}: code",
                case.name
            );
        }
    }
    let rows = doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("bad_inputs.rs"))
        .count();
    assert_eq!(rows, CASES.len(), "rows citing bad_inputs.rs vs cases");
}

/// Every code in the page's `code` columns is one the API can send ([`Code`], the one list of
/// them), spelled as it serialises; and the codes the table promises for `POST /responses`
/// cover every input code of the enum that a submission can meet.
#[test]
fn the_docs_code_column_names_only_api_codes() {
    use chorus_server::api::Code;
    let doc = include_str!("../../../docs/bad-inputs.md");
    let mut column = None;
    let mut seen = std::collections::BTreeSet::new();
    for line in doc.lines() {
        if !line.starts_with('|') {
            column = None;
            continue;
        }
        if line.chars().all(|ch| matches!(ch, '|' | '-' | ':' | ' ')) {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if let Some(at) = cells.iter().position(|c| *c == "code")
            && cells.first() == Some(&"input")
        {
            column = Some(at);
            continue;
        }
        let Some(at) = column else { continue };
        let cell = cells.get(at).copied().unwrap_or_default();
        if cell == "—" {
            continue;
        }
        let codes: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
        assert!(
            !codes.is_empty(),
            "a code cell that names no code: {cell:?} in {line}"
        );
        for c in codes {
            let parsed: Code = serde_json::from_value(json!(c)).unwrap_or_else(|_| {
                panic!("docs/bad-inputs.md: {c:?} is not an API code ({line})")
            });
            assert_eq!(parsed.as_str(), c);
            seen.insert(parsed);
        }
    }
    for code in [
        Code::InvalidJson,
        Code::UnsupportedMediaType,
        Code::BodyTooLarge,
        Code::UnknownSite,
        Code::OriginNotAllowed,
        Code::InvalidService,
        Code::UnknownService,
        Code::InvalidWithdrawSecret,
        Code::UnknownInstrument,
        Code::InvalidResponse,
        Code::IdempotencyConflict,
        Code::RateLimited,
        Code::StorageUnavailable,
    ] {
        assert!(
            seen.contains(&code),
            "docs/bad-inputs.md never lists {code:?}"
        );
    }
    // And the enum serialises each code as `as_str` says.
    for code in Code::ALL {
        assert_eq!(json!(code), json!(code.as_str()));
    }
}
