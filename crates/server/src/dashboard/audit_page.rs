//! `GET /dashboard/audit` (admins read their sites' entries of the audit log) and
//! `POST /dashboard/retention` (apply the retention rule now).

use std::sync::Arc;

use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect},
};
use maud::html;

use super::{
    auth::{CsrfForm, Staff},
    templates::{self, PageResult},
};
use crate::{audit::latest, state::AppState};

/// `GET /dashboard/audit` (admins).
pub async fn audit_page(State(app): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let sites = super::people::administered(&staff)?;
    let entries = latest(&app.store, &sites, 200).await?;
    let body = html! {
        h1 { "Audit log" }
        p { "The latest 200 events: sign-ins, exports, retention runs and tag changes for the sites you administer (" (sites.join(", ")) ")." }
        h2 { "Retention" }
        p { "Responses older than each site's retention period are deleted every hour. You can run it now for the sites you administer; each run is recorded here." }
        form method="post" action="/dashboard/retention" {
            input type="hidden" name="csrf" value=(staff.csrf);
            button type="submit" class="button button-secondary" { "Apply retention now" }
        }
        h2 { "Events" }
        div class="table-wrap" tabindex="0" role="region" aria-label="Audit events" {
            table {
                caption class="visually-hidden" { "Audit events, newest first" }
                thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Site" } th scope="col" { "Details" } } }
                tbody {
                    @for e in &entries {
                        tr { td { (e.at.replace('T', " ").trim_end_matches('Z')) } td { (e.actor) } td { (e.action.replace('_', " ")) } td { (e.site.as_deref().unwrap_or("–")) } td { (e.detail) } }
                    }
                }
            }
        }
    };
    Ok(templates::page("Audit log", Some(&staff), "audit", body).into_response())
}

/// `POST /dashboard/retention` (admins): apply the retention rule now, for the sites this
/// admin administers only.
pub async fn run_retention(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    let sites = super::people::administered(&staff)?;
    crate::retention::apply_retention_for(&app, &staff.email, Some(&sites)).await;
    Ok(Redirect::to("/dashboard/audit").into_response())
}
