//! API v1: receive responses, list instruments.
//!
//! Every rejection is JSON `{"error": {"code", "message", "details"?}}` with a stable code and
//! a sentence a web team can act on; nothing the server already accepted is affected by a bad
//! request.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    body::{Body, to_bytes},
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chorus_core::{
    Answer, Instrument, ItemKind, Response as CoreResponse, ResponseError, ScoreReport,
    redact::redact, score, validate_response,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    AppState,
    store::{NewResponse, Stored},
};

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 32 * 1024;

/// An API error: status, stable code, sentence, optional details.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Option<serde_json::Value>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }
}

impl ApiError {
    /// No such API path.
    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "there is no such API endpoint; see /api/v1/openapi.json",
        )
    }
}

/// Middleware: rejections made outside our handlers (wrong method, timeout, a layer's own
/// refusal) come with no JSON body; give them one, so every API error reads the same way.
pub async fn json_errors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this endpoint does not accept that method; see /api/v1/openapi.json",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "the request took too long; retry with the same idempotency key",
        ),
        StatusCode::NOT_FOUND => (
            "not_found",
            "there is no such API endpoint; see /api/v1/openapi.json",
        ),
        s if s.is_server_error() => (
            "internal_error",
            "something went wrong on the server; retry with the same idempotency key",
        ),
        _ => ("bad_request", "the request was not accepted"),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    for (k, v) in res.headers() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(d) = self.details {
            body["error"]["details"] = d;
        }
        (self.status, Json(body)).into_response()
    }
}

/// The JSON body of every rejection.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// One rejection: a stable code, a sentence, and for invalid responses the per-item problems.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code: `invalid_json`, `unsupported_media_type`, `body_too_large`, `invalid_site`,
    /// `unknown_site`, `origin_not_allowed`, `invalid_service`, `unknown_service`,
    /// `instrument_not_allowed`, `unknown_instrument`, `invalid_response`, `rejected`,
    /// `idempotency_conflict`, `rate_limited`, `timeout`, `not_found`, `method_not_allowed`,
    /// `storage_unavailable`, `internal_error`.
    pub code: String,
    /// A sentence a web team can act on.
    pub message: String,
    /// Per-item problems (`invalid_response`): `[{code, item, message}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub details: Option<serde_json::Value>,
}

/// What a widget posts: where it was shown, and the response.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Site id (from the embed's `site` attribute).
    pub site: String,
    /// Service id (from the embed's `service` attribute).
    #[serde(default)]
    pub service: Option<String>,
    /// A field hidden from people: bots fill it in, patients never do.
    #[serde(default)]
    pub website: Option<String>,
    /// The response itself: `{instrument, version, locale, idempotency_key, answers, client_scores?}`.
    #[schema(value_type = Object)]
    pub response: CoreResponse,
}

/// The receipt a patient's widget shows.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// Stored row id.
    pub id: i64,
    /// Short human reference, e.g. `CH-7K3Q-9D4M`.
    pub reference: String,
    /// The server's score report (the one that counts).
    #[schema(value_type = Object)]
    pub scores: ScoreReport,
    /// This is a retry of a response already stored.
    pub replayed: bool,
}

/// `POST /api/v1/responses`.
#[utoipa::path(
    post,
    path = "/api/v1/responses",
    tag = "responses",
    request_body(content = Submission, content_type = "application/json",
        // A real submission, so API fuzzers (and readers) start from something the server takes.
        example = json!({"site": "demo", "service": "outpatients", "response": {
            "instrument": "fft", "version": 1, "locale": "en",
            "idempotency_key": "3f2c9a1e-7b4d-4e8a-9c21-5d6e7f8a9b0c",
            "answers": {"fft": "very_good", "why": "Kind staff and a short wait."}}})),
    responses(
        (status = 201, description = "Stored; the receipt", body = Receipt),
        (status = 200, description = "A retry of a stored response (same idempotency key and body): the original receipt", body = Receipt),
        (status = 400, description = "Malformed JSON or unknown fields (`invalid_json`)", body = ErrorBody),
        (status = 403, description = "The page's origin is not one of the site's (`origin_not_allowed`)", body = ErrorBody),
        (status = 408, description = "The request took longer than the configured timeout (`timeout`); retry with the same key", body = ErrorBody),
        (status = 409, description = "The idempotency key was used for a different response (`idempotency_conflict`)", body = ErrorBody),
        (status = 413, description = "Body over 32 KiB (`body_too_large`)", body = ErrorBody),
        (status = 415, description = "Not `application/json` (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Unknown site, service or instrument, or an invalid response (`invalid_response`, with per-item details)", body = ErrorBody),
        (status = 429, description = "Rate limited (`rate_limited`); see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage unavailable (`storage_unavailable`); retry with the same key", body = ErrorBody),
    )
)]
pub async fn post_response(
    State(app): State<Arc<AppState>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Per address first, before the body is read: a flood costs next to nothing.
    let ip = crate::ratelimit::client_ip(
        peer.map(|p| p.0.0.ip()),
        &headers,
        app.config.limits.trust_forwarded_for,
    );
    if let Err(hit) = app.limits.check_ip(ip) {
        return Ok(rate_limited(&app, hit));
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json_type {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the response as JSON with Content-Type: application/json",
        ));
    }
    let bytes = to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("a response may be at most {BODY_LIMIT} bytes"),
        )
    })?;
    // Checked first so the error names the problem ("invalid unicode code point" otherwise).
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "the body is not valid UTF-8 (at byte {}); send JSON encoded as UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    let submission: Submission = serde_json::from_str(text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not a valid submission: {e}"),
        )
    })?;
    if submission.website.as_deref().is_some_and(|w| !w.is_empty()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "rejected",
            "this submission was not accepted",
        ));
    }
    if submission.site.trim().is_empty() || submission.site.len() > 64 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_site",
            "site must be 1 to 64 characters",
        ));
    }
    let Some(site) = app.config.site(&submission.site) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_site",
            format!(
                "there is no site \"{}\" in this server's configuration",
                submission.site
            ),
        ));
    };
    // Only configured sites are counted, so made-up site ids cannot grow the limiter's map.
    if let Err(hit) = app.limits.check_site(&site.id) {
        return Ok(rate_limited(&app, hit));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !site.allows_origin(origin)
        && !same_origin(origin, &headers)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            format!(
                "pages on {origin} may not submit for site \"{}\"; add the origin to the site's configuration",
                site.id
            ),
        ));
    }
    // Stored as given where a site accepts any service: keep it short and printable (a NUL
    // byte would also make PostgreSQL refuse the whole group commit it travels in).
    if let Some(service) = submission.service.as_deref()
        && (service.chars().count() > 64 || service.chars().any(char::is_control))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_service",
            "service must be at most 64 characters, with no control characters",
        ));
    }
    // Where a site lists its services, only those are accepted (below). Where it accepts any,
    // the id is stored and shown as given, so it must be an id, not a sentence: a slug, and
    // nothing the redactor would take for personal data (a phone or NHS number as "service").
    if site.services.is_empty()
        && let Some(service) = submission.service.as_deref()
        && !is_service_slug(service)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_service",
            "service must be an id: letters, digits, '-', '_' or '.', starting with a letter or digit, and not a phone number, NHS number or other personal data",
        ));
    }
    if !site.allows_service(submission.service.as_deref()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_service",
            format!(
                "site \"{}\" does not collect for service {:?}",
                site.id,
                submission.service.as_deref().unwrap_or("")
            ),
        ));
    }
    let r = &submission.response;
    if !site.allows_instrument(&r.instrument) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "instrument_not_allowed",
            format!("site \"{}\" does not collect \"{}\"", site.id, r.instrument),
        ));
    }
    let Some(instrument) = app.instruments.get(&r.instrument) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_instrument",
            format!("there is no instrument \"{}\"", r.instrument),
        ));
    };
    if let Err(errors) = validate_response(instrument, r) {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_response",
            "the response has problems; see details",
        );
        e.details = Some(serde_json::to_value::<&Vec<ResponseError>>(&errors).unwrap_or_default());
        return Err(e);
    }
    // Never trust a client score: re-score, and keep the client's only to compare.
    let scores = score(instrument, r);
    let mismatch = r.client_scores.as_ref().is_some_and(|c| *c != scores);
    if mismatch {
        app.metrics.score_mismatch();
        // The key is a client's string: logged as a short hash, enough to match log lines.
        tracing::warn!(instrument = %r.instrument, key_hash = %key_hash(&r.idempotency_key), "client score differs from server score");
    }
    let answers = redacted_answers(instrument, &r.answers);
    // Structs serialise in field order and answers are a BTreeMap: the same submission always
    // hashes the same, so a retry is recognised whatever order the client wrote keys in.
    let body_hash = hex(&Sha256::digest(
        serde_json::to_vec(&submission).unwrap_or_default(),
    ));
    let new = NewResponse {
        site: submission.site.clone(),
        service: submission.service.clone(),
        instrument: r.instrument.clone(),
        version: r.version,
        locale: r.locale.tag().to_string(),
        idempotency_key: stored_key(&r.idempotency_key),
        body_hash,
        answers: serde_json::to_string(&answers).unwrap_or_default(),
        scores: serde_json::to_string(&scores).unwrap_or_default(),
        client_scores: r
            .client_scores
            .as_ref()
            .and_then(|c| serde_json::to_value(c).ok())
            .map(|mut c| {
                redact_strings(&mut c);
                c.to_string()
            }),
        score_mismatch: mismatch,
    };
    let stored = app.store.insert(new).await.map_err(|e| {
        tracing::error!(error = %e, "storing a response failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "the response could not be stored; please try again",
        )
    })?;
    let (status, s, replayed) = match stored {
        Stored::Created(s) => {
            app.metrics.stored();
            // Themes and flags are found in the background; the receipt does not wait.
            crate::classify::kick(&app);
            (StatusCode::CREATED, s, false)
        }
        Stored::Replayed(s) => (StatusCode::OK, s, true),
        Stored::Conflict => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "this idempotency key was already used for a different response",
            ));
        }
    };
    let scores: ScoreReport = serde_json::from_str(&s.scores).unwrap_or(scores);
    Ok((
        status,
        Json(Receipt {
            id: s.id,
            reference: s.reference,
            scores,
            replayed,
        }),
    )
        .into_response())
}

/// The 429 for a limit that was hit, counted in `/metrics`.
fn rate_limited(app: &AppState, hit: crate::ratelimit::Hit) -> Response {
    app.metrics.rate_limited();
    let what = match hit {
        crate::ratelimit::Hit::Ip => "from this address",
        crate::ratelimit::Hit::Site => "for this site",
    };
    let mut res = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many responses {what} in the last minute; please try again shortly"),
    )
    .into_response();
    res.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("60"),
    );
    res
}

/// A page served by this server itself (the demo site) posting to it.
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, h)| h);
    host.is_some() && origin_host == host
}

/// Answers as stored: free text redacted, everything else as given.
fn redacted_answers(
    instrument: &Instrument,
    answers: &BTreeMap<String, Answer>,
) -> BTreeMap<String, Answer> {
    answers
        .iter()
        .map(|(id, a)| {
            let is_text = instrument
                .item(id)
                .is_some_and(|i| i.kind == ItemKind::FreeText);
            let a = match a {
                Answer::Text(t) if is_text => Answer::Text(redact(t).text),
                other => other.clone(),
            };
            (id.clone(), a)
        })
        .collect()
}

/// A service id a site that accepts any service will store: 1 to 64 of `A-Z a-z 0-9 - _ .`,
/// starting with a letter or digit, that the redactor leaves alone.
fn is_service_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && redact(s).spans.is_empty()
}

/// The idempotency key as stored. The core allows 8 to 128 letters, digits, '-' and '_'
/// (widgets send a UUID), which could still be an NHS or phone number typed by an
/// integration; such a key is stored as `sha256:` and its hash instead. The same key always
/// maps to the same stored value, so retries still find their response, and ':' is not a key
/// character, so a hashed key never equals a plain one.
pub fn stored_key(key: &str) -> String {
    if redact(key).spans.is_empty() {
        key.to_string()
    } else {
        format!("sha256:{}", hex(&Sha256::digest(key.as_bytes())))
    }
}

/// A short hash of an idempotency key, for log lines.
fn key_hash(key: &str) -> String {
    hex(&Sha256::digest(key.as_bytes()))[..12].to_string()
}

/// Redact every string (keys too) inside a JSON value (the client's score report is stored beside the
/// server's only to compare, but it is whatever the client sent).
pub fn redact_strings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            let r = redact(s);
            if !r.spans.is_empty() {
                *s = r.text;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(redact_strings),
        serde_json::Value::Object(o) => {
            *o = std::mem::take(o)
                .into_iter()
                .map(|(k, mut v)| {
                    redact_strings(&mut v);
                    (redact(&k).text, v)
                })
                .collect();
        }
        _ => {}
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One line of the instrument list.
#[derive(Serialize)]
struct InstrumentSummary<'a> {
    id: &'a str,
    version: u32,
    scoring: chorus_core::Scoring,
    title: &'a chorus_core::Text,
    example: bool,
}

/// A JSON document served with an ETag: serialised and hashed once at start-up (instruments do
/// not change while the server runs), then answered from memory, or with 304 when the client
/// already has it.
pub struct CachedJson {
    body: axum::body::Bytes,
    etag: String,
}

impl CachedJson {
    /// Serialise `value`; the ETag is `name`, then a content hash.
    pub fn new(name: &str, value: &impl Serialize) -> CachedJson {
        let body = serde_json::to_vec(value).unwrap_or_default();
        let etag = format!("\"{name}-{}\"", &hex(&Sha256::digest(&body))[..16]);
        CachedJson {
            body: body.into(),
            etag,
        }
    }

    /// The instrument list, as `GET /api/v1/instruments` serves it.
    pub fn instrument_list<'a>(instruments: impl Iterator<Item = &'a Instrument>) -> CachedJson {
        let list: Vec<_> = instruments
            .map(|i| InstrumentSummary {
                id: &i.id,
                version: i.version,
                scoring: i.scoring,
                title: &i.title,
                example: i.example,
            })
            .collect();
        CachedJson::new("instruments", &list)
    }

    /// 200 with the body, or 304 if `If-None-Match` names our ETag (or `*`).
    fn respond(&self, headers: &HeaderMap) -> Response {
        let cache = [
            (header::ETAG, self.etag.clone()),
            (header::CACHE_CONTROL, "public, max-age=300".to_string()),
        ];
        let matched = headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == self.etag);
        if matched {
            return (StatusCode::NOT_MODIFIED, cache).into_response();
        }
        (
            cache,
            [(header::CONTENT_TYPE, "application/json")],
            self.body.clone(),
        )
            .into_response()
    }
}

/// `GET /api/v1/instruments`.
#[utoipa::path(get, path = "/api/v1/instruments", tag = "instruments",
    responses(
        (status = 200, description = "Every instrument this server knows: id, version, scoring, title, example"),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
    ))]
pub async fn list_instruments(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    app.instrument_list.respond(&headers)
}

/// `GET /api/v1/instruments/{id}`, with an ETag so widgets revalidate cheaply.
#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "instruments",
    params(("id" = String, Path, description = "Instrument id, e.g. `fft`")),
    responses(
        (status = 200, description = "The instrument definition (JSON)"),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
        (status = 404, description = "No such instrument (`unknown_instrument`)", body = ErrorBody),
    ))]
pub async fn get_instrument(
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(doc) = app.instrument_docs.get(&id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_instrument",
            format!("there is no instrument \"{id}\""),
        ));
    };
    Ok(doc.respond(&headers))
}
