//! The filtered read of stored responses that reports and exports page through.

use sqlx::Row as _;

use super::{Filter, calendar::parse_date};
use crate::AppState;

/// One stored response, as reports read it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Row id.
    pub id: i64,
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
    /// Answers JSON (free text redacted).
    pub answers: String,
    /// Scores JSON.
    pub scores: String,
}

/// Rows read per query: memory stays bounded per page, and no read holds the writer back.
pub const PAGE: i64 = 2000;

/// `WHERE` clause and its values (`$1`, `$2`, … in order) for a filter over `instruments`;
/// callers number their own placeholders after these.
pub(super) fn where_clause(f: &Filter, instruments: &[String]) -> (String, Vec<String>) {
    /// Add a value; its placeholder.
    fn next(binds: &mut Vec<String>, v: String) -> String {
        binds.push(v);
        format!("${}", binds.len())
    }
    let mut sql = String::from("site = $1");
    let mut binds = vec![f.site.clone()];
    if let Some(s) = &f.service {
        let p = next(&mut binds, s.clone());
        sql.push_str(&format!(" AND service = {p}"));
    }
    let list: Vec<String> = match &f.instrument {
        Some(i) => vec![i.clone()],
        None => instruments.to_vec(),
    };
    if list.is_empty() {
        sql.push_str(" AND 1 = 0");
    } else {
        let ps: Vec<String> = list.into_iter().map(|i| next(&mut binds, i)).collect();
        sql.push_str(&format!(" AND instrument IN ({})", ps.join(", ")));
    }
    if let Some(d) = &f.from {
        let p = next(&mut binds, format!("{d}T00:00:00.000Z"));
        sql.push_str(&format!(" AND received_at >= {p}"));
    }
    if let Some(d) = f.to.as_deref().and_then(parse_date) {
        let p = next(&mut binds, crate::store::iso_utc((d + 1) * 86_400));
        sql.push_str(&format!(" AND received_at < {p}"));
    }
    (sql, binds)
}

/// A filtered read of responses, page by page in id order (keyset paging): memory stays
/// bounded whatever the number of responses, and no long read holds back the writer.
#[derive(Debug, Clone)]
pub struct RowQuery {
    sql: String,
    count_sql: String,
    binds: Vec<String>,
}

impl RowQuery {
    /// Responses matching `f` among `instruments`; the answers column only when asked for
    /// (reports need the scores alone).
    pub fn new(f: &Filter, instruments: &[String], with_answers: bool) -> RowQuery {
        let (clause, binds) = where_clause(f, instruments);
        let after = binds.len() + 1;
        let answers = if with_answers { "answers" } else { "''" };
        RowQuery {
            sql: format!(
                "SELECT id, service, instrument, received_at, version, locale, {answers}, scores FROM responses
                 WHERE {clause} AND id > ${after} ORDER BY id LIMIT {PAGE}"
            ),
            count_sql: format!("SELECT COUNT(*) FROM responses WHERE {clause}"),
            binds,
        }
    }

    /// How many responses match now.
    pub async fn count(&self, app: &AppState) -> anyhow::Result<i64> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.count_sql.clone()));
        for b in &self.binds {
            q = q.bind(b.clone());
        }
        Ok(q.fetch_one(app.store.pool()).await?.get(0))
    }

    /// The next page: up to [`PAGE`] rows with ids above `after`. A page shorter than
    /// [`PAGE`] is the last.
    pub async fn page(&self, app: &AppState, after: i64) -> anyhow::Result<Vec<Row>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql.clone()));
        for b in &self.binds {
            q = q.bind(b.clone());
        }
        Ok(q.bind(after)
            .fetch_all(app.store.pool())
            .await?
            .iter()
            .map(|r| Row {
                id: r.get(0),
                service: r.get(1),
                instrument: r.get(2),
                received_at: r.get(3),
                version: r.get(4),
                locale: r.get(5),
                answers: r.get(6),
                scores: r.get(7),
            })
            .collect())
    }
}

/// Every response matching `f` among `instruments`, oldest first, scores only.
pub async fn load(app: &AppState, f: &Filter, instruments: &[String]) -> anyhow::Result<Vec<Row>> {
    let q = RowQuery::new(f, instruments, false);
    let mut out = Vec::new();
    loop {
        let rows = q.page(app, out.last().map_or(0, |r: &Row| r.id)).await?;
        let last_page = (rows.len() as i64) < PAGE;
        out.extend(rows);
        if last_page {
            return Ok(out);
        }
    }
}
