//! Storage faults under load: never a receipt without a stored response.
//!
//! The real `chorus` binary serves clients that post responses as fast as they can and retry
//! whatever was not acknowledged with the same key and body, as the widget does. Meanwhile the
//! storage fails under it:
//!
//! - SQLite: the filesystem fills (a small tmpfs mounted for the test, then a filler file
//!   written until ENOSPC), the database files are made immutable (`chattr +i`), the WAL file
//!   is removed, and the server is then killed and restarted;
//! - PostgreSQL: the test's own database stops taking connections (`ALLOW_CONNECTIONS false`)
//!   and every server connection to it is terminated, as if the database went down.
//!
//! A server that a fault ends (SQLite's mapped WAL index on immutable files: SIGBUS) is
//! started again at once, as its systemd unit does ([`Supervisor`]).
//!
//! Each fault is then removed. At the end the database is read directly:
//!
//! - every 201 receipt is stored exactly once, under the id and reference it named;
//! - no id or reference was ever given for two different responses;
//! - during each fault the server answered `503 storage_unavailable` (never a 201 for a write
//!   that failed, never a 408 from waiting), `/healthz` said so, and after the fault it stored
//!   again by itself.
//!
//! The figures (acknowledged, stored, time to the first 503, slowest 503, time to recovery)
//! are printed on stderr. A fault the machine cannot inject (no `mount`, no `chattr`) is
//! skipped with a printed reason; the rest still run.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
#[allow(dead_code)] // only its process and load-client helpers are used here
mod common;

use common::{nanos, report};
use serde_json::{Value, json};

type Server = common::ServerProcess;

/// Start `chorus serve` on a free port; `Err` with the log if it exits before listening.
fn serve(database: &str, dir: &Path) -> Result<(Server, String), String> {
    // No per-address limit: every client here is 127.0.0.1. A site that takes any service.
    common::serve_process(
        database,
        dir,
        "[[sites]]\nid = \"fault\"\n[limits]\nper_ip_per_minute = 100000000\nper_site_per_minute = 100000000\nrequest_timeout_seconds = 10\n",
    )
}

/// `chorus serve` as `deploy/chorus.service` runs it (`Restart=on-failure`): a watcher starts
/// it again whenever it exits by itself, and the clients follow it to its new address.
///
/// Why the test needs this: a process can die under a storage fault. With the database files
/// made immutable, the kernel answers SQLite's next write into a page of the `-shm` file it
/// has mapped (once writeback has made that page read-only again) with SIGBUS, and SQLite
/// keeps its WAL index there because other processes (`chorus backup`, an operator's
/// `sqlite3`) may share the database. Dying is allowed, as a kill -9 is: it must lose nothing
/// acknowledged, and the server started again must answer 503 until the fault is removed (it
/// opens the files read-only and reports storage unavailable), then store again by itself.
struct Supervisor {
    inner: Arc<Mutex<Supervised>>,
    addr: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    watcher: Option<std::thread::JoinHandle<()>>,
}

struct Supervised {
    server: Option<Server>,
    /// How each unplanned exit ended, for the report.
    deaths: Vec<String>,
    /// The log of every server started, oldest first.
    logs: Vec<Arc<Mutex<Vec<String>>>>,
    database: String,
    dir: PathBuf,
}

impl Supervised {
    /// Start the server again, retrying as systemd's `RestartSec` would until it listens.
    fn start(&mut self, addr: &Mutex<String>) {
        for _ in 0..100 {
            match serve(&self.database, &self.dir) {
                Ok((server, at)) => {
                    self.logs.push(server.log.clone());
                    self.server = Some(server);
                    *addr.lock().unwrap() = at;
                    return;
                }
                Err(log) => {
                    let last = log.lines().last().unwrap_or("(no log)");
                    self.deaths.push(format!("did not start: {last}"));
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
        panic!("the server would not start again: {:?}", self.deaths);
    }
}

impl Supervisor {
    fn start(database: &str, dir: &Path) -> Supervisor {
        let (server, at) = serve(database, dir).expect("the server starts");
        let inner = Arc::new(Mutex::new(Supervised {
            logs: vec![server.log.clone()],
            server: Some(server),
            deaths: Vec::new(),
            database: database.to_string(),
            dir: dir.to_path_buf(),
        }));
        let addr = Arc::new(Mutex::new(at));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (inner, addr, stop) = (inner.clone(), addr.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    {
                        let mut s = inner.lock().unwrap();
                        let exited = s.server.as_mut().map(|p| p.child.try_wait());
                        if let Some(Ok(Some(status))) = exited {
                            use std::os::unix::process::ExitStatusExt;
                            s.deaths.push(match status.signal() {
                                Some(7) => "killed by SIGBUS".to_string(),
                                Some(n) => format!("killed by signal {n}"),
                                None => format!("exited: {status}"),
                            });
                            s.server = None;
                            s.start(&addr);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Supervisor {
            inner,
            addr,
            stop,
            watcher: Some(watcher),
        }
    }

    /// kill -9 the server, run `between` while it is down, and start it again.
    fn kill_and_restart(&self, between: impl FnOnce()) {
        let mut s = self.inner.lock().unwrap();
        if let Some(mut server) = s.server.take() {
            server.child.kill().unwrap();
            server.child.wait().unwrap();
        }
        between();
        s.start(&self.addr);
    }

    /// Stop watching and stop the server: (unplanned exits, the last lines of its logs).
    fn finish(mut self) -> (Vec<String>, String) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.watcher.take() {
            w.join().unwrap();
        }
        let mut s = self.inner.lock().unwrap();
        s.server = None;
        let mut lines: Vec<String> = Vec::new();
        for log in &s.logs {
            lines.extend(log.lock().unwrap().iter().cloned());
            lines.push("--- (that server stopped) ---".into());
        }
        let tail = lines.len().saturating_sub(30);
        (std::mem::take(&mut s.deaths), lines[tail..].join("\n"))
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(mut s) = self.inner.lock() {
            s.server = None;
        }
    }
}

/// One HTTP/1.1 request over a fresh connection: (status, JSON body or Null). A transport
/// failure is an `Err`: not acknowledged.
fn request(addr: &str, method: &str, path: &str, body: &str) -> std::io::Result<(u16, Value)> {
    let (status, body) = common::http_request(addr, method, path, body, Duration::from_secs(30))?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

/// The submission client `c` sends as its `i`th response (a retry sends the same body).
fn submission(c: usize, i: usize) -> Value {
    let fft = chorus_core::instrument::FFT_ANSWER_IDS[(c * 7 + i) % 6];
    json!({"site": "fault", "service": "ward-3", "response": {
        "instrument": "fft", "version": 1, "locale": "en",
        "idempotency_key": format!("fault-{c:03}-{i:07}"),
        "answers": {"fft": fft, "why": format!("Client {c}, visit {i}: kind staff.")}}})
}

/// One answer a client got, for the timings.
struct Answer {
    sent: Instant,
    got: Instant,
    /// HTTP status, or 0 for a transport failure.
    status: u16,
    code: String,
}

/// What a client saw.
#[derive(Default)]
struct ClientLog {
    /// Key → (id, reference) of every 201 (and of 200 replays, checked for agreement).
    created: Vec<(String, i64, String)>,
    replayed: Vec<(String, i64, String)>,
    answers: Vec<Answer>,
    problems: Vec<String>,
}

fn client(c: usize, addr: Arc<Mutex<String>>, stop: Arc<AtomicBool>) -> ClientLog {
    let mut log = ClientLog::default();
    common::until_stopped(
        &stop,
        |i| submission(c, i),
        |key, body| {
            // Retry until acknowledged: the run ends only when every client has its receipt.
            loop {
                let at = addr.lock().unwrap().clone();
                let sent = Instant::now();
                let result = request(&at, "POST", "/api/v1/responses", &body);
                let got = Instant::now();
                let (status, v) = result.unwrap_or((0, Value::Null));
                log.answers.push(Answer {
                    sent,
                    got,
                    status,
                    code: v["error"]["code"].as_str().unwrap_or_default().to_string(),
                });
                match status {
                    201 | 200 => {
                        let (Some(id), Some(reference)) =
                            (v["id"].as_i64(), v["reference"].as_str())
                        else {
                            log.problems
                                .push(format!("{key}: a receipt without id: {v}"));
                            break;
                        };
                        let entry = (key.clone(), id, reference.to_string());
                        if status == 201 {
                            log.created.push(entry);
                        } else {
                            log.replayed.push(entry);
                        }
                        break;
                    }
                    0 | 503 => std::thread::sleep(Duration::from_millis(20)),
                    _ => {
                        log.problems
                            .push(format!("{key}: unexpected {status} {v} for a valid body"));
                        break;
                    }
                }
            }
        },
    );
    log
}

/// A fault as the clients saw it: injected at `from`, removed at `to`.
struct Window {
    name: &'static str,
    from: Instant,
    to: Instant,
    /// `/healthz` answered not-ok while the fault held.
    health_down: bool,
    /// ... and ok again after it was removed.
    health_up: bool,
}

/// Poll `/healthz` until it says `want` (true: 200) or `within` passes.
fn health_becomes(addr: &Mutex<String>, want: bool, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        let at = addr.lock().unwrap().clone();
        if let Ok((status, _)) = request(&at, "GET", "/healthz", "")
            && (status == 200) == want
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The load, the faults (run by `faults` while clients post), the read-back and the checks.
/// `faults` gets the address cell (so it may restart the server) and returns its windows.
fn run(
    name: &str,
    database: &str,
    read_back: &str,
    dir: &Path,
    faults: impl FnOnce(&Supervisor) -> Vec<Window>,
) {
    let started = Instant::now();
    let supervisor = Supervisor::start(database, dir);
    let addr = supervisor.addr.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let clients = 8;
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, stop) = (addr.clone(), stop.clone());
            std::thread::spawn(move || client(c, addr, stop))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let windows = faults(&supervisor);
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    let logs: Vec<ClientLog> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let (deaths, server_log) = supervisor.finish();

    let mut problems: Vec<String> = Vec::new();
    let mut created: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut by_id: BTreeMap<i64, String> = BTreeMap::new();
    let mut by_reference: BTreeMap<String, String> = BTreeMap::new();
    let mut answers = Vec::new();
    for log in logs {
        problems.extend(log.problems);
        answers.extend(log.answers);
        for (key, id, reference) in log.created.iter().chain(&log.replayed) {
            // No id or reference ever stands for two responses.
            if let Some(other) = by_id.insert(*id, key.clone())
                && other != *key
            {
                problems.push(format!("id {id} issued to {other} and to {key}"));
            }
            if let Some(other) = by_reference.insert(reference.clone(), key.clone())
                && other != *key
            {
                problems.push(format!("{reference} issued to {other} and to {key}"));
            }
        }
        for (key, id, reference) in log.created {
            if let Some(was) = created.insert(key.clone(), (id, reference.clone())) {
                problems.push(format!("{key}: two 201s ({was:?} and {id})"));
            }
        }
        for (key, id, _) in log.replayed {
            match created.get(&key) {
                Some((first, _)) if *first != id => {
                    problems.push(format!("{key}: replayed as {id}, created as {first}"))
                }
                _ => {}
            }
        }
    }

    // Read back what is stored.
    let rows: Vec<(i64, String)> = tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(read_back).await.unwrap();
        let rows = common::rows(
            &pool,
            "SELECT id, idempotency_key FROM responses ORDER BY id",
            &[],
        )
        .await;
        pool.close().await;
        rows
    });
    // A key that looks like personal data is stored hashed (`api::stored_key`); "fault-000-
    // 0000086" is one (000 000 0086 passes the NHS number check).
    let mut stored: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let sent: BTreeMap<String, &String> = created
        .keys()
        .map(|k| (chorus_server::api::stored_key(k), k))
        .collect();
    for (id, key) in &rows {
        let key = sent.get(key).map_or(key.clone(), |k| (*k).clone());
        stored.entry(key).or_default().push(*id);
    }
    let mut stored_once = 0;
    for (key, (id, reference)) in &created {
        match stored.get(key).map(Vec::as_slice) {
            Some([one]) if one == id && chorus_server::reference::from_id(*one) == *reference => {
                stored_once += 1
            }
            Some(ids) => problems.push(format!("{key}: receipt {id} {reference}, stored {ids:?}")),
            None => problems.push(format!("{key}: acknowledged as {reference} but LOST")),
        }
    }
    let duplicates: usize = stored.values().map(|v| v.len() - 1).sum();
    let lost: Vec<i64> = created
        .iter()
        .filter(|(k, _)| !stored.contains_key(*k))
        .map(|(_, (id, _))| *id)
        .collect();
    if !lost.is_empty() {
        report(&format!(
            "lost ids {}..={} ({}), stored ids {}..={}",
            lost.iter().min().unwrap(),
            lost.iter().max().unwrap(),
            lost.len(),
            rows.first().map_or(0, |r| r.0),
            rows.last().map_or(0, |r| r.0)
        ));
    }

    // The faults as the clients saw them.
    let mut lines = Vec::new();
    for w in &windows {
        let during: Vec<&Answer> = answers
            .iter()
            .filter(|a| a.sent >= w.from && a.got <= w.to)
            .collect();
        let refused: Vec<&&Answer> = during.iter().filter(|a| a.status == 503).collect();
        let first_503 = answers
            .iter()
            .filter(|a| a.status == 503 && a.got >= w.from)
            .map(|a| a.got - w.from)
            .min();
        let slowest_503 = refused.iter().map(|a| a.got - a.sent).max();
        let recovered = answers
            .iter()
            .filter(|a| a.status == 201 && a.sent >= w.to)
            .map(|a| a.got - w.to)
            .min();
        let timeouts = during.iter().filter(|a| a.status == 408).count();
        let wrong_code = refused
            .iter()
            .filter(|a| a.code != "storage_unavailable")
            .count();
        lines.push(format!(
            "  {}: {} answers during the fault ({} 503, {timeouts} 408), first 503 after {}, slowest 503 {}, healthz down {} / up {}, first 201 after removal {}",
            w.name,
            during.len(),
            refused.len(),
            ms(first_503),
            ms(slowest_503),
            w.health_down,
            w.health_up,
            ms(recovered),
        ));
        if refused.is_empty() {
            problems.push(format!("{}: no 503 while the fault held", w.name));
        }
        if timeouts > 0 {
            problems.push(format!("{}: {timeouts} answers were 408", w.name));
        }
        if wrong_code > 0 {
            problems.push(format!(
                "{}: {wrong_code} 503s without storage_unavailable",
                w.name
            ));
        }
        if slowest_503.is_some_and(|d| d > Duration::from_secs(5)) {
            problems.push(format!("{}: a 503 took {}", w.name, ms(slowest_503)));
        }
        if !w.health_down {
            problems.push(format!("{}: /healthz said ok during the fault", w.name));
        }
        if !w.health_up {
            problems.push(format!("{}: /healthz did not recover", w.name));
        }
        if recovered.is_none_or(|d| d > Duration::from_secs(10)) {
            problems.push(format!("{}: no 201 within 10 s of removal", w.name));
        }
    }
    // A request that waits out the request timeout (408) instead of a prompt 503 is a failure
    // wherever it falls (a hung request ends after the fault window it began in).
    let timeouts = answers.iter().filter(|a| a.status == 408).count();
    if timeouts > 0 {
        problems.push(format!(
            "{timeouts} requests timed out (408) instead of a 503"
        ));
    }
    let slowest = answers.iter().map(|a| a.got - a.sent).max();
    report(&format!(
        "fault test ({name}) in {:.1} s: {} acknowledged with 201, {stored_once} stored exactly once, {} rows, {duplicates} duplicates, {} answers in all, {timeouts} 408s, slowest answer {}, the server died and was started again {} times{}\n{}",
        started.elapsed().as_secs_f64(),
        created.len(),
        rows.len(),
        answers.len(),
        ms(slowest),
        deaths.len(),
        if deaths.is_empty() {
            String::new()
        } else {
            format!(" ({})", deaths.join("; "))
        },
        lines.join("\n")
    ));
    problems.truncate(20);
    assert!(
        problems.is_empty(),
        "{name}:\n{}\nunplanned exits: {deaths:?}\n--- server log (last lines) ---\n{server_log}",
        problems.join("\n"),
    );
    assert_eq!(stored_once, created.len(), "{name}: acknowledged = stored");
    assert_eq!(duplicates, 0, "{name}: duplicates");
    // Unacknowledged rows may exist (a commit whose answer was lost), but not many.
    assert!(
        created.len() >= 100,
        "{name}: only {} acknowledged",
        created.len()
    );
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("never".into(), |d| format!("{} ms", d.as_millis()))
}

/// Hold a fault for `hold`, checking `/healthz` says not-ok, then remove it and check
/// `/healthz` comes back.
fn window(
    name: &'static str,
    addr: &Arc<Mutex<String>>,
    hold: Duration,
    inject: impl FnOnce(),
    remove: impl FnOnce(),
) -> Window {
    let from = Instant::now();
    inject();
    let health_down = health_becomes(addr, false, hold);
    let rest = hold.saturating_sub(from.elapsed());
    std::thread::sleep(rest);
    remove();
    let to = Instant::now();
    let health_up = health_becomes(addr, true, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(600));
    Window {
        name,
        from,
        to,
        health_down,
        health_up,
    }
}

fn sh(cmd: &str, args: &[&str]) -> Result<(), String> {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("{cmd}: {e}")),
    }
}

/// The test's folder: a small tmpfs when this machine lets us mount one (unmounted when
/// dropped), else a plain temporary folder.
struct Dir {
    path: PathBuf,
    mounted: bool,
}

impl Dir {
    fn new(mount: bool) -> Dir {
        let path =
            std::env::temp_dir().join(format!("chorus-faults-{}-{}", std::process::id(), nanos()));
        std::fs::create_dir_all(&path).unwrap();
        let mounted = mount
            && match sh(
                "mount",
                &[
                    "-t",
                    "tmpfs",
                    "-o",
                    "size=48m",
                    "tmpfs",
                    path.to_str().unwrap(),
                ],
            ) {
                Ok(()) => true,
                Err(e) => {
                    report(&format!(
                        "skipped: cannot mount a small filesystem ({e}), so the disk-full fault is not tested"
                    ));
                    false
                }
            };
        Dir { path, mounted }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        for f in ["t.db", "t.db-wal", "t.db-shm"] {
            let _ = sh("chattr", &["-i", self.path.join(f).to_str().unwrap()]);
        }
        if self.mounted {
            let _ = sh("umount", &["-l", self.path.to_str().unwrap()]);
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Write zeros into `path` until the filesystem is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![0u8; 1 << 16];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn a_full_filesystem_never_gives_a_receipt_without_a_stored_response_sqlite() {
    let dir = Dir::new(true);
    if !dir.mounted {
        return;
    }
    let database = format!("sqlite://{}", dir.path.join("t.db").display());
    let path = dir.path.clone();
    run(
        "SQLite, filesystem full",
        &database,
        &database,
        &path,
        |supervisor| {
            let addr = &supervisor.addr;
            let filler = path.join("filler");
            (0..2)
                .map(|_| {
                    window(
                        "filesystem full",
                        addr,
                        Duration::from_millis(2500),
                        || fill(&filler),
                        || std::fs::remove_file(&filler).unwrap(),
                    )
                })
                .collect()
        },
    );
}

#[test]
fn read_only_files_and_a_removed_wal_never_give_a_receipt_without_a_stored_response_sqlite() {
    // On the ordinary disk: tmpfs takes `chattr +i` but still lets open files be written.
    let dir = Dir::new(false);
    let database = format!("sqlite://{}", dir.path.join("t.db").display());
    let files: Vec<String> = ["t.db", "t.db-wal", "t.db-shm"]
        .iter()
        .map(|f| dir.path.join(f).to_str().unwrap().to_string())
        .collect();
    // Can this filesystem make a file immutable? (Root ignores permission bits, not this.)
    let probe = dir.path.join("probe");
    std::fs::write(&probe, b"x").unwrap();
    let chattr = sh("chattr", &["+i", probe.to_str().unwrap()]);
    let _ = sh("chattr", &["-i", probe.to_str().unwrap()]);
    let _ = std::fs::remove_file(&probe);
    if let Err(e) = &chattr {
        report(&format!(
            "skipped: chattr +i is not available here ({e}), so the read-only fault is not tested"
        ));
    }
    let path = dir.path.clone();
    run(
        "SQLite, read-only files, WAL removed",
        &database,
        &database,
        &path,
        |supervisor| {
            let addr = &supervisor.addr;
            let mut windows = Vec::new();
            if chattr.is_ok() {
                let flip = |flag: &'static str| {
                    let files = files.clone();
                    move || {
                        for f in &files {
                            sh("chattr", &[flag, f]).unwrap();
                        }
                        // Write back the mapped `-shm` pages now, as the kernel does within
                        // seconds anyway: the server's next write into one is then refused
                        // (SIGBUS), every run, not only when writeback happens to fall inside
                        // the window.
                        let _ = sh("sync", &[]);
                    }
                };
                windows.push(window(
                    "files made immutable",
                    addr,
                    Duration::from_millis(2500),
                    flip("+i"),
                    flip("-i"),
                ));
            }
            // The WAL removed under load: nothing acknowledged may be lost with it, and after a
            // kill -9 the server must start again on what is left.
            let count = |when: &str| {
                let out = Command::new("sqlite3")
                    .arg(path.join("t.db"))
                    .arg("SELECT COUNT(*) FROM responses")
                    .output();
                if let Ok(o) = out {
                    report(&format!(
                        "    rows {when}: {}",
                        String::from_utf8_lossy(&o.stdout).trim()
                    ));
                }
            };
            count("before the WAL is removed");
            // Between batches every connection may be closed (the writer reopens after a
            // fault), and SQLite removes the WAL with the last one: wait for a write to bring
            // it back, then take it away. The load alone may be between bursts on a busy
            // machine, so /healthz nudges the writer too (a heartbeat commit, no response).
            let wal = path.join("t.db-wal");
            // A reader of our own holds the WAL open, so the server closing its last connection
            // between batches cannot delete it just before we look (a race the polling below
            // lost on a quiet machine too): the file then stays until we take it away.
            let mut reader = Command::new("sqlite3")
                .arg(path.join("t.db"))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                // It says "disk I/O error" once its WAL is gone: expected, and not the test's.
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("sqlite3 for a reader");
            {
                use std::io::Write;
                let stdin = reader.stdin.as_mut().unwrap();
                writeln!(stdin, "SELECT COUNT(*) FROM responses;").unwrap();
                stdin.flush().unwrap();
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            let mut nudged = std::time::Instant::now();
            loop {
                match std::fs::remove_file(&wal) {
                    Ok(()) => break,
                    Err(e)
                        if e.kind() == std::io::ErrorKind::NotFound
                            && std::time::Instant::now() < deadline =>
                    {
                        if nudged.elapsed() > Duration::from_millis(500) {
                            let at = addr.lock().unwrap().clone();
                            let _ = request(&at, "GET", "/healthz", "");
                            nudged = std::time::Instant::now();
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("removing the WAL: {e}"),
                }
            }
            std::thread::sleep(Duration::from_millis(1500));
            supervisor.kill_and_restart(|| {
                let _ = reader.kill();
                let _ = reader.wait();
                count("after the WAL was removed and the server killed");
            });
            windows
        },
    );
}

/// A TCP relay in front of PostgreSQL, to stop "the server" for this test alone (the cluster
/// is shared): down, it refuses new connections (nothing listens on its port) and cuts every
/// open one, as a stopped or crashed PostgreSQL does; up, it listens on the same port again.
struct Relay {
    port: u16,
    target: String,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<std::net::TcpStream>>>,
    listener: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn new(target: &str) -> Relay {
        let port = common::free_port();
        let mut relay = Relay {
            port,
            target: target.to_string(),
            up: Arc::new(AtomicBool::new(false)),
            open: Arc::new(Mutex::new(Vec::new())),
            listener: None,
        };
        relay.start();
        relay
    }

    fn start(&mut self) {
        let listener = std::net::TcpListener::bind(("127.0.0.1", self.port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        self.up.store(true, Ordering::SeqCst);
        let (up, open, target) = (self.up.clone(), self.open.clone(), self.target.clone());
        self.listener = Some(std::thread::spawn(move || {
            while up.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = std::net::TcpStream::connect(&target) else {
                    continue;
                };
                let mut open = open.lock().unwrap();
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server.try_clone().unwrap(), client.try_clone().unwrap()),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                open.extend([client, server]);
            }
            // The listener is dropped here: connections are refused from now on.
        }));
    }

    fn stop(&mut self) {
        self.up.store(false, Ordering::SeqCst);
        if let Some(t) = self.listener.take() {
            t.join().unwrap();
        }
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn storage_faults_never_give_a_receipt_without_a_stored_response_postgres() {
    let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
        report("skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL");
        return;
    };
    // A database of its own, so turning it off touches no other test.
    let name = format!(
        "chorus_faults_{}_{}",
        std::process::id(),
        nanos() % 1_000_000
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Names made of digits we generated: safe to splice.
    let admin = |sql: String| common::pg_admin(&rt, &base, &sql);
    admin(format!("CREATE DATABASE {name}"));
    // The server reaches PostgreSQL through the relay; the test's own connections do not.
    let (prefix, rest) = base.rsplit_once('/').unwrap();
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    let (auth, host) = prefix.rsplit_once('@').unwrap();
    let host = host.to_string();
    let target = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:5432")
    };
    let relay = Arc::new(Mutex::new(Relay::new(&target)));
    let port = relay.lock().unwrap().port;
    let database = format!("{auth}@127.0.0.1:{port}/{name}{query}");
    let direct = format!("{prefix}/{name}{query}");
    let dir = std::env::temp_dir().join(format!("chorus-faults-pg-{}", nanos()));
    std::fs::create_dir_all(&dir).unwrap();
    let down = format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let up = format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true");
    run("PostgreSQL", &database, &direct, &dir, |supervisor| {
        let addr = &supervisor.addr;
        vec![
            window(
                "PostgreSQL stopped (connections refused and cut)",
                addr,
                Duration::from_millis(2500),
                || relay.lock().unwrap().stop(),
                || relay.lock().unwrap().start(),
            ),
            window(
                "the database refuses connections (and its sessions are terminated)",
                addr,
                Duration::from_millis(2500),
                || admin(down.clone()),
                || admin(up.clone()),
            ),
        ]
    });
    drop(relay);
    admin(format!("DROP DATABASE {name} WITH (FORCE)"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The server's log never carries what a client planted in the fields that are not free
/// text: the idempotency key (logged as a hash when the client's score differs), the service
/// and the client's score report.
#[test]
fn no_planted_string_reaches_the_log() {
    let dir = Dir::new(false);
    let database = format!("sqlite://{}", dir.path.join("t.db").display());
    let (server, addr) = serve(&database, &dir.path).expect("the server starts");
    let planted = ["9434765919", "07700900123", "a.patient@example.com"];
    for key in ["9434765919", "07700900123"] {
        let body = json!({"site": "fault", "service": "ward-3", "response": {
            "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
            "answers": {"fft": "good"},
            // A wrong client score: the server logs a warning naming the key's hash.
            "client_scores": {"instrument": "fft a.patient@example.com", "version": 1,
                "fft": {"answer": "good", "category": "negative"}}}});
        let (status, v) = request(&addr, "POST", "/api/v1/responses", &body.to_string()).unwrap();
        assert_eq!(status, 201, "{v}");
    }
    for service in planted {
        let body = json!({"site": "fault", "service": service, "response": {
            "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": "key-log-00001",
            "answers": {"fft": "good"}}});
        let (status, _) = request(&addr, "POST", "/api/v1/responses", &body.to_string()).unwrap();
        assert_eq!(status, 422);
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        log.contains("client score differs"),
        "the warning was not logged, so this test proves nothing:\n{log}"
    );
    for p in planted {
        assert!(!log.contains(p), "the log holds {p}:\n{log}");
    }
}
