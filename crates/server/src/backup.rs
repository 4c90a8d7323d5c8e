//! `chorus backup` and `chorus restore`.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy while the server keeps serving (a read
//! transaction sees one commit; the writer carries on in the WAL), then the copy is checked
//! (`PRAGMA integrity_check`, its responses counted) before it is called a backup. Restore
//! checks the backup the same way, writes it beside the target and renames it into place, so a
//! failed restore never leaves half a database, and then migrates it forward if it came from an
//! older version. PostgreSQL: `pg_dump --format=custom` and `pg_restore` into an empty database.
//!
//! Neither overwrites anything: a backup file or a restore target that already exists is
//! refused with what to do instead.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, bail, ensure};
use sqlx::{Connection, Row, sqlite::SqliteConnection};

use crate::store::{Store, sqlite_path};

/// What a backup or restore did, for the operator and for tests.
#[derive(Debug)]
pub struct Outcome {
    /// Responses in the copy.
    pub responses: i64,
    /// Bytes of the copy.
    pub bytes: u64,
    /// Seconds it took.
    pub seconds: f64,
}

/// Back up the database at `url` to `file` (which must not exist).
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<Outcome> {
    ensure!(
        !file.exists(),
        "{} already exists: choose a new file name (backups are never overwritten)",
        file.display()
    );
    let started = Instant::now();
    if let Some(db) = sqlite_path(url) {
        ensure!(db.exists(), "there is no database at {}", db.display());
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let mut conn = open_sqlite(&db, false).await?;
        let target = file.to_string_lossy().into_owned();
        sqlx::query("VACUUM INTO $1")
            .bind(&target)
            .execute(&mut conn)
            .await
            .with_context(|| format!("writing the backup to {}", file.display()))?;
        conn.close().await?;
        let responses = check_sqlite_copy(file).await.inspect_err(|_| {
            let _ = std::fs::remove_file(file);
        })?;
        return Ok(Outcome {
            responses,
            bytes: std::fs::metadata(file)?.len(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    ensure!(
        url.starts_with("postgres"),
        "unknown database URL (want sqlite://… or postgres://…)"
    );
    let status = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
        .arg(file)
        .arg("--dbname")
        .arg(url)
        .status()
        .context("running pg_dump (install PostgreSQL's client tools)")?;
    ensure!(status.success(), "pg_dump failed: {status}");
    let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
    let responses: i64 = sqlx::query("SELECT COUNT(*) FROM responses")
        .fetch_one(&mut conn)
        .await?
        .get(0);
    conn.close().await?;
    Ok(Outcome {
        responses,
        bytes: std::fs::metadata(file)?.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Restore `file` (made by [`backup`]) into the database at `url`, which must be new: for
/// SQLite a file that does not exist yet, for PostgreSQL an empty database. The restored
/// database is then migrated to this version's schema.
pub async fn restore(file: &Path, url: &str) -> anyhow::Result<Outcome> {
    ensure!(file.is_file(), "there is no backup at {}", file.display());
    let started = Instant::now();
    if let Some(db) = sqlite_path(url) {
        ensure!(
            !db.exists(),
            "{} already exists: stop the server and move it aside first (a restore never overwrites a database)",
            db.display()
        );
        check_sqlite_copy(file)
            .await
            .with_context(|| format!("{} is not a usable backup", file.display()))?;
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // WAL or shared-memory files left by a database that is gone would be replayed into
        // the restored one: they belong to nothing now.
        for ext in ["-wal", "-shm"] {
            let stale = PathBuf::from(format!("{}{ext}", db.display()));
            if stale.exists() {
                std::fs::remove_file(&stale)
                    .with_context(|| format!("removing stale {}", stale.display()))?;
            }
        }
        let partial = PathBuf::from(format!("{}.restoring", db.display()));
        std::fs::copy(file, &partial)?;
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, &db)?;
        if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
    } else {
        ensure!(
            url.starts_with("postgres"),
            "unknown database URL (want sqlite://… or postgres://…)"
        );
        {
            let mut conn = sqlx::postgres::PgConnection::connect(url).await?;
            let tables: i64 = sqlx::query(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
            )
            .fetch_one(&mut conn)
            .await?
            .get(0);
            ensure!(
                tables == 0,
                "the target database is not empty ({tables} tables): restore into a new, empty database"
            );
            conn.close().await?;
        }
        let status = Command::new("pg_restore")
            .args([
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--dbname",
            ])
            .arg(url)
            .arg(file)
            .status()
            .context("running pg_restore (install PostgreSQL's client tools)")?;
        ensure!(status.success(), "pg_restore failed: {status}");
    }
    // Migrates forward if the backup came from an older version (refuses a newer one).
    let store = Store::open(url).await?;
    let responses = store.count().await?;
    store.pool().close().await;
    let bytes = sqlite_path(url)
        .and_then(|p| std::fs::metadata(p).ok())
        .map_or(0, |m| m.len());
    Ok(Outcome {
        responses,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn open_sqlite(path: &Path, read_only: bool) -> anyhow::Result<SqliteConnection> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .busy_timeout(std::time::Duration::from_secs(10));
    SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

/// A SQLite copy that passes `integrity_check` and has a `responses` table; its row count.
async fn check_sqlite_copy(path: &Path) -> anyhow::Result<i64> {
    let mut conn = open_sqlite(path, true).await?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?
        .get(0);
    if check != "ok" {
        bail!("integrity check failed: {check}");
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM responses")
        .fetch_one(&mut conn)
        .await
        .context("it holds no Chorus responses table")?
        .get(0);
    conn.close().await?;
    Ok(n)
}
