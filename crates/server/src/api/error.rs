//! Every API rejection: the stable `Code`, `ApiError` (status, code, sentence, details) and the
//! middleware that gives the router's own refusals the same JSON body.

use axum::{
    Json,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::state::AppState;

/// The stable codes of API errors: clients program against them, so they are never renamed.
/// Serialised in snake_case (`invalid_json`); `docs/bad-inputs.md` lists them, and a test checks
/// its code column against this enum.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The body is not a valid submission (serde's reason, line and column), or not UTF-8.
    InvalidJson,
    /// The body is not sent as `application/json`.
    UnsupportedMediaType,
    /// The body is over the size limit.
    BodyTooLarge,
    /// `site` is not a site id.
    InvalidSite,
    /// No site has that id.
    UnknownSite,
    /// The page's origin is not one the site allows.
    OriginNotAllowed,
    /// `service` is not an id (where the site accepts any).
    InvalidService,
    /// The site does not list that service.
    UnknownService,
    /// `mode` is not one of the modes of collection.
    InvalidMode,
    /// `about` names a question or an answer the "About you" questions do not have.
    InvalidAbout,
    /// `about` was sent for a site that does not ask the "About you" questions.
    AboutNotEnabled,
    /// `withdraw_secret` is not 28 to 64 characters of the receipt reference's alphabet.
    InvalidWithdrawSecret,
    /// A withdrawal was refused: no such reference, the wrong code, too late, or already
    /// withdrawn (deliberately one answer for all of them).
    NotWithdrawn,
    /// The site does not collect that instrument.
    InstrumentNotAllowed,
    /// No instrument has that id.
    UnknownInstrument,
    /// The response has problems; `details` lists them per item.
    InvalidResponse,
    /// The honeypot field was filled (deliberately says no more to a bot).
    Rejected,
    /// The idempotency key was used for another body.
    IdempotencyConflict,
    /// Too many submissions from this address or for this site.
    RateLimited,
    /// The request took too long.
    Timeout,
    /// No such API path.
    NotFound,
    /// The path does not take that method.
    MethodNotAllowed,
    /// Any other refusal made outside the handlers.
    BadRequest,
    /// Storage cannot commit a write now (never a receipt).
    StorageUnavailable,
    /// Too many open connections from one address, or in all (answered by the connection loop).
    TooManyConnections,
    /// Something failed on the server.
    InternalError,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 26] = [
        Code::InvalidJson,
        Code::UnsupportedMediaType,
        Code::BodyTooLarge,
        Code::InvalidSite,
        Code::UnknownSite,
        Code::OriginNotAllowed,
        Code::InvalidService,
        Code::UnknownService,
        Code::InvalidMode,
        Code::InvalidAbout,
        Code::AboutNotEnabled,
        Code::InvalidWithdrawSecret,
        Code::NotWithdrawn,
        Code::InstrumentNotAllowed,
        Code::UnknownInstrument,
        Code::InvalidResponse,
        Code::Rejected,
        Code::IdempotencyConflict,
        Code::RateLimited,
        Code::Timeout,
        Code::NotFound,
        Code::MethodNotAllowed,
        Code::BadRequest,
        Code::StorageUnavailable,
        Code::TooManyConnections,
        Code::InternalError,
    ];

    /// The code as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJson => "invalid_json",
            Code::UnsupportedMediaType => "unsupported_media_type",
            Code::BodyTooLarge => "body_too_large",
            Code::InvalidSite => "invalid_site",
            Code::UnknownSite => "unknown_site",
            Code::OriginNotAllowed => "origin_not_allowed",
            Code::InvalidService => "invalid_service",
            Code::UnknownService => "unknown_service",
            Code::InvalidMode => "invalid_mode",
            Code::InvalidAbout => "invalid_about",
            Code::AboutNotEnabled => "about_not_enabled",
            Code::InvalidWithdrawSecret => "invalid_withdraw_secret",
            Code::NotWithdrawn => "not_withdrawn",
            Code::InstrumentNotAllowed => "instrument_not_allowed",
            Code::UnknownInstrument => "unknown_instrument",
            Code::InvalidResponse => "invalid_response",
            Code::Rejected => "rejected",
            Code::IdempotencyConflict => "idempotency_conflict",
            Code::RateLimited => "rate_limited",
            Code::Timeout => "timeout",
            Code::NotFound => "not_found",
            Code::MethodNotAllowed => "method_not_allowed",
            Code::BadRequest => "bad_request",
            Code::StorageUnavailable => "storage_unavailable",
            Code::TooManyConnections => "too_many_connections",
            Code::InternalError => "internal_error",
        }
    }
}

/// An API error: status, stable code, sentence, optional details.
pub struct ApiError {
    status: StatusCode,
    code: Code,
    message: String,
    pub(super) details: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> ApiError {
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
            Code::NotFound,
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
            Code::MethodNotAllowed,
            "this endpoint does not accept that method; see /api/v1/openapi.json",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            Code::Timeout,
            "the request took too long; retry with the same idempotency key",
        ),
        StatusCode::NOT_FOUND => (
            Code::NotFound,
            "there is no such API endpoint; see /api/v1/openapi.json",
        ),
        s if s.is_server_error() => (
            Code::InternalError,
            "something went wrong on the server; retry with the same idempotency key",
        ),
        _ => (Code::BadRequest, "the request was not accepted"),
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
    /// Stable code (see [`Code`]).
    pub code: Code,
    /// A sentence a web team can act on.
    pub message: String,
    /// Per-item problems (`invalid_response`): `[{code, item, message}]`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub details: Option<serde_json::Value>,
}

/// The 429 for a limit that was hit, counted in `/metrics`.
pub(super) fn rate_limited(app: &AppState, hit: crate::ratelimit::Hit) -> Response {
    app.metrics.rate_limited();
    let what = match hit {
        crate::ratelimit::Hit::Ip => "from this address",
        crate::ratelimit::Hit::Site => "for this site",
    };
    let mut res = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Code::RateLimited,
        format!("too many responses {what} in the last minute; please try again shortly"),
    )
    .into_response();
    res.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("60"),
    );
    res
}
