//! Theme rollups: the themes page's counts kept per (site, service, UTC day) and per month,
//! so the page merges days × services × themes rows instead of joining every tag to its
//! response on every view (table: migration 0014).
//!
//! What is counted, per key and (theme, sentiment): comments with that tag not removed by
//! staff; and, as the row with theme `""` and sentiment `""`, the comments with free text the
//! classifier read (the page's denominator). Exactly what the page counted from the rows.
//!
//! Why they can never drift from the rows:
//! - **Tag writes** (the classifier, staff corrections) go through [`TagWrite`]: it locks the
//!   responses, counts their tags before and after, and adds the difference to the rollups in
//!   the same transaction. A difference is right whatever the writes did (a tag already there,
//!   a staff tag the classifier left alone, a sentiment changed back).
//! - **Deletes and updates of responses** (withdrawal, retention, staff delete, an operator's
//!   SQL) take their tags with them by `ON DELETE CASCADE`; the response rollups' trigger
//!   notes the day in `rollup_dirty` (migration 0013). Reads take a noted (site, service, day)
//!   from its rows, and [`Store::settle_rollups`] recomputes the day's theme rollups with the
//!   response rollups before it removes the note.
//! - **Tags stored by an older Chorus**: rolled up once at open (`rollup_state.themes_built`);
//!   `chorus rollup rebuild` and `check` cover theme rollups too.
//!
//! Locks (PostgreSQL): a tag write locks its responses (id order), then its tags, then each
//! key's text row before its other rows, keys in order (a month before its days); a
//! recomputation holds the dirty note and response rollups, then locks the text rows, then
//! reads. No path takes them in another order.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use crate::{
    Selection, Store,
    rollup::{Days, Plan, bound, is_month, next_day, next_month, period, rollup_condition},
};

/// The key of one theme rollup: one UTC day (`YYYY-MM-DD`) or month (`YYYY-MM`) of one
/// service (`""`: none given) of one site.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThemeKey {
    /// Site.
    pub site: String,
    /// Service.
    pub service: String,
    /// Day or month.
    pub day: String,
}

impl ThemeKey {
    fn month(&self) -> ThemeKey {
        ThemeKey {
            day: self.day.get(..7).unwrap_or_default().to_string(),
            ..self.clone()
        }
    }
}

/// (theme, sentiment) → comments; `("", "")` counts the comments with free text.
type Tally = BTreeMap<(String, String), i64>;
type Counts = BTreeMap<ThemeKey, Tally>;

fn text_row() -> (String, String) {
    (String::new(), String::new())
}

/// What the themes page shows, by month.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ThemeCounts {
    /// Month (`YYYY-MM`) → (theme, sentiment) → comments with that tag, not removed.
    pub tags: BTreeMap<String, BTreeMap<(String, String), i64>>,
    /// Month → comments with free text the classifier read.
    pub with_text: BTreeMap<String, i64>,
}

impl ThemeCounts {
    fn add(&mut self, key: &ThemeKey, tally: &Tally) {
        let month = key.day.get(..7).unwrap_or_default().to_string();
        for ((theme, sentiment), n) in tally.iter().filter(|(_, n)| **n != 0) {
            if theme.is_empty() {
                *self.with_text.entry(month.clone()).or_default() += n;
            } else {
                *self
                    .tags
                    .entry(month.clone())
                    .or_default()
                    .entry((theme.clone(), sentiment.clone()))
                    .or_default() += n;
            }
        }
    }
}

/// A value for a placeholder.
enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

/// `sql` with `args` bound in order.
fn with_args<'q>(
    sql: String,
    args: &'q [Arg<'q>],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    args.iter()
        .fold(sqlx::query(AssertSqlSafe(sql)), |q, a| match a {
            Arg::Text(s) => q.bind(*s),
            Arg::Int(i) => q.bind(*i),
        })
}

/// `r.id IN ($1, …)` for up to 100 ids at a time, and its values.
fn id_lists(ids: &[i64]) -> impl Iterator<Item = (String, Vec<Arg<'static>>)> + '_ {
    ids.chunks(100).map(|chunk| {
        let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        (
            format!("r.id IN ({})", ps.join(", ")),
            chunk.iter().map(|i| Arg::Int(*i)).collect(),
        )
    })
}

/// The key of a row of `responses r`.
const ROW_KEY: &str = "r.site, COALESCE(r.service, ''), substr(r.received_at, 1, 10)";

/// The counts of the responses `cond` (over `responses r`) selects, by day key, from the rows.
async fn counts(
    conn: &mut AnyConnection,
    cond: &str,
    args: &[Arg<'_>],
) -> Result<Counts, sqlx::Error> {
    let tags = format!(
        "SELECT {ROW_KEY}, t.theme, t.sentiment, COUNT(*) FROM comment_themes t \
         JOIN responses r ON r.id = t.response_id WHERE t.state = 'active' AND {cond} \
         GROUP BY {ROW_KEY}, t.theme, t.sentiment"
    );
    let texts = format!(
        "SELECT {ROW_KEY}, '', '', COUNT(*) FROM comment_classified c \
         JOIN responses r ON r.id = c.response_id WHERE c.has_text = 1 AND {cond} \
         GROUP BY {ROW_KEY}"
    );
    let mut out = Counts::new();
    for sql in [tags, texts] {
        for r in with_args(sql, args).fetch_all(&mut *conn).await? {
            *out.entry(key_of(&r)?)
                .or_default()
                .entry((r.try_get(3)?, r.try_get(4)?))
                .or_default() += r.try_get::<i64, _>(5)?;
        }
    }
    Ok(out)
}

fn key_of(r: &sqlx::any::AnyRow) -> Result<ThemeKey, sqlx::Error> {
    Ok(ThemeKey {
        site: r.try_get(0)?,
        service: r.try_get(1)?,
        day: r.try_get(2)?,
    })
}

/// The counts of these responses, from their rows.
async fn of_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<Counts, sqlx::Error> {
    let mut out = Counts::new();
    for (cond, args) in id_lists(ids) {
        let part = counts(conn, &cond, &args).await?;
        merge(&mut out, part, 1);
    }
    Ok(out)
}

/// Add `sign` × `part` to `into`.
fn merge(into: &mut Counts, part: Counts, sign: i64) {
    for (k, tally) in part {
        let mine = into.entry(k).or_default();
        for (t, n) in tally {
            *mine.entry(t).or_default() += sign * n;
        }
    }
}

/// Day counts and the month counts made by adding them up.
fn and_months(days: Counts) -> Counts {
    let months: Vec<(ThemeKey, Tally)> = days.iter().map(|(k, t)| (k.month(), t.clone())).collect();
    let mut out = days;
    for (k, t) in months {
        merge(&mut out, BTreeMap::from([(k, t)]), 1);
    }
    out
}

/// `site = $1 AND service = $2 AND day = $3`.
const KEY_IS: &str = "site = $1 AND service = $2 AND day = $3";

/// Add `delta` (day keys) to the stored rollups, days and months, in key order, each key's
/// text row first (it is the key's lock); rows left counting nothing are removed.
async fn apply(conn: &mut AnyConnection, delta: Counts) -> Result<(), sqlx::Error> {
    let upsert = "INSERT INTO theme_rollups (site, service, day, theme, sentiment, comments) \
                  VALUES ($1, $2, $3, $4, $5, $6) \
                  ON CONFLICT (site, service, day, theme, sentiment) \
                  DO UPDATE SET comments = theme_rollups.comments + excluded.comments";
    for (key, mut tally) in and_months(delta) {
        if tally.values().all(|n| *n == 0) {
            continue;
        }
        tally.entry(text_row()).or_insert(0);
        for ((theme, sentiment), n) in &tally {
            if *n == 0 && !theme.is_empty() {
                continue;
            }
            sqlx::query(upsert)
                .bind(key.site.as_str())
                .bind(key.service.as_str())
                .bind(key.day.as_str())
                .bind(theme.as_str())
                .bind(sentiment.as_str())
                .bind(*n)
                .execute(&mut *conn)
                .await?;
        }
        let sql = format!("DELETE FROM theme_rollups WHERE {KEY_IS} AND comments = 0");
        bind_key(&sql, &key).execute(&mut *conn).await?;
    }
    Ok(())
}

fn bind_key<'q>(
    sql: &'q str,
    k: &'q ThemeKey,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(AssertSqlSafe(sql))
        .bind(k.site.as_str())
        .bind(k.service.as_str())
        .bind(k.day.as_str())
}

/// Store `rows` (keys and their counts) as new rows, many to a statement.
async fn insert(conn: &mut AnyConnection, rows: &Counts) -> Result<(), sqlx::Error> {
    let flat: Vec<(&ThemeKey, &(String, String), i64)> = rows
        .iter()
        .flat_map(|(k, t)| t.iter().map(move |(ts, n)| (k, ts, *n)))
        .filter(|(_, _, n)| *n != 0)
        .collect();
    for chunk in flat.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p: Vec<String> = (1..=6).map(|j| format!("${}", i * 6 + j)).collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO theme_rollups (site, service, day, theme, sentiment, comments) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (k, (theme, sentiment), n) in chunk {
            q = q
                .bind(k.site.as_str())
                .bind(k.service.as_str())
                .bind(k.day.as_str())
                .bind(theme.as_str())
                .bind(sentiment.as_str())
                .bind(*n);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The counts of `key`'s period (a day or a month), from the rows.
async fn recompute(conn: &mut AnyConnection, key: &ThemeKey) -> Result<Tally, sqlx::Error> {
    let (from, before) = period(&key.day);
    let cond = "r.site = $1 AND COALESCE(r.service, '') = $2 \
                AND r.received_at >= $3 AND r.received_at < $4";
    let args = [
        Arg::Text(&key.site),
        Arg::Text(&key.service),
        Arg::Text(&from),
        Arg::Text(&before),
    ];
    let mut out = Tally::new();
    for (_, tally) in counts(conn, cond, &args).await? {
        for (t, n) in tally {
            *out.entry(t).or_default() += n;
        }
    }
    Ok(out)
}

/// Recompute the theme rollups of a day noted as changed, and of its month, from the rows
/// (inside [`Store::settle_rollups`]'s transaction for the note).
pub(crate) async fn settle(
    conn: &mut AnyConnection,
    day: ThemeKey,
    sqlite: bool,
) -> Result<(), sqlx::Error> {
    let month = day.month();
    // Lock the text rows, the month's first (the writers' order), then read.
    for k in [&month, &day] {
        let sql = "INSERT INTO theme_rollups (site, service, day, theme, sentiment, comments) \
                   VALUES ($1, $2, $3, '', '', 0) \
                   ON CONFLICT (site, service, day, theme, sentiment) DO NOTHING";
        bind_key(sql, k).execute(&mut *conn).await?;
        if !sqlite {
            let sql = format!(
                "SELECT comments FROM theme_rollups WHERE {KEY_IS} AND theme = '' \
                 AND sentiment = '' FOR UPDATE"
            );
            bind_key(&sql, k).fetch_one(&mut *conn).await?;
        }
    }
    for k in [day, month] {
        let tally = recompute(conn, &k).await?;
        let sql = format!("DELETE FROM theme_rollups WHERE {KEY_IS}");
        bind_key(&sql, &k).execute(&mut *conn).await?;
        insert(conn, &BTreeMap::from([(k, tally)])).await?;
    }
    Ok(())
}

/// `site = $1`, or every site.
fn site_cond<'a>(site: Option<&'a str>, column: &str) -> (String, Vec<Arg<'a>>) {
    match site {
        Some(s) => (format!("{column} = $1"), vec![Arg::Text(s)]),
        None => ("1 = 1".to_string(), vec![]),
    }
}

/// Recompute every theme rollup (of one site, or all) from the rows, inside the caller's
/// transaction (which holds off tag writers); returns the comments with free text counted.
pub(crate) async fn rebuild(
    conn: &mut AnyConnection,
    site: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let (cond, args) = site_cond(site, "site");
    with_args(format!("DELETE FROM theme_rollups WHERE {cond}"), &args)
        .execute(&mut *conn)
        .await?;
    let (cond, _) = site_cond(site, "r.site");
    let days = counts(conn, &cond, &args).await?;
    let texts = days.values().filter_map(|t| t.get(&text_row())).sum();
    insert(conn, &and_months(days)).await?;
    Ok(texts)
}

/// Hold off tag writers (and, on SQLite, every writer) until the transaction ends.
pub(crate) async fn lock_out_writers(
    conn: &mut AnyConnection,
    sqlite: bool,
) -> Result<(), sqlx::Error> {
    let sql = if sqlite {
        "UPDATE rollup_state SET themes_built = themes_built WHERE id = 1"
    } else {
        // SHARE ROW EXCLUSIVE: reads go on; inserts, tag writes and deletes wait.
        "LOCK TABLE responses, comment_themes, comment_classified IN SHARE ROW EXCLUSIVE MODE"
    };
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

/// The (site, service, day) keys noted as changed (of one site, or all), with their months.
async fn pending(
    conn: &mut AnyConnection,
    site: Option<&str>,
) -> Result<BTreeSet<ThemeKey>, sqlx::Error> {
    let (cond, args) = site_cond(site, "site");
    let sql = format!("SELECT DISTINCT site, service, day FROM rollup_dirty WHERE {cond}");
    let mut out = BTreeSet::new();
    for r in with_args(sql, &args).fetch_all(&mut *conn).await? {
        let k = key_of(&r)?;
        out.insert(k.month());
        out.insert(k);
    }
    Ok(out)
}

/// Keys whose stored theme rollup differs from a recomputation from the rows (keys noted as
/// changed are not compared: reads take them from the rows).
pub(crate) async fn check(
    conn: &mut AnyConnection,
    site: Option<&str>,
) -> Result<Vec<ThemeKey>, sqlx::Error> {
    let pending = pending(conn, site).await?;
    let (cond, args) = site_cond(site, "site");
    let sql = format!(
        "SELECT site, service, day, theme, sentiment, comments FROM theme_rollups \
         WHERE {cond} AND comments <> 0"
    );
    let mut stored = Counts::new();
    for r in with_args(sql, &args).fetch_all(&mut *conn).await? {
        stored
            .entry(key_of(&r)?)
            .or_default()
            .insert((r.try_get(3)?, r.try_get(4)?), r.try_get(5)?);
    }
    let (cond, _) = site_cond(site, "r.site");
    let mut rows = and_months(counts(conn, &cond, &args).await?);
    let keys: BTreeSet<ThemeKey> = stored.keys().chain(rows.keys()).cloned().collect();
    let nonzero = |t: Option<Tally>| -> Tally {
        t.unwrap_or_default()
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .collect()
    };
    Ok(keys
        .into_iter()
        .filter(|k| !pending.contains(k))
        .filter(|k| nonzero(stored.remove(k)) != nonzero(rows.remove(k)))
        .collect())
}

/// A transaction that changes some responses' tags: [`Store::tag_write`] locks them and
/// counts their tags; [`TagWrite::commit`] counts them again and adds the difference to the
/// theme rollups before it commits.
pub struct TagWrite {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    ids: Vec<i64>,
    before: Counts,
}

impl TagWrite {
    /// The connection to write the tags (and anything else of the same transaction) on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Bring the theme rollups up to date and commit.
    pub async fn commit(mut self) -> anyhow::Result<()> {
        let mut delta = of_ids(&mut self.tx, &self.ids).await?;
        merge(&mut delta, std::mem::take(&mut self.before), -1);
        apply(&mut self.tx, delta).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Begin changing the tags (or classified marks) of these responses. On SQLite the write
    /// lock is taken at once (a read first could not later become a write if another commit
    /// came between); on PostgreSQL the responses are locked, so no other tag write, delete
    /// or update of them can come between the two counts.
    pub async fn tag_write(&self, ids: &[i64]) -> anyhow::Result<TagWrite> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut tx = self.pool().begin().await?;
        if self.sqlite {
            lock_out_writers(&mut tx, true).await?;
        } else {
            for (cond, args) in id_lists(&ids) {
                let sql = format!(
                    "SELECT id FROM responses r WHERE {cond} ORDER BY id FOR NO KEY UPDATE"
                );
                with_args(sql, &args).fetch_all(&mut *tx).await?;
            }
        }
        let before = of_ids(&mut tx, &ids).await?;
        Ok(TagWrite { tx, ids, before })
    }

    /// The themes page's counts for a site (one service, or all), days `from` to `to`
    /// inclusive: whole months from month rollups, the days at either end from day rollups,
    /// days noted as changed from their rows; in one snapshot.
    pub async fn theme_counts(
        &self,
        site: &str,
        service: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> anyhow::Result<ThemeCounts> {
        let s = Selection {
            site: Some(site.to_string()),
            service: service.map(str::to_string),
            ..Selection::default()
        };
        let days = Days {
            from: from.map(str::to_string),
            before: to.map(next_day),
        };
        let plan = Plan::of(&days);
        let mut tx = self.snapshot().await?;
        let (cond, binds) = rollup_condition(&s, &days);
        let dirty: BTreeSet<ThemeKey> = bound(
            format!("SELECT DISTINCT site, service, day FROM rollup_dirty WHERE {cond}"),
            &binds,
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(key_of)
        .collect::<Result<_, _>>()?;
        let broken: BTreeSet<ThemeKey> = dirty.iter().map(ThemeKey::month).collect();
        const COLUMNS: &str = "site, service, day, theme, sentiment, comments";
        let mut rows = Vec::new();
        if let Some(months) = &plan.months {
            let (cond, binds) = rollup_condition(&s, months);
            let sql = format!(
                "SELECT {COLUMNS} FROM theme_rollups WHERE {cond} AND length(day) = 7 \
                 AND comments <> 0"
            );
            rows.extend(bound(sql, &binds).fetch_all(&mut *tx).await?);
        }
        for edge in &plan.edges {
            let (cond, binds) = rollup_condition(&s, edge);
            let sql = format!(
                "SELECT {COLUMNS} FROM theme_rollups WHERE {cond} AND length(day) = 10 \
                 AND comments <> 0"
            );
            rows.extend(bound(sql, &binds).fetch_all(&mut *tx).await?);
        }
        // The days of whole months with a day noted as changed.
        for m in broken.iter().filter(|m| plan.whole(&m.day)) {
            let sql = format!(
                "SELECT {COLUMNS} FROM theme_rollups WHERE site = $1 AND service = $2 \
                 AND day > $3 AND day < $4 AND length(day) = 10 AND comments <> 0"
            );
            let next = next_month(&m.day);
            rows.extend(
                bind_key(&sql, m)
                    .bind(next.as_str())
                    .fetch_all(&mut *tx)
                    .await?,
            );
        }
        let mut stored = Counts::new();
        for r in &rows {
            let key = key_of(r)?;
            let unusable = if is_month(&key.day) {
                broken.contains(&key)
            } else {
                dirty.contains(&key)
            };
            if !unusable {
                stored
                    .entry(key)
                    .or_default()
                    .insert((r.try_get(3)?, r.try_get(4)?), r.try_get(5)?);
            }
        }
        for key in dirty {
            let tally = recompute(&mut tx, &key).await?;
            stored.insert(key, tally);
        }
        tx.commit().await?;
        let mut out = ThemeCounts::default();
        for (key, tally) in &stored {
            out.add(key, tally);
        }
        Ok(out)
    }

    /// Roll up the tags stored before theme rollups existed, once (at open, after the
    /// response rollups, which build these too when they are built).
    pub(crate) async fn build_theme_rollups_once(&self) -> anyhow::Result<()> {
        let state = "SELECT themes_built FROM rollup_state WHERE id = 1";
        let built: i64 = sqlx::query(state)
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        if built != 0 {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let mut tx = self.pool().begin().await?;
        lock_out_writers(&mut tx, self.sqlite).await?;
        // Checked again under the lock: of several servers starting at once, one builds.
        let built: i64 = sqlx::query(state).fetch_one(&mut *tx).await?.try_get(0)?;
        if built != 0 {
            return Ok(());
        }
        let n = rebuild(&mut tx, None).await?;
        sqlx::query("UPDATE rollup_state SET themes_built = 1 WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(
            comments = n,
            ms = started.elapsed().as_millis() as u64,
            "rolled up the themes stored before theme rollups existed"
        );
        Ok(())
    }
}
