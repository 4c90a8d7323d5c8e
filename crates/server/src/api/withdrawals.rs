//! `POST /api/v1/withdrawals`: a patient's own withdrawal, for an integration (the hosted page
//! is `crate::withdraw_self`).

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{ApiError, Code, ErrorBody, Peer, error::rate_limited, peer_ip};
use crate::state::AppState;

/// What an integration posts to withdraw a response for its patient.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalRequest {
    /// The receipt's reference, e.g. `CH-7K3Q-9D4M` (case, spaces and dashes forgiven).
    pub reference: String,
    /// The `withdraw_secret` sent with the response (case, spaces and dashes forgiven).
    pub secret: String,
}

/// A response withdrawn.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Withdrawn {
    /// The reference of the response deleted.
    pub reference: String,
}

/// `POST /api/v1/withdrawals`: a patient's own withdrawal (see `crate::withdraw_self`).
#[utoipa::path(
    post,
    path = "/api/v1/withdrawals",
    tag = "responses",
    request_body(content = WithdrawalRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Deleted: gone from every report and export, audited", body = Withdrawn),
        (status = 400, description = "Malformed JSON or unknown fields (`invalid_json`)", body = ErrorBody),
        (status = 404, description = "Nothing withdrawn (`not_withdrawn`): one answer for a wrong reference, a wrong secret, a window passed and a response already withdrawn", body = ErrorBody),
        (status = 415, description = "Not `application/json` (`unsupported_media_type`)", body = ErrorBody),
        (status = 429, description = "Rate limited (`rate_limited`); see Retry-After", body = ErrorBody),
    )
)]
pub async fn post_withdrawal(
    State(app): State<Arc<AppState>>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Json<WithdrawalRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    if let Err(hit) = app.limits.check_ip(peer_ip(&app, peer, &headers)) {
        return Ok(rate_limited(&app, hit));
    }
    let Json(req) = body.map_err(|e| match e {
        axum::extract::rejection::JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "send the withdrawal as JSON with Content-Type: application/json",
        ),
        // serde's reason names fields, never echoes their values.
        e => ApiError::new(
            StatusCode::BAD_REQUEST,
            Code::InvalidJson,
            format!("the body is not a valid withdrawal: {}", e.body_text()),
        ),
    })?;
    let failed = |e: anyhow::Error| {
        tracing::error!(error = %e, "a patient's withdrawal failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::StorageUnavailable,
            "the withdrawal could not be made now; please try again",
        )
    };
    let valid = crate::withdraw_self::check(&app, &req.reference, &req.secret)
        .await
        .map_err(failed)?;
    let withdrawn = match &valid {
        Some(v) => crate::withdraw_self::withdraw(&app, v)
            .await
            .map_err(failed)?,
        None => false,
    };
    match valid.filter(|_| withdrawn) {
        Some(v) => Ok((
            StatusCode::OK,
            Json(Withdrawn {
                reference: v.reference,
            }),
        )
            .into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Code::NotWithdrawn,
            "nothing was withdrawn: check the reference and secret against the receipt; the time to withdraw may have passed, or it was withdrawn already",
        )),
    }
}
