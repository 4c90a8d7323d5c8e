//! The audit log: who signed in (or failed to), who exported what, what retention deleted,
//! which comments were tagged. Admins read it at `/dashboard/audit`.

use std::sync::Arc;

use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use sqlx::Row;

use super::{
    auth::{CsrfForm, Role, Staff},
    now_iso, templates,
};
use crate::{AppState, store::Store};

/// Write one entry. `actor` is an e-mail address or `system`.
pub async fn record(
    store: &Store,
    user_id: Option<i64>,
    actor: &str,
    action: &str,
    site: Option<&str>,
    detail: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, actor, action, site, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_iso())
    .bind(user_id)
    .bind(actor)
    .bind(action)
    .bind(site)
    .bind(detail)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Record the configuration the server starts with when it differs from the last one
/// recorded (or none was): the audit log then shows every change to sites, origins or
/// retention, with when it took effect. `text` is the file's content (or a description of
/// the built-in demo configuration). Returns whether an entry was written.
pub async fn record_config(
    store: &Store,
    text: &str,
    config: &crate::config::Config,
) -> anyhow::Result<bool> {
    let hash = &super::sha256_hex(text)[..16];
    let last: Option<String> = sqlx::query(
        "SELECT detail FROM audit_log WHERE action = 'config_changed' ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?
    .map(|r| r.get(0));
    let tag = format!("config {hash}:");
    if last.is_some_and(|d| d.starts_with(&tag)) {
        return Ok(false);
    }
    let sites: Vec<String> = config
        .sites
        .iter()
        .map(|s| {
            format!(
                "{} ({} origins, retention {} days)",
                s.id,
                s.origins.len(),
                s.retention_days
            )
        })
        .collect();
    record(
        store,
        None,
        "system",
        "config_changed",
        None,
        &format!("{tag} sites {}", sites.join(", ")),
    )
    .await?;
    Ok(true)
}

/// One audit entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// When (UTC).
    pub at: String,
    /// E-mail address or `system`.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// The site it concerned, if one.
    pub site: Option<String>,
    /// Details.
    pub detail: String,
}

/// The latest `limit` entries, newest first: those about `sites`, and those about no site
/// (sign-ins, system tasks).
pub async fn latest(store: &Store, sites: &[String], limit: i64) -> anyhow::Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT at, actor, action, site, detail FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit * 4)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Entry {
            at: r.get(0),
            actor: r.get(1),
            action: r.get(2),
            site: r.get(3),
            detail: r.get(4),
        })
        .filter(|e| e.site.as_ref().is_none_or(|s| sites.contains(s)))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect())
}

/// `GET /dashboard/audit` (admins).
pub async fn audit_page(State(app): State<Arc<AppState>>, staff: Staff) -> Response {
    let sites: Vec<String> = staff
        .roles
        .iter()
        .filter(|(_, r)| **r == Role::Admin)
        .map(|(s, _)| s.clone())
        .collect();
    if sites.is_empty() {
        let any = staff.roles.keys().next().cloned().unwrap_or_default();
        return super::auth::forbidden(&staff, Role::Admin, &any);
    }
    let entries = match latest(&app.store, &sites, 200).await {
        Ok(e) => e,
        Err(e) => return templates::server_error(&e),
    };
    let body = html! {
        h1 { "Audit log" }
        p { "The latest 200 events: sign-ins, exports, retention runs and tag changes for the sites you administer (" (sites.join(", ")) ")." }
        h2 { "Retention" }
        p { "Responses older than each site's retention period are deleted every hour. You can run it now; each run is recorded here." }
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
    templates::page("Audit log", Some(&staff), "audit", body).into_response()
}

/// `POST /dashboard/retention` (admins): apply every site's retention rule now.
pub async fn run_retention(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = staff.check_csrf(form.csrf.as_deref()) {
        return r;
    }
    if !staff.is_any(Role::Admin) {
        let any = staff.roles.keys().next().cloned().unwrap_or_default();
        return super::auth::forbidden(&staff, Role::Admin, &any);
    }
    crate::apply_retention_as(&app, &staff.email).await;
    Redirect::to("/dashboard/audit").into_response()
}
