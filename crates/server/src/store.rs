//! Durable storage of responses behind a single writer with group commit.
//!
//! SQLite allows one writer at a time; rather than have every request fight for the write
//! lock (and pay one fsync each), requests hand their write to one task that drains whatever
//! is waiting, writes it all in one transaction and commits once. Each request is answered
//! only after that commit returns, so an acknowledged response is on disk.
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, so a commit is fsynced
//! before it returns and survives power loss and `kill -9`, not only a process crash;
//! PostgreSQL keeps its default `synchronous_commit = on`. Group commit is what keeps
//! throughput up with those settings.
//!
//! Both backends go through sqlx's `Any` driver with one set of queries (`$n` placeholders,
//! which both accept) and a migration folder per backend.

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use serde::Serialize;
use sqlx::{
    AnyPool, Executor, Row,
    any::{AnyConnectOptions, AnyPoolOptions},
};
use tokio::sync::{mpsc, oneshot};

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

type Job = (NewResponse, oneshot::Sender<Result<Stored, String>>);

/// Most writes committed together.
const MAX_BATCH: usize = 512;

/// The storage handle: reads through the pool, writes through the writer task.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
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
}

impl Store {
    /// Open (for SQLite, creating the file and folder if needed), migrate, and start the
    /// writer. `url` is `sqlite://path` or `postgres://…`.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite {
            sqlite_url(url)?
        } else {
            url.to_string()
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // Per connection: durable commits, wait rather than fail on a lock.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        if sqlite {
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        } else {
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        }
        // Bounded: under overload requests wait here (and time out as 408) rather than
        // queueing without limit.
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let stats = Arc::new(WriterStats::default());
        tokio::spawn(writer(pool.clone(), rx, stats.clone()));
        Ok(Store {
            pool,
            writer: tx,
            stats,
        })
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

    /// Store a response; resolves only after its transaction has committed.
    pub async fn insert(&self, r: NewResponse) -> Result<Stored, String> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send((r, tx))
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

    /// The pool, for reports and tests.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// The single writer: take everything waiting (up to [`MAX_BATCH`]), write it in one
/// transaction, commit, then answer each request. While one batch commits, the next gathers
/// in the channel, so the batch size grows with the load and one fsync serves many responses.
async fn writer(pool: AnyPool, mut rx: mpsc::Receiver<Job>, stats: Arc<WriterStats>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Requests whose caller has gone (timed out) need no write: they were never
        // acknowledged, and the client's retry will bring them back.
        batch.retain(|(_, reply)| !reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        match write_batch(&pool, &batch).await {
            Ok(results) => {
                stats.commits.fetch_add(1, Relaxed);
                stats.rows.fetch_add(batch.len() as u64, Relaxed);
                for ((_, reply), result) in batch.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                stats.failures.fetch_add(1, Relaxed);
                tracing::error!(error = %e, n = batch.len(), "group commit failed; nothing in it was acknowledged");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn write_batch(pool: &AnyPool, batch: &[Job]) -> Result<Vec<Stored>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut out = Vec::with_capacity(batch.len());
    for (r, _) in batch {
        // Insert unless (site, key) exists. ON CONFLICT rather than look-then-insert: one
        // statement in the usual case, and correct even with several servers on one
        // PostgreSQL database (a racing insert waits for the other's commit, then yields).
        // A placeholder reference, unique by (site, key), until the id is known.
        let placeholder = format!("pending:{}:{}", r.site, r.idempotency_key);
        let inserted: Option<i64> = sqlx::query(
            "INSERT INTO responses (reference, site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, client_scores, score_mismatch)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (site, idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(&placeholder)
        .bind(&r.site)
        .bind(&r.service)
        .bind(&r.instrument)
        .bind(r.version as i64)
        .bind(&r.locale)
        .bind(&r.idempotency_key)
        .bind(&r.body_hash)
        .bind(&r.answers)
        .bind(&r.scores)
        .bind(&r.client_scores)
        .bind(i64::from(r.score_mismatch))
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.get(0));
        let Some(id) = inserted else {
            let row = sqlx::query("SELECT id, reference, body_hash, scores FROM responses WHERE site = $1 AND idempotency_key = $2")
                .bind(&r.site)
                .bind(&r.idempotency_key)
                .fetch_one(&mut *tx)
                .await?;
            let hash: String = row.get(2);
            out.push(if hash == r.body_hash {
                Stored::Replayed(StoredRef {
                    id: row.get(0),
                    reference: row.get(1),
                    scores: row.get(3),
                })
            } else {
                Stored::Conflict
            });
            continue;
        };
        let reference = crate::reference::from_id(id);
        sqlx::query("UPDATE responses SET reference = $1 WHERE id = $2")
            .bind(&reference)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        out.push(Stored::Created(StoredRef {
            id,
            reference,
            scores: r.scores.clone(),
        }));
    }
    tx.commit().await?;
    Ok(out)
}

/// `sqlite://path` with its folder created and `mode=rwc` so the file is created if missing.
fn sqlite_url(url: &str) -> anyhow::Result<String> {
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
    Ok(format!("sqlite://{path}?{query}"))
}

/// `secs` since the epoch as the stored timestamp format, `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC),
/// which sorts as text in time order on both backends. Days to a civil date by Howard
/// Hinnant's algorithm, to avoid a date-time dependency for one conversion.
pub fn iso_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
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
