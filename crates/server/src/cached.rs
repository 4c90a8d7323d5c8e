//! JSON documents made once at start-up and served from memory with an ETag (the instrument
//! list and each instrument).

use axum::{
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chorus_core::Instrument;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::util::hex;

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
    pub(crate) fn respond(&self, headers: &HeaderMap) -> Response {
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
