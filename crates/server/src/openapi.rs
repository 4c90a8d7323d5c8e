//! The OpenAPI document, generated from the handlers' annotations and the types they use,
//! served at `/api/v1/openapi.json`. Core types appear as free-form objects here; their exact
//! shapes are documented by the core's doc comments and its test vectors (the core carries no
//! OpenAPI dependency, to keep the widget bundle lean).

use axum::{Json, response::IntoResponse};
use utoipa::OpenApi;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chorus collector API",
        description = "Receive patient feedback and shared-decision responses from Chorus widgets; list instruments.",
        version = "1"
    ),
    paths(crate::api::post_response, crate::api::post_withdrawal, crate::api::list_instruments, crate::api::get_instrument, crate::author::post_check, crate::results::results_json),
    components(schemas(crate::api::Submission, crate::api::Receipt, crate::api::WithdrawalRequest, crate::api::Withdrawn, crate::api::ErrorBody, crate::api::ErrorDetail)),
    tags((name = "responses", description = "Submitting responses"), (name = "instruments", description = "Instrument definitions"), (name = "results", description = "Published results (you said, we did)"))
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
