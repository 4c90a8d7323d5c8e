//! The audit log: who signed in (or failed to), who exported what, what retention deleted,
//! which comments were tagged. Admins read it at `/dashboard/audit`, each only their own
//! sites' entries: an event about a member of staff is written once for every site they have
//! a role on, and events about no site (an unknown sign-in name, a locked address) are shown to
//! no site's admin (operators read them in the database).

use std::sync::Arc;

use axum::{
    Form,
    extract::State,
    response::{IntoResponse, Redirect},
};
use maud::html;
use sqlx::Row;

use super::{
    auth::{CsrfForm, Role, Staff},
    now_iso,
    templates::{self, PageError, PageResult},
};
use crate::{AppState, store::Store};

/// Longest actor and detail stored: entries are written from what people send, so they are
/// bounded whatever was sent.
const MAX_FIELD: usize = 500;

fn bounded(s: &str) -> &str {
    match s.char_indices().nth(MAX_FIELD) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// Write one entry for each of `sites` (none at all if `sites` is empty, then one about no
/// site: see the module's note).
pub async fn record_for_sites(
    store: &Store,
    user_id: Option<i64>,
    actor: &str,
    action: &str,
    sites: &[String],
    detail: &str,
) -> anyhow::Result<()> {
    if sites.is_empty() {
        return record(store, user_id, actor, action, None, detail).await;
    }
    for site in sites {
        record(store, user_id, actor, action, Some(site), detail).await?;
    }
    Ok(())
}

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
    .bind(bounded(actor))
    .bind(action)
    .bind(site)
    .bind(bounded(detail))
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Did this member of staff key paper card `id` (audited as `paper_card`) within the last
/// hour? Undo is for the card just keyed, by the person who keyed it.
pub async fn keyed_paper_card(store: &Store, user_id: i64, id: i64) -> anyhow::Result<bool> {
    let since = crate::store::iso_utc(super::now_secs() - 3600);
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM audit_log WHERE user_id = $1 AND action = 'paper_card' AND detail LIKE $2 AND at >= $3",
    )
    .bind(user_id)
    .bind(format!("response {id} (%"))
    .bind(since)
    .fetch_one(store.pool())
    .await
    .map(|r| sqlx::Row::get(&r, 0))?;
    Ok(n > 0)
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
    // One entry per site, each describing only that site: an admin reads only their own.
    for s in &config.sites {
        record(
            store,
            None,
            "system",
            "config_changed",
            Some(&s.id),
            &format!(
                "{tag} {} ({} origins, {} services, retention {} days)",
                s.id,
                s.origins.len(),
                if s.services.is_empty() {
                    "any".to_string()
                } else {
                    s.services.len().to_string()
                },
                s.retention_days
            ),
        )
        .await?;
    }
    if config.sites.is_empty() {
        record(
            store,
            None,
            "system",
            "config_changed",
            None,
            &format!("{tag} no sites"),
        )
        .await?;
    }
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

/// The latest `limit` entries about `sites`, newest first.
pub async fn latest(store: &Store, sites: &[String], limit: i64) -> anyhow::Result<Vec<Entry>> {
    if sites.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (0..sites.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT at, actor, action, site, detail FROM audit_log WHERE site IN ({}) ORDER BY id DESC LIMIT $1",
        marks.join(", ")
    );
    // Only numbered placeholders are spliced in; the sites themselves are bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(limit);
    for s in sites {
        q = q.bind(s);
    }
    Ok(q.fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| Entry {
            at: r.get(0),
            actor: r.get(1),
            action: r.get(2),
            site: r.get(3),
            detail: r.get(4),
        })
        .collect())
}

/// The sites `staff` administers; for someone who administers none, the forbidden page.
fn administered(staff: &Staff) -> Result<Vec<String>, PageError> {
    let sites: Vec<String> = staff
        .roles
        .iter()
        .filter(|(_, r)| **r == Role::Admin)
        .map(|(s, _)| s.clone())
        .collect();
    if sites.is_empty() {
        let any = staff.roles.keys().next().cloned().unwrap_or_default();
        return Err(super::auth::forbidden(staff, Role::Admin, &any).into());
    }
    Ok(sites)
}

/// `GET /dashboard/audit` (admins).
pub async fn audit_page(State(app): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let sites = administered(&staff)?;
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
    let sites = administered(&staff)?;
    crate::apply_retention_for(&app, &staff.email, Some(&sites)).await;
    Ok(Redirect::to("/dashboard/audit").into_response())
}
