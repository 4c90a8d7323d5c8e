//! The single writer with group commit (see the crate's docs for why, and for durability and
//! failure): its task, its own connection, the multi-row inserts, and the SQLite WAL check.

use std::{
    collections::{HashMap, hash_map::Entry},
    path::PathBuf,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use sqlx::{AnyConnection, AnyPool, Connection, Row as _, any::AnyConnectOptions};
use tokio::sync::{mpsc, oneshot};

use crate::{NewResponse, Stored, StoredRef, WriterStats, rollup, sqlite_pragmas};

/// Longest wait for the writer's new connection. A database that is down (or unreachable)
/// answers 503 `storage_unavailable` in about this time, well inside the request timeout
/// (otherwise a patient's widget would see a 408 after it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Start the writer task on its own connection; requests go to it through the channel
/// returned. Bounded: under overload requests wait here (and time out as 408) rather than
/// queueing without limit.
pub(crate) fn spawn(
    options: AnyConnectOptions,
    db_path: Option<PathBuf>,
    pool: AnyPool,
    stats: Arc<WriterStats>,
    stale: Arc<StalePool>,
) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>(4096);
    let w = Writer {
        options,
        db_path,
        conn: None,
        pool,
        stats,
        stale,
        wal_file: None,
    };
    tokio::spawn(writer(w, rx));
    tx
}

/// What the writer is asked to do.
pub(crate) enum Work {
    /// Store a response.
    Insert(Box<NewResponse>),
    /// Prove that a write commits now (for `/healthz`): bump the heartbeat row in the same
    /// transaction as whatever else is waiting.
    Heartbeat,
}

/// One request to the writer and where its answer goes: `Some` for an insert, `None` for a
/// heartbeat, `Err` when the batch it travelled in was not committed.
pub(crate) struct Job {
    pub(crate) work: Work,
    pub(crate) reply: oneshot::Sender<Result<Option<Stored>, String>>,
}

/// Most writes committed together.
const MAX_BATCH: usize = 512;

/// Longest one group commit may take before the writer gives up on it (and on its
/// connection). Longer than SQLite's `busy_timeout`, so a commit that waits for a lock still
/// gets its chance; shorter than the default request timeout.
const BATCH_TIMEOUT: Duration = Duration::from_secs(8);

/// When the pool's SQLite connections last went stale: those opened before then are closed
/// instead of reused. Two ways they go stale:
///
/// - the WAL file was removed from under the server: they still hold the removed file open;
/// - a write failed because the files could not be written (made read-only or immutable):
///   a connection opened then was opened read-only by SQLite, and while any connection in the
///   process holds the `-shm` file read-only every new one maps it read-only too, so the
///   writer would stay refused after the files are writable again.
#[derive(Debug, Default)]
pub(crate) struct StalePool(
    std::sync::Mutex<Option<Instant>>,
    std::sync::atomic::AtomicBool,
);

impl StalePool {
    pub(crate) fn mark(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        self.1.store(true, Relaxed);
    }

    /// Are the idle pool connections still to be closed after a loss?
    pub(crate) fn take_drain(&self) -> bool {
        self.1.swap(false, Relaxed)
    }

    /// May a pool connection of this age be used?
    pub(crate) fn current(&self, age: Duration) -> bool {
        match *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(at) => age < at.elapsed(),
            None => true,
        }
    }
}

/// The writer task's own state: one connection of its own (not the pool's), used for batch
/// after batch while they commit and thrown away after any failure.
///
/// Why throw it away: a failed statement or COMMIT can leave a connection in a state the
/// driver does not know about. sqlx counts transaction depth itself and lowers it only when
/// its COMMIT or ROLLBACK succeeds. Seen with sqlx 0.9 on a full filesystem: after a COMMIT
/// that failed with SQLITE_FULL the connection still reports a transaction, so the next
/// `begin()` is a `SAVEPOINT` and its `commit()` a `RELEASE` that returns Ok (even while the
/// disk is still full) inside a transaction that never commits; another connection sees none
/// of those rows. That is how receipts were once given for responses never stored, whose ids
/// were then issued again after a restart. So the writer keeps no driver transaction state:
/// it sends `BEGIN`/`COMMIT` itself, and after any error (or a batch that takes too long) it
/// sends `ROLLBACK`, closes the connection and opens a new one for the next batch. Closing
/// rolls back whatever might still be open, on both backends. A new connection per failure,
/// not per batch: reconnecting costs more than a batch when all is well.
struct Writer {
    options: AnyConnectOptions,
    /// The SQLite database file (`None` for PostgreSQL).
    db_path: Option<PathBuf>,
    conn: Option<AnyConnection>,
    pool: AnyPool,
    stats: Arc<WriterStats>,
    stale: Arc<StalePool>,
    /// The WAL file this connection writes (device, inode), once seen after a commit.
    wal_file: Option<(u64, u64)>,
}

/// The single writer: take everything waiting (up to [`MAX_BATCH`]), write it in one
/// transaction, commit, then answer each request. While one batch commits, the next gathers
/// in the channel, so the batch size grows with the load and one fsync serves many responses.
/// A batch that fails is answered with an error (503 to the patient's widget, which retries
/// with the same key): never with a receipt.
async fn writer(mut w: Writer, mut rx: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let closed = w.pool.close_event();
    tokio::pin!(closed);
    loop {
        let n = tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => n,
            // The server is stopping: close the writer's connection too (for SQLite the last
            // connection to close checkpoints the WAL into the database file).
            _ = &mut closed => 0,
        };
        if n == 0 {
            w.discard().await;
            break;
        }
        // Requests whose caller has gone (timed out) need no write: they were never
        // acknowledged, and the client's retry will bring them back.
        batch.retain(|job| !job.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        match w.write(&batch).await {
            Ok(results) => {
                w.stats.commits.fetch_add(1, Relaxed);
                let rows = batch
                    .iter()
                    .filter(|job| matches!(job.work, Work::Insert(_)))
                    .count();
                w.stats.rows.fetch_add(rows as u64, Relaxed);
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                w.stats.failures.fetch_add(1, Relaxed);
                tracing::error!(error = %e, n = batch.len(), "group commit failed; nothing in it was acknowledged");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

impl Writer {
    /// Write and commit one batch; on any failure the connection is discarded.
    async fn write(&mut self, batch: &[Job]) -> Result<Vec<Option<Stored>>, String> {
        if self.pool.is_closed() {
            // The store was closed (the server is stopping): nothing more is written.
            self.discard().await;
            return Err("the store is closed".to_string());
        }
        let outcome = tokio::time::timeout(BATCH_TIMEOUT, async {
            if self.conn.is_none() {
                let conn = tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    connect(&self.options, self.db_path.is_some()),
                )
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)??;
                self.conn = Some(conn);
            }
            let conn = self.conn.as_mut().expect("connected above");
            let out = write_batch(conn, batch, self.db_path.is_some()).await?;
            let discard = match &self.db_path {
                Some(db) => wal_check(conn, db, &mut self.wal_file, &self.stale).await?,
                None => false,
            };
            Ok::<_, sqlx::Error>((out, discard))
        })
        .await;
        match outcome {
            Ok(Ok((out, discard))) => {
                if discard {
                    self.discard().await;
                }
                Ok(out)
            }
            Ok(Err(e)) => {
                if self.db_path.is_some() && read_only(&e) {
                    self.stale.mark();
                }
                self.discard().await;
                Err(e.to_string())
            }
            Err(_) => {
                self.discard().await;
                Err(format!(
                    "the group commit took longer than {} s",
                    BATCH_TIMEOUT.as_secs()
                ))
            }
        }
    }

    /// Roll back whatever may be open and close the connection; the next batch opens a new
    /// one. Errors are expected here (the database may be gone) and change nothing.
    async fn discard(&mut self) {
        self.wal_file = None;
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        self.stats.reconnects.fetch_add(1, Relaxed);
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, async move {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
            let _ = conn.close().await;
        })
        .await;
        // Pool connections opened before they went stale are closed as they are next touched;
        // close the idle ones now, while the writer's new connection is not yet open.
        if self.stale.take_drain() {
            let mut idle = Vec::new();
            while idle.len() < 64
                && let Some(c) = self.pool.try_acquire()
            {
                idle.push(c.detach());
            }
            for c in idle {
                let _ = tokio::time::timeout(CONNECT_TIMEOUT, c.close()).await;
            }
        }
    }
}

/// SQLite refused to write because the database or its `-shm` file is read-only
/// (`SQLITE_READONLY` and its extended codes: the low byte is 8).
fn read_only(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 8)
}

/// A new connection for the writer (a free function: the writer's own is not `Sync`).
async fn connect(options: &AnyConnectOptions, sqlite: bool) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = AnyConnection::connect_with(options).await?;
    if sqlite {
        sqlite_pragmas(&mut conn).await?;
    }
    Ok(conn)
}

/// SQLite: after a commit, is the WAL file still where SQLite writes it? If someone removed
/// it, this connection (and every other open one) still writes into the removed file, and
/// whatever was committed there would be gone at the next start; if a new file was made in
/// its place (by a connection opened since), the path exists but is not the file written.
/// So the file's identity (device, inode) is noted after the first commit on a connection
/// (SQLite never removes the WAL while a connection is open) and compared after each one.
/// On a loss, every committed page is copied into the database file (a TRUNCATE checkpoint
/// through this very connection, which still holds the removed file open), and only if that
/// completed may the batch be acknowledged. Returns whether the connection must be replaced.
async fn wal_check(
    conn: &mut AnyConnection,
    db: &std::path::Path,
    seen: &mut Option<(u64, u64)>,
    stale: &StalePool,
) -> Result<bool, sqlx::Error> {
    use std::os::unix::fs::MetadataExt;
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let now = std::fs::metadata(&wal).ok().map(|m| (m.dev(), m.ino()));
    match (now, *seen) {
        (Some(file), None) => {
            *seen = Some(file);
            return Ok(false);
        }
        (Some(file), Some(was)) if file == was => return Ok(false),
        _ => {}
    }
    tracing::error!(
        wal = %std::path::Path::new(&wal).display(),
        "the SQLite WAL file was removed while the server runs; copying committed pages into the database file"
    );
    stale.mark();
    let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await?;
    let (busy, log, done): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if busy != 0 || log < 0 || log != done {
        return Err(sqlx::Error::Protocol(format!(
            "the WAL file was removed and a checkpoint could not copy every page (busy {busy}, {done} of {log})"
        )));
    }
    Ok(true)
}

/// Rows per multi-row INSERT. Each statement is a round trip to the database (for SQLite, to
/// its worker thread), which costs more than a row, so rows travel in chunks. Fixed chunks keep
/// the number of distinct statement texts small (at most CHUNK), so each stays prepared in
/// sqlx's statement cache.
const CHUNK: usize = 32;

/// Columns written per row, in the order [`write_batch`] binds them.
const INSERT_COLUMNS: [&str; 15] = [
    "site",
    "service",
    "instrument",
    "version",
    "locale",
    "idempotency_key",
    "body_hash",
    "answers",
    "scores",
    "client_scores",
    "score_mismatch",
    "mode",
    "about",
    "withdraw_hash",
    "received_at",
];
const COLUMNS: usize = INSERT_COLUMNS.len();

/// One group commit on `conn`: `BEGIN`, the inserts, the heartbeat if asked, `COMMIT`. Any
/// error leaves the transaction in an unknown state; the caller discards the connection.
///
/// Idempotency inside the batch: the first job with a given (site, key) is the one inserted.
/// A later job with the same key and the same body is a retry that raced the first: it gets
/// the first's receipt, marked replayed. A later job with the same key and another body gets
/// a conflict at once, whatever happened to the first: the receipt always goes to the sender
/// of the body that was stored.
async fn write_batch(
    conn: &mut AnyConnection,
    batch: &[Job],
    sqlite: bool,
) -> Result<Vec<Option<Stored>>, sqlx::Error> {
    // IMMEDIATE: take SQLite's write lock now (waiting up to busy_timeout), not at the first
    // insert, so a lock conflict cannot appear half-way through.
    let begin = if sqlite { "BEGIN IMMEDIATE" } else { "BEGIN" };
    sqlx::raw_sql(begin).execute(&mut *conn).await?;
    let mut out: Vec<Option<Stored>> = vec![None; batch.len()];
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    let mut firsts = Vec::new();
    let mut repeats = Vec::new();
    let mut heartbeat = false;
    for (i, job) in batch.iter().enumerate() {
        match &job.work {
            Work::Heartbeat => heartbeat = true,
            Work::Insert(r) => match first.entry((r.site.as_str(), r.idempotency_key.as_str())) {
                Entry::Vacant(v) => {
                    v.insert(i);
                    firsts.push(i);
                }
                Entry::Occupied(o) => repeats.push((i, *o.get())),
            },
        }
    }
    let insert = |i: usize| match &batch[i].work {
        Work::Insert(r) => r,
        Work::Heartbeat => unreachable!("only inserts are listed"),
    };
    // In key order: with several servers on one PostgreSQL database, two batches holding
    // some of the same keys then take their row locks in the same order, so neither can wait
    // for the other while holding a row the other waits for (a deadlock PostgreSQL would end
    // by failing one whole batch).
    firsts.sort_by(|&x, &y| {
        let (x, y) = (insert(x), insert(y));
        (x.site.as_str(), x.idempotency_key.as_str())
            .cmp(&(y.site.as_str(), y.idempotency_key.as_str()))
    });
    let mut searchable: Vec<(i64, &str, &str)> = Vec::new();
    let mut rolled: Vec<rollup::Added> = Vec::new();
    for chunk in firsts.chunks(CHUNK) {
        // Insert unless (site, key) exists. ON CONFLICT rather than look-then-insert: correct
        // even with several servers on one PostgreSQL database (a racing insert waits for the
        // other's commit, then yields).
        // The received time: the one given, else the database's clock (the column's default).
        let now = if sqlite {
            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        } else {
            "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
        };
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=COLUMNS)
                    .map(|c| match c {
                        COLUMNS => format!("COALESCE(${}, {now})", r * COLUMNS + c),
                        _ => format!("${}", r * COLUMNS + c),
                    })
                    .collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO responses ({})
             VALUES {} ON CONFLICT (site, idempotency_key) DO NOTHING RETURNING id, site, idempotency_key, received_at",
            INSERT_COLUMNS.join(", "),
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for &i in chunk {
            let r = insert(i);
            q = q
                .bind(r.site.as_str())
                .bind(r.service.as_deref())
                .bind(r.instrument.as_str())
                .bind(i64::from(r.version))
                .bind(r.locale.as_str())
                .bind(r.idempotency_key.as_str())
                .bind(r.body_hash.as_str())
                .bind(r.answers.as_str())
                .bind(r.scores.as_str())
                .bind(r.client_scores.as_deref())
                .bind(i64::from(r.score_mismatch))
                .bind(r.mode.as_str())
                .bind(r.about.as_deref())
                .bind(r.withdraw_hash.as_deref())
                .bind(r.received_at.as_deref());
        }
        for row in q.fetch_all(&mut *conn).await? {
            let (id, site, key, at): (i64, String, String, String) = (
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            );
            if let Some(&i) = first.get(&(site.as_str(), key.as_str())) {
                let r = insert(i);
                rolled.push(rollup::Added {
                    key: rollup::RollupKey {
                        site: r.site.clone(),
                        service: r.service.clone().unwrap_or_default(),
                        instrument: r.instrument.clone(),
                        version: i64::from(r.version),
                        locale: r.locale.clone(),
                        mode: r.mode.clone(),
                        day: at.get(..10).unwrap_or_default().to_string(),
                    },
                    id,
                    scores: r.scores.as_str(),
                    about: r.about.as_deref(),
                });
                if let Some(text) = &insert(i).search_text {
                    searchable.push((id, text.as_str(), insert(i).locale.as_str()));
                }
                out[i] = Some(Stored::Created(StoredRef {
                    id,
                    reference: crate::reference::from_id(id),
                    scores: insert(i).scores.clone(),
                }));
            }
        }
    }
    crate::search::index(conn, &searchable, sqlite).await?;
    // In the same transaction as the responses they count, so they can never drift.
    rollup::add(conn, &rolled, sqlite).await?;
    // A first not inserted: stored before this batch; a retry (same body: the original
    // receipt) or a conflict.
    for &i in &firsts {
        if out[i].is_none() {
            out[i] = Some(look_up(conn, insert(i)).await?);
        }
    }
    for &(i, f) in &repeats {
        let (r, head) = (insert(i), insert(f));
        out[i] = Some(match &out[f] {
            Some(Stored::Created(s) | Stored::Replayed(s)) if r.body_hash == head.body_hash => {
                Stored::Replayed(s.clone())
            }
            Some(Stored::Created(_) | Stored::Replayed(_)) => Stored::Conflict,
            // The first conflicted with an earlier row; this one may be that row's retry.
            _ => look_up(conn, r).await?,
        });
    }
    if heartbeat {
        sqlx::query(
            "INSERT INTO heartbeat (id, beats) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET beats = heartbeat.beats + 1",
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
    Ok(batch
        .iter()
        .zip(out)
        .map(|(job, s)| match job.work {
            Work::Heartbeat => None,
            Work::Insert(_) => Some(s.unwrap_or(Stored::Conflict)),
        })
        .collect())
}

/// What is stored under `r`'s key: its original receipt if the body is the same, else a
/// conflict.
async fn look_up(conn: &mut AnyConnection, r: &NewResponse) -> Result<Stored, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, body_hash, scores FROM responses WHERE site = $1 AND idempotency_key = $2",
    )
    .bind(&r.site)
    .bind(&r.idempotency_key)
    .fetch_one(&mut *conn)
    .await?;
    let (id, hash): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    Ok(if hash == r.body_hash {
        Stored::Replayed(StoredRef {
            id,
            reference: crate::reference::from_id(id),
            scores: row.try_get(2)?,
        })
    } else {
        Stored::Conflict
    })
}
