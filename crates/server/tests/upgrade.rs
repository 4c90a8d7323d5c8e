//! Upgrades keep everything. Each committed fixture in `tests/fixtures/upgrade/` is a database
//! written by an earlier schema (see `examples/upgrade_fixture.rs`) with a snapshot of its rows.
//! This build migrates a copy forward and every snapshot row must still be there with the same
//! values, every stored score must be what the core computes for the stored answers, and every
//! receipt reference must still find its response. A database from a newer version is refused
//! with a message that says so, and left untouched.

use std::path::{Path, PathBuf};

use chorus_server::store::Store;
use serde_json::Value;
use sqlx::Row;

#[allow(dead_code)] // only its unique suffix is used here
mod common;

fn fixtures(suffix: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no *{suffix} fixture in {}", dir.display());
    v
}

/// `v4.sqlite` → `v4.sqlite.json`; `v4.postgres.sql` → `v4.postgres.json`.
fn snapshot_of(fixture: &Path) -> Value {
    let name = fixture.file_name().unwrap().to_string_lossy();
    let json = match name.strip_suffix(".sql") {
        Some(stem) => format!("{stem}.json"),
        None => format!("{name}.json"),
    };
    let p = fixture.with_file_name(json);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .unwrap()
}

/// Everything the snapshot holds is in the migrated database, to the byte.
async fn check_everything_kept(store: &Store, snapshot: &Value, what: &str) {
    let pool = store.pool();
    let mut tables = 0;
    for (table, t) in snapshot.as_object().unwrap() {
        if table == "references" {
            continue;
        }
        tables += 1;
        let columns: Vec<&str> = t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let cast = columns
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let order = t["order"].as_str().unwrap();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {cast} FROM {table} ORDER BY {order}"
        )))
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{what}: {table}: {e}"));
        let got: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
            .collect();
        let want: Vec<Vec<Option<String>>> = serde_json::from_value(t["rows"].clone()).unwrap();
        assert!(!want.is_empty(), "{what}: the fixture's {table} is empty");
        assert_eq!(got.len(), want.len(), "{what}: {table} row count");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "{what}: a {table} row changed ({columns:?})");
        }
    }
    assert!(
        tables >= 7,
        "{what}: the snapshot covers only {tables} tables"
    );

    // Every stored score is still the core's score of the stored answers.
    let rows = sqlx::query(
        "SELECT id, instrument, version, locale, idempotency_key, answers, scores FROM responses ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for r in &rows {
        let id: i64 = r.get(0);
        let instrument: String = r.get(1);
        // Scored by the version it was written for (an earlier one is kept for that).
        let version = u32::try_from(r.get::<i64, _>(2)).unwrap();
        let def = chorus_core::library::get_version(&instrument, version).unwrap_or_else(|| {
            panic!("{what}: response {id}: no instrument {instrument} v{version}")
        });
        let response: chorus_core::Response = serde_json::from_value(serde_json::json!({
            "instrument": instrument,
            "version": r.get::<i64, _>(2),
            "locale": r.get::<String, _>(3),
            "idempotency_key": r.get::<String, _>(4),
            "answers": serde_json::from_str::<Value>(&r.get::<String, _>(5)).unwrap(),
        }))
        .unwrap_or_else(|e| panic!("{what}: response {id} no longer parses: {e}"));
        let rescored = serde_json::to_value(chorus_core::score(&def, &response)).unwrap();
        let stored: Value = serde_json::from_str(&r.get::<String, _>(6)).unwrap();
        assert_eq!(rescored, stored, "{what}: response {id}'s score changed");
    }

    // Every receipt a patient was given still finds its response.
    let refs = snapshot["references"].as_object().unwrap();
    assert_eq!(refs.len(), rows.len(), "{what}: references");
    for (id, reference) in refs {
        let reference = reference.as_str().unwrap();
        assert_eq!(
            chorus_server::reference::from_id(id.parse().unwrap()),
            reference,
            "{what}: the reference of response {id} changed"
        );
        let found = store.find_reference(reference).await.unwrap();
        assert_eq!(
            found.map(|f| f.0.to_string()).as_deref(),
            Some(id.as_str()),
            "{what}: {reference} no longer finds response {id}"
        );
    }
}

#[tokio::test]
async fn sqlite_fixtures_migrate_forward_with_every_row_score_and_reference_intact() {
    for fixture in fixtures(".sqlite") {
        let dir = std::env::temp_dir().join(format!(
            "chorus-upgrade-{}-{}",
            std::process::id(),
            common::rand_suffix()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let copy = dir.join("chorus.db");
        std::fs::copy(&fixture, &copy).unwrap();
        let what = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let store = Store::open(&format!("sqlite://{}", copy.display()))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        check_everything_kept(&store, &snapshot_of(&fixture), &what).await;
        // And the upgraded database still takes new responses after the old ones.
        let before = store.count().await.unwrap();
        store.pool().close().await;
        let store = Store::open(&format!("sqlite://{}", copy.display()))
            .await
            .unwrap();
        assert_eq!(store.count().await.unwrap(), before, "{what}: reopened");
        store.pool().close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn postgres_dumps_migrate_forward_with_every_row_score_and_reference_intact() {
    let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
        eprintln!("skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL");
        return;
    };
    sqlx::any::install_default_drivers();
    for dump in fixtures(".postgres.sql") {
        let what = dump.file_name().unwrap().to_string_lossy().into_owned();
        // A whole database per dump: a dump restores into `public`, as an operator's would.
        let name = format!(
            "chorus_upgrade_{}_{}",
            std::process::id(),
            common::rand_suffix()
        );
        let admin = sqlx::AnyPool::connect(&base).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let url = replace_database(&base, &name);
        let out = std::process::Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &url, "-f"])
            .arg(&dump)
            .output()
            .expect("psql (PostgreSQL's client) is needed to restore the dump");
        assert!(
            out.status.success(),
            "{what}: psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let store = Store::open(&url)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:#}"));
        check_everything_kept(&store, &snapshot_of(&dump), &what).await;
        store.pool().close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    }
}

/// `postgres://u:p@host:port/db?x` with another database name.
fn replace_database(url: &str, db: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let at = head.rfind('/').unwrap();
    let mut s = format!("{}/{db}", &head[..at]);
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    s
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = std::env::temp_dir().join(format!(
        "chorus-newer-{}-{}",
        std::process::id(),
        common::rand_suffix()
    ));
    let url = format!("sqlite://{}", dir.join("chorus.db").display());
    let store = Store::open(&url).await.unwrap();
    // As a later Chorus would leave it: a migration this build has never heard of.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999999, 'from the future', TRUE, X'00', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.pool().close().await;
    let before = std::fs::read(dir.join("chorus.db")).unwrap();
    let err = match Store::open(&url).await {
        Ok(_) => panic!("a newer database was opened"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("newer version of Chorus") && err.contains("999999"),
        "unclear refusal: {err}"
    );
    assert_eq!(
        std::fs::read(dir.join("chorus.db")).unwrap(),
        before,
        "the refused database was changed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
