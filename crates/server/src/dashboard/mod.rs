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
//! | `audit` | the audit log (`crate::audit`): sign-ins, exports, deletions (retention), tag changes |
//! | `audit_page` | the audit page and the retention button |
//! | `reports` | filters, FFT / I Statement / decision reports, free text and tags (one module per concern, see its docs) |
//! | `themes` | themes and sentiment found in comments: counts, monthly trend; `themes::on_comments`: each comment's themes on the comments page and staff corrections |
//! | `actions` | "you said, we did": actions staff record per service and theme, published on `/results/{site}` |
//! | `review` | the queue of comments flagged for safeguarding or complaint review |
//! | `auth` | who is signed in (`Staff`: roles, CSRF, the page's site), sessions (hashed 256-bit tokens, idle and absolute timeouts); `auth::login`: sign-in (argon2id via `users`; the trust's provider via `crate::oidc`), slowing and locking after failures; `auth::account`: sign-out (here or everywhere), the account page |
//! | `withdraw` | admins: a patient's request to withdraw feedback (find by receipt reference, delete with a reason) |
//! | `people` | admins: add and invite people, give and remove roles, disable accounts, end sessions |
//! | `invite` | an invited person chooses their password (the link from `people`) |
//! | `site_settings` | admins: a site's services (FFT setting, ward and specialty codes) and retention, changed at run time |
//! | `charts` | accessible SVG charts |
//! | `export` | CSV of responses and the NHS England FFT monthly return (one CSV per setting, with its preview) |
//! | `fft_return` | the return's rows by setting, ward and mode; the suppression preview; the submission deadline |
//! | `paper` | paper FFT cards keyed by staff, one by one (keys 1–6, Enter saves) or as a tally |
//! | `seed` | the demo data generator (`chorus seed`) |
//! | `templates` | page layout, forms, the stylesheet; `PageError`, what a handler answers when it draws no page of its own |

pub mod actions;
pub mod aid_review;
pub mod audit;
pub mod audit_page;
pub mod auth;
pub mod charts;
pub mod equality;
pub mod export;
pub mod fft_return;
pub mod invite;
pub mod paper;
pub mod people;
pub mod reports;
pub mod review;
pub mod seed;
pub mod site_settings;
pub mod templates;
pub mod themes;
pub mod withdraw;

use std::sync::Arc;

use crate::state::AppState;
use axum::{
    Router,
    http::{HeaderValue, header},
    routing::{get, post},
};

pub use crate::config::DashboardConfig;

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
            get(invite::invite_page).post(invite::accept_invite),
        )
        .route("/sites", get(site_settings::sites_page))
        .route(
            "/sites/{site}",
            get(site_settings::site_page).post(site_settings::change),
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
        .route("/comments/{id}/themes", post(themes::correct))
        .route("/themes", get(themes::themes_page))
        .route("/review", get(review::review_page))
        .route("/review/{id}", post(review::review))
        .route("/actions", get(actions::actions_page).post(actions::add))
        .route("/actions/{id}", post(actions::update))
        .route("/exports", get(export::exports_page))
        .route("/exports/responses.csv", get(export::responses_csv))
        .route("/exports/fft-return", get(export::fft_return_page))
        .route("/exports/fft-return.csv", get(export::fft_return_csv))
        .route("/equality", get(equality::equality_page))
        .route("/paper", get(paper::paper_page).post(paper::save_card))
        .route("/paper/tally", post(paper::save_tally))
        .route("/paper/undo", post(paper::undo_card))
        .route("/audit", get(audit_page::audit_page))
        .route("/retention", post(audit_page::run_retention))
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

pub use crate::util::{hex, now_iso, now_secs, random_token, sha256_hex};

/// Equal without an early exit, so a comparison's time does not tell how much matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
