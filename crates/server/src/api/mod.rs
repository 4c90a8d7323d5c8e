//! API v1: receive responses (`responses`), a patient's own withdrawal (`withdrawals`), list
//! instruments (here); `error`: every rejection and its stable `Code`.
//!
//! Every rejection is JSON `{"error": {"code", "message", "details"?}}` with a stable code and
//! a sentence a web team can act on; nothing the server already accepted is affected by a bad
//! request.

mod error;
mod responses;
mod withdrawals;

// The globs carry utoipa's `__path_*` items with the handlers, so `crate::api::post_response`
// and the others name them for the OpenAPI document as before.
pub use error::*;
pub use responses::*;
pub use withdrawals::*;

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::Response,
};

use crate::state::AppState;

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 32 * 1024;

/// How a handler receives the connection's address (absent in tests that call the router).
pub type Peer = Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>;

/// The client's address as the rate limits see it (the forwarded one behind a trusted proxy).
fn peer_ip(app: &AppState, peer: Peer, headers: &HeaderMap) -> Option<std::net::IpAddr> {
    crate::ratelimit::client_ip(
        peer.map(|p| p.0.0.ip()),
        headers,
        app.config.limits.trust_forwarded_for,
    )
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
            Code::UnknownInstrument,
            format!("there is no instrument \"{id}\""),
        ));
    };
    Ok(doc.respond(&headers))
}
