//! The audit log: who signed in (or failed to), who exported what, what retention deleted,
//! which comments were tagged. Admins read it at `/dashboard/audit`, each only their own
//! sites' entries: an event about a member of staff is written once for every site they have
//! a role on, and events about no site (an unknown sign-in name, a locked address) are shown to
//! no site's admin (operators read them in the database).

use sqlx::Row;

use crate::{store::Store, util::now_iso};

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
    let since = crate::store::iso_utc(crate::util::now_secs() - 3600);
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM audit_log WHERE user_id = $1 AND action = 'paper_card' AND detail LIKE $2 AND at >= $3",
    )
    .bind(user_id)
    .bind(format!("response {id} (%"))
    .bind(since)
    .fetch_one(store.pool())
    .await
    .map(|r| r.get(0))?;
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
    let hash = &crate::util::sha256_hex(text)[..16];
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
