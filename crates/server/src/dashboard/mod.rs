//! The staff dashboard: server-rendered pages under `/dashboard` for patient-experience teams.
//!
//! No JavaScript: every page is HTML from [`maud`] templates (escaped at compile time), every
//! chart an inline SVG with a title, a description and the data table beside it, and every
//! change a `POST` form carrying the session's CSRF token. Figures come from
//! `chorus_core::aggregate::InstrumentAggregate`, so the dashboard shows exactly the numbers
//! the core computes (and suppresses what the core suppresses).
//!
//! | module | what it does |
//! |---|---|
//! | `auth` | sign-in (argon2id via `users`; the trust's provider via `crate::oidc`), sessions (hashed 256-bit tokens, idle and absolute timeouts), CSRF, slowing and locking after failures, sign-out (here or everywhere) |
//! | `withdraw` | admins: a patient's request to withdraw feedback (find by receipt reference, delete with a reason) |
//! | `people` | admins: add and invite people, give and remove roles, disable accounts, end sessions |
//! | `audit` | the audit log: sign-ins, exports, deletions (retention), tag changes |
//! | `reports` | filters, FFT / I Statement / decision reports, free text and tags |
//! | `charts` | accessible SVG charts |
//! | `export` | CSV of responses and the NHS England FFT monthly return |
//! | `seed` | the demo data generator (`chorus seed`) |
//! | `templates` | page layout, forms, the stylesheet |

pub mod audit;
pub mod auth;
pub mod charts;
pub mod export;
pub mod people;
pub mod reports;
pub mod seed;
pub mod templates;
pub mod withdraw;

use std::sync::Arc;

use axum::{
    Router,
    http::{HeaderValue, header},
    routing::{get, post},
};
use serde::Deserialize;

use crate::AppState;

/// `[dashboard]` in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// Mark cookies `Secure` (and use the `__Host-` prefix). Default: when the request came
    /// over HTTPS through a trusted proxy (`X-Forwarded-Proto: https` with
    /// `limits.trust_forwarded_for`).
    #[serde(default)]
    pub secure_cookies: Option<bool>,
    /// How long a sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
    /// Failed sign-ins to one account (within `lock_minutes` of each other) before it is locked.
    #[serde(default = "default_lock_after")]
    pub lock_after: u32,
    /// Failed sign-ins from one address before it is locked (many accounts tried from one place).
    #[serde(default = "default_ip_lock_after")]
    pub ip_lock_after: u32,
    /// How long a lock lasts; failures further apart than this are forgotten.
    #[serde(default = "default_lock_minutes")]
    pub lock_minutes: u32,
    /// Delay added to a failed sign-in, doubled with each further failure (capped at 5 s).
    #[serde(default = "default_failure_delay_ms")]
    pub failure_delay_ms: u64,
}

fn default_session_hours() -> u32 {
    8
}
fn default_lock_after() -> u32 {
    5
}
fn default_ip_lock_after() -> u32 {
    20
}
fn default_lock_minutes() -> u32 {
    15
}
fn default_failure_delay_ms() -> u64 {
    250
}

impl Default for DashboardConfig {
    fn default() -> DashboardConfig {
        DashboardConfig {
            secure_cookies: None,
            session_hours: default_session_hours(),
            lock_after: default_lock_after(),
            ip_lock_after: default_ip_lock_after(),
            lock_minutes: default_lock_minutes(),
            failure_delay_ms: default_failure_delay_ms(),
        }
    }
}

/// The dashboard's routes, to be nested at `/dashboard`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(reports::overview))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/logout-everywhere", post(auth::logout_everywhere))
        .route("/account", get(auth::account_page))
        .route("/oidc/start", get(crate::oidc::start))
        .route("/oidc/callback", get(crate::oidc::callback))
        .route("/people", get(people::people_page).post(people::add_person))
        .route(
            "/people/{id}",
            get(people::person_page).post(people::person_action),
        )
        .route(
            "/invite/{secret}",
            get(people::invite_page).post(people::accept_invite),
        )
        .route(
            "/withdraw",
            get(withdraw::withdraw_page).post(withdraw::withdraw),
        )
        .route("/fft", get(reports::fft_page))
        .route("/i-statements", get(reports::i_statements_page))
        .route("/decisions", get(reports::decisions_page))
        .route("/comments", get(reports::comments_page))
        .route("/comments/{id}/tags", post(reports::tag_comment))
        .route("/exports", get(export::exports_page))
        .route("/exports/responses.csv", get(export::responses_csv))
        .route("/exports/fft-return.csv", get(export::fft_return_csv))
        .route("/audit", get(audit::audit_page))
        .route("/retention", post(audit::run_retention))
        .route("/assets/dashboard.css", get(templates::stylesheet))
        .fallback(templates::not_found)
        .layer(axum::middleware::from_fn(page_headers))
        .with_state(state)
}

/// Headers on every dashboard answer: nothing cached (pages hold patient comments), nothing
/// framed, no script at all, styles and forms from this origin only.
async fn page_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_css = req.uri().path().ends_with(".css");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if !is_css {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The stored timestamp format for now.
pub fn now_iso() -> String {
    crate::store::iso_utc(now_secs())
}

/// 32 bytes from the operating system's generator, as 64 hex digits.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    // The OS generator failing is not something to carry on from with a weak token.
    getrandom::fill(&mut b).expect("the operating system's random number generator failed");
    hex(&b)
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// SHA-256 of `s`, hex.
pub fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(s.as_bytes()))
}

/// Equal without an early exit, so a comparison's time does not tell how much matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
