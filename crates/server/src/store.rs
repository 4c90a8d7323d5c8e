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

use std::str::FromStr;

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
        let (tx, rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(writer(pool.clone(), rx));
        Ok(Store { pool, writer: tx })
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

async fn writer(pool: AnyPool, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write_batch(&pool, &batch).await {
            Ok(results) => {
                for ((_, reply), result) in batch.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
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
