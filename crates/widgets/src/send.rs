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

/// How long one attempt may take before it counts as unreachable.
const ATTEMPT_TIMEOUT_MS: u32 = 20_000;

/// Delays between attempts: quick first, then backing off.
const BACKOFF_MS: [u64; 4] = [0, 500, 1500, 4000];

/// A submission ready to post: where, and the JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// `…/api/v1/responses` on the configured endpoint.
    pub url: String,
    /// The submission JSON.
    pub body: String,
}

/// Build the request for a response.
pub fn prepare(endpoint: &str, site: &str, service: Option<&str>, response: &Response) -> Prepared {
    Prepared {
        url: format!("{}/api/v1/responses", endpoint.trim_end_matches('/')),
        body: submission_json(site, service, response),
    }
}

/// Post, retrying with backoff on network errors, 5xx and 429; resolves to the receipt's
/// reference.
pub async fn send(p: &Prepared) -> Result<String, SendError> {
    let (url, body) = (p.url.as_str(), p.body.as_str());
    let mut last = SendError::Unreachable;
    for delay in BACKOFF_MS {
        if delay > 0 {
            yew::platform::time::sleep(Duration::from_millis(delay)).await;
        }
        match attempt(url, body).await {
            Ok((status, json)) if status == 200 || status == 201 => {
                return field(&json, "reference").ok_or(SendError::Rejected("bad_receipt".into()));
            }
            // 5xx, 429 and the server's own timeout (408) are worth retrying with the same
            // key; other refusals will not change.
            Ok((status, _)) if status >= 500 || status == 429 || status == 408 => {
                last = SendError::Unreachable
            }
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

/// What became of a submission, for the widget to tell the patient.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Stored; the receipt's reference.
    Sent(String),
    /// Kept on this device, to be sent when the connection is back.
    Queued,
    /// Not sent and not kept.
    Failed(SendError),
}

/// Send a submission with retries; if the server cannot be reached, keep it on the device and
/// deliver it on `online` (or on the next page that loads Chorus). Tells the host page with
/// `chorus:submitted` / `chorus:queued` / `chorus:error`, and the widget through `done` — a
/// queued submission reports again when it is delivered. One path for every widget, so the
/// exactly-once rules live in one place.
pub fn submit(host: Element, prepared: Prepared, key: String, done: yew::Callback<Outcome>) {
    wasm_bindgen_futures::spawn_local(async move {
        match send(&prepared).await {
            Ok(reference) => {
                dispatch(&host, "chorus:submitted", &[("reference", &reference)]);
                done.emit(Outcome::Sent(reference));
            }
            Err(SendError::Unreachable) if queue::push(&key, &prepared.url, &prepared.body) => {
                dispatch(&host, "chorus:queued", &[("key", &key)]);
                done.emit(Outcome::Queued);
                // Told once, however often the connection comes and goes.
                let told = std::rc::Rc::new(std::cell::Cell::new(false));
                crate::on_online(move || {
                    let (done, host, key, told) =
                        (done.clone(), host.clone(), key.clone(), told.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        queue::flush().await;
                        // Delivered by this flush or by another widget's: either way, once.
                        if let Some(reference) = queue::delivered(&key)
                            && !told.replace(true)
                        {
                            dispatch(&host, "chorus:submitted", &[("reference", &reference)]);
                            done.emit(Outcome::Sent(reference));
                        }
                    });
                });
            }
            Err(err) => {
                let code = match &err {
                    SendError::Unreachable => "unreachable",
                    SendError::Rejected(c) => c.as_str(),
                };
                dispatch(&host, "chorus:error", &[("code", code)]);
                done.emit(Outcome::Failed(err));
            }
        }
    });
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
    // A server that never answers must not leave the patient waiting: give up on this
    // attempt after 20 s (the next retry, or the offline queue, takes over).
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
        ATTEMPT_TIMEOUT_MS,
    )));
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

/// Responses that could not be sent (offline, server down) wait in `localStorage` under
/// `chorus:queue:<idempotency key>` until they are delivered — on the `online` event or on the
/// next page that loads Chorus. The key makes delivery exactly once: a copy that reaches the
/// server twice is stored once and gets the same receipt.
pub mod queue {
    use super::*;

    const PREFIX: &str = "chorus:queue:";

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    /// Keep a submission for later. Returns false if storage is unavailable or full, so the
    /// widget can tell the patient their answers were not kept.
    pub fn push(key: &str, url: &str, body: &str) -> bool {
        let entry = format!("{}\n{}", url, body);
        storage().is_some_and(|s| s.set_item(&format!("{PREFIX}{key}"), &entry).is_ok())
    }

    thread_local! {
        /// Everything delivered from the queue during this page's life, whichever widget's
        /// flush delivered it: two widgets that both queued and both flush on `online` race
        /// for the same entries, and the loser must still learn its own receipt.
        static DELIVERED: std::cell::RefCell<Vec<(String, String)>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// The reference of a queued submission delivered by any flush on this page.
    pub fn delivered(key: &str) -> Option<String> {
        DELIVERED.with(|d| {
            d.borrow()
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, r)| r.clone())
        })
    }

    /// Try to deliver every waiting submission; delivered ones are removed. Returns the
    /// (idempotency key, reference) of each delivered.
    pub async fn flush() -> Vec<(String, String)> {
        let Some(s) = storage() else { return vec![] };
        let mut waiting = Vec::new();
        for i in 0..s.length().unwrap_or(0) {
            if let Ok(Some(k)) = s.key(i)
                && let Some(key) = k.strip_prefix(PREFIX)
                && let Ok(Some(v)) = s.get_item(&k)
                && let Some((url, body)) = v.split_once('\n')
            {
                waiting.push((key.to_string(), url.to_string(), body.to_string()));
            }
        }
        let mut delivered = Vec::new();
        for (key, url, body) in waiting {
            match attempt(&url, &body).await {
                Ok((status, json)) if status == 200 || status == 201 => {
                    let _ = s.remove_item(&format!("{PREFIX}{key}"));
                    let reference = field(&json, "reference").unwrap_or_default();
                    DELIVERED.with(|d| d.borrow_mut().push((key.clone(), reference.clone())));
                    delivered.push((key, reference));
                }
                // Refused for good (e.g. the form changed): drop it rather than retry forever.
                Ok((status, _))
                    if (400..500).contains(&status) && status != 408 && status != 429 =>
                {
                    let _ = s.remove_item(&format!("{PREFIX}{key}"));
                }
                _ => {}
            }
        }
        delivered
    }
}
