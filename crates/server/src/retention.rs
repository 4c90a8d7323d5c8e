//! Retention: each configured site's responses older than its `retention_days` (the file's, or
//! what an admin set on the dashboard's Site settings page) are deleted
//! (hourly by the server, or when an admin asks), and every site's outcome goes in the audit log.

use crate::state::AppState;

/// Delete responses older than each configured site's `retention_days`; returns how many.
/// Responses of sites no longer in the configuration are kept: removing a site from the file
/// by mistake must not delete its data.
pub async fn apply_retention(state: &AppState) -> u64 {
    apply_retention_as(state, "system").await
}

/// [`apply_retention`] on behalf of `actor` (`system` for the hourly task, or an admin's
/// e-mail address); every site's outcome, failures included, goes in the audit log.
pub async fn apply_retention_as(state: &AppState, actor: &str) -> u64 {
    apply_retention_for(state, actor, None).await
}

/// [`apply_retention_as`] for the configured sites among `only` (every configured site when
/// `None`): an admin's run from the dashboard covers the sites they administer, no others.
pub async fn apply_retention_for(state: &AppState, actor: &str, only: Option<&[String]>) -> u64 {
    let mut total = 0;
    // Retention as in force now (an admin may have changed it in the dashboard); if the saved
    // settings cannot be read, nothing is deleted this time rather than by a replaced value.
    let sites = match state.sites_checked().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "retention: cannot read the site settings; will retry next hour");
            return 0;
        }
    };
    for site in sites
        .iter()
        .filter(|s| only.is_none_or(|o| o.contains(&s.id)))
    {
        let outcome = match state
            .store
            .purge(&site.id, site.retention_days, std::time::SystemTime::now())
            .await
        {
            Ok(n) => {
                if n > 0 {
                    state.metrics.purged(n);
                    tracing::info!(site = %site.id, deleted = n, days = site.retention_days, "retention: deleted old responses");
                }
                total += n;
                format!(
                    "deleted {n} responses older than {} days",
                    site.retention_days
                )
            }
            Err(e) => {
                tracing::warn!(site = %site.id, error = %e, "retention: delete failed; will retry next hour");
                format!("delete failed ({e}); will retry next hour")
            }
        };
        if let Err(e) = crate::audit::record(
            &state.store,
            None,
            actor,
            "retention",
            Some(&site.id),
            &outcome,
        )
        .await
        {
            tracing::warn!(site = %site.id, error = %e, "retention: could not write the audit entry");
        }
    }
    total
}
