//! Reading stored responses: the row type, the column list, a selection (site, service,
//! instruments, time range, tag) turned into one `WHERE` clause, and keyset paging by id. Every
//! read of `responses` outside the writer goes through here, so the SQL lives in one file.
//!
//! Keyset paging (`id > $n ORDER BY id LIMIT …`, or `id < $n ORDER BY id DESC` for newest
//! first) keeps memory bounded per page whatever the number of responses, and no long read
//! holds back the writer.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row as _, any::AnyRow};

use crate::Store;

/// The columns a read returns, in [`Row`]'s order.
const ROW_COLUMNS: [&str; 10] = [
    "id",
    "site",
    "service",
    "instrument",
    "received_at",
    "version",
    "locale",
    "answers",
    "scores",
    "mode",
];

/// One stored response, as reports and exports read it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Row id.
    pub id: i64,
    /// Site.
    pub site: String,
    /// Service.
    pub service: Option<String>,
    /// Instrument id.
    pub instrument: String,
    /// Received (UTC, ISO).
    pub received_at: String,
    /// Version answered.
    pub version: i64,
    /// Locale.
    pub locale: String,
    /// Answers JSON (free text redacted); empty when the read did not ask for answers.
    pub answers: String,
    /// Scores JSON.
    pub scores: String,
    /// How it was collected (a `chorus_core::mode::Mode` code).
    pub mode: String,
}

impl Row {
    fn from_any(r: &AnyRow) -> Row {
        Row {
            id: r.get(0),
            site: r.get(1),
            service: r.get(2),
            instrument: r.get(3),
            received_at: r.get(4),
            version: r.get(5),
            locale: r.get(6),
            answers: r.get(7),
            scores: r.get(8),
            mode: r.get(9),
        }
    }
}

/// Rows read per page: memory stays bounded per page, and no read holds the writer back.
pub const PAGE: i64 = 2000;

/// Which responses a read covers. Every part left out narrows nothing.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Responses of this site only.
    pub site: Option<String>,
    /// Of this service only.
    pub service: Option<String>,
    /// Of these instruments only (an empty list selects nothing).
    pub instruments: Option<Vec<String>>,
    /// Received at or after this stored timestamp (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
    pub received_from: Option<String>,
    /// Received before this stored timestamp.
    pub received_before: Option<String>,
    /// Tagged with this comment tag.
    pub tag: Option<String>,
    /// Collected this way (a mode code).
    pub mode: Option<String>,
    /// Whose free text has every word of this search (see [`crate::search::words`]).
    pub search: Option<String>,
}

/// Where a [`Selection`]'s search goes in its condition until the dialect is known.
const SEARCH: &str = "\u{0}search\u{0}";

/// A `WHERE` condition being built: its parts (joined by `AND`) and their values, numbered
/// `$1`, `$2`, … in the order they are added.
#[derive(Default)]
pub(crate) struct Condition {
    parts: Vec<String>,
    binds: Vec<String>,
}

impl Condition {
    /// The placeholder of a new value `v`.
    fn value(&mut self, v: &str) -> String {
        self.binds.push(v.to_string());
        format!("${}", self.binds.len())
    }

    /// `column = v`.
    fn equals(&mut self, column: &str, v: &str) {
        let p = self.value(v);
        self.parts.push(format!("{column} = {p}"));
    }

    /// The condition (`1 = 1` when it has no part) and its values.
    pub(crate) fn finish(mut self) -> (String, Vec<String>) {
        if self.parts.is_empty() {
            self.parts.push("1 = 1".into());
        }
        (self.parts.join(" AND "), self.binds)
    }
}

impl Selection {
    /// What the responses and the rollups share: the site, service, instruments and mode, and
    /// the time range as `time >= from AND time < before` (the received time on rows, the day
    /// on rollups).
    pub(crate) fn scope(&self, time: &str, from: Option<&str>, before: Option<&str>) -> Condition {
        let mut c = Condition::default();
        if let Some(s) = &self.site {
            c.equals("site", s);
        }
        if let Some(s) = &self.service {
            c.equals("service", s);
        }
        match self.instruments.as_deref() {
            None => {}
            Some([]) => c.parts.push("1 = 0".into()),
            Some(list) => {
                let ps: Vec<String> = list.iter().map(|i| c.value(i)).collect();
                c.parts.push(format!("instrument IN ({})", ps.join(", ")));
            }
        }
        if let Some(t) = from {
            let p = c.value(t);
            c.parts.push(format!("{time} >= {p}"));
        }
        if let Some(t) = before {
            let p = c.value(t);
            c.parts.push(format!("{time} < {p}"));
        }
        if let Some(m) = &self.mode {
            c.equals("mode", m);
        }
        c
    }

    /// `WHERE` condition and its values (`$1`, `$2`, … in order); callers number their own
    /// placeholders after these.
    fn condition(&self) -> (String, Vec<String>) {
        let mut c = self.scope(
            "received_at",
            self.received_from.as_deref(),
            self.received_before.as_deref(),
        );
        if let Some(t) = &self.tag {
            let p = c.value(t);
            c.parts.push(format!(
                "id IN (SELECT response_id FROM comment_tags WHERE tag = {p})"
            ));
        }
        let words = self
            .search
            .as_deref()
            .map(crate::search::words)
            .unwrap_or_default();
        if !words.is_empty() {
            // The marker's value is the words; `RowQuery` puts in the dialect's condition and
            // the dialect's form of the value when it runs.
            c.value(&words.join(" "));
            c.parts.push(SEARCH.into());
        }
        c.finish()
    }
}

/// A read of the responses a [`Selection`] covers, page by page by id.
#[derive(Debug, Clone)]
pub struct RowQuery {
    columns: String,
    condition: String,
    binds: Vec<String>,
    /// Which bind is the search's (1-based), if there is one.
    search: Option<usize>,
    /// SQLite, newest first: walk the table from its newest row instead of an index (see
    /// [`RowQuery::page_newest`]).
    walk_newest: bool,
}

impl RowQuery {
    /// The responses `s` covers; the answers column only when asked for (reports need the
    /// scores alone).
    pub fn new(s: &Selection, with_answers: bool) -> RowQuery {
        let (condition, binds) = s.condition();
        // The search is the last value the selection binds.
        let search = condition.contains(SEARCH).then_some(binds.len());
        let columns = ROW_COLUMNS
            .iter()
            .map(|c| {
                if *c == "answers" && !with_answers {
                    "''"
                } else {
                    c
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        // Most stored responses match a report's filter (a site's comment instruments), so the
        // newest ones are found by walking the table back from its newest row, stopping at
        // the page's last; SQLite's planner would otherwise take the (site, instrument) index
        // and sort every matching row first: 0.8 ms against 2 s at a million responses. Not
        // when an upper time bound or a search could leave most recent rows out.
        let walk_newest = s.received_before.is_none();
        RowQuery {
            columns,
            condition,
            binds,
            search,
            walk_newest,
        }
    }

    /// The `WHERE` condition in `store`'s dialect.
    fn condition(&self, store: &Store) -> String {
        match self.search {
            Some(param) => self
                .condition
                .replace(SEARCH, &crate::search::condition(param, store.sqlite)),
            None => self.condition.clone(),
        }
    }

    fn query(
        &self,
        store: &Store,
        sql: String,
    ) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (i, b) in self.binds.iter().enumerate() {
            q = if self.search == Some(i + 1) {
                let words: Vec<String> = b.split(' ').map(str::to_string).collect();
                q.bind(crate::search::bound(&words, store.sqlite))
            } else {
                q.bind(b.clone())
            };
        }
        q
    }

    /// How many responses match now.
    pub async fn count(&self, store: &Store) -> anyhow::Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM responses WHERE {}",
            self.condition(store)
        );
        Ok(self.query(store, sql).fetch_one(store.pool()).await?.get(0))
    }

    /// Oldest first: up to [`PAGE`] rows with ids above `after`. A page shorter than
    /// [`PAGE`] is the last.
    pub async fn page(&self, store: &Store, after: i64) -> anyhow::Result<Vec<Row>> {
        self.read(store, "id >", "id", after, PAGE).await
    }

    /// Newest first: up to `limit` rows with ids below `before`. A page shorter than `limit`
    /// is the last.
    pub async fn page_newest(
        &self,
        store: &Store,
        before: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Row>> {
        self.read(store, "id <", "id DESC", before, limit).await
    }

    /// One keyset page: rows past `bound` (`id >` or `id <`) in `order`.
    async fn read(
        &self,
        store: &Store,
        past: &str,
        order: &str,
        bound: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<Row>> {
        let newest = store.sqlite && past == "id <";
        let sql = match self.search {
            // A search, newest first: the full-text index gives its matches newest first
            // and each is looked up by id, stopping at the page's last (rather than every
            // match found, then sorted).
            Some(param) if newest => format!(
                "SELECT {} FROM comment_search CROSS JOIN responses ON responses.id = comment_search.rowid \
                 WHERE {} AND {past} ${} ORDER BY comment_search.rowid DESC LIMIT {limit}",
                self.columns,
                self.condition
                    .replace(SEARCH, &format!("comment_search MATCH ${param}")),
                self.binds.len() + 1
            ),
            _ => format!(
                "SELECT {} FROM responses{} WHERE {} AND {past} ${} ORDER BY {order} LIMIT {limit}",
                self.columns,
                if newest && self.walk_newest {
                    " NOT INDEXED"
                } else {
                    ""
                },
                self.condition(store),
                self.binds.len() + 1
            ),
        };
        let rows = self
            .query(store, sql)
            .bind(bound)
            .fetch_all(store.pool())
            .await?;
        Ok(rows.iter().map(Row::from_any).collect())
    }

    /// Every matching row, oldest first (for reads known to be small).
    pub async fn all(&self, store: &Store) -> anyhow::Result<Vec<Row>> {
        let mut out: Vec<Row> = Vec::new();
        loop {
            let rows = self.page(store, out.last().map_or(0, |r| r.id)).await?;
            let last_page = (rows.len() as i64) < PAGE;
            out.extend(rows);
            if last_page {
                return Ok(out);
            }
        }
    }
}

impl Store {
    /// A site's `limit` services with most responses (most first, then by name), from the
    /// rollups.
    pub async fn busiest_services(&self, site: &str, limit: usize) -> anyhow::Result<Vec<String>> {
        let mut by: BTreeMap<String, i64> = BTreeMap::new();
        for (service, _, n) in self.rollup_counts(site).await? {
            if !service.is_empty() {
                *by.entry(service).or_default() += n;
            }
        }
        let mut list: Vec<(String, i64)> = by.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(list.into_iter().take(limit).map(|(s, _)| s).collect())
    }

    /// A site's responses per instrument id, from the rollups.
    pub async fn counts_by_instrument(&self, site: &str) -> anyhow::Result<Vec<(String, i64)>> {
        let mut by: BTreeMap<String, i64> = BTreeMap::new();
        for (_, instrument, n) in self.rollup_counts(site).await? {
            *by.entry(instrument).or_default() += n;
        }
        Ok(by.into_iter().filter(|(_, n)| *n > 0).collect())
    }

    /// The site a stored response belongs to (`None`: no such response).
    pub async fn site_of(&self, id: i64) -> anyhow::Result<Option<String>> {
        Ok(sqlx::query("SELECT site FROM responses WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .map(|r| r.get(0)))
    }

    /// (scores, about) of every response `s` covers, oldest first, read page by page by id:
    /// what a gap table needs and nothing else (no answers, so no free text beside the
    /// characteristics).
    pub async fn scores_with_about(
        &self,
        s: &Selection,
    ) -> anyhow::Result<Vec<(String, Option<String>)>> {
        // Never narrowed by what the free text says: characteristics are not to be read
        // beside comments, even through a search.
        let s = Selection {
            search: None,
            ..s.clone()
        };
        let (condition, binds) = s.condition();
        let mut out = Vec::new();
        let mut after = 0i64;
        loop {
            let sql = format!(
                "SELECT id, scores, about FROM responses WHERE {condition} AND id > ${} ORDER BY id LIMIT {PAGE}",
                binds.len() + 1
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for b in &binds {
                q = q.bind(b.clone());
            }
            let rows = q.bind(after).fetch_all(self.pool()).await?;
            for r in &rows {
                after = r.get(0);
                out.push((r.get(1), r.get(2)));
            }
            if (rows.len() as i64) < PAGE {
                return Ok(out);
            }
        }
    }

    /// Delete one response and its tags, in one transaction; whether it was there.
    pub async fn delete_response(&self, id: i64) -> anyhow::Result<bool> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM comment_tags WHERE response_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM responses WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Move a stored response's received time (the demo seeder spreads responses over months).
    pub async fn set_received_at(&self, id: i64, at: &str) -> anyhow::Result<()> {
        sqlx::query("UPDATE responses SET received_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The tags of each of `ids`, in tag order.
    pub async fn tags_of(&self, ids: &[i64]) -> anyhow::Result<BTreeMap<i64, Vec<String>>> {
        let mut tags: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for chunk in ids.chunks(100) {
            let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut q = sqlx::query(AssertSqlSafe(format!(
                "SELECT response_id, tag FROM comment_tags WHERE response_id IN ({}) ORDER BY tag",
                ps.join(", ")
            )));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                tags.entry(r.get(0)).or_default().push(r.get(1));
            }
        }
        Ok(tags)
    }

    /// Tag a response (a tag it has already is left as it is).
    pub async fn add_tag(&self, id: i64, tag: &str, by: i64, at: &str) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO comment_tags (response_id, tag, added_by, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (response_id, tag) DO NOTHING",
        )
        .bind(id)
        .bind(tag)
        .bind(by)
        .bind(at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Take a tag off a response.
    pub async fn remove_tag(&self, id: i64, tag: &str) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM comment_tags WHERE response_id = $1 AND tag = $2")
            .bind(id)
            .bind(tag)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
