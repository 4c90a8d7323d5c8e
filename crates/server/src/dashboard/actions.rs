//! "You said, we did": staff record what they did about what patients said, per service and
//! theme, with dates and a status; the site's public results page (`crate::results`) shows
//! them. The words are staff's, checked by the core's redactor for personal details (refused,
//! not silently changed, so what is published is what staff wrote). Analysts and admins of the
//! site; every change is audited.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;
use sqlx::Row;

use super::{
    auth::{Role, Staff},
    now_iso,
    reports::{parse_date, url_encode},
    templates::{self, PageResult},
};
use crate::AppState;

/// An action's status.
pub const STATUSES: &[&str] = &["planned", "in progress", "done"];

/// One action.
pub struct Action {
    /// Row id.
    pub id: i64,
    /// Service, if narrowed.
    pub service: Option<String>,
    /// Theme, if any.
    pub theme: Option<String>,
    /// What patients said.
    pub you_said: String,
    /// What was done.
    pub we_did: String,
    /// `planned`, `in progress` or `done`.
    pub status: String,
    /// `YYYY-MM-DD`.
    pub started_on: Option<String>,
    /// `YYYY-MM-DD`.
    pub done_on: Option<String>,
}

/// A site's actions, newest first.
pub async fn list(app: &AppState, site: &str) -> anyhow::Result<Vec<Action>> {
    Ok(sqlx::query(
        "SELECT id, service, theme, you_said, we_did, status, started_on, done_on FROM actions WHERE site = $1 ORDER BY id DESC",
    )
    .bind(site)
    .fetch_all(app.store.pool())
    .await?
    .iter()
    .map(|r| Action {
        id: r.get(0),
        service: r.get(1),
        theme: r.get(2),
        you_said: r.get(3),
        we_did: r.get(4),
        status: r.get(5),
        started_on: r.get(6),
        done_on: r.get(7),
    })
    .collect())
}

/// The query string.
#[derive(Debug, Default, Deserialize)]
pub struct SiteQuery {
    site: Option<String>,
}

/// `GET /dashboard/actions`.
pub async fn actions_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<SiteQuery>,
) -> PageResult {
    let site = staff.site_for(q.site, Role::Analyst)?;
    let actions = list(&app, &site).await?;
    let themes = app.text.for_site(&site).theme_names().to_vec();
    let body = html! {
        h1 { "You said, we did" }
        p { "What you did about what patients said. These are published on the site's "
            a href={ "/results/" (url_encode(&site)) } { "public results page" } ", so write them for patients, and include no personal details." }
        h2 { "Record an action" }
        form method="post" action={ "/dashboard/actions?site=" (url_encode(&site)) } {
            input type="hidden" name="csrf" value=(staff.csrf);
            div class="field" { label for="service" { "Service (optional)" } input type="text" id="service" name="service" maxlength="64"; }
            div class="field" {
                label for="theme" { "Theme (optional)" }
                select id="theme" name="theme" { option value="" { "(none)" } @for t in &themes { option value=(t) { (t) } } }
            }
            div class="field" { label for="you_said" { "You said" } textarea id="you_said" name="you_said" rows="2" maxlength="300" {} }
            div class="field" { label for="we_did" { "We did" } textarea id="we_did" name="we_did" rows="3" maxlength="500" {} }
            div class="field" {
                label for="status" { "Status" }
                select id="status" name="status" { @for s in STATUSES { option value=(s) { (s) } } }
            }
            div class="field" { label for="started_on" { "Started (YYYY-MM-DD, optional)" } input type="text" id="started_on" name="started_on"; }
            div class="field" { label for="done_on" { "Done (YYYY-MM-DD, optional)" } input type="text" id="done_on" name="done_on"; }
            button type="submit" class="button" { "Save action" }
        }
        h2 { "Actions" }
        @if actions.is_empty() { p { "None yet." } }
        @for a in &actions {
            article class="comment" id={ "a" (a.id) } {
                p { strong { "You said: " } (a.you_said) }
                p { strong { "We did: " } (a.we_did) }
                p class="meta" {
                    (a.status)
                    @if let Some(s) = &a.service { " · " (s) }
                    @if let Some(t) = &a.theme { " · " (t) }
                    @if let Some(d) = &a.started_on { " · started " (d) }
                    @if let Some(d) = &a.done_on { " · done " (d) }
                }
                form class="inline-form" method="post" action={ "/dashboard/actions/" (a.id) } {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    div class="field" {
                        label for={ "st-" (a.id) } { "Status" }
                        select id={ "st-" (a.id) } name="status" { @for s in STATUSES { option value=(s) selected[*s == a.status] { (s) } } }
                    }
                    div class="field" { label for={ "dn-" (a.id) } { "Done (YYYY-MM-DD, optional)" } input type="text" id={ "dn-" (a.id) } name="done_on" value=(a.done_on.as_deref().unwrap_or("")); }
                    button type="submit" class="button button-secondary" { "Update" span class="visually-hidden" { " action " (a.id) } }
                }
            }
        }
    };
    Ok(templates::page("You said, we did", Some(&staff), "actions", body).into_response())
}

/// The form.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    theme: Option<String>,
    #[serde(default)]
    you_said: Option<String>,
    #[serde(default)]
    we_did: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    started_on: Option<String>,
    #[serde(default)]
    done_on: Option<String>,
}

fn opt(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Staff text for publication: 1 to `max` characters with no personal details.
fn check_text(
    v: &Option<String>,
    max: usize,
    field: &str,
    what: &str,
    problems: &mut Vec<(String, String)>,
) -> String {
    let t = opt(v).unwrap_or_default();
    if t.is_empty() || t.chars().count() > max {
        problems.push((
            field.into(),
            format!("Enter {what} in 1 to {max} characters"),
        ));
    } else if !chorus_core::redact::redact(&t).spans.is_empty() {
        problems.push((field.into(), format!("Remove the personal details (a phone number, e-mail address, NHS number, postcode or date) from {what}")));
    }
    t
}

fn check_date(
    v: &Option<String>,
    field: &str,
    problems: &mut Vec<(String, String)>,
) -> Option<String> {
    let d = opt(v)?;
    if parse_date(&d).is_none() {
        problems.push((field.into(), "Enter a real date as YYYY-MM-DD".into()));
    }
    Some(d)
}

/// `POST /dashboard/actions?site=…`: a new action.
pub async fn add(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<SiteQuery>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    let site = staff.site_for(q.site, Role::Analyst)?;
    let mut problems = Vec::new();
    let you_said = check_text(
        &form.you_said,
        300,
        "you_said",
        "what patients said",
        &mut problems,
    );
    let we_did = check_text(&form.we_did, 500, "we_did", "what you did", &mut problems);
    let service = opt(&form.service);
    if service
        .as_ref()
        .is_some_and(|s| s.chars().count() > 64 || !chorus_core::redact::redact(s).spans.is_empty())
    {
        problems.push((
            "service".into(),
            "Enter a service id of up to 64 characters".into(),
        ));
    }
    let theme = opt(&form.theme);
    if theme
        .as_ref()
        .is_some_and(|t| !app.text.for_site(&site).theme_names().contains(t))
    {
        problems.push(("theme".into(), "Choose one of the site's themes".into()));
    }
    if !STATUSES.contains(&form.status.as_str()) {
        problems.push((
            "status".into(),
            "Choose planned, in progress or done".into(),
        ));
    }
    let started_on = check_date(&form.started_on, "started_on", &mut problems);
    let done_on = check_date(&form.done_on, "done_on", &mut problems);
    if !problems.is_empty() {
        return Ok(templates::bad_request(&staff, "actions", &problems));
    }
    sqlx::query(
            "INSERT INTO actions (site, service, theme, you_said, we_did, status, started_on, done_on, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&site)
        .bind(&service)
        .bind(&theme)
        .bind(&you_said)
        .bind(&we_did)
        .bind(&form.status)
        .bind(&started_on)
        .bind(&done_on)
        .bind(staff.user_id)
        .bind(now_iso())
        .execute(app.store.pool())
        .await?;
    staff
        .audit(
            &app.store,
            "action_added",
            Some(&site),
            &format!("{} ({})", we_did, form.status),
        )
        .await?;
    Ok(back(&site, ""))
}

/// After a change: back to the site's actions (at `fragment`, if any).
fn back(site: &str, fragment: &str) -> Response {
    Redirect::to(&format!(
        "/dashboard/actions?site={}{fragment}",
        url_encode(site)
    ))
    .into_response()
}

/// `POST /dashboard/actions/{id}`: a new status (and done date).
pub async fn update(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    let sql = "SELECT site FROM actions WHERE id = $1";
    let Some(site) = staff
        .site_of_row(&app.store, sql, id, Role::Analyst)
        .await?
    else {
        return Ok(templates::not_found().await);
    };
    let mut problems = Vec::new();
    if !STATUSES.contains(&form.status.as_str()) {
        problems.push((
            format!("st-{id}"),
            "Choose planned, in progress or done".into(),
        ));
    }
    let done_on = check_date(&form.done_on, &format!("dn-{id}"), &mut problems);
    if !problems.is_empty() {
        return Ok(templates::bad_request(&staff, "actions", &problems));
    }
    sqlx::query("UPDATE actions SET status = $1, done_on = $2, updated_by = $3, updated_at = $4 WHERE id = $5")
        .bind(&form.status)
        .bind(&done_on)
        .bind(staff.user_id)
        .bind(now_iso())
        .bind(id)
        .execute(app.store.pool())
        .await?;
    staff
        .audit(
            &app.store,
            "action_updated",
            Some(&site),
            &format!("action {id}: {}", form.status),
        )
        .await?;
    Ok(back(&site, &format!("#a{id}")))
}
