//! Reports' reads of rollups: a selection as whole months and edge days, in one snapshot.

use sqlx::{AssertSqlSafe, Row as _};

use super::{
    KEY, Part, Rolled, RollupKey, bind_key, bind_rows, bound, key_condition, key_from, month_key,
    next_month, rows_condition, write::recompute,
};
use crate::{Selection, Store};

/// How a day range is read: the whole months inside it from month rollups, the days at
/// either end from day rollups.
pub(crate) struct Plan {
    /// Whole months, as `YYYY-MM` bounds (`None`: no whole month in the range).
    pub(crate) months: Option<Days>,
    /// Day ranges at either end (or the whole range when it holds no whole month).
    pub(crate) edges: Vec<Days>,
}

impl Plan {
    pub(crate) fn of(d: &Days) -> Plan {
        let start = |day: &str| day.get(8..) == Some("01");
        let m_from = d.from.as_deref().map(|f| {
            if start(f) {
                f[..7].to_string()
            } else {
                next_month(&f[..7])
            }
        });
        let m_before = d.before.as_deref().map(|b| b[..7].to_string());
        if let (Some(a), Some(b)) = (&m_from, &m_before)
            && a >= b
        {
            return Plan {
                months: None,
                edges: vec![Days {
                    from: d.from.clone(),
                    before: d.before.clone(),
                }],
            };
        }
        let mut edges = Vec::new();
        if let (Some(f), Some(m)) = (&d.from, &m_from)
            && !start(f)
        {
            edges.push(Days {
                from: Some(f.clone()),
                before: Some(format!("{m}-01")),
            });
        }
        if let (Some(b), Some(m)) = (&d.before, &m_before)
            && !start(b)
        {
            edges.push(Days {
                from: Some(format!("{m}-01")),
                before: Some(b.clone()),
            });
        }
        Plan {
            months: Some(Days {
                from: m_from,
                before: m_before,
            }),
            edges,
        }
    }

    /// Is `month` one of the whole months?
    pub(crate) fn whole(&self, month: &str) -> bool {
        self.months.as_ref().is_some_and(|m| {
            m.from.as_deref().is_none_or(|f| month >= f)
                && m.before.as_deref().is_none_or(|b| month < b)
        })
    }
}

/// A selection as rollup day bounds: `None` when rollups cannot answer it exactly (a time
/// bound inside a day, a tag or a search: those narrow single responses).
pub(crate) struct Days {
    pub(crate) from: Option<String>,
    /// Exclusive.
    pub(crate) before: Option<String>,
}

pub(super) fn days_of(s: &Selection) -> Option<Days> {
    if s.tag.is_some() || s.search.is_some() {
        return None;
    }
    let day = |t: &Option<String>| -> Option<Option<String>> {
        match t {
            None => Some(None),
            Some(t) => t
                .strip_suffix("T00:00:00.000Z")
                .filter(|d| d.len() == 10)
                .map(|d| Some(d.to_string())),
        }
    };
    Some(Days {
        from: day(&s.received_from)?,
        before: day(&s.received_before)?,
    })
}

/// `WHERE` over rollup (or dirty-note) columns for a selection, and its values.
pub(crate) fn rollup_condition(s: &Selection, d: &Days) -> (String, Vec<String>) {
    s.scope("day", d.from.as_deref(), d.before.as_deref())
        .finish()
}

impl Store {
    /// The aggregates of the responses `s` selects, one per rollup key, from the rollups
    /// (keys noted as changed are read from their rows). `None` when the selection narrows
    /// below a day or by tag or search, which only the rows can answer.
    ///
    /// One read transaction (a snapshot), so a recomputation or a write committing meanwhile
    /// can neither double-count nor drop a key.
    pub async fn rollups(
        &self,
        s: &Selection,
        part: Part,
    ) -> anyhow::Result<Option<Vec<(RollupKey, Rolled)>>> {
        let Some(days) = days_of(s) else {
            return Ok(None);
        };
        let plan = Plan::of(&days);
        let mut tx = self.snapshot().await?;
        let column = match part {
            Part::Aggregate => "aggregate",
            Part::About => "about",
        };
        let read = |r: &sqlx::any::AnyRow| -> Result<(RollupKey, Rolled), sqlx::Error> {
            Ok((
                key_from(r, 0),
                Rolled::parse_part(part, &r.try_get::<String, _>(7)?),
            ))
        };
        let (cond, binds) = rollup_condition(s, &days);
        let dirty: std::collections::BTreeSet<RollupKey> = bound(
            format!("SELECT {KEY} FROM rollup_dirty WHERE {cond}"),
            &binds,
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| key_from(r, 0))
        .collect();
        // Whole months from their month rollups, unless a day in one is noted as changed:
        // that month is read day by day below.
        let broken: std::collections::BTreeSet<RollupKey> = dirty.iter().map(month_key).collect();
        let mut out = Vec::new();
        if let Some(months) = &plan.months {
            let (cond, binds) = rollup_condition(s, months);
            let sql =
                format!("SELECT {KEY}, {column} FROM rollups WHERE {cond} AND length(day) = 7");
            for r in bound(sql, &binds).fetch_all(&mut *tx).await? {
                let (key, rolled) = read(&r)?;
                if !broken.contains(&key) {
                    out.push((key, rolled));
                }
            }
        }
        // Day rollups: the part-months at either end, and the broken months.
        let mut day_rows = Vec::new();
        for edge in &plan.edges {
            let (cond, binds) = rollup_condition(s, edge);
            let sql =
                format!("SELECT {KEY}, {column} FROM rollups WHERE {cond} AND length(day) = 10");
            day_rows.extend(bound(sql, &binds).fetch_all(&mut *tx).await?);
        }
        if plan.months.is_some() {
            for m in &broken {
                if !plan.whole(&m.day) {
                    continue;
                }
                let sql = format!(
                    "SELECT {KEY}, {column} FROM rollups WHERE {} AND day > $7 AND day < $8 \
                     AND length(day) = 10",
                    key_condition(1).replace(" AND day = $7", "")
                );
                let q = bind_key(sqlx::query(AssertSqlSafe(sql)), m).bind(next_month(&m.day));
                day_rows.extend(q.fetch_all(&mut *tx).await?);
            }
        }
        for r in &day_rows {
            let (key, rolled) = read(r)?;
            if !dirty.contains(&key) {
                out.push((key, rolled));
            }
        }
        // Days noted as changed, from their rows.
        for key in dirty {
            let a = recompute(&mut tx, &key).await?;
            if a.aggregate.responses > 0 {
                out.push((key, a));
            }
        }
        tx.commit().await?;
        Ok(Some(out))
    }

    /// A site's responses per (service, instrument): summed in the database from the rollups,
    /// with keys noted as changed counted from their rows, in one snapshot (exact, and cheap
    /// whatever the number of responses).
    pub async fn rollup_counts(&self, site: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
        let mut tx = self.snapshot().await?;
        // Month rollups, except months with a day noted as changed: those are counted from
        // their rows.
        let same: Vec<String> = KEY
            .split(", ")
            .map(|c| match c {
                "day" => "substr(d.day, 1, 7) = r.day".to_string(),
                c => format!("d.{c} = r.{c}"),
            })
            .collect();
        let sql = format!(
            "SELECT service, instrument, CAST(SUM(responses) AS BIGINT) FROM rollups r \
             WHERE site = $1 AND length(day) = 7 \
             AND NOT EXISTS (SELECT 1 FROM rollup_dirty d WHERE {}) GROUP BY service, instrument",
            same.join(" AND ")
        );
        let mut out: Vec<(String, String, i64)> = sqlx::query(AssertSqlSafe(sql))
            .bind(site)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let sql = format!("SELECT {KEY} FROM rollup_dirty WHERE site = $1");
        let broken: std::collections::BTreeSet<RollupKey> = sqlx::query(AssertSqlSafe(sql))
            .bind(site)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| month_key(&key_from(r, 0)))
            .collect();
        let sql = format!("SELECT COUNT(*) FROM responses WHERE {}", rows_condition());
        for key in broken {
            let n: i64 = bind_rows(sqlx::query(AssertSqlSafe(sql.clone())), &key)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            out.push((key.service, key.instrument, n));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// A read transaction that sees one moment throughout (SQLite's is; PostgreSQL's needs
    /// REPEATABLE READ).
    pub(crate) async fn snapshot(&self) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool().begin().await?;
        if !self.sqlite {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}
