//! Page layout and shared bits of HTML. maud escapes every interpolated value.

use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use maud::{DOCTYPE, Markup, html};

use super::auth::{Role, Staff};

/// The stylesheet (our own, in the NHS.UK look; no third-party files).
const CSS: &str = include_str!("dashboard.css");

/// `GET /dashboard/assets/dashboard.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        CSS,
    )
        .into_response()
}

/// A whole page. `current` names the navigation entry to mark (`fft`, `comments`, …).
pub fn page(title: &str, staff: Option<&Staff>, current: &str, main: Markup) -> Html<String> {
    // Each entry's page is /dashboard/{id} (the overview: /dashboard itself).
    let nav: &[(&str, &str, Role)] = &[
        ("overview", "Overview", Role::Viewer),
        ("fft", "Friends and Family Test", Role::Viewer),
        ("i-statements", "I Statements", Role::Viewer),
        ("decisions", "Decisions", Role::Viewer),
        ("comments", "Comments", Role::Analyst),
        ("themes", "Themes", Role::Analyst),
        ("review", "Review queue", Role::Analyst),
        ("actions", "You said, we did", Role::Analyst),
        ("exports", "Exports", Role::Analyst),
        ("equality", "Who is not heard", Role::Analyst),
        ("paper", "Paper cards", Role::Analyst),
        ("audit", "Audit log", Role::Admin),
        ("people", "People", Role::Admin),
        ("sites", "Site settings", Role::Admin),
        ("withdraw", "Withdraw a response", Role::Admin),
        ("account", "Your account", Role::Viewer),
    ];
    let markup = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Chorus dashboard" }
                link rel="stylesheet" href="/dashboard/assets/dashboard.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" {
                    div class="width" {
                        a class="brand" href="/dashboard" {
                            span class="logo" { "Chorus" }
                            span class="service-name" { "Patient feedback dashboard" }
                        }
                        @if let Some(s) = staff {
                            div class="account" {
                                span { "Signed in as " (s.email) }
                                form method="post" action="/dashboard/logout" {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    button type="submit" class="link-button" { "Sign out" }
                                }
                            }
                        }
                    }
                    @if let Some(s) = staff {
                        nav class="nav" aria-label="Dashboard" {
                            ul class="width" {
                                @for (id, label, min) in nav {
                                    @if s.is_any(*min) {
                                        @let href = if *id == "overview" { "/dashboard".to_string() } else { format!("/dashboard/{id}") };
                                        li { a href=(href) aria-current=[(*id == current).then_some("page")] { (label) } }
                                    }
                                }
                            }
                        }
                    }
                }
                main id="main" class="width main" {
                    (main)
                }
                footer class="footer" {
                    div class="width" { p { "Chorus – patient feedback for NHS services. Figures from fewer than 5 responses are shown as * (suppressed)." } }
                }
            }
        }
    };
    Html(markup.into_string())
}

/// 404 for unknown dashboard paths.
pub async fn not_found() -> Response {
    let body = html! {
        h1 { "Page not found" }
        p { "If you typed the web address, check it is correct." }
        p { a href="/dashboard" { "Go to the dashboard" } }
    };
    (
        StatusCode::NOT_FOUND,
        page("Page not found", None, "", body),
    )
        .into_response()
}

/// 500, logged; the page says nothing about the cause.
pub fn server_error(e: &anyhow::Error) -> Response {
    tracing::error!(error = %e, "dashboard request failed");
    let body = html! {
        h1 { "Sorry, there is a problem with the service" }
        p { "Try again later. Nothing you sent has been changed." }
    };
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        page("Sorry, there is a problem", None, "", body),
    )
        .into_response()
}

/// A 400 page listing what was wrong with the request (bad filter values, bad form input).
pub fn bad_request(staff: &Staff, current: &str, problems: &[(String, String)]) -> Response {
    let body = html! {
        (error_summary(problems))
        h1 { "Check what you asked for" }
        p { "Change the values and try again, or " a href="/dashboard" { "go back to the dashboard" } "." }
    };
    (
        StatusCode::BAD_REQUEST,
        page("There is a problem", Some(staff), current, body),
    )
        .into_response()
}

/// The NHS.UK error summary: each problem links to its field.
pub fn error_summary(problems: &[(String, String)]) -> Markup {
    html! {
        @if !problems.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for (field, message) in problems {
                        li { a href={ "#" (field) } { (message) } }
                    }
                }
            }
        }
    }
}

/// A figure for a table cell: the value, or `*` (with a spoken explanation) when suppressed.
pub fn suppressed() -> Markup {
    html! { span title="Suppressed: fewer than 5" { "*" } span class="visually-hidden" { " (suppressed: fewer than 5)" } }
}

/// Why a page was not drawn: a page already made (403, 404, 400 with its problems), or a
/// failure (storage) answered with the 500 page, logged. Handlers return
/// `Result<Response, PageError>` and use `?`.
#[derive(Debug)]
pub enum PageError {
    /// Answer with this page.
    Page(Box<Response>),
    /// Something failed: the 500 page.
    Failed(anyhow::Error),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Page(r) => *r,
            PageError::Failed(e) => server_error(&e),
        }
    }
}

impl From<Response> for PageError {
    fn from(r: Response) -> PageError {
        PageError::Page(Box::new(r))
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> PageError {
        PageError::Failed(e)
    }
}

/// Failures of the parts pages use, each a 500.
macro_rules! failures {
    ($($t:ty),*) => {$(
        impl From<$t> for PageError {
            fn from(e: $t) -> PageError {
                PageError::Failed(e.into())
            }
        }
    )*};
}
failures!(sqlx::Error, csv::Error, std::io::Error);

/// What a page handler answers.
pub type PageResult = Result<Response, PageError>;
