//! Feedback channels Chorus serves itself: hosted form pages for links (SMS, e-mail, discharge
//! letters, QR codes) and printable posters with a QR code to them.
//!
//! Why: a GP practice without a CMS, or a ward with a poster on the wall, still needs a page
//! the widget lives on. The hosted page is the embed on our own origin, so it has the same
//! strict content security policy, no cookies and no trackers; the collection mode travels as
//! the element's `mode` attribute and is checked by the API like everything else.
//!
//! | route | what it serves |
//! |---|---|
//! | `GET /f/{site}/{service}` | the hosted form (`?instrument=`, `?mode=`, `?lang=cy`) |
//! | `GET /f/{site}/{service}/poster` | an A4 poster (print CSS) with the QR code, the FFT question and the short address |
//! | `GET /f/{site}/{service}/qr.svg` | the QR code alone, for a trust's own print designs |

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chorus_core::mode::Mode;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::{AppState, WWW_CSP};

/// The routes under `/f`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/{site}/{service}", get(form_page))
        .route("/{site}/{service}/poster", get(poster))
        .route("/{site}/{service}/qr.svg", get(qr_svg))
        .with_state(state)
}

/// The query a link may carry.
#[derive(Debug, Default, Deserialize)]
pub struct LinkQuery {
    /// Instrument id (default `fft`).
    pub instrument: Option<String>,
    /// Collection mode code (default `online`).
    pub mode: Option<String>,
    /// `en` or `cy`.
    pub lang: Option<String>,
}

/// A link, checked against the configuration: everything the pages need, nothing unchecked.
struct Link {
    site: String,
    site_name: String,
    service: String,
    instrument: String,
    mode: Mode,
    welsh: bool,
}

/// Why a link cannot be served: a page in plain words with the right status (the handlers'
/// error type, so they use `?`).
pub struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.0, self.1)
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; meta name="viewport" content="width=device-width, initial-scale=1";
                title { "This feedback link does not work" } link rel="stylesheet" href="/site.css"; }
            body { main class="site-main" id="main" {
                h1 { "This feedback link does not work" }
                p { (message) }
                p { "If you were sent this link, please tell the service that sent it." }
            } }
        }
    };
    with_headers(status, body)
}

pub(crate) fn with_headers(status: StatusCode, body: Markup) -> Response {
    page_response(
        status,
        body,
        &[
            (header::CONTENT_SECURITY_POLICY, WWW_CSP),
            // The link may have come from an SMS or a letter: the page it leads to says
            // nothing of it to any site the patient goes on to.
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
}

/// A public HTML page with its own policy headers (what it may load, who may cache it):
/// the patients' pages here and the published results share it.
pub(crate) fn page_response(
    status: StatusCode,
    body: Markup,
    headers: &[(header::HeaderName, &'static str)],
) -> Response {
    let mut r = (status, axum::response::Html(body.into_string())).into_response();
    for (name, value) in headers {
        r.headers_mut()
            .insert(name.clone(), HeaderValue::from_static(value));
    }
    r
}

/// What the head of every page a patient is sent to begins with: not indexed, the site's
/// styles, and an empty icon (no icon request, so no 404 in the patient's console).
fn patient_head(heading: &str, site_name: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        meta name="robots" content="noindex";
        title { (heading) " — " (site_name) }
        link rel="stylesheet" href="/site.css";
        link rel="icon" href="data:,";
    }
}

fn check(state: &AppState, site: &str, service: &str, q: &LinkQuery) -> Result<Link, Refusal> {
    let Some(s) = state.site(site) else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "We could not find the organisation this link is for.",
        ));
    };
    if service.is_empty() || service.len() > 64 || !s.allows_service(Some(service)) {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "We could not find the service this link is for.",
        ));
    }
    let instrument = q.instrument.clone().unwrap_or_else(|| "fft".to_string());
    if !s.allows_instrument(&instrument) || !state.instruments.contains_key(&instrument) {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "We could not find the questions this link is for.",
        ));
    }
    let mode = match q.mode.as_deref() {
        None | Some("") => Mode::Online,
        Some(m) => Mode::from_code(m).ok_or(Refusal(
            StatusCode::BAD_REQUEST,
            "The link has a part we do not recognise (the way it was sent).",
        ))?,
    };
    let welsh = match q.lang.as_deref() {
        None | Some("" | "en") => false,
        Some(l) if l.eq_ignore_ascii_case("cy") => true,
        Some(_) => {
            return Err(Refusal(
                StatusCode::BAD_REQUEST,
                "The link asks for a language we do not have yet.",
            ));
        }
    };
    Ok(Link {
        site: s.id.clone(),
        site_name: if s.name.is_empty() {
            s.id.clone()
        } else {
            s.name.clone()
        },
        service: service.to_string(),
        instrument,
        mode,
        welsh,
    })
}

/// `GET /f/{site}/{service}`: the hosted form.
pub async fn form_page(
    State(state): State<Arc<AppState>>,
    Path((site, service)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, Refusal> {
    let link = check(&state, &site, &service, &q)?;
    let (lang, heading, lead, other_lang, other_href) = if link.welsh {
        (
            "cy",
            "Dywedwch wrthym am eich gofal",
            "Mae'n cymryd munud neu ddwy. Mae eich atebion yn ddienw.",
            "English",
            href(&link, false),
        )
    } else {
        (
            "en",
            "Tell us about your care",
            "It takes a minute or two. Your answers are anonymous.",
            "Cymraeg",
            href(&link, true),
        )
    };
    let element = if link.instrument == "fft" {
        "chorus-fft"
    } else if state
        .instruments
        .get(&link.instrument)
        .is_some_and(|i| i.scoring == chorus_core::Scoring::DecisionAid)
    {
        "chorus-decision-aid"
    } else {
        "chorus-form"
    };
    let widget = format!(
        "<{element} site=\"{}\" service=\"{}\" instrument=\"{}\" mode=\"{}\" locale=\"{lang}\"></{element}>",
        attr(&link.site),
        attr(&link.service),
        attr(&link.instrument),
        link.mode.code(),
    );
    let body = html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                (patient_head(heading, &link.site_name))
                script src="/embed/chorus.js" defer {}
            }
            body {
                a class="skip-link" href="#main" { @if link.welsh { "Neidio i'r prif gynnwys" } @else { "Skip to main content" } }
                header class="site-header" {
                    span class="site-header__home" { (link.site_name) }
                    nav class="site-nav" aria-label=(if link.welsh { "Iaith" } else { "Language" }) {
                        a href=(other_href) lang=(if link.welsh { "en" } else { "cy" }) hreflang=(if link.welsh { "en" } else { "cy" }) { (other_lang) }
                    }
                }
                main class="site-main" id="main" {
                    h1 { (heading) }
                    p { (lead) }
                    (PreEscaped(widget))
                }
            }
        }
    };
    Ok(with_headers(StatusCode::OK, body))
}

/// The hosted page's path for this link, in English or Welsh.
fn href(link: &Link, welsh: bool) -> String {
    let mut query = Vec::new();
    if link.instrument != "fft" {
        query.push(format!(
            "instrument={}",
            crate::util::url_encode(&link.instrument)
        ));
    }
    if link.mode != Mode::Online {
        query.push(format!("mode={}", link.mode.code()));
    }
    if welsh {
        query.push("lang=cy".to_string());
    }
    let mut h = format!(
        "/f/{}/{}",
        crate::util::url_encode(&link.site),
        crate::util::url_encode(&link.service)
    );
    if !query.is_empty() {
        h.push('?');
        h.push_str(&query.join("&"));
    }
    h
}

/// Escape for HTML text or a double-quoted attribute (maud escapes `&`, `<`, `>` and `"`).
fn attr(s: &str) -> String {
    maud::html! { (s) }.into_string()
}

/// The public address of this deployment: `public_url` from the configuration, else the
/// request's own host (fine on a laptop; a deployment behind a proxy sets `public_url`).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(u) = &state.config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// The full address a poster's QR code carries (mode `qr`), or with `typed` the one printed
/// under it for people to type (mode `online`: a typed visit is an online one).
fn poster_target(state: &AppState, headers: &HeaderMap, link: &Link, typed: bool) -> String {
    let qr = Link {
        mode: if typed { Mode::Online } else { Mode::Qr },
        site: link.site.clone(),
        site_name: String::new(),
        service: link.service.clone(),
        instrument: link.instrument.clone(),
        welsh: link.welsh,
    };
    format!("{}{}", base_url(state, headers), href(&qr, link.welsh))
}

/// A QR code for `text` as SVG: one `<rect>` per dark module on a white quiet zone of four
/// modules (the standard's minimum), error correction M (survives a scuffed poster).
pub fn qr_code_svg(text: &str, title: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let width = code.width();
    let quiet = 4;
    let size = width + 2 * quiet;
    let title = attr(title);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" role=\"img\" aria-label=\"{title}\" shape-rendering=\"crispEdges\" class=\"qr\"><title>{title}</title><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>"
    );
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % width + quiet, i / width + quiet);
            svg.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"1\" height=\"1\" fill=\"#000\"/>"
            ));
        }
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// `GET /f/{site}/{service}/qr.svg`.
pub async fn qr_svg(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((site, service)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, Refusal> {
    let link = check(&state, &site, &service, &q)?;
    let target = poster_target(&state, &headers, &link, false);
    match qr_code_svg(&target, &format!("QR code for {target}")) {
        Some(svg) => Ok((
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            svg,
        )
            .into_response()),
        None => Err(Refusal(
            StatusCode::BAD_REQUEST,
            "The address is too long for a QR code.",
        )),
    }
}

/// `GET /f/{site}/{service}/poster`: an A4 poster, printable from any browser.
pub async fn poster(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((site, service)): Path<(String, String)>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, Refusal> {
    let link = check(&state, &site, &service, &q)?;
    let target = poster_target(&state, &headers, &link, false);
    let typed = poster_target(&state, &headers, &link, true);
    let (lang, heading, question, scan, or_visit) = if link.welsh {
        (
            "cy",
            "Sut oedd eich gofal heddiw?",
            "Yn gyffredinol, sut oedd eich profiad o'n gwasanaeth?",
            "Sganiwch y cod gyda chamera eich ffôn i ddweud wrthym. Mae'n cymryd munud, ac mae'n ddienw.",
            "Neu ewch i:",
        )
    } else {
        (
            "en",
            "How was your care today?",
            chorus_core::FFT_QUESTION_EN,
            "Scan the code with your phone's camera to tell us. It takes a minute, and it is anonymous.",
            "Or go to:",
        )
    };
    let Some(svg) = qr_code_svg(&target, &format!("QR code for {target}")) else {
        return Err(Refusal(
            StatusCode::BAD_REQUEST,
            "The address is too long for a QR code.",
        ));
    };
    let body = html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                (patient_head(heading, &link.site_name))
            }
            body class="poster" {
                main class="poster__sheet" {
                    p class="poster__org" { (link.site_name) }
                    h1 { (heading) }
                    p class="poster__question" { (question) }
                    div class="poster__qr" { (PreEscaped(svg)) }
                    p { (scan) }
                    p { (or_visit) br; strong class="poster__url" { (typed) } }
                }
            }
        }
    };
    Ok(with_headers(StatusCode::OK, body))
}
