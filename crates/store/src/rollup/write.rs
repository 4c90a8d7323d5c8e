//! The writer's additions to rollups, and one key's rollup locked, stored or recomputed.

use std::collections::BTreeMap;

use chorus_core::aggregate::InstrumentAggregate;
use sqlx::{AnyConnection, AssertSqlSafe, Row as _};

use super::{
    AboutGroups, KEY, Rolled, RollupKey, bind_key, bind_rows, key_condition, rows_condition,
    to_json, with_months,
};
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
pub(super) async fn lock(
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
pub(super) async fn write(
    conn: &mut AnyConnection,
    key: &RollupKey,
    r: &Rolled,
) -> Result<(), sqlx::Error> {
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
pub(super) async fn recompute(
    conn: &mut AnyConnection,
    key: &RollupKey,
) -> Result<Rolled, sqlx::Error> {
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
