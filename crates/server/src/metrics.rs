//! Prometheus counters, rendered as text at `/metrics`.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use axum::{extract::State, http::header, response::IntoResponse};

use crate::AppState;

/// Counters. Atomics, not a metrics framework: a handful of numbers needs no more.
#[derive(Default)]
pub struct Metrics {
    stored: AtomicU64,
    mismatches: AtomicU64,
    rate_limited: AtomicU64,
}

impl Metrics {
    /// A response was stored.
    pub fn stored(&self) {
        self.stored.fetch_add(1, Relaxed);
    }

    /// A submission was refused by a rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }

    /// A client score differed from the server's.
    pub fn score_mismatch(&self) {
        self.mismatches.fetch_add(1, Relaxed);
    }
}

/// `GET /metrics`.
pub async fn render(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    let m = &app.metrics;
    let body = format!(
        "# HELP chorus_responses_stored_total Responses stored since start.\n# TYPE chorus_responses_stored_total counter\nchorus_responses_stored_total {}\n\
         # HELP chorus_score_mismatches_total Client scores that differed from the server's.\n# TYPE chorus_score_mismatches_total counter\nchorus_score_mismatches_total {}\n\
         # HELP chorus_rate_limited_total Submissions refused by a rate limit.\n# TYPE chorus_rate_limited_total counter\nchorus_rate_limited_total {}\n",
        m.stored.load(Relaxed),
        m.mismatches.load(Relaxed),
        m.rate_limited.load(Relaxed)
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
