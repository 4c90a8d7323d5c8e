//! Prometheus counters, rendered as text at `/metrics`.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use axum::{extract::State, http::header, response::IntoResponse};

use crate::state::AppState;

/// Upper bounds (seconds) of the request-latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0, 5.0];

/// Counters. Atomics, not a metrics framework: a handful of numbers needs no more.
#[derive(Default)]
pub struct Metrics {
    requests: [AtomicU64; 5], // by status class 1xx..5xx
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    stored: AtomicU64,
    mismatches: AtomicU64,
    rate_limited: AtomicU64,
    purged: AtomicU64,
}

impl Metrics {
    /// A request finished with `status` after `seconds`.
    pub fn request(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Relaxed);
        for (b, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                b.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add((seconds * 1e6) as u64, Relaxed);
    }

    /// A response was stored.
    pub fn stored(&self) {
        self.stored.fetch_add(1, Relaxed);
    }

    /// A submission was refused by a rate limit.
    pub fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }

    /// The retention task deleted `n` responses.
    pub fn purged(&self, n: u64) {
        self.purged.fetch_add(n, Relaxed);
    }

    /// A client score differed from the server's.
    pub fn score_mismatch(&self) {
        self.mismatches.fetch_add(1, Relaxed);
    }
}

/// Middleware: count every request and time it.
pub async fn track(
    State(app): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let start = std::time::Instant::now();
    let res = next.run(req).await;
    app.metrics
        .request(res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`.
pub async fn render(State(app): State<Arc<AppState>>) -> impl IntoResponse {
    let m = &app.metrics;
    let mut body = String::from(
        "# HELP chorus_http_requests_total HTTP requests by status class.\n# TYPE chorus_http_requests_total counter\n",
    );
    for (i, c) in m.requests.iter().enumerate() {
        body.push_str(&format!(
            "chorus_http_requests_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            c.load(Relaxed)
        ));
    }
    body.push_str("# HELP chorus_http_request_duration_seconds Request latency.\n# TYPE chorus_http_request_duration_seconds histogram\n");
    for (b, bound) in m.latency_buckets.iter().zip(BUCKETS) {
        body.push_str(&format!(
            "chorus_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
            b.load(Relaxed)
        ));
    }
    let count = m.latency_count.load(Relaxed);
    body.push_str(&format!(
        "chorus_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\nchorus_http_request_duration_seconds_sum {}\nchorus_http_request_duration_seconds_count {count}\n",
        m.latency_sum_micros.load(Relaxed) as f64 / 1e6
    ));
    body += &format!(
        "# HELP chorus_responses_stored_total Responses stored since start.\n# TYPE chorus_responses_stored_total counter\nchorus_responses_stored_total {}\n\
         # HELP chorus_score_mismatches_total Client scores that differed from the server's.\n# TYPE chorus_score_mismatches_total counter\nchorus_score_mismatches_total {}\n\
         # HELP chorus_rate_limited_total Submissions refused by a rate limit.\n# TYPE chorus_rate_limited_total counter\nchorus_rate_limited_total {}\n",
        m.stored.load(Relaxed),
        m.mismatches.load(Relaxed),
        m.rate_limited.load(Relaxed)
    );
    let w = app.store.stats();
    body += &format!(
        "# HELP chorus_commits_total Write transactions committed (group commit: many responses each).\n# TYPE chorus_commits_total counter\nchorus_commits_total {}\n\
         # HELP chorus_committed_rows_total Submissions written in those transactions (rows / commits = mean group size).\n# TYPE chorus_committed_rows_total counter\nchorus_committed_rows_total {}\n\
         # HELP chorus_commit_failures_total Write transactions that failed; nothing in them was acknowledged.\n# TYPE chorus_commit_failures_total counter\nchorus_commit_failures_total {}\n\
         # HELP chorus_retention_deleted_total Responses deleted by the retention rules.\n# TYPE chorus_retention_deleted_total counter\nchorus_retention_deleted_total {}\n",
        w.commits.load(Relaxed),
        w.rows.load(Relaxed),
        w.failures.load(Relaxed),
        m.purged.load(Relaxed)
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
