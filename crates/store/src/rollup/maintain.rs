//! Keeping rollups equal to their rows: settling keys noted as changed, rebuilding, and
//! `chorus rollup check`.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use super::{
    KEY, Rolled, RollupKey, bind_key, is_month, key_condition, key_from, month_key, to_json,
    with_months,
    write::{lock, recompute, write},
};
use crate::{
    Store,
    theme_rollup::{self, ThemeKey},
};

/// What `chorus rollup check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Keys compared.
    pub keys: usize,
    /// Responses recounted from the rows.
    pub responses: u64,
    /// Keys whose stored rollup differs from the rows' (missing, extra or unequal).
    pub differences: Vec<RollupKey>,
    /// Keys noted as changed and not yet recomputed when the check ran (not differences:
    /// reads take them from the rows).
    pub pending: usize,
    /// Theme rollup keys whose stored counts differ from the rows'.
    pub theme_differences: Vec<ThemeKey>,
}

impl Store {
    /// Recompute every key noted as changed from its rows, each in its own short
    /// transaction (so the writer waits for at most one key); returns how many. A key changed
    /// again meanwhile is noted again and done next time.
    pub async fn settle_rollups(&self) -> anyhow::Result<usize> {
        let mut done = 0;
        // Bounded, so deletions arriving as fast as they are settled cannot keep one run going.
        for _ in 0..64 {
            let sql = format!("SELECT {KEY} FROM rollup_dirty ORDER BY {KEY} LIMIT 256");
            let keys: Vec<RollupKey> = sqlx::query(AssertSqlSafe(sql))
                .fetch_all(self.pool())
                .await?
                .iter()
                .map(|r| key_from(r, 0))
                .collect();
            if keys.is_empty() {
                break;
            }
            for key in &keys {
                if self.settle_one(key).await? {
                    done += 1;
                }
            }
        }
        Ok(done)
    }

    /// Recompute one noted key; whether it was still noted.
    async fn settle_one(&self, key: &RollupKey) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        // First a write (takes SQLite's write lock at once, and locks the note on
        // PostgreSQL, so a change noted meanwhile waits for this transaction).
        let sql = format!(
            "UPDATE rollup_dirty SET gen = gen WHERE {} RETURNING gen",
            key_condition(1)
        );
        let Some(row) = bind_key(sqlx::query(AssertSqlSafe(sql)), key)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let gen_now: i64 = row.try_get(0)?;
        // The month, then the day: the writer's order too (a month sorts before its days).
        let month = month_key(key);
        lock(&mut tx, &month, self.sqlite).await?;
        lock(&mut tx, key, self.sqlite).await?;
        for k in [key, &month] {
            let a = recompute(&mut tx, k).await?;
            write(&mut tx, k, &a).await?;
        }
        let day = ThemeKey {
            site: key.site.clone(),
            service: key.service.clone(),
            day: key.day.clone(),
        };
        theme_rollup::settle(&mut tx, day, self.sqlite).await?;
        let sql = format!(
            "DELETE FROM rollup_dirty WHERE {} AND gen = $8",
            key_condition(1)
        );
        bind_key(sqlx::query(AssertSqlSafe(sql)), key)
            .bind(gen_now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Recompute every rollup (of one site, or all) from the rows, in one transaction that
    /// holds off writers meanwhile; `progress(done, total)` is called as rows are read.
    /// Returns the number of responses rolled up.
    pub async fn rebuild_rollups(
        &self,
        site: Option<&str>,
        progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<u64> {
        Ok(self.rebuild(site, false, progress).await?.unwrap_or(0))
    }

    /// [`Store::rebuild_rollups`]; with `once`, only if they were never built (checked under
    /// the lock, so of several servers starting at once only the first builds them).
    async fn rebuild(
        &self,
        site: Option<&str>,
        once: bool,
        mut progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<Option<u64>> {
        let mut tx = self.pool().begin().await?;
        let all = site.is_none();
        let site_cond = if all { "1 = 1" } else { "site = $1" };
        // First a write: SQLite's write lock at once; on PostgreSQL, SHARE ROW EXCLUSIVE
        // lets reads on but holds every other node's inserts, tag writes (and rebuilds)
        // until the rollups are whole again.
        theme_rollup::lock_out_writers(&mut tx, self.sqlite).await?;
        if once {
            let built: i64 = sqlx::query("SELECT built FROM rollup_state WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if built != 0 {
                return Ok(None);
            }
        }
        for table in ["rollups", "rollup_dirty"] {
            let sql = format!("DELETE FROM {table} WHERE {site_cond}");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            if let Some(s) = site {
                q = q.bind(s);
            }
            q.execute(&mut *tx).await?;
        }
        let total = {
            let sql = format!("SELECT COUNT(*) FROM responses WHERE {site_cond}");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            if let Some(s) = site {
                q = q.bind(s);
            }
            q.fetch_one(&mut *tx).await?.try_get::<i64, _>(0)? as u64
        };
        let days = read_all(&mut tx, site, total, &mut progress).await?;
        let n: u64 = days.values().map(|a| a.aggregate.responses).sum();
        let map = with_months(days);
        let sql = format!(
            "INSERT INTO rollups ({KEY}, responses, aggregate, about) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        for (key, r) in &map {
            if r.aggregate.responses == 0 {
                continue;
            }
            bind_key(sqlx::query(AssertSqlSafe(sql.clone())), key)
                .bind(i64::try_from(r.aggregate.responses).unwrap_or(i64::MAX))
                .bind(to_json(&r.aggregate))
                .bind(to_json(&r.about))
                .execute(&mut *tx)
                .await?;
        }
        // The dirty notes are gone: the theme rollups they stood for are rebuilt too.
        theme_rollup::rebuild(&mut tx, site).await?;
        if all {
            sqlx::query("UPDATE rollup_state SET built = 1, themes_built = 1 WHERE id = 1")
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(n))
    }

    /// Roll up the rows stored before rollups existed, once (at open).
    pub(crate) async fn build_rollups_once(&self) -> anyhow::Result<()> {
        let built: i64 = sqlx::query("SELECT built FROM rollup_state WHERE id = 1")
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        if built == 0 {
            let started = std::time::Instant::now();
            if let Some(n) = self.rebuild(None, true, |_, _| {}).await? {
                tracing::info!(
                    responses = n,
                    ms = started.elapsed().as_millis() as u64,
                    "rolled up the responses stored before rollups existed"
                );
            }
        }
        self.build_theme_rollups_once().await
    }

    /// Compare the stored rollups (of one site, or all) with a recomputation from the rows,
    /// after recomputing the keys noted as changed.
    pub async fn check_rollups(
        &self,
        site: Option<&str>,
        mut progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<CheckReport> {
        self.settle_rollups().await?;
        let mut tx = self.snapshot().await?;
        let site_cond = if site.is_none() { "1 = 1" } else { "site = $1" };
        let bind_site = |sql: String| {
            let q = sqlx::query(AssertSqlSafe(sql));
            match site {
                Some(s) => q.bind(s.to_string()),
                None => q,
            }
        };
        let total = bind_site(format!("SELECT COUNT(*) FROM responses WHERE {site_cond}"))
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)? as u64;
        let pending: std::collections::BTreeSet<RollupKey> =
            bind_site(format!("SELECT {KEY} FROM rollup_dirty WHERE {site_cond}"))
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| key_from(r, 0))
                .collect();
        let mut stored: BTreeMap<RollupKey, Rolled> = bind_site(format!(
            "SELECT {KEY}, aggregate, about FROM rollups WHERE {site_cond}"
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            (
                key_from(r, 0),
                Rolled::parse(&r.get::<String, _>(7), &r.get::<String, _>(8)),
            )
        })
        .collect();
        let rows = with_months(read_all(&mut tx, site, total, &mut progress).await?);
        let theme_differences = theme_rollup::check(&mut tx, site).await?;
        tx.commit().await?;
        // A month with a day noted as changed is pending too.
        let pending: std::collections::BTreeSet<RollupKey> = pending
            .iter()
            .map(month_key)
            .chain(pending.iter().cloned())
            .collect();
        let mut report = CheckReport {
            pending: pending.len(),
            theme_differences,
            ..CheckReport::default()
        };
        for (key, a) in rows {
            report.keys += 1;
            if !is_month(&key.day) {
                report.responses += a.aggregate.responses;
            }
            let s = stored.remove(&key);
            let same = match &s {
                Some(s) => *s == a,
                None => a.aggregate.responses == 0,
            };
            if !same && !pending.contains(&key) {
                report.differences.push(key);
            }
        }
        report
            .differences
            .extend(stored.into_keys().filter(|k| !pending.contains(k)));
        report.differences.sort();
        Ok(report)
    }
}

/// Every response (of one site, or all) aggregated by rollup key, read a page at a time.
async fn read_all(
    conn: &mut AnyConnection,
    site: Option<&str>,
    total: u64,
    progress: &mut impl FnMut(u64, u64),
) -> Result<BTreeMap<RollupKey, Rolled>, sqlx::Error> {
    const PAGE: i64 = 5000;
    let (cond, first) = match site {
        Some(_) => ("site = $1 AND id > $2", 2),
        None => ("id > $1", 1),
    };
    let sql = format!(
        "SELECT id, site, COALESCE(service, ''), instrument, version, locale, mode, \
         substr(received_at, 1, 10), scores, about FROM responses WHERE {cond} ORDER BY id LIMIT ${}",
        first + 1
    );
    let mut map: BTreeMap<RollupKey, Rolled> = BTreeMap::new();
    let (mut last, mut done) = (0i64, 0u64);
    loop {
        let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
        if let Some(s) = site {
            q = q.bind(s);
        }
        let rows = q.bind(last).bind(PAGE).fetch_all(&mut *conn).await?;
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let key = key_from(r, 1);
            map.entry(key).or_default().add(
                id,
                &r.try_get::<String, _>(8)?,
                r.try_get::<Option<String>, _>(9)?.as_deref(),
            );
            last = id;
        }
        done += rows.len() as u64;
        progress(done, total);
        if (rows.len() as i64) < PAGE {
            return Ok(map);
        }
    }
}
