//! The review queue: comments flagged as possibly describing harm, abuse, neglect, self-harm,
//! a safety incident or a wish to complain (see `crate::classify`), newest first, with the
//! words that raised each flag marked in the (redacted) comment, and who reviewed it, when,
//! and with what outcome. Analysts and admins of the site; every review is in the audit log.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use super::{
    auth::{Role, Staff},
    now_iso,
    reports::url_encode,
    templates::{self, PageResult},
};
use crate::{AppState, classify::ItemEvidence};

/// What a reviewer may record.
pub const OUTCOMES: &[&str] = &[
    "no concern",
    "safeguarding referral made",
    "incident reported",
    "passed to the complaints team",
    "contacted the patient",
];

/// The query string.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewQuery {
    site: Option<String>,
    /// `open` (default), `reviewed` or `all`.
    status: Option<String>,
}

struct Flagged {
    id: i64,
    service: Option<String>,
    instrument: String,
    answers: String,
    received_at: String,
    kinds: Vec<(String, Vec<ItemEvidence>)>,
    review: Option<(String, String, String)>,
}

/// `GET /dashboard/review`.
pub async fn review_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<ReviewQuery>,
) -> PageResult {
    let sites = staff.sites_at_least(Role::Analyst);
    let site = staff.site_for(q.site.clone(), Role::Analyst)?;
    let status = q.status.as_deref().unwrap_or("open");
    if !matches!(status, "open" | "reviewed" | "all") {
        return Ok(templates::bad_request(
            &staff,
            "review",
            &[("status".into(), "Choose open, reviewed or all".into())],
        ));
    }
    Ok(page(&app, &staff, &site, &sites, status).await?)
}

async fn page(
    app: &AppState,
    staff: &Staff,
    site: &str,
    sites: &[String],
    status: &str,
) -> anyhow::Result<Response> {
    let cond = match status {
        "open" => " AND v.response_id IS NULL",
        "reviewed" => " AND v.response_id IS NOT NULL",
        _ => "",
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT f.response_id, f.kind, f.evidence, r.service, r.instrument, r.answers, r.received_at, v.outcome, v.reviewer, v.reviewed_at
         FROM comment_flags f JOIN responses r ON r.id = f.response_id
         LEFT JOIN flag_reviews v ON v.response_id = f.response_id
         WHERE r.site = $1{cond} ORDER BY f.response_id DESC, f.kind LIMIT 1000"
    )))
    .bind(site)
    .fetch_all(app.store.pool())
    .await?;
    let mut list: Vec<Flagged> = Vec::new();
    for r in rows {
        let id: i64 = r.get(0);
        let ev: Vec<ItemEvidence> =
            serde_json::from_str(&r.get::<String, _>(2)).unwrap_or_default();
        if list.last().is_none_or(|l| l.id != id) {
            let outcome: Option<String> = r.get(7);
            list.push(Flagged {
                id,
                service: r.get(3),
                instrument: r.get(4),
                answers: r.get(5),
                received_at: r.get(6),
                kinds: Vec::new(),
                review: outcome.map(|o| (o, r.get(8), r.get(9))),
            });
        }
        if let Some(l) = list.last_mut() {
            l.kinds.push((r.get(1), ev));
        }
    }
    let tab = |s: &str, label: &str| {
        html! { li { a href={ "/dashboard/review?site=" (url_encode(site)) "&status=" (s) } aria-current=[(s == status).then_some("page")] { (label) } } }
    };
    let body = html! {
        h1 { "Review queue" }
        p { "Comments that may describe harm, abuse, neglect, self-harm, a safety incident or a wish to complain. The words that raised each flag are marked. Flags come from word lists and catch too much rather than too little: read each comment and record what you did." }
        form method="get" action="/dashboard/review" class="filters" {
            div class="field" {
                label for="site" { "Site" }
                select id="site" name="site" { @for s in sites { option value=(s) selected[s == site] { (s) } } }
            }
            input type="hidden" name="status" value=(status);
            button type="submit" class="button" { "Show" }
        }
        nav aria-label="Which comments" { ul class="tags" { (tab("open", "Not reviewed")) (tab("reviewed", "Reviewed")) (tab("all", "All")) } }
        @if list.is_empty() { p { "No flagged comments here." } }
        @for f in &list {
            @let reference = crate::reference::from_id(f.id);
            article class="comment" id=(reference) aria-labelledby={ (reference) "-h" } {
                h2 id={ (reference) "-h" } { (reference) ": " (f.kinds.iter().map(|k| k.0.as_str()).collect::<Vec<_>>().join(", ")) }
                @for (item, text) in crate::classify::free_texts(app, &f.instrument, &f.answers) {
                    @let spans: Vec<(usize, usize)> = f.kinds.iter().flat_map(|k| k.1.iter()).filter(|e| e.item == item).map(|e| (e.ev.start, e.ev.end)).collect();
                    blockquote { (marked(&text, spans)) }
                }
                p class="meta" {
                    (f.received_at.get(..10).unwrap_or("")) " · " (f.service.as_deref().unwrap_or("no service"))
                }
                ul {
                    @for (kind, ev) in &f.kinds {
                        li { strong { (kind) } ": " (ev.iter().map(|e| format!("\u{201c}{}\u{201d}", e.ev.text)).collect::<Vec<_>>().join(", ")) }
                    }
                }
                @match &f.review {
                    Some((outcome, who, at)) => {
                        p { strong { "Reviewed" } " by " (who) " on " (at.get(..16).unwrap_or(at).replace('T', " ")) " UTC: " (outcome) }
                    }
                    None => {
                        p { strong { "Not reviewed yet." } }
                        form class="inline-form" method="post" action={ "/dashboard/review/" (f.id) } {
                            input type="hidden" name="csrf" value=(staff.csrf);
                            div class="field" {
                                label for={ "o-" (f.id) } { "Outcome" }
                                select id={ "o-" (f.id) } name="outcome" { @for o in OUTCOMES { option value=(o) { (o) } } }
                            }
                            button type="submit" class="button" { "Record review" span class="visually-hidden" { " of " (reference) } }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page("Review queue", Some(staff), "review", body).into_response())
}

/// `text` with the byte ranges `spans` in `<mark>`.
fn marked(text: &str, mut spans: Vec<(usize, usize)>) -> Markup {
    spans.sort();
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut at = 0;
    for (a, b) in spans {
        if a < at || b > text.len() || !text.is_char_boundary(a) || !text.is_char_boundary(b) {
            continue;
        }
        parts.push((false, &text[at..a]));
        parts.push((true, &text[a..b]));
        at = b;
    }
    parts.push((false, &text[at..]));
    html! { @for (m, s) in parts { @if m { mark { (s) } } @else { (s) } } }
}

/// The review form.
#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    outcome: String,
}

/// `POST /dashboard/review/{id}`.
pub async fn review(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<ReviewForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    let sql = "SELECT r.site FROM responses r WHERE r.id = $1 AND EXISTS (SELECT 1 FROM comment_flags f WHERE f.response_id = r.id)";
    let Some(site) = staff
        .site_of_row(&app.store, sql, id, Role::Analyst)
        .await?
    else {
        return Ok(templates::not_found().await);
    };
    if !OUTCOMES.contains(&form.outcome.as_str()) {
        return Ok(templates::bad_request(
            &staff,
            "review",
            &[(format!("o-{id}"), "Choose an outcome".into())],
        ));
    }
    sqlx::query(
        "INSERT INTO flag_reviews (response_id, outcome, user_id, reviewer, reviewed_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (response_id) DO UPDATE SET outcome = excluded.outcome, user_id = excluded.user_id,
           reviewer = excluded.reviewer, reviewed_at = excluded.reviewed_at",
    )
    .bind(id)
    .bind(&form.outcome)
    .bind(staff.user_id)
    .bind(&staff.email)
    .bind(now_iso())
    .execute(app.store.pool())
    .await?;
    staff
        .audit(
            &app.store,
            "flag_reviewed",
            Some(&site),
            &format!("{}: {}", crate::reference::from_id(id), form.outcome),
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/dashboard/review?site={}&status=reviewed#{}",
        url_encode(&site),
        crate::reference::from_id(id)
    ))
    .into_response())
}
