//! Sending a response to the collector: JSON over `fetch`, no cookies, retried with backoff.
//!
//! The idempotency key is made once per response, so however many times a retry reaches the
//! server it is stored once and the same receipt comes back.

use std::time::Duration;

use chorus_core::{Answer, Response};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, RequestCredentials, RequestInit, RequestMode};

/// Why sending failed, in terms the patient message can use.
#[derive(Clone, Debug, PartialEq)]
pub enum SendError {
    /// The network or the server was unreachable after every retry.
    Unreachable,
    /// The server refused the response (its error code).
    Rejected(String),
}

/// A random idempotency key from the browser's CSPRNG.
pub fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("k{}", js_sys::Date::now() as u64))
}

/// Delays between attempts: quick first, then backing off.
const BACKOFF_MS: [u64; 4] = [0, 500, 1500, 4000];

/// Post the response; resolves to the receipt's reference.
pub async fn send(
    endpoint: &str,
    site: &str,
    service: Option<&str>,
    response: &Response,
) -> Result<String, SendError> {
    let body = submission_json(site, service, response);
    let url = format!("{}/api/v1/responses", endpoint.trim_end_matches('/'));
    let mut last = SendError::Unreachable;
    for delay in BACKOFF_MS {
        if delay > 0 {
            yew::platform::time::sleep(Duration::from_millis(delay)).await;
        }
        match attempt(&url, &body).await {
            Ok((status, json)) if status == 200 || status == 201 => {
                return field(&json, "reference").ok_or(SendError::Rejected("bad_receipt".into()));
            }
            // 5xx and 429 are worth retrying; other refusals will not change.
            Ok((status, _)) if status >= 500 || status == 429 => last = SendError::Unreachable,
            Ok((_, json)) => {
                let code = js_sys::Reflect::get(&json, &"error".into())
                    .ok()
                    .and_then(|e| field(&e, "code"))
                    .unwrap_or_else(|| "rejected".into());
                return Err(SendError::Rejected(code));
            }
            Err(_) => last = SendError::Unreachable,
        }
    }
    Err(last)
}

/// The submission as JSON, written by hand: serde's generic serialiser for the core's types
/// (score reports included) costs tens of KB in the bundle for a few lines of output.
pub fn submission_json(site: &str, service: Option<&str>, r: &Response) -> String {
    let mut o = String::with_capacity(256);
    o.push_str("{\"site\":");
    json_str(&mut o, site);
    if let Some(s) = service {
        o.push_str(",\"service\":");
        json_str(&mut o, s);
    }
    o.push_str(",\"response\":{\"instrument\":");
    json_str(&mut o, &r.instrument);
    o.push_str(&format!(
        ",\"version\":{},\"locale\":\"{}\",\"idempotency_key\":",
        r.version,
        r.locale.tag()
    ));
    json_str(&mut o, &r.idempotency_key);
    o.push_str(",\"answers\":{");
    for (n, (k, a)) in r.answers.iter().enumerate() {
        if n > 0 {
            o.push(',');
        }
        json_str(&mut o, k);
        o.push(':');
        match a {
            Answer::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
            Answer::Number(x) => o.push_str(&x.to_string()),
            Answer::Text(t) => json_str(&mut o, t),
            Answer::List(l) => {
                o.push('[');
                for (i, t) in l.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    json_str(&mut o, t);
                }
                o.push(']');
            }
        }
    }
    o.push_str("}}}");
    o
}

/// A JSON string literal (RFC 8259 escaping).
fn json_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
}

fn field(v: &JsValue, name: &str) -> Option<String> {
    js_sys::Reflect::get(v, &name.into()).ok()?.as_string()
}

async fn attempt(url: &str, body: &str) -> Result<(u16, JsValue), JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_body(&JsValue::from_str(body));
    let req = web_sys::Request::new_with_str_and_init(url, &init)?;
    req.headers().set("Content-Type", "application/json")?;
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let res: web_sys::Response = JsFuture::from(window.fetch_with_request(&req))
        .await?
        .dyn_into()?;
    let json = match res.json() {
        Ok(p) => JsFuture::from(p).await.unwrap_or(JsValue::NULL),
        Err(_) => JsValue::NULL,
    };
    Ok((res.status(), json))
}

/// Tell the host page, with a CustomEvent that crosses the shadow boundary.
pub fn dispatch(host: &Element, name: &str, detail: &[(&str, &str)]) {
    let obj = js_sys::Object::new();
    for (k, v) in detail {
        let _ = js_sys::Reflect::set(&obj, &(*k).into(), &(*v).into());
    }
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&obj);
    if let Ok(ev) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = host.dispatch_event(&ev);
    }
}
