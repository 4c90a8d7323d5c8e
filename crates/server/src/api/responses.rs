//! `POST /api/v1/responses`: validate → re-score → redact → store → receipt, against the
//! version the response names.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json,
    body::{Body, to_bytes},
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chorus_core::{
    Answer, Instrument, Response as CoreResponse, ResponseError, ScoreReport, redact::redact,
    score, validate_response,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ApiError, BODY_LIMIT, Code, ErrorBody, Peer, error::rate_limited, peer_ip};
use crate::{
    state::AppState,
    store::{NewResponse, Stored},
    util::hex,
};

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
    /// How the response was collected: `online` (the default), `sms`, `qr`, `tablet`,
    /// `paper`, `telephone` or `other` (from the embed's `mode` attribute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The optional "About you" answers (equality monitoring), question id → answer id from
    /// the built-in `about-you` instrument; only for sites listed in `[equality]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub about: Option<std::collections::BTreeMap<String, String>>,
    /// A one-time code the widget made for this response (28 to 64 characters of
    /// `23456789ABCDEFGHJKMNPQRSTVWXYZ`, at least 137 random bits) and shows only on the patient's receipt: with it and the
    /// reference the patient can withdraw the response at `/withdraw` within the site's
    /// `withdraw_days`. Only its SHA-256 is stored; it is never logged or echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw_secret: Option<String>,
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
    /// Days in which the patient can withdraw the response with its `withdraw_secret` at
    /// `/withdraw`: present only when a secret was sent and the site allows self-withdrawal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraw_days: Option<u32>,
}

/// Marks a submission made inside the server for a signed-in member of staff (paper cards
/// keyed from the dashboard) or by the operator (`chorus seed`): the same validation, scoring,
/// redaction and storage as a patient's, without the rate limits that protect the public
/// endpoint. Never set from a request: only code holding one can pass it.
#[derive(Clone, Debug, Default)]
pub struct StaffEntry {
    /// When the response was really received (a paper card's date, a seeded response's
    /// time), stored in the same commit as the response and its rollup; `None`: now.
    pub received_at: Option<String>,
}

/// The body of a JSON request as text: refused (with the code a web team can act on) when it
/// is not sent as `application/json`, is over `limit` bytes (`what` names it in the message)
/// or is not UTF-8. Checked before parsing so each error names its own problem.
pub async fn json_text(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    what: &str,
) -> Result<String, ApiError> {
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
            Code::UnsupportedMediaType,
            format!("send {what} as JSON with Content-Type: application/json"),
        ));
    }
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::BodyTooLarge,
            format!("{what} may be at most {limit} bytes"),
        )
    })?;
    String::from_utf8(Vec::from(bytes)).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidJson,
            format!(
                "the body is not valid UTF-8 (at byte {}); send JSON encoded as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
    })
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
        (status = 422, description = "Unknown site, service or instrument, a malformed `withdraw_secret` (`invalid_withdraw_secret`), or an invalid response (`invalid_response`, with per-item details)", body = ErrorBody),
        (status = 429, description = "Rate limited (`rate_limited`); see Retry-After", body = ErrorBody),
        (status = 503, description = "Storage unavailable (`storage_unavailable`); retry with the same key", body = ErrorBody),
    )
)]
pub async fn post_response(
    State(app): State<Arc<AppState>>,
    peer: Peer,
    staff_entry: Option<axum::Extension<StaffEntry>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    // Per address first, before the body is read: a flood costs next to nothing.
    let ip = peer_ip(&app, peer, &headers);
    let limited = staff_entry.is_none();
    if limited && let Err(hit) = app.limits.check_ip(ip) {
        return Ok(rate_limited(&app, hit));
    }
    let text = &json_text(&headers, body, BODY_LIMIT, "a response").await?;
    let submission: Submission = serde_json::from_str(text).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidJson,
            format!("the body is not a valid submission: {e}"),
        )
    })?;
    if submission.website.as_deref().is_some_and(|w| !w.is_empty()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::Rejected,
            "this submission was not accepted",
        ));
    }
    if submission.site.trim().is_empty() || submission.site.len() > 64 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::InvalidSite,
            "site must be 1 to 64 characters",
        ));
    }
    let Some(site) = app.site(&submission.site) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::UnknownSite,
            format!(
                "there is no site \"{}\" in this server's configuration",
                submission.site
            ),
        ));
    };
    // Only configured sites are counted, so made-up site ids cannot grow the limiter's map.
    if limited && let Err(hit) = app.limits.check_site(&site.id) {
        return Ok(rate_limited(&app, hit));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok())
        && !site.allows_origin(origin)
        && !same_origin(origin, &headers)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            Code::OriginNotAllowed,
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
            Code::InvalidService,
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
            Code::InvalidService,
            "service must be an id: letters, digits, '-', '_' or '.', starting with a letter or digit, and not a phone number, NHS number or other personal data",
        ));
    }
    if !site.allows_service(submission.service.as_deref()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::UnknownService,
            format!(
                "site \"{}\" does not collect for service {:?}",
                site.id,
                submission.service.as_deref().unwrap_or("")
            ),
        ));
    }
    let mode = match submission.mode.as_deref() {
        None => chorus_core::mode::Mode::Online,
        Some(m) => chorus_core::mode::Mode::from_code(m).ok_or_else(|| {
            let codes: Vec<&str> = chorus_core::mode::Mode::ALL.map(|m| m.code()).to_vec();
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::InvalidMode,
                format!("mode must be one of: {}", codes.join(", ")),
            )
        })?,
    };
    let about = check_about(&app, &site.id, submission.about.as_ref())?;
    // Never echoed: it is the patient's key to their response.
    if submission
        .withdraw_secret
        .as_deref()
        .is_some_and(|s| !chorus_core::withdraw::is_secret(s))
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::InvalidWithdrawSecret,
            format!(
                "withdraw_secret must be {} to {} characters of {} (upper case, no dashes), made at random for each response",
                chorus_core::withdraw::SECRET_LEN,
                chorus_core::withdraw::SECRET_MAX,
                String::from_utf8_lossy(chorus_core::withdraw::ALPHABET)
            ),
        ));
    }
    // Stored as a hash only, and only where the site lets patients withdraw themselves.
    let withdraw_days = Some(site.withdraw_days).filter(|d| *d > 0);
    let withdraw_hash = submission
        .withdraw_secret
        .as_deref()
        .filter(|_| withdraw_days.is_some())
        .map(crate::withdraw_self::secret_hash);
    let r = &submission.response;
    // Characteristics travel beside a response, never as one (they would be counted as a
    // questionnaire, and read with its answers).
    if r.instrument == chorus_core::library::ABOUT_YOU {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::InstrumentNotAllowed,
            "the about-you questions are sent in \"about\" beside another questionnaire's response, not as a response of their own",
        ));
    }
    if !site.allows_instrument(&r.instrument) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::InstrumentNotAllowed,
            format!("site \"{}\" does not collect \"{}\"", site.id, r.instrument),
        ));
    }
    let Some(instrument) = app.instrument(&r.instrument, r.version) else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::UnknownInstrument,
            format!("there is no instrument \"{}\"", r.instrument),
        ));
    };
    if let Err(errors) = validate_response(instrument, r) {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::InvalidResponse,
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
    let answers = serde_json::to_string(&answers).unwrap_or_default();
    let search_text = crate::classify::search_text(&app, &r.instrument, &answers);
    let new = NewResponse {
        site: submission.site.clone(),
        service: submission.service.clone(),
        instrument: r.instrument.clone(),
        version: r.version,
        locale: r.locale.tag().to_string(),
        idempotency_key: stored_key(&r.idempotency_key),
        body_hash,
        answers,
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
        mode: mode.code().to_string(),
        about,
        search_text,
        withdraw_hash,
        received_at: staff_entry.as_ref().and_then(|e| e.0.received_at.clone()),
    };
    let stored = app.store.insert(new).await.map_err(|e| {
        tracing::error!(error = %e, "storing a response failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::StorageUnavailable,
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
                Code::IdempotencyConflict,
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
            withdraw_days: withdraw_days.filter(|_| submission.withdraw_secret.is_some()),
        }),
    )
        .into_response())
}

/// Check `about` against the built-in "About you" questions: every key one of its questions,
/// every value one of that question's answers (so nothing but our own codes is ever stored
/// there), and only for a site that asks them. `Ok(None)` when none were given.
fn check_about(
    app: &AppState,
    site: &str,
    about: Option<&std::collections::BTreeMap<String, String>>,
) -> Result<Option<String>, ApiError> {
    let Some(about) = about.filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    if !app.config.equality.enabled(site) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::AboutNotEnabled,
            format!(
                "site \"{site}\" does not ask the About you questions; list it in [equality] sites to collect them"
            ),
        ));
    }
    let inst = app.instruments.get(chorus_core::library::ABOUT_YOU);
    // Counted, not echoed: what was sent may be anything a patient typed.
    let wrong = about
        .iter()
        .filter(|(q, a)| {
            !inst
                .and_then(|i| i.items.iter().find(|it| &it.id == *q))
                .is_some_and(|item| item.options.iter().any(|o| &o.id == *a))
        })
        .count();
    if wrong > 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Code::InvalidAbout,
            format!(
                "about: {wrong} of its entries are not a question and answer of the About you questions (GET /api/v1/instruments/about-you lists them)"
            ),
        ));
    }
    Ok(serde_json::to_string(about).ok())
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
            (
                id.clone(),
                chorus_core::redact::redact_answer(instrument, id, a),
            )
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
