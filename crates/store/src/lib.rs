//! chorus-store: stored responses, in one place. Both SQL dialects (SQLite, PostgreSQL, through
//! sqlx's `Any` driver), the migrations, the group-commit writer, the row type, the column list
//! and keyset paging; the API, the dashboard, the CLI and the seeder read and write responses
//! only through here.
//!
//! Durable storage of responses behind a single writer with group commit.
//!
//! SQLite allows one writer at a time; rather than have every request fight for the write
//! lock (and pay one fsync each), requests hand their write to one task that drains whatever
//! is waiting, writes it all in one transaction and commits once. Each request is answered
//! only after that commit returns, so an acknowledged response is on disk.
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, so a commit is fsynced
//! before it returns and survives power loss and `kill -9`, not only a process crash.
//! (`NORMAL`, the usual WAL pairing, syncs only at checkpoints: it survives a crashed process
//! but may lose the last commits on power loss — too weak for a receipt shown to a patient.)
//! PostgreSQL keeps its default `synchronous_commit = on`. Group commit is what keeps
//! throughput up with those settings: the fsync is paid once per group, not per response.
//!
//! Inside a group, rows go in multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` statements
//! of up to 32 rows: with SQLite each statement is a hop to sqlx's worker thread, which costs
//! more than the row. The receipt reference is a function of the id (see `reference`), so
//! nothing is written after the insert. Measured with `examples/load.rs` on 2 cores, HTTP
//! clients included: 9,000–13,000 submissions per second, p99 under 20 ms.
//!
//! Failure: a batch that fails (a full disk, read-only files, a database that is down or
//! cut off) is answered as a whole with an error, which the API turns into 503
//! `storage_unavailable`; never a receipt. The writer then throws its connection away and
//! opens a new one for the next batch (see `Writer` for why no driver transaction state is
//! trusted), so it recovers by itself when storage does. Ids and references derive from the
//! committed row, so an id from a rolled-back batch is never shown to anyone. `/healthz`
//! sends a heartbeat through the same writer (one row in `heartbeat`, bumped and committed),
//! so it reports what a patient's submission would meet. If the SQLite WAL file is removed
//! under a running server, the next commit notices (its file identity changed) and copies
//! everything into the database file before acknowledging anything. `tests/faults.rs`
//! injects each of these faults under load.
//!
//! Both backends go through sqlx's `Any` driver, one pool each time (chosen by the URL's
//! scheme), with one set of queries (`$n` placeholders, which both accept) and a migration
//! folder per backend. `Any` rather than generic code over two drivers: one code path to
//! test, and the queries here are plain enough that neither backend needs its own.

use std::{
    path::PathBuf,
    str::FromStr,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use serde::Serialize;
use sqlx::{
    AnyConnection, AnyPool, Executor, Row as _,
    any::{AnyConnectOptions, AnyPoolOptions},
};
use tokio::sync::{mpsc, oneshot};

pub mod reference;
pub mod responses;
pub mod rollup;
pub mod search;
pub mod theme_rollup;
mod writer;

pub use responses::{PAGE, Row, RowQuery, Selection};
use writer::{Job, StalePool, Work};

/// A response ready to store: validated, re-scored and redacted.
#[derive(Debug, Clone)]
pub struct NewResponse {
    /// Site id from the envelope.
    pub site: String,
    /// Service id, if given.
    pub service: Option<String>,
    /// Instrument id.
    pub instrument: String,
    /// Instrument version answered.
    pub version: u32,
    /// Locale tag.
    pub locale: String,
    /// The widget's idempotency key.
    pub idempotency_key: String,
    /// Hash of the submitted body, to tell a retry from a different response with the same key.
    pub body_hash: String,
    /// Answers JSON (free text redacted).
    pub answers: String,
    /// Server score report JSON.
    pub scores: String,
    /// Client score report JSON, if sent.
    pub client_scores: Option<String>,
    /// Client and server scores differ.
    pub score_mismatch: bool,
    /// How it was collected (a `chorus_core::mode::Mode` code, checked by the API).
    pub mode: String,
    /// "About you" answers (JSON object of question id → answer id), if any were given.
    pub about: Option<String>,
    /// Its free text (already redacted), indexed for staff's search in the same transaction;
    /// `None` when it has none.
    pub search_text: Option<String>,
    /// SHA-256 (hex) of the patient's withdrawal code, if one was sent and the site allows
    /// self-withdrawal; never the code.
    pub withdraw_hash: Option<String>,
    /// When it was received (the stored format, see [`iso_utc`]); `None`: now, the
    /// database's clock. Only the bulk seeder sets it, to spread generated responses over
    /// months in the same commit as their rollups.
    pub received_at: Option<String>,
}

/// What the store did with a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Newly stored.
    Created(StoredRef),
    /// The same key and body were stored before: here is the original.
    Replayed(StoredRef),
    /// The same key was used for a different body.
    Conflict,
}

/// Identity of a stored response, for the receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredRef {
    /// Row id.
    pub id: i64,
    /// Short human reference.
    pub reference: String,
    /// Stored score report JSON.
    #[serde(skip)]
    pub scores: String,
}

/// Longest wait for a pool connection (reads, the dashboard): bounded below the default
/// request timeout (15 s), but not so tight that a busy machine fails reads (sqlx's own
/// default is 30 s).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The storage handle: reads through the pool, writes through the writer task.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// SQLite (else PostgreSQL): where the two dialects differ.
    sqlite: bool,
    writer: mpsc::Sender<Job>,
    stats: Arc<WriterStats>,
}

/// What the writer has done, for `/metrics`: rows ÷ commits is the mean group size, which
/// shows group commit at work (near 1 when idle, large under load).
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Rows written in them (new responses, retries and conflicts included).
    pub rows: AtomicU64,
    /// Transactions that failed (nothing in them was acknowledged).
    pub failures: AtomicU64,
    /// Writer connections thrown away after a failure and opened afresh.
    pub reconnects: AtomicU64,
}

impl Store {
    /// Open (for SQLite, creating the file and folder if needed), migrate, and start the
    /// writer. `url` is `sqlite://path` or `postgres://…`.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let (url, db_path) = if sqlite {
            let (url, path) = sqlite_url(url)?;
            (url, Some(path))
        } else {
            (url.to_string(), None)
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let stale = Arc::new(StalePool::default());
        let (before, after) = (stale.clone(), stale.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .before_acquire(move |_, meta| {
                let ok = before.current(meta.age);
                Box::pin(async move { Ok(ok) })
            })
            .after_release(move |_, meta| {
                let ok = after.current(meta.age);
                Box::pin(async move { Ok(ok) })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        sqlite_pragmas(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        migrate(&migrator(sqlite), &pool).await?;
        let stats = Arc::new(WriterStats::default());
        let tx = writer::spawn(options, db_path, pool.clone(), stats.clone(), stale);
        let store = Store {
            pool,
            sqlite,
            writer: tx,
            stats,
        };
        store.build_rollups_once().await?;
        Ok(store)
    }

    /// Can we store a response now? A heartbeat goes through the writer like a response
    /// does and resolves only once its transaction has committed, so this is a real write
    /// round trip, not a read that a read-only or full disk would still answer.
    pub async fn healthy(&self) -> bool {
        matches!(self.submit(Work::Heartbeat).await, Ok(None))
    }

    /// Writer counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Delete `site`'s responses received more than `days` days before `now`; returns how
    /// many. Goes straight to the pool, not the writer: a delete of old rows never touches a
    /// row being inserted, and WAL (or PostgreSQL's MVCC) lets it run beside the writer.
    pub async fn purge(
        &self,
        site: &str,
        days: u32,
        now: std::time::SystemTime,
    ) -> anyhow::Result<u64> {
        let secs = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()) as i64;
        let cutoff = iso_utc(secs - i64::from(days) * 86_400);
        Ok(
            sqlx::query("DELETE FROM responses WHERE site = $1 AND received_at < $2")
                .bind(site)
                .bind(&cutoff)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Store a response; resolves only after its transaction has committed. `Err` means it
    /// was not acknowledged (storage failed, or the writer stopped): answer 503, never a
    /// receipt.
    pub async fn insert(&self, r: NewResponse) -> Result<Stored, String> {
        match self.submit(Work::Insert(Box::new(r))).await? {
            Some(stored) => Ok(stored),
            None => Err("the writer answered an insert as a heartbeat".to_string()),
        }
    }

    async fn submit(&self, work: Work) -> Result<Option<Stored>, String> {
        let (reply, rx) = oneshot::channel();
        self.writer
            .send(Job { work, reply })
            .await
            .map_err(|_| "the writer has stopped".to_string())?;
        rx.await
            .map_err(|_| "the writer dropped the request".to_string())?
    }

    /// Number of stored responses.
    pub async fn count(&self) -> anyhow::Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM responses")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    /// The stored response a receipt reference stands for: `(id, site, instrument, received_at)`.
    pub async fn find_reference(
        &self,
        reference: &str,
    ) -> anyhow::Result<Option<(i64, String, String, String)>> {
        let Some(id) = crate::reference::to_id(reference) else {
            return Ok(None);
        };
        Ok(
            sqlx::query("SELECT id, site, instrument, received_at FROM responses WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))),
        )
    }

    /// The pool, for reports and tests.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Per SQLite connection: durable commits (see the module docs), wait rather than fail on a
/// lock, and a 64 MiB page cache so the writer finds the index pages it needs in memory
/// instead of re-reading them.
async fn sqlite_pragmas(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;")
        .await?;
    Ok(())
}

/// Bring the schema up to date: forward only, each migration in its own transaction (so a
/// failure leaves the previous version whole). A database that has a migration this build does
/// not know was written by a newer Chorus: refuse it, touching nothing, rather than run old code
/// against a schema it does not understand.
async fn migrate(migrator: &sqlx::migrate::Migrator, pool: &AnyPool) -> anyhow::Result<()> {
    match migrator.run(pool).await {
        Ok(()) => Ok(()),
        Err(sqlx::migrate::MigrateError::VersionMissing(v)) => anyhow::bail!(
            "this database was written by a newer version of Chorus (it has migration {v}, which \
             this build does not know): run that version or a later one; this build has not \
             changed it"
        ),
        Err(sqlx::migrate::MigrateError::VersionMismatch(v)) => anyhow::bail!(
            "migration {v} in this database differs from this build's: it was written by another \
             build of Chorus; restore from a backup made by this version or run the build that wrote it"
        ),
        Err(e) => Err(anyhow::anyhow!("migrating the database: {e}")),
    }
}

/// The file a `sqlite:` URL names (`None` for any other database).
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    Some(std::path::PathBuf::from(path))
}

/// The migrations this build carries for a backend.
pub fn migrator(sqlite: bool) -> sqlx::migrate::Migrator {
    if sqlite {
        sqlx::migrate!("./migrations/sqlite")
    } else {
        sqlx::migrate!("./migrations/postgres")
    }
}

/// `sqlite://path` with its folder created and `mode=rwc` so the file is created if missing;
/// and the path.
fn sqlite_url(url: &str) -> anyhow::Result<(String, PathBuf)> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok((format!("sqlite://{path}?{query}"), PathBuf::from(path)))
}

/// `secs` since the epoch as the stored timestamp format, `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC),
/// which sorts as text in time order on both backends. Outside the years 1970–9999 (never a
/// real receipt time) it is clamped to the nearer end.
pub fn iso_utc(secs: i64) -> String {
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let t = time::OffsetDateTime::from_unix_timestamp(secs.clamp(0, LAST))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_match_the_stored_format() {
        assert_eq!(super::iso_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::iso_utc(951_782_400), "2000-02-29T00:00:00.000Z");
        assert_eq!(super::iso_utc(1_795_371_825), "2026-11-22T18:23:45.000Z");
    }
}
