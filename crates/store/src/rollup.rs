//! Rollups: the core's [`InstrumentAggregate`] kept per (site, service, instrument, version,
//! locale, mode, UTC day), so a report over years merges days × services rows instead of
//! re-reading every response (tables and triggers: migration 0013).
//!
//! Why they can never drift from the rows:
//! - **Inserts**: the writer adds each new response to its rollup in the same transaction as
//!   the response ([`add`]). Aggregates merge by integer addition, so the rollup of a day is
//!   exactly the aggregate of its responses, in any order.
//! - **Deletes and updates** (retention, withdrawal, an operator's SQL): a trigger notes the
//!   key in `rollup_dirty` in the same transaction as the change. Until the store recomputes
//!   that key from its rows ([`Store::settle_rollups`], run by the server's housekeeping and
//!   after each retention run), every read takes that key from the rows, so a report is exact
//!   at once.
//! - **Rows written by an older Chorus**: rolled up once when the database is opened
//!   (`rollup_state.built`), and `chorus rollup rebuild` recomputes everything on demand;
//!   `chorus rollup check` compares stored rollups with a recomputation.
//!
//! Locks (PostgreSQL, several servers): the writer locks the rollup rows it updates in key
//! order after its response rows; a recomputation locks the dirty note, then the rollup row,
//! then reads. No path takes them in the other order, so none can deadlock another.

use std::collections::BTreeMap;

use chorus_core::{ScoreReport, aggregate::InstrumentAggregate};
use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use crate::{
    Selection, Store,
    theme_rollup::{self, ThemeKey},
};

/// The key of one rollup: one day of one instrument version in one locale and mode at one
/// service of one site.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// Site.
    pub site: String,
    /// Service (`""`: none given).
    pub service: String,
    /// Instrument id.
    pub instrument: String,
    /// Instrument version.
    pub version: i64,
    /// Locale tag.
    pub locale: String,
    /// Mode of collection code.
    pub mode: String,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
}

/// FFT responses by "About you" answer, for the equality report: `[positive, in all]` of
/// every FFT response, and of those giving each answer to each question. One characteristic
/// at a time (never a combination of two), so a rollup can single no one out by crossing.
/// Merged by addition, exactly like the core's aggregates.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AboutGroups {
    /// Every FFT response: `[positive, in all]`.
    pub all: [u64; 2],
    /// Question id → answer id → `[positive, in all]`.
    pub by: BTreeMap<String, BTreeMap<String, [u64; 2]>>,
}

impl AboutGroups {
    /// Count one response (its score report and stored "About you" answers).
    pub fn add(&mut self, report: &ScoreReport, about: Option<&str>) {
        let Some(fft) = &report.fft else { return };
        let positive = u64::from(fft.category == Some(chorus_core::score::FftCategory::Positive));
        self.all[0] += positive;
        self.all[1] += 1;
        let answers: BTreeMap<String, String> = about
            .and_then(|a| serde_json::from_str(a).ok())
            .unwrap_or_default();
        for (q, a) in answers {
            let c = self.by.entry(q).or_default().entry(a).or_default();
            c[0] += positive;
            c[1] += 1;
        }
    }

    /// Add another part.
    pub fn merge(&mut self, o: &AboutGroups) {
        self.all[0] += o.all[0];
        self.all[1] += o.all[1];
        for (q, answers) in &o.by {
            let mine = self.by.entry(q.clone()).or_default();
            for (a, c) in answers {
                let m = mine.entry(a.clone()).or_default();
                m[0] += c[0];
                m[1] += c[1];
            }
        }
    }
}

/// One rollup as read: its key, the core's aggregate and the "About you" groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rolled {
    /// The core's aggregate.
    pub aggregate: InstrumentAggregate,
    /// FFT responses by "About you" answer.
    pub about: AboutGroups,
}

impl Rolled {
    /// Count one stored response (a report that does not parse, only possible if the
    /// database was edited by hand, is logged and left out, as reports always have).
    fn add(&mut self, id: i64, scores: &str, about: Option<&str>) {
        match serde_json::from_str::<ScoreReport>(scores) {
            Ok(r) => {
                self.aggregate.add(&r);
                self.about.add(&r, about);
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "stored score report does not parse; left out of reports")
            }
        }
    }

    /// Add another part.
    pub fn merge(&mut self, o: &Rolled) {
        self.aggregate.merge(&o.aggregate);
        self.about.merge(&o.about);
    }

    fn parse_part(part: Part, json: &str) -> Rolled {
        let bad = |e: serde_json::Error| {
            tracing::warn!(error = %e, "a stored rollup does not parse; counted as empty until rebuilt");
        };
        match part {
            Part::Aggregate => Rolled {
                aggregate: serde_json::from_str(json).map_err(bad).unwrap_or_default(),
                about: AboutGroups::default(),
            },
            Part::About => {
                let about: AboutGroups =
                    serde_json::from_str(json).map_err(bad).unwrap_or_default();
                Rolled {
                    aggregate: InstrumentAggregate {
                        responses: about.all[1],
                        ..InstrumentAggregate::default()
                    },
                    about,
                }
            }
        }
    }

    fn parse(aggregate: &str, about: &str) -> Rolled {
        let bad = |e: serde_json::Error| {
            tracing::warn!(error = %e, "a stored rollup does not parse; counted as empty until rebuilt");
        };
        Rolled {
            aggregate: serde_json::from_str(aggregate)
                .map_err(bad)
                .unwrap_or_default(),
            about: serde_json::from_str(about).map_err(bad).unwrap_or_default(),
        }
    }
}

/// Key columns in [`RollupKey`]'s order.
const KEY: &str = "site, service, instrument, version, locale, mode, day";

/// `site = $n AND …` over the key columns, from `$first`.
fn key_condition(first: usize) -> String {
    KEY.split(", ")
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", first + i))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The same condition over `responses` (where the service may be NULL and the day is part of
/// the received time).
fn rows_condition() -> &'static str {
    "site = $1 AND COALESCE(service, '') = $2 AND instrument = $3 AND version = $4 \
     AND locale = $5 AND mode = $6 AND received_at >= $7 AND received_at < $8"
}

/// [`rows_condition`]'s values for `k`'s period.
fn bind_rows<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    k: &'q RollupKey,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let (from, before) = period(&k.day);
    q.bind(k.site.as_str())
        .bind(k.service.as_str())
        .bind(k.instrument.as_str())
        .bind(k.version)
        .bind(k.locale.as_str())
        .bind(k.mode.as_str())
        .bind(from)
        .bind(before)
}

fn bind_key<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    k: &'q RollupKey,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(k.site.as_str())
        .bind(k.service.as_str())
        .bind(k.instrument.as_str())
        .bind(k.version)
        .bind(k.locale.as_str())
        .bind(k.mode.as_str())
        .bind(k.day.as_str())
}

fn key_from(r: &sqlx::any::AnyRow, at: usize) -> RollupKey {
    RollupKey {
        site: r.get(at),
        service: r.get(at + 1),
        instrument: r.get(at + 2),
        version: r.get(at + 3),
        locale: r.get(at + 4),
        mode: r.get(at + 5),
        day: r.get(at + 6),
    }
}

/// The day after `day` (`YYYY-MM-DD`), for a half-open range of received times.
pub(crate) fn next_day(day: &str) -> String {
    let parts: Vec<&str> = day.split('-').collect();
    let date = match parts[..] {
        [y, m, d] => (|| {
            let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
            time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
        })(),
        _ => None,
    };
    match date.and_then(|d| d.next_day()) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        // Not a date (only if a row's time was edited by hand): an empty range.
        None => day.to_string(),
    }
}

fn to_json(a: &impl serde::Serialize) -> String {
    serde_json::to_string(a).expect("an aggregate always serialises")
}

/// The month after `month` (`YYYY-MM`).
pub(crate) fn next_month(month: &str) -> String {
    let (y, m) = month.split_once('-').unwrap_or(("", ""));
    match (y.parse::<i32>(), m.parse::<u32>()) {
        (Ok(y), Ok(12)) => format!("{:04}-01", y + 1),
        (Ok(y), Ok(m)) => format!("{y:04}-{:02}", m + 1),
        _ => month.to_string(),
    }
}

/// Is this rollup's period a month (`YYYY-MM`) rather than a day (`YYYY-MM-DD`)?
pub(crate) fn is_month(day: &str) -> bool {
    day.len() == 7
}

/// The received-time range `[from, before)` of a rollup's period (a day or a month).
pub(crate) fn period(day: &str) -> (String, String) {
    if is_month(day) {
        (format!("{day}-01T"), format!("{}-01T", next_month(day)))
    } else {
        (format!("{day}T"), format!("{}T", next_day(day)))
    }
}

/// The month rollup a day rollup is part of.
fn month_key(k: &RollupKey) -> RollupKey {
    RollupKey {
        day: k.day.get(..7).unwrap_or_default().to_string(),
        ..k.clone()
    }
}

/// Day rollups, and the month rollups made by merging them.
fn with_months(days: BTreeMap<RollupKey, Rolled>) -> BTreeMap<RollupKey, Rolled> {
    let mut out = days.clone();
    for (k, r) in &days {
        out.entry(month_key(k)).or_default().merge(r);
    }
    out
}

/// A new response as the writer adds it to its rollup: its key, id and score report.
pub(crate) struct Added<'a> {
    pub key: RollupKey,
    pub id: i64,
    pub scores: &'a str,
    pub about: Option<&'a str>,
}

/// Add the batch's new responses to their rollups, inside the writer's transaction, one key
/// at a time in key order.
pub(crate) async fn add(
    conn: &mut AnyConnection,
    rows: &[Added<'_>],
    sqlite: bool,
) -> Result<(), sqlx::Error> {
    let mut days: BTreeMap<RollupKey, Rolled> = BTreeMap::new();
    for r in rows {
        days.entry(r.key.clone())
            .or_default()
            .add(r.id, r.scores, r.about);
    }
    // The day and its month; in key order (a month sorts before its days).
    for (key, delta) in with_months(days) {
        let mut total = lock(conn, &key, sqlite).await?;
        total.merge(&delta);
        write(conn, &key, &total).await?;
    }
    Ok(())
}

/// The stored rollup of `key` (empty if none), its row made if missing and, on PostgreSQL,
/// locked until the transaction ends.
async fn lock(
    conn: &mut AnyConnection,
    key: &RollupKey,
    sqlite: bool,
) -> Result<Rolled, sqlx::Error> {
    let sql = format!(
        "INSERT INTO rollups ({KEY}, responses, aggregate, about) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) ON CONFLICT ({KEY}) DO NOTHING"
    );
    bind_key(sqlx::query(AssertSqlSafe(sql)), key)
        .bind(to_json(&InstrumentAggregate::default()))
        .bind(to_json(&AboutGroups::default()))
        .execute(&mut *conn)
        .await?;
    let sql = format!(
        "SELECT aggregate, about FROM rollups WHERE {}{}",
        key_condition(1),
        if sqlite { "" } else { " FOR UPDATE" }
    );
    let row = bind_key(sqlx::query(AssertSqlSafe(sql)), key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Rolled::parse(
        &row.try_get::<String, _>(0)?,
        &row.try_get::<String, _>(1)?,
    ))
}

/// Store `a` as the rollup of `key` (whose row exists): deleted when it counts nothing.
async fn write(conn: &mut AnyConnection, key: &RollupKey, r: &Rolled) -> Result<(), sqlx::Error> {
    let a = &r.aggregate;
    if a.responses == 0 {
        let sql = format!("DELETE FROM rollups WHERE {}", key_condition(1));
        bind_key(sqlx::query(AssertSqlSafe(sql)), key)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    let sql = format!(
        "UPDATE rollups SET responses = $1, aggregate = $2, about = $3 WHERE {}",
        key_condition(4)
    );
    bind_key(
        sqlx::query(AssertSqlSafe(sql))
            .bind(i64::try_from(a.responses).unwrap_or(i64::MAX))
            .bind(to_json(a))
            .bind(to_json(&r.about)),
        key,
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The aggregate of `key`'s responses, read from the rows.
async fn recompute(conn: &mut AnyConnection, key: &RollupKey) -> Result<Rolled, sqlx::Error> {
    let sql = format!(
        "SELECT id, scores, about FROM responses WHERE {}",
        rows_condition()
    );
    let rows = bind_rows(sqlx::query(AssertSqlSafe(sql)), key)
        .fetch_all(&mut *conn)
        .await?;
    let mut a = Rolled::default();
    for r in rows {
        a.add(
            r.try_get(0)?,
            &r.try_get::<String, _>(1)?,
            r.try_get::<Option<String>, _>(2)?.as_deref(),
        );
    }
    Ok(a)
}

/// Which part of a rollup a read needs (each is parsed only where it is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The core's aggregate (every report but the equality one); `about` is left empty.
    Aggregate,
    /// The "About you" groups (the equality report); `aggregate` counts only its responses.
    About,
}

/// A query with its values bound in order.
pub(crate) fn bound(
    sql: String,
    binds: &[String],
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b.as_str());
    }
    q
}

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

fn days_of(s: &Selection) -> Option<Days> {
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
    let mut parts = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let mut next = |v: &str| {
        binds.push(v.to_string());
        format!("${}", binds.len())
    };
    if let Some(x) = &s.site {
        parts.push(format!("site = {}", next(x)));
    }
    if let Some(x) = &s.service {
        parts.push(format!("service = {}", next(x)));
    }
    match s.instruments.as_deref() {
        None => {}
        Some([]) => parts.push("1 = 0".into()),
        Some(list) => {
            let ps: Vec<String> = list.iter().map(|i| next(i)).collect();
            parts.push(format!("instrument IN ({})", ps.join(", ")));
        }
    }
    if let Some(x) = &d.from {
        parts.push(format!("day >= {}", next(x)));
    }
    if let Some(x) = &d.before {
        parts.push(format!("day < {}", next(x)));
    }
    if let Some(x) = &s.mode {
        parts.push(format!("mode = {}", next(x)));
    }
    if parts.is_empty() {
        parts.push("1 = 1".into());
    }
    (parts.join(" AND "), binds)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_day_crosses_months_years_and_leap_days() {
        assert_eq!(next_day("2024-02-28"), "2024-02-29");
        assert_eq!(next_day("2024-02-29"), "2024-03-01");
        assert_eq!(next_day("2023-12-31"), "2024-01-01");
        assert_eq!(next_day("nonsense"), "nonsense");
    }

    #[test]
    fn only_whole_days_without_tag_or_search_are_answered_by_rollups() {
        let mut s = Selection {
            received_from: Some("2026-01-01T00:00:00.000Z".into()),
            received_before: Some("2026-02-01T00:00:00.000Z".into()),
            ..Selection::default()
        };
        let d = days_of(&s).expect("whole days");
        assert_eq!(
            (d.from.as_deref(), d.before.as_deref()),
            (Some("2026-01-01"), Some("2026-02-01"))
        );
        s.received_before = Some("2026-02-01T12:00:00.000Z".into());
        assert!(days_of(&s).is_none());
        s.received_before = None;
        s.tag = Some("parking".into());
        assert!(days_of(&s).is_none());
    }
}
