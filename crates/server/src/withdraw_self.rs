//! A patient withdraws their own feedback, with no account: the reference and the one-time
//! code from their receipt, within their site's `withdraw_days` of sending.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /withdraw` | the form (`?reference=` fills it in, `?lang=cy` in Welsh) |
//! | `POST /withdraw` | checks the reference and code, asks "are you sure?", then deletes |
//! | `POST /api/v1/withdrawals` | the same for an integration, JSON (in `crate::api`) |
//!
//! Why this shape:
//! - The widget makes the code (crypto.getRandomValues) and sends it in the envelope, so a
//!   retry or a queued copy carries the same one and the server never has to send it back.
//!   Only its SHA-256 is stored (`responses.withdraw_hash`). SHA-256 and not argon2: the code
//!   has 137 random bits, so no guess list or GPU can search it and slow hashing would protect
//!   nothing; it would only make an unauthenticated endpoint expensive to call.
//! - One answer, the same status and the same work (a database look-up and a comparison in
//!   constant time) for a wrong reference, a wrong code, a code sent too late and a response
//!   already withdrawn, so nobody learns whether a reference exists. Attempts are counted by
//!   the per-address rate limiter of the submissions API.
//! - A successful withdrawal is the staff deletion (`dashboard::withdraw::delete_response`):
//!   gone from every report and export, audited as [`ACTOR`], with no patient text; the code
//!   then finds nothing.
//! - Works without JavaScript, under the hosted pages' content security policy, no cookies
//!   (so no session to forge a request in: the code itself is the proof).

use std::sync::Arc;

use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::AppState;

/// The audit log's actor for a patient's own withdrawal.
pub const ACTOR: &str = "patient (receipt secret)";

/// Longest reference or code looked at (anything longer is refused unread).
const MAX_TYPED: usize = 120;

/// The stored form of a withdrawal code: SHA-256, hex.
pub fn secret_hash(secret: &str) -> String {
    crate::util::sha256_hex(secret)
}

/// A response a reference and code have been checked against.
pub struct Valid {
    id: i64,
    site: String,
    /// The reference, as the receipt shows it.
    pub reference: String,
    instrument: String,
    received_at: String,
}

/// Does `code` withdraw the response `reference` stands for now? `None` for every kind of
/// no, after the same work.
pub async fn check(app: &AppState, reference: &str, code: &str) -> anyhow::Result<Option<Valid>> {
    if reference.len() > MAX_TYPED || code.len() > MAX_TYPED {
        return Ok(None);
    }
    let code = chorus_core::withdraw::normalise(code);
    // -1 is never an id: a reference that does not parse costs the same look-up.
    let id = crate::reference::to_id(reference).unwrap_or(-1);
    let row = sqlx::query(
        "SELECT site, instrument, received_at, withdraw_hash FROM responses WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(app.store.pool())
    .await?;
    let (site, instrument, received_at, stored): (String, String, String, Option<String>) =
        match &row {
            Some(r) => (r.get(0), r.get(1), r.get(2), r.get(3)),
            None => Default::default(),
        };
    // Compared whatever is missing: a hex digest never equals a row of 'x'.
    let stored = stored.unwrap_or_else(|| "x".repeat(64));
    let same: bool = secret_hash(&code)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into();
    let days = app.config.site(&site).map_or(0, |s| s.withdraw_days);
    let cutoff = crate::store::iso_utc(crate::util::now_secs() - i64::from(days) * 86_400);
    let in_time = days > 0 && received_at.as_str() >= cutoff.as_str();
    let ok = row.is_some() & same & in_time & chorus_core::withdraw::is_secret(&code);
    Ok(ok.then(|| Valid {
        id,
        site,
        reference: crate::reference::from_id(id),
        instrument,
        received_at,
    }))
}

/// Delete a checked response, exactly as staff do, audited as [`ACTOR`]. `Ok(false)` if it
/// went in the meantime.
pub async fn withdraw(app: &AppState, v: &Valid) -> anyhow::Result<bool> {
    crate::dashboard::withdraw::delete_response(
        app,
        v.id,
        &v.site,
        None,
        ACTOR,
        &format!(
            "{} ({}, received {}): withdrawn by the patient with the code on their receipt",
            v.reference, v.instrument, v.received_at
        ),
    )
    .await
}

/// The page's words, in English and Welsh.
struct Words {
    lang: &'static str,
    other_lang: &'static str,
    other_name: &'static str,
    skip: &'static str,
    language: &'static str,
    header: &'static str,
    title: &'static str,
    lead: &'static str,
    when: &'static str,
    reference: &'static str,
    reference_hint: &'static str,
    code: &'static str,
    code_hint: &'static str,
    continue_on: &'static str,
    enter_reference: &'static str,
    enter_code: &'static str,
    problem: &'static str,
    refused: &'static str,
    too_many: &'static str,
    sure: &'static str,
    sure_body: (&'static str, &'static str),
    yes: &'static str,
    done: &'static str,
    done_body: (&'static str, &'static str),
    sorry: &'static str,
    try_later: &'static str,
}

const EN: Words = Words {
    lang: "en",
    other_lang: "cy",
    other_name: "Cymraeg",
    skip: "Skip to main content",
    language: "Language",
    header: "Patient feedback",
    title: "Withdraw your feedback",
    lead: "If you sent us feedback and have changed your mind, you can delete it here. You need the reference and the withdrawal code from the confirmation you saw after sending it.",
    when: "You can do this for a limited time after sending: your confirmation says how long. After that, or if you did not keep the code, ask the service. Staff can withdraw it with your reference.",
    reference: "Reference",
    reference_hint: "For example, CH-7K3Q-9D4M",
    code: "Withdrawal code",
    code_hint: "28 letters and numbers, in groups of 4. Capital letters, spaces and dashes do not matter.",
    continue_on: "Continue",
    enter_reference: "Enter the reference from your confirmation",
    enter_code: "Enter the withdrawal code from your confirmation",
    problem: "There is a problem",
    refused: "We could not withdraw feedback with this reference and code. Check both against your confirmation. The time to withdraw it here may have passed, or it may have been withdrawn already.",
    too_many: "You have tried too many times. Wait a minute, then try again.",
    sure: "Are you sure you want to withdraw your feedback?",
    sure_body: (
        "Your answers with the reference ",
        " will be deleted. This cannot be undone.",
    ),
    yes: "Yes, withdraw my feedback",
    done: "Your feedback has been withdrawn",
    done_body: (
        "Your answers with the reference ",
        " have been deleted and are no longer in any report. The withdrawal code no longer works.",
    ),
    sorry: "Sorry, there is a problem with the service",
    try_later: "Try again later.",
};

// Welsh: a draft for a Welsh-language reviewer, as the widget's own Welsh strings are.
const CY: Words = Words {
    lang: "cy",
    other_lang: "en",
    other_name: "English",
    skip: "Neidio i'r prif gynnwys",
    language: "Iaith",
    header: "Adborth cleifion",
    title: "Tynnu eich adborth yn ôl",
    lead: "Os gwnaethoch anfon adborth atom a'ch bod wedi newid eich meddwl, gallwch ei ddileu yma. Mae angen y cyfeirnod a'r cod tynnu'n ôl o'r cadarnhad a welsoch ar ôl ei anfon.",
    when: "Gallwch wneud hyn am gyfnod cyfyngedig ar ôl anfon: mae eich cadarnhad yn dweud am ba mor hir. Wedi hynny, neu os na wnaethoch gadw'r cod, gofynnwch i'r gwasanaeth. Gall staff ei dynnu'n ôl gyda'ch cyfeirnod.",
    reference: "Cyfeirnod",
    reference_hint: "Er enghraifft, CH-7K3Q-9D4M",
    code: "Cod tynnu'n ôl",
    code_hint: "28 o lythrennau a rhifau, mewn grwpiau o 4. Does dim ots am briflythrennau, bylchau na llinellau.",
    continue_on: "Parhau",
    enter_reference: "Rhowch y cyfeirnod o'ch cadarnhad",
    enter_code: "Rhowch y cod tynnu'n ôl o'ch cadarnhad",
    problem: "Mae problem",
    refused: "Ni allem dynnu adborth yn ôl gyda'r cyfeirnod a'r cod hwn. Gwiriwch y ddau yn erbyn eich cadarnhad. Efallai bod yr amser i'w dynnu'n ôl yma wedi mynd heibio, neu ei fod wedi'i dynnu'n ôl yn barod.",
    too_many: "Rydych wedi ceisio gormod o weithiau. Arhoswch funud, yna rhowch gynnig arall arni.",
    sure: "Ydych chi'n siŵr eich bod am dynnu eich adborth yn ôl?",
    sure_body: (
        "Bydd eich atebion gyda'r cyfeirnod ",
        " yn cael eu dileu. Does dim modd dadwneud hyn.",
    ),
    yes: "Ydw, tynnwch fy adborth yn ôl",
    done: "Mae eich adborth wedi'i dynnu'n ôl",
    done_body: (
        "Mae eich atebion gyda'r cyfeirnod ",
        " wedi'u dileu a dydyn nhw ddim mewn unrhyw adroddiad mwyach. Nid yw'r cod tynnu'n ôl yn gweithio mwyach.",
    ),
    sorry: "Mae'n ddrwg gennym, mae problem gyda'r gwasanaeth",
    try_later: "Rhowch gynnig arall arni yn nes ymlaen.",
};

fn words(lang: Option<&str>) -> &'static Words {
    if lang.is_some_and(|l| l.eq_ignore_ascii_case("cy")) {
        &CY
    } else {
        &EN
    }
}

/// The query of `GET /withdraw`.
#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// The form of `POST /withdraw`.
#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    reference: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    lang: Option<String>,
    /// `yes` once the patient has confirmed.
    #[serde(default)]
    confirm: Option<String>,
}

/// `GET /withdraw`.
pub async fn page(Query(q): Query<PageQuery>) -> Response {
    let w = words(q.lang.as_deref());
    let reference = q.reference.unwrap_or_default();
    let reference = reference
        .get(..MAX_TYPED.min(reference.len()))
        .unwrap_or("");
    crate::channels::with_headers(StatusCode::OK, form(w, reference, &[], None))
}

/// `POST /withdraw`.
pub async fn post(
    State(app): State<Arc<AppState>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<WithdrawForm>,
) -> Response {
    let w = words(f.lang.as_deref());
    let (reference, code) = (f.reference.trim(), f.code.trim());
    let shown_ref = reference
        .get(..MAX_TYPED.min(reference.len()))
        .unwrap_or("");
    let mut missing = Vec::new();
    if reference.is_empty() {
        missing.push(("reference", w.enter_reference));
    }
    if code.is_empty() {
        missing.push(("code", w.enter_code));
    }
    if !missing.is_empty() {
        return crate::channels::with_headers(
            StatusCode::BAD_REQUEST,
            form(w, shown_ref, &missing, None),
        );
    }
    let ip = crate::ratelimit::client_ip(
        peer.map(|p| p.0.0.ip()),
        &headers,
        app.config.limits.trust_forwarded_for,
    );
    if app.limits.check_ip(ip).is_err() {
        app.metrics.rate_limited();
        let mut r = crate::channels::with_headers(
            StatusCode::TOO_MANY_REQUESTS,
            form(w, shown_ref, &[], Some(w.too_many)),
        );
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("60"),
        );
        return r;
    }
    let run = async {
        let Some(v) = check(&app, reference, code).await? else {
            return anyhow::Ok(None);
        };
        if f.confirm.as_deref() != Some("yes") {
            return Ok(Some(confirm(w, &v.reference, code)));
        }
        Ok(withdraw(&app, &v).await?.then(|| done(w, &v.reference)))
    };
    match run.await {
        Ok(Some(page)) => crate::channels::with_headers(StatusCode::OK, page),
        Ok(None) => crate::channels::with_headers(
            StatusCode::BAD_REQUEST,
            form(w, shown_ref, &[], Some(w.refused)),
        ),
        Err(e) => {
            tracing::error!(error = %e, "a patient's withdrawal failed");
            crate::channels::with_headers(
                StatusCode::INTERNAL_SERVER_ERROR,
                shell(w, html! { h1 { (w.sorry) } p { (w.try_later) } }),
            )
        }
    }
}

/// The page around `main`.
fn shell(w: &Words, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(w.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (w.title) " — " (w.header) }
                link rel="stylesheet" href="/site.css";
                link rel="icon" href="data:,";
            }
            body {
                a class="skip-link" href="#main" { (w.skip) }
                header class="site-header" {
                    span class="site-header__home" { (w.header) }
                    nav class="site-nav" aria-label=(w.language) {
                        a href={ "/withdraw?lang=" (w.other_lang) } lang=(w.other_lang) hreflang=(w.other_lang) { (w.other_name) }
                    }
                }
                main class="site-main" id="main" { (main) }
            }
        }
    }
}

/// The form, with the fields' errors (`(field, message)`) or one problem for both.
fn form(w: &Words, reference: &str, errors: &[(&str, &str)], problem: Option<&str>) -> Markup {
    let error_of = |field: &str| errors.iter().find(|(f, _)| *f == field).map(|(_, m)| *m);
    let field = |id: &'static str, label: &str, hint: &str, value: &str, autocomplete: &str| {
        let error = error_of(id);
        let described = if error.is_some() {
            format!("{id}-hint {id}-error")
        } else {
            format!("{id}-hint")
        };
        html! {
            div class="field" {
                label for=(id) { (label) }
                p class="field__hint" id={ (id) "-hint" } { (hint) }
                @if let Some(e) = error {
                    p class="field__error" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (e) }
                }
                input id=(id) name=(id) type="text" spellcheck="false" autocapitalize="characters"
                    autocomplete=(autocomplete) value=(value) aria-describedby=(described)
                    aria-invalid=[error.map(|_| "true")];
            }
        }
    };
    shell(
        w,
        html! {
            @if !errors.is_empty() || problem.is_some() {
                div class="error-summary" role="alert" tabindex="-1" aria-labelledby="error-summary-title" {
                    h2 id="error-summary-title" { (w.problem) }
                    @if let Some(p) = problem { p id="problem" { (p) } }
                    @if !errors.is_empty() {
                        ul { @for (f, m) in errors { li { a href={ "#" (f) } { (m) } } } }
                    }
                }
            }
            h1 { (w.title) }
            p class="lede" { (w.lead) }
            p { (w.when) }
            form method="post" action="/withdraw" novalidate {
                input type="hidden" name="lang" value=(w.lang);
                (field("reference", w.reference, w.reference_hint, reference, "off"))
                // The code is never put back into the page after a refusal.
                (field("code", w.code, w.code_hint, "", "off"))
                button type="submit" class="button" { (w.continue_on) }
            }
        },
    )
}

/// "Are you sure?", carrying what was typed to the final step (in the form, never the URL).
fn confirm(w: &Words, reference: &str, code: &str) -> Markup {
    shell(
        w,
        html! {
            h1 { (w.sure) }
            p { (w.sure_body.0) strong { (reference) } (w.sure_body.1) }
            form method="post" action="/withdraw" {
                input type="hidden" name="lang" value=(w.lang);
                input type="hidden" name="reference" value=(reference);
                input type="hidden" name="code" value=(code);
                input type="hidden" name="confirm" value="yes";
                button type="submit" class="button" { (w.yes) }
            }
        },
    )
}

fn done(w: &Words, reference: &str) -> Markup {
    shell(
        w,
        html! {
            div class="confirmation-panel" id="withdrawn" role="status" {
                h1 { (w.done) }
                p { (w.done_body.0) strong { (reference) } (w.done_body.1) }
            }
        },
    )
}
