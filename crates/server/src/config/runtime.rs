//! Site settings changed at run time: a site's services (with their FFT codes) and its
//! retention, saved by admins on the dashboard's Site settings page in the `site_settings`
//! table, and laid over the TOML's values for those two fields only. Origins, ODS codes and
//! secrets are the file's alone.
//!
//! Every reader of a site's services or retention goes through `AppState::site` /
//! `AppState::sites`, which lay the [`Cache`] over the file's values.

use std::{collections::BTreeMap, time::Duration};

use sqlx::Row;

use super::{Service, Site, service};
use crate::store::Store;

/// Longest a server goes without reading the saved settings again.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Retention an admin may set, in days.
pub const RETENTION_RANGE: std::ops::RangeInclusive<u32> = 1..=3650;

/// What is saved for one site (`None`: the file's value).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Saved {
    /// The services, replacing the file's list.
    pub services: Option<Vec<Service>>,
    /// The retention in days.
    pub retention_days: Option<u32>,
    /// When and by whom it was last saved.
    pub updated: Option<(String, String)>,
}

impl Saved {
    /// `site` with these settings over the file's.
    pub fn apply(&self, site: &Site) -> Site {
        let mut s = site.clone();
        if let Some(list) = &self.services {
            s.services = list.clone();
        }
        if let Some(days) = self.retention_days {
            s.retention_days = days;
        }
        s
    }
}

/// The saved settings as last read, shared by every request. Read again from the database by
/// the housekeeping task every [`REFRESH`] (and by the retention task before it deletes), and
/// changed at once by [`Cache::put`] when this server saves, so a change made here is seen by
/// the next request and one made on another server sharing the database within [`REFRESH`].
#[derive(Default)]
pub struct Cache {
    inner: std::sync::RwLock<Snapshot>,
}

#[derive(Default)]
struct Snapshot {
    /// Read from the database at least once.
    loaded: bool,
    /// Changes by [`Cache::put`], so a read started before a save does not undo it.
    generation: u64,
    map: std::sync::Arc<BTreeMap<String, Saved>>,
}

impl Cache {
    /// The saved settings as last read (none before the first read: the file's are in force).
    pub fn get(&self) -> std::sync::Arc<BTreeMap<String, Saved>> {
        self.inner
            .read()
            .map_or_else(|p| p.get_ref().map.clone(), |s| s.map.clone())
    }

    /// Have the saved settings been read from the database yet?
    pub fn loaded(&self) -> bool {
        self.inner.read().is_ok_and(|s| s.loaded)
    }

    /// Read the saved settings again. A save on this server while the read is under way wins
    /// (the read is dropped; the next one sees both).
    pub async fn refresh(&self, store: &Store) -> anyhow::Result<()> {
        let before = self.inner.read().map_or(0, |s| s.generation);
        let map = load(store).await?;
        let mut w = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if w.generation == before {
            w.map = std::sync::Arc::new(map);
            w.loaded = true;
        }
        Ok(())
    }

    /// What this server just saved for `site` (`None`: reset to the file's).
    pub fn put(&self, site: &str, saved: Option<Saved>) {
        let mut w = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut map = (*w.map).clone();
        match saved {
            Some(s) => map.insert(site.to_string(), s),
            None => map.remove(site),
        };
        w.map = std::sync::Arc::new(map);
        w.generation += 1;
    }
}

/// Read every saved row.
pub async fn load(store: &Store) -> anyhow::Result<BTreeMap<String, Saved>> {
    let rows = sqlx::query(
        "SELECT site, services, retention_days, updated_at, updated_by FROM site_settings",
    )
    .fetch_all(store.pool())
    .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let site: String = r.try_get(0)?;
        let services: Option<String> = r.try_get(1)?;
        let retention: Option<i64> = r.try_get(2)?;
        let services = match services {
            None => None,
            Some(json) => {
                let list: Vec<Service> = serde_json::from_str(&json).map_err(|e| {
                    anyhow::anyhow!("site settings of \"{site}\": stored services unreadable: {e}")
                })?;
                service::check_list(&list).map_err(|e| {
                    anyhow::anyhow!("site settings of \"{site}\": stored services refused: {e}")
                })?;
                Some(list)
            }
        };
        let retention_days = match retention {
            None => None,
            Some(d) => Some(
                u32::try_from(d)
                    .ok()
                    .filter(|d| RETENTION_RANGE.contains(d))
                    .ok_or_else(|| {
                        anyhow::anyhow!("site settings of \"{site}\": stored retention {d} refused")
                    })?,
            ),
        };
        out.insert(
            site,
            Saved {
                services,
                retention_days,
                updated: Some((r.try_get(3)?, r.try_get(4)?)),
            },
        );
    }
    Ok(out)
}

/// Save `site`'s settings (`None` fields: the file's value), by `actor`. The caller has
/// checked them.
pub async fn save(store: &Store, site: &str, saved: &Saved, actor: &str) -> anyhow::Result<()> {
    let services = saved
        .services
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    let retention = saved.retention_days.map(i64::from);
    let now = crate::util::now_iso();
    sqlx::query(
        "INSERT INTO site_settings (site, services, retention_days, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (site) DO UPDATE SET services = excluded.services, retention_days = excluded.retention_days, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(site)
    .bind(services)
    .bind(retention)
    .bind(now)
    .bind(actor)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Forget `site`'s saved settings: the file's are in force again.
pub async fn reset(store: &Store, site: &str) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM site_settings WHERE site = $1")
        .bind(site)
        .execute(store.pool())
        .await?;
    Ok(())
}
