//! Sending a response to the collector: JSON over `fetch`, no cookies, retried with backoff.
//!
//! The idempotency key is made once per response, so however many times a retry reaches the
//! server it is stored once and the same receipt comes back.

use std::{fmt::Write as _, time::Duration};

use chorus_core::{Answer, Instrument, Response, ScoreReport, num::Score};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, RequestCredentials, RequestInit, RequestMode};

/// Why sending failed, in terms the patient message can use. The split is the one promise
/// that matters: only [`SendError::Unreachable`] is kept on the device and retried, because
/// only then is "we will send your answers later" true.
#[derive(Clone, Debug, PartialEq)]
pub enum SendError {
    /// Offline, a timeout, or the server busy or down (5xx, 429, 408): worth keeping and
    /// retrying with the same key.
    Unreachable,
    /// Can never be delivered as configured: the stable code (`origin_not_allowed`,
    /// `unknown_site`, `not_configured`, or the server's own), and a sentence for the web team.
    Rejected(String, String),
}

impl SendError {
    /// The code `chorus:error` carries.
    pub fn code(&self) -> &str {
        match self {
            SendError::Unreachable => "unreachable",
            SendError::Rejected(c, _) => c,
        }
    }
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

/// How long the reachability probe may take.
const PROBE_TIMEOUT_MS: u32 = 5_000;

/// Delays between attempts: quick first, then backing off.
const BACKOFF_MS: [u64; 4] = [0, 500, 1500, 4000];

const RESPONSES: &str = "/api/v1/responses";

/// A submission ready to post: where, and the JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// `…/api/v1/responses` on the configured endpoint.
    pub url: String,
    /// The submission JSON.
    pub body: String,
}

/// Build the request for a response from the host element's attributes: `endpoint`,
/// `site`, `service` and `mode` (how it was collected; a code the core does not know is left
/// out, so a typo in a page's markup cannot make every patient's answer bounce). A `kiosk`
/// element with no (known) `mode` is a tablet.
pub fn prepare(host: &Element, response: &Response) -> Prepared {
    use chorus_core::mode::Mode;
    let endpoint = host.get_attribute("endpoint").unwrap_or_default();
    let site = site_of(host).unwrap_or_default();
    let service = host.get_attribute("service");
    let mode = host
        .get_attribute("mode")
        .and_then(|m| Mode::from_code(m.trim()))
        .or_else(|| host.has_attribute("kiosk").then_some(Mode::Tablet))
        .filter(|m| *m != Mode::Online);
    let mut body = submission_json(&site, service.as_deref(), mode.map(|m| m.code()), response);
    // Not on a shared kiosk: the next person would read the code off the screen.
    if !host.has_attribute("kiosk")
        && let Some(s) = withdraw::secret(&response.idempotency_key)
    {
        body.insert_str(1, &format!("\"withdraw_secret\":\"{s}\","));
    }
    Prepared {
        url: format!("{}{RESPONSES}", endpoint.trim_end_matches('/')),
        body,
    }
}

/// The patient's own withdrawal: a code per response (per idempotency key, so a retry sends
/// the same one), made from the browser's CSPRNG and sent in the envelope; the server keeps
/// only its hash. The receipt says for how many days it works (`withdraw_days`, absent where
/// the site does not allow it), and only then does the confirmation show it, with a link to
/// the collector's `/withdraw` page.
pub mod withdraw {
    use std::cell::RefCell;

    use wasm_bindgen::JsValue;

    thread_local! {
        /// (idempotency key, code) made on this page.
        static CODES: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
        /// (reference, code, days, `/withdraw` address) of each receipt that allows it.
        static SHOWN: RefCell<Vec<(String, String, u32, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// The code for the response with idempotency `key`, made once.
    pub fn secret(key: &str) -> Option<String> {
        CODES.with(|c| {
            let mut c = c.borrow_mut();
            if let Some((_, s)) = c.iter().find(|(k, _)| k == key) {
                return Some(s.clone());
            }
            let mut bytes = [0u8; 64];
            web_sys::window()?
                .crypto()
                .ok()?
                .get_random_values_with_u8_array(&mut bytes)
                .ok()?;
            let s = chorus_core::withdraw::from_random(&bytes)?;
            c.push((key.to_string(), s.clone()));
            Some(s)
        })
    }

    /// Note a receipt for the confirmation: `body` is what was posted to `url`.
    pub(super) fn receipt(url: &str, body: &str, receipt: &JsValue, reference: &str) {
        let days = js_sys::Reflect::get(receipt, &"withdraw_days".into())
            .ok()
            .and_then(|d| d.as_f64());
        // `prepare` writes it first: no need to parse the body.
        let code = body
            .strip_prefix("{\"withdraw_secret\":\"")
            .and_then(|r| r.split('"').next());
        if let (Some(days), Some(code)) = (days, code) {
            let base = url.strip_suffix(super::RESPONSES).unwrap_or("");
            let href = format!("{base}/withdraw?reference={reference}");
            SHOWN.with(|s| {
                s.borrow_mut()
                    .push((reference.to_string(), code.to_string(), days as u32, href))
            });
        }
    }

    /// (code, days, `/withdraw` address) for the receipt with this reference, if it allows it.
    pub fn shown(reference: &str) -> Option<(String, u32, String)> {
        SHOWN.with(|s| {
            s.borrow()
                .iter()
                .find(|(r, ..)| r == reference)
                .map(|(_, c, d, h)| (c.clone(), *d, h.clone()))
        })
    }
}

/// The host element's `site`, or `None` when it is missing or blank (a CMS that strips
/// attributes leaves a bare element: it must not pretend it can send).
pub fn site_of(host: &Element) -> Option<String> {
    host.get_attribute("site")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Tell the web team (console) and the page (`chorus:error`) that this element has no `site`
/// and so cannot send. Called once, when the widget starts.
pub fn report_not_configured(host: &Element) {
    let tag = host.local_name();
    let msg = format!(
        "<{tag}> has no site attribute, so it cannot send answers. Add site=\"your site id\" (and endpoint=\"https://your Chorus server\" unless that server serves this page)."
    );
    refuse(host, "not_configured", &msg);
}

/// The console line for the web team and the `chorus:error` event, for a submission that can
/// never be delivered as configured.
fn refuse(host: &Element, code: &str, message: &str) {
    web_sys::console::error_1(&format!("Chorus: {code}: {message}").into());
    dispatch(
        host,
        "chorus:error",
        &[("code", code), ("message", message)],
    );
}

/// Worth retrying with the same key: the server is busy, down or timed out. 501 ("not
/// implemented") is not: whatever answered does not take submissions and never will.
fn retryable(status: i64) -> bool {
    (status >= 500 && status != 501) || status == 429 || status == 408
}

fn global(name: &str) -> JsValue {
    js_sys::Reflect::get(&js_sys::global(), &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `navigator.onLine`: false means certainly offline (true only means "a network exists").
fn online() -> bool {
    js_sys::Reflect::get(&global("navigator"), &"onLine".into())
        .map(|v| v.as_bool() != Some(false))
        .unwrap_or(true)
}

/// The page's own origin (`location.origin`).
fn page_origin() -> String {
    field(&global("location"), "origin").unwrap_or_default()
}

fn same_origin(url: &str) -> bool {
    (url.starts_with('/') && !url.starts_with("//"))
        || url
            .strip_prefix(&page_origin())
            .is_some_and(|r| r.starts_with('/'))
}

/// Post, retrying with backoff on network errors, 5xx and 429; resolves to the receipt's
/// reference.
///
/// A `fetch` that fails with a `TypeError` while the browser is online is ambiguous: the
/// server may be down, or it may be up and refusing this page's origin (CORS hides which).
/// For a cross-origin endpoint, after the second such failure, we ask the server itself with
/// a plain CORS `GET` of `/embed/manifest.json`: every Chorus server answers everything under
/// `/embed/` to any origin (`Access-Control-Allow-Origin: *`, as the bundle is fetched
/// cross-origin with SRI). If that answers, the server is up and the refusal is for this
/// origin: it will never be delivered, so nothing is queued. If it fails too, the server (or
/// the network path, or a proxy in front of it answering 502 without CORS headers) is down:
/// queue and retry. A `no-cors` probe would be simpler but cannot tell a refusing server from
/// a proxy's error page, so a real outage would tell every patient "could not be sent".
pub async fn send(p: &Prepared) -> Result<String, SendError> {
    let (url, body) = (p.url.as_str(), p.body.as_str());
    if !url.ends_with(RESPONSES) {
        return Err(SendError::Rejected(
            "not_configured".into(),
            format!("{url} is not a Chorus submission address"),
        ));
    }
    // Browsers block plain http from an https page (mixed content) with the same TypeError as
    // a network failure: it would be queued for ever.
    if page_origin().starts_with("https:") && url.starts_with("http:") {
        return Err(SendError::Rejected(
            "not_configured".into(),
            format!(
                "{url} is http: on an https: page, which browsers block; use https: in endpoint"
            ),
        ));
    }
    let mut network_errors = 0;
    let csp = if same_origin(url) {
        None
    } else {
        CspWatch::new(url)
    };
    for delay in BACKOFF_MS {
        if delay > 0 {
            yew::platform::time::sleep(Duration::from_millis(delay)).await;
        }
        match attempt(url, body).await {
            Ok((status, json)) if status == 200 || status == 201 => {
                let reference = field(&json, "reference");
                if let Some(r) = &reference {
                    withdraw::receipt(url, body, &json, r);
                }
                return reference.ok_or_else(|| {
                    SendError::Rejected(
                        "bad_receipt".into(),
                        format!("{url} answered {status} without a receipt; is endpoint a Chorus server?"),
                    )
                });
            }
            // Worth retrying with the same key; other refusals will not change.
            Ok((status, _)) if retryable(status) => {}
            Ok((status, json)) => {
                let err = js_sys::Reflect::get(&json, &"error".into()).unwrap_or(JsValue::NULL);
                return Err(match field(&err, "code") {
                    Some(code) => {
                        SendError::Rejected(code, field(&err, "message").unwrap_or_default())
                    }
                    // No Chorus error body: whatever answered is not a Chorus collector.
                    None => SendError::Rejected(
                        if matches!(status, 404 | 405 | 501) {
                            "not_configured"
                        } else {
                            "rejected"
                        }
                        .into(),
                        format!(
                            "{url} answered {status} and is not a Chorus server; check the endpoint attribute"
                        ),
                    ),
                });
            }
            // Offline: no point in retrying now; the `online` event will.
            Err(_) if !online() => return Err(SendError::Unreachable),
            Err(e) => {
                // The policy's violation event is a task of its own: let it arrive.
                yew::platform::time::sleep(Duration::from_millis(50)).await;
                if let Some(origin) = csp.as_ref().filter(|w| w.blocked.get()).map(|w| &w.origin) {
                    return Err(SendError::Rejected(
                        "csp_blocked".into(),
                        format!(
                            "this page's Content-Security-Policy does not allow connections to {origin}: add it to connect-src"
                        ),
                    ));
                }
                // A refusal happens every time; a dropped connection rarely twice in a row.
                // So ask the server only after the second network error.
                if e.is_instance_of::<js_sys::TypeError>() && !same_origin(url) {
                    network_errors += 1;
                    if network_errors >= 2 && reachable(url).await {
                        return Err(SendError::Rejected(
                            "origin_not_allowed".into(),
                            format!(
                                "the Chorus server is up but refused this page's origin ({}): add it to the site's origins in the server's configuration",
                                page_origin()
                            ),
                        ));
                    }
                }
            }
        }
    }
    Err(SendError::Unreachable)
}

/// Watches for the page's Content-Security-Policy blocking connections to the endpoint's
/// origin (the `securitypolicyviolation` event). Such a request fails exactly like a network
/// error, but it fails again on every retry and every visit: the answers must not be kept as
/// if they would be sent later.
struct CspWatch {
    origin: String,
    blocked: std::rc::Rc<std::cell::Cell<bool>>,
    listener: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::Event)>,
}

impl CspWatch {
    /// `None` for a same-origin endpoint (a policy always allows `'self'`'s own address
    /// unless it allows nothing at all) or where there is no document.
    fn new(url: &str) -> Option<CspWatch> {
        let rest = url.split_once("://")?.1;
        let origin =
            url[..url.len() - rest.len() + rest.find('/').unwrap_or(rest.len())].to_string();
        let blocked = std::rc::Rc::new(std::cell::Cell::new(false));
        let (flag, watched) = (blocked.clone(), origin.clone());
        let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
            move |e: web_sys::Event| {
                let uri = field(e.as_ref(), "blockedURI").unwrap_or_default();
                if field(e.as_ref(), "effectiveDirective").as_deref() == Some("connect-src")
                    && uri
                        .strip_prefix(&watched)
                        .is_some_and(|r| r.is_empty() || r.starts_with('/'))
                {
                    flag.set(true);
                }
            },
        );
        web_sys::window()?
            .document()?
            .add_event_listener_with_callback(
                "securitypolicyviolation",
                listener.as_ref().unchecked_ref(),
            )
            .ok()?;
        Some(CspWatch {
            origin,
            blocked,
            listener,
        })
    }
}

impl Drop for CspWatch {
    fn drop(&mut self) {
        if let Some(d) = web_sys::window().and_then(|w| w.document()) {
            let _ = d.remove_event_listener_with_callback(
                "securitypolicyviolation",
                self.listener.as_ref().unchecked_ref(),
            );
        }
    }
}

/// Does the Chorus server behind `url` answer a CORS request from this page? (See [`send`].)
async fn reachable(url: &str) -> bool {
    let base = url.strip_suffix(RESPONSES).unwrap_or(url);
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(
        PROBE_TIMEOUT_MS,
    )));
    let Some(w) = web_sys::window() else {
        return false;
    };
    let probe = format!("{base}/embed/manifest.json");
    match JsFuture::from(w.fetch_with_str_and_init(&probe, &init)).await {
        Ok(r) => r
            .dyn_into::<web_sys::Response>()
            .is_ok_and(|r| r.status() < 500),
        Err(_) => false,
    }
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
/// exactly-once rules live in one place. A submission that can never be delivered (refused
/// origin, unknown site, no site) is not queued, and the console says why.
pub fn submit(host: Element, prepared: Prepared, key: String, done: yew::Callback<Outcome>) {
    if site_of(&host).is_none() {
        report_not_configured(&host);
        done.emit(Outcome::Failed(SendError::Rejected(
            "not_configured".into(),
            String::new(),
        )));
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        match send(&prepared).await {
            Ok(reference) => {
                draft::clear(&host);
                dispatch(&host, "chorus:submitted", &[("reference", &reference)]);
                done.emit(Outcome::Sent(reference));
            }
            Err(SendError::Unreachable) if queue::push(&key, &prepared.url, &prepared.body) => {
                draft::clear(&host);
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
                match &err {
                    SendError::Rejected(code, msg) => refuse(&host, code, msg),
                    SendError::Unreachable => {
                        dispatch(&host, "chorus:error", &[("code", "unreachable")])
                    }
                }
                done.emit(Outcome::Failed(err));
            }
        }
    });
}

/// The submission as JSON, written by hand: serde's generic serialiser for the core's types
/// (score reports included) costs tens of KB in the bundle for a few lines of output.
pub fn submission_json(
    site: &str,
    service: Option<&str>,
    mode: Option<&str>,
    r: &Response,
) -> String {
    let mut o = String::with_capacity(256);
    o.push_str("{\"site\":");
    json_str(&mut o, site);
    if let Some(s) = service {
        o.push_str(",\"service\":");
        json_str(&mut o, s);
    }
    if let Some(m) = mode {
        o.push_str(",\"mode\":");
        json_str(&mut o, m);
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
    o.push('}');
    if let Some(c) = &r.client_scores
        && let Some(json) = score_json(c)
    {
        o.push_str(",\"client_scores\":");
        o.push_str(&json);
    }
    o.push_str("}}");
    o
}

/// The response with the widget's own score report, from the core's `score` (the one the
/// server re-runs): sent with it, so the server's mismatch counter measures real agreement.
pub fn scored(i: &Instrument, mut r: Response) -> Response {
    r.client_scores = Some(chorus_core::score(i, &r));
    r
}

/// A score report as JSON, written by hand (no serialiser in the bundle): the shape serde
/// reads into [`ScoreReport`], absent values left out (they read back as `None`). `None` if a
/// value cannot be written exactly, so a report is never sent that would differ by rounding.
pub fn score_json(r: &ScoreReport) -> Option<String> {
    let mut o = String::with_capacity(128);
    o.push_str("{\"instrument\":");
    json_str(&mut o, &r.instrument);
    let _ = write!(o, ",\"version\":{}", r.version);
    if let Some(f) = &r.fft {
        o.push_str(",\"fft\":{");
        let mut sep = Sep::default();
        if let Some(a) = &f.answer {
            sep.key(&mut o, "answer");
            json_str(&mut o, a);
        }
        if let Some(c) = f.category {
            sep.key(&mut o, "category");
            o.push_str(match c {
                chorus_core::score::FftCategory::Positive => "\"positive\"",
                chorus_core::score::FftCategory::Neutral => "\"neutral\"",
                chorus_core::score::FftCategory::Negative => "\"negative\"",
                chorus_core::score::FftCategory::DontKnow => "\"dont_know\"",
            });
        }
        o.push('}');
    }
    if let Some(i) = &r.i_statements {
        o.push_str(",\"i_statements\":{\"statements\":[");
        for (n, st) in i.statements.iter().enumerate() {
            if n > 0 {
                o.push(',');
            }
            o.push_str("{\"item\":");
            json_str(&mut o, &st.item);
            o.push_str(",\"theme\":");
            json_str(&mut o, &st.theme);
            if let Some(v) = st.score {
                let _ = write!(o, ",\"score\":{v}");
            }
            o.push('}');
        }
        o.push_str("],\"themes\":[");
        for (n, t) in i.themes.iter().enumerate() {
            if n > 0 {
                o.push(',');
            }
            o.push_str("{\"theme\":");
            json_str(&mut o, &t.theme);
            let _ = write!(
                o,
                ",\"answered\":{},\"statements\":{}",
                t.answered, t.statements
            );
            opt_score(&mut o, ",\"score\":", t.score.as_ref())?;
            o.push('}');
        }
        o.push(']');
        opt_score(&mut o, ",\"overall\":", i.overall.as_ref())?;
        o.push('}');
    }
    if let Some(x) = &r.sure {
        o.push_str(",\"sure\":{");
        let mut sep = Sep::default();
        if let Some(t) = x.total {
            sep.key(&mut o, "total");
            let _ = write!(o, "{t}");
        }
        if let Some(c) = x.conflict {
            sep.key(&mut o, "conflict");
            o.push_str(if c { "true" } else { "false" });
        }
        o.push('}');
    }
    if let Some(x) = &r.collaborate {
        o.push_str(",\"collaborate\":{");
        let mut sep = Sep::default();
        if let Some(t) = x.top_score {
            sep.key(&mut o, "top_score");
            o.push_str(if t { "true" } else { "false" });
        }
        if let Some(m) = &x.mean_score {
            sep.key(&mut o, "mean_score");
            score_obj(&mut o, m)?;
        }
        o.push('}');
    }
    if let Some(x) = &r.sdm_q_9 {
        let _ = write!(o, ",\"sdm_q_9\":{{\"answered\":{}", x.answered);
        opt_score(&mut o, ",\"score\":", x.score.as_ref())?;
        o.push('}');
    }
    if let Some(k) = &r.knowledge {
        let _ = write!(
            o,
            ",\"knowledge\":{{\"correct\":{},\"answered\":{},\"questions\":{},\"wrong\":[",
            k.correct, k.answered, k.questions
        );
        for (n, w) in k.wrong.iter().enumerate() {
            if n > 0 {
                o.push(',');
            }
            json_str(&mut o, w);
        }
        o.push_str("]}");
    }
    if let Some(l) = &r.lean {
        o.push_str(",\"lean\":{\"leans\":[");
        for (n, x) in l.leans.iter().enumerate() {
            if n > 0 {
                o.push(',');
            }
            o.push_str("{\"option\":");
            json_str(&mut o, &x.option);
            let _ = write!(o, ",\"lean\":{}}}", x.lean);
        }
        let _ = write!(o, "],\"total_weight\":{}", l.total_weight);
        if let Some(t) = &l.towards {
            o.push_str(",\"towards\":");
            json_str(&mut o, t);
        }
        o.push('}');
    }
    o.push('}');
    Some(o)
}

/// Commas between the keys of an object whose every key is optional.
#[derive(Default)]
struct Sep(bool);

impl Sep {
    fn key(&mut self, o: &mut String, k: &str) {
        if std::mem::replace(&mut self.0, true) {
            o.push(',');
        }
        let _ = write!(o, "\"{k}\":");
    }
}

fn opt_score(o: &mut String, key: &str, s: Option<&Score>) -> Option<()> {
    if let Some(s) = s {
        o.push_str(key);
        score_obj(o, s)?;
    }
    Some(())
}

fn score_obj(o: &mut String, s: &Score) -> Option<()> {
    o.push_str("{\"value\":");
    exact_decimal(o, s.value)?;
    o.push_str(",\"display\":");
    json_str(o, &s.display);
    o.push('}');
    Some(())
}

/// Write `x` as a decimal that reads back as exactly `x`, with integer arithmetic only (no
/// float formatter in the bundle): the double's exact binary value, its digits truncated after
/// 18 significant ones. That is off by less than 10⁻¹⁷ of the value, under a fifth of the
/// smallest half-gap to a neighbouring double (2⁻⁵⁴ of the value), so any correctly rounding
/// reader (the server's, with serde_json's `float_roundtrip`) gets `x` back.
/// `None` for what a score never is: not finite, or too large or too small to write this way.
fn exact_decimal(o: &mut String, x: f64) -> Option<()> {
    if !x.is_finite() {
        return None;
    }
    let bits = x.to_bits();
    if bits >> 63 == 1 && x != 0.0 {
        o.push('-');
    }
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp - 1075)
    };
    if m == 0 {
        o.push('0');
        return Some(());
    }
    if e >= 0 {
        // Whole numbers below 2^63 (a score is at most a few hundred): printed as a u64, so
        // no 128-bit formatting comes into the bundle.
        if e > 10 {
            return None;
        }
        let _ = write!(o, "{}", m << e);
        return Some(());
    }
    let shift = (-e) as u32;
    if shift > 120 {
        return None;
    }
    let mask = (1u128 << shift) - 1;
    // Below 2^53: the integer part fits a u64.
    let int = ((m as u128) >> shift) as u64;
    let mut rem = (m as u128) & mask;
    let _ = write!(o, "{int}");
    let mut sig = if int == 0 { 0 } else { int.ilog10() + 1 };
    if rem != 0 {
        o.push('.');
    }
    while rem != 0 && sig < 18 {
        // rem < 2^120, so rem × 10 < 2^124.
        rem *= 10;
        let d = (rem >> shift) as u8;
        rem &= mask;
        o.push((b'0' + d) as char);
        if sig > 0 || d > 0 {
            sig += 1;
        }
    }
    Some(())
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

async fn attempt(url: &str, body: &str) -> Result<(i64, JsValue), JsValue> {
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
    Ok((res.status().into(), json))
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
        while let Some((key, url, body)) = waiting.pop() {
            match attempt(&url, &body).await {
                Ok((status, json)) if status == 200 || status == 201 => {
                    let _ = s.remove_item(&format!("{PREFIX}{key}"));
                    let reference = field(&json, "reference").unwrap_or_default();
                    withdraw::receipt(&url, &body, &json, &reference);
                    DELIVERED.with(|d| d.borrow_mut().push((key.clone(), reference.clone())));
                    delivered.push((key, reference));
                }
                // The "About you" answers refused (see `crate::about`): the feedback goes
                // without them, at once and, if that fails too, later.
                Ok((_, json))
                    if crate::about::refused(&json)
                        && let Some(plain) = crate::about::strip(&body) =>
                {
                    crate::about::report_queued(&json);
                    let _ = s.set_item(&format!("{PREFIX}{key}"), &format!("{url}\n{plain}"));
                    waiting.push((key, url, plain));
                }
                // Refused for good (e.g. the form changed): drop it rather than retry forever.
                Ok((status, _)) if !retryable(status) => {
                    let _ = s.remove_item(&format!("{PREFIX}{key}"));
                }
                _ => {}
            }
        }
        delivered
    }
}

/// Typed answers kept in `sessionStorage` while the patient fills a form, so a widget that a
/// page removes and adds again (a tab switch in a single-page app, a CMS re-render) comes back
/// as they left it. Keyed by element, site, instrument and element id; cleared once the
/// answers are sent or queued; gone when the tab is closed. A draft for another version of the
/// instrument is not used.
pub mod draft {
    use std::collections::BTreeMap;

    use chorus_core::Answer;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::Element;

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok().flatten()
    }

    fn key(host: &Element) -> String {
        let attr = |n: &str| host.get_attribute(n).unwrap_or_default();
        format!(
            "chorus:draft:{}:{}:{}:{}:{}",
            host.local_name(),
            attr("site"),
            attr("service"),
            attr("instrument"),
            host.id()
        )
    }

    /// Keep the answers and the page the patient is on (for this instrument `version`).
    pub fn save(host: &Element, version: u32, answers: &BTreeMap<String, Answer>, page: usize) {
        let Some(s) = storage() else { return };
        let a = js_sys::Object::new();
        for (k, v) in answers {
            let v: JsValue = match v {
                Answer::Bool(b) => (*b).into(),
                Answer::Number(n) => (*n as f64).into(),
                Answer::Text(t) => t.into(),
                Answer::List(l) => l
                    .iter()
                    .map(JsValue::from)
                    .collect::<js_sys::Array>()
                    .into(),
            };
            let _ = js_sys::Reflect::set(&a, &k.into(), &v);
        }
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"p".into(), &(page as f64).into());
        let _ = js_sys::Reflect::set(&o, &"v".into(), &version.into());
        let _ = js_sys::Reflect::set(&o, &"a".into(), &a);
        if let Ok(text) = js_sys::JSON::stringify(&o) {
            // Full or refused storage only loses the convenience, never the answers on screen.
            let _ = s.set_item(&key(host), &String::from(text));
        }
    }

    /// The kept answers and page, if any. Anything malformed is skipped, not trusted: the
    /// answers are checked again when the patient moves on, and by the server.
    pub fn load(host: &Element, version: u32) -> Option<(BTreeMap<String, Answer>, usize)> {
        let text = storage()?.get_item(&key(host)).ok()??;
        let o = js_sys::JSON::parse(&text).ok()?;
        if js_sys::Reflect::get(&o, &"v".into()).ok()?.as_f64() != Some(version.into()) {
            return None;
        }
        let page = js_sys::Reflect::get(&o, &"p".into())
            .ok()?
            .as_f64()
            .unwrap_or(0.0);
        let a = js_sys::Reflect::get(&o, &"a".into())
            .ok()?
            .dyn_into::<js_sys::Object>()
            .ok()?;
        let mut out = BTreeMap::new();
        for e in js_sys::Object::entries(&a).iter() {
            let e = js_sys::Array::from(&e);
            let (Some(k), v) = (e.get(0).as_string(), e.get(1)) else {
                continue;
            };
            let answer = if let Some(b) = v.as_bool() {
                Answer::Bool(b)
            } else if let Some(n) = v.as_f64().filter(|n| n.fract() == 0.0 && n.abs() < 1e15) {
                Answer::Number(n as i64)
            } else if let Some(t) = v.as_string() {
                Answer::Text(t)
            } else if js_sys::Array::is_array(&v) {
                Answer::List(
                    js_sys::Array::from(&v)
                        .iter()
                        .filter_map(|x| x.as_string())
                        .collect(),
                )
            } else {
                continue;
            };
            out.insert(k, answer);
        }
        Some((out, page.max(0.0) as usize))
    }

    /// Forget the kept answers (sent, or queued for sending).
    pub fn clear(host: &Element) {
        if let Some(s) = storage() {
            let _ = s.remove_item(&key(host));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chorus_core::{library, num::Ratio};

    /// The core's scoring vectors, as responses with their library instrument.
    fn vectors() -> Vec<(Instrument, Response)> {
        let v: Vec<serde_json::Value> =
            serde_json::from_str(include_str!("../../core/vectors/scoring.json")).unwrap();
        v.iter()
            .enumerate()
            .map(|(n, c)| {
                let id = c["instrument"].as_str().unwrap();
                // At the version the case names (an earlier one's vectors too), else current.
                let i = match c["version"].as_u64() {
                    Some(v) => library::get_version(id, v as u32),
                    None => library::get(id),
                }
                .unwrap();
                let r: Response = serde_json::from_value(serde_json::json!({
                    "instrument": id, "version": i.version, "idempotency_key": format!("v{n}"),
                    "answers": c["answers"]}))
                .unwrap();
                (i, r)
            })
            .collect()
    }

    #[test]
    fn every_vector_s_report_reads_back_equal_to_the_core_s() {
        let mut sections = std::collections::BTreeSet::new();
        for (i, r) in vectors() {
            let report = chorus_core::score(&i, &r);
            let json = score_json(&report).unwrap();
            let back: ScoreReport =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}: {json}", i.id));
            assert_eq!(back, report, "{json}");
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            sections.extend(v.as_object().unwrap().keys().cloned());
        }
        // Every section of a report was written at least once.
        for s in [
            "fft",
            "i_statements",
            "sure",
            "collaborate",
            "sdm_q_9",
            "knowledge",
            "lean",
        ] {
            assert!(sections.contains(s), "no vector wrote {s}: {sections:?}");
        }
    }

    #[test]
    fn the_submission_carries_the_report_the_server_reads() {
        for (i, r) in vectors().into_iter().take(40) {
            let r = scored(&i, r);
            let body = submission_json("demo", Some("ward-7"), None, &r);
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["site"], "demo");
            let back: Response = serde_json::from_value(v["response"].clone()).unwrap();
            assert_eq!(back.client_scores, Some(chorus_core::score(&i, &r)));
            assert_eq!(back.answers, r.answers);
        }
        // Without a report the body has none.
        let (i, mut r) = vectors().remove(0);
        r.client_scores = None;
        assert!(!submission_json("demo", None, None, &r).contains("client_scores"));
        let _ = i;
    }

    #[test]
    fn decimals_read_back_as_the_same_double() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let check = |v: f64| {
            let mut s = String::new();
            exact_decimal(&mut s, v).unwrap();
            let back: f64 = serde_json::from_str(&s).unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v:?} written as {s}");
            assert!(v < 1.0 || s.len() <= 20, "{s}");
        };
        for v in [
            0.0,
            1.0,
            100.0,
            0.5,
            66.5,
            1e-10,
            12345678.0,
            2f64.powi(62),
            2f64.powi(53) + 2.0,
        ] {
            check(v);
        }
        // Scores as the core makes them: exact ratios of small integers.
        for _ in 0..200_000 {
            let den = (next() % 10_000 + 1) as i64;
            let num = (next() % (den as u64 * 100 + 1)) as i64;
            check(Score::from(Ratio::new(num, den)).value);
        }
        // And doubles of any bit pattern in a score's range.
        for _ in 0..200_000 {
            let v = f64::from_bits(next() >> 2);
            if v.is_finite() && v > 1e-6 && v < 1e6 {
                check(v);
            }
        }
        let mut s = String::new();
        assert!(exact_decimal(&mut s, f64::NAN).is_none());
        assert!(exact_decimal(&mut s, f64::INFINITY).is_none());
        assert!(exact_decimal(&mut s, 1e-300).is_none());
        assert!(exact_decimal(&mut s, 2f64.powi(64)).is_none());
    }
}
