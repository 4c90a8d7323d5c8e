//! `POST /api/v1/check`: the authoring check of an instrument file, as `chorus check` runs it
//! (the same core function, `chorus_core::standards::check`), for the demo site's aid checker
//! (`www/author.html`) and any authoring tool a trust builds. It reads nothing and stores
//! nothing: the file is checked and the answer sent back.

use axum::{
    Json,
    body::Body,
    extract::Query,
    http::{HeaderMap, StatusCode},
};
use chorus_core::{aid::Date, standards};
use serde::{Deserialize, Serialize};

use crate::api::{ApiError, Code, json_text};

/// Largest instrument file checked: the shipped aids are about 20 KB.
pub const CHECK_LIMIT: usize = 256 * 1024;

/// The query string: the date the review-date check uses.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CheckQuery {
    /// `YYYY-MM-DD` [default: today, UTC].
    pub today: Option<String>,
}

/// A warning against a standard, with the criterion's name spelled out.
#[derive(Debug, Serialize)]
pub struct LintOut {
    /// Stable code, e.g. `no_waiting_option`.
    pub code: standards::LintCode,
    /// The criterion's id, e.g. `ipdas-q-options`.
    pub criterion: &'static str,
    /// "IPDAS qualifying: Lists the options, …".
    pub criterion_name: String,
    /// JSON path of what the warning is about.
    pub path: String,
    /// A sentence for the author.
    pub message: String,
}

/// One criterion of the self-assessment, in words.
#[derive(Debug, Serialize)]
pub struct AssessedOut {
    /// The criterion's id.
    pub criterion: &'static str,
    /// Its standard, e.g. "IPDAS qualifying".
    pub standard: &'static str,
    /// What it asks.
    pub name: &'static str,
    /// How Chorus checks it, or what a person checks.
    pub check: &'static str,
    /// `met`, `not_met`, `sign_off` or `not_applicable`.
    pub status: standards::Status,
    /// The verdict in words, as the Markdown has it.
    pub status_words: &'static str,
    /// The problems and lints behind a "not met".
    pub findings: Vec<String>,
}

/// What the check found.
#[derive(Debug, Serialize)]
pub struct CheckAnswer {
    /// The date the review-date check used.
    pub checked_as_of: String,
    /// Definition problems (errors: the file cannot be used as it is).
    pub problems: Vec<chorus_core::DefinitionProblem>,
    /// Standards lints (warnings).
    pub lints: Vec<LintOut>,
    /// The IPDAS / NICE self-assessment of a decision aid whose file parses, a row per
    /// criterion.
    pub assessment: Option<Vec<AssessedOut>>,
    /// The same self-assessment as Markdown, as `chorus check --self-assessment` prints it.
    pub self_assessment_markdown: Option<String>,
}

/// `POST /api/v1/check`.
#[utoipa::path(post, path = "/api/v1/check", tag = "instruments",
    params(CheckQuery),
    request_body(content = Object, content_type = "application/json",
        description = "An instrument file (a decision aid gets the standards' lints and its self-assessment)"),
    responses(
        (status = 200, description = "What the check found: definition problems, standards lints (each naming its criterion) and, for a decision aid, its IPDAS / NICE self-assessment. A file that is not valid JSON is a problem here, not an error."),
        (status = 400, description = "`today` is not a date, or the body is not UTF-8 (`bad_request`, `invalid_json`)", body = crate::api::ErrorBody),
        (status = 413, description = "Over 256 KiB (`body_too_large`)", body = crate::api::ErrorBody),
        (status = 415, description = "Not sent as JSON (`unsupported_media_type`)", body = crate::api::ErrorBody),
    ))]
pub async fn post_check(
    Query(q): Query<CheckQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CheckAnswer>, ApiError> {
    let today = match &q.today {
        None => crate::util::today(),
        Some(t) => Date::parse(t).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                "today must be a date written YYYY-MM-DD",
            )
        })?,
    };
    let text = json_text(&headers, body, CHECK_LIMIT, "an instrument file").await?;
    let c = standards::check(&text, Some(today));
    Ok(Json(CheckAnswer {
        checked_as_of: today.to_string(),
        problems: c.problems,
        lints: c
            .lints
            .into_iter()
            .map(|l| LintOut {
                criterion_name: l.criterion_name(),
                code: l.code,
                criterion: l.criterion,
                path: l.path,
                message: l.message,
            })
            .collect(),
        self_assessment_markdown: c.assessment.as_ref().map(|a| a.markdown()),
        assessment: c.assessment.map(|a| {
            a.criteria
                .into_iter()
                .map(|r| AssessedOut {
                    criterion: r.criterion.id,
                    standard: r.criterion.standard.name(),
                    name: r.criterion.name,
                    check: r.criterion.check,
                    status: r.status,
                    status_words: r.status.words(),
                    findings: r.findings,
                })
                .collect()
        }),
    }))
}
