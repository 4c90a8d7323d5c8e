//! Crash safety under load: the brief's promise that a response a patient was told is sent is
//! never lost or doubled, tested against the real `chorus` binary.
//!
//! Many clients submit responses as fast as they can, each with its own idempotency key, and
//! retry whatever was not acknowledged (a refused connection, a reset, a 5xx, a timeout) with
//! the same key and body, as the widget does. Meanwhile the server is killed with SIGKILL (no
//! shutdown, no flush) and restarted several times. Some clients give up on a request the
//! server may or may not have stored (a patient closing the tab). At the end the server is
//! stopped with SIGTERM and the database is read directly:
//!
//! - every acknowledged response is stored exactly once, under the id its receipt named, with
//!   exactly the answers (redacted) and scores the server would store for that body;
//! - no row is half written, and no row exists that no client sent;
//! - an abandoned request is either absent or stored whole;
//! - a retry of an acknowledged response gets the same receipt (`replayed`).
//!
//! Size: `CHORUS_CRASH_SCALE` (default 1: 12 clients, 3 kills, a few seconds per database);
//! `CHORUS_CRASH_SCALE=10` is a longer soak. The figures are printed on stderr.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};
#[allow(dead_code)] // only its process, load-client and Rng helpers are used here
mod common;

use common::{Rng, TempDir, nanos, report};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Start `chorus serve` on a free port; returns the server and its address.
fn serve(database: &str, dir: &Path) -> (common::ServerProcess, String) {
    // No per-address limit: every client here is 127.0.0.1.
    common::serve_process(
        database,
        dir,
        "[[sites]]\nid = \"crash\"\n[limits]\nper_ip_per_minute = 100000000\nper_site_per_minute = 100000000\nrequest_timeout_seconds = 5\n",
    )
    .unwrap_or_else(|log| panic!("chorus exited before listening:\n{log}"))
}

/// One HTTP/1.1 POST over a fresh connection: (status, JSON body). Any transport failure (the
/// server is down, the connection was reset mid-answer) is an `Err`: not acknowledged.
fn post(addr: &str, body: &str) -> std::io::Result<(u16, Value)> {
    let (status, body) = common::http_request(
        addr,
        "POST",
        "/api/v1/responses",
        body,
        Duration::from_secs(20),
    )?;
    let v = serde_json::from_str(&body).map_err(std::io::Error::other)?;
    Ok((status, v))
}

/// Free text that exercises redaction, Welsh, right-to-left text, emoji and control characters.
const TEXTS: &[&str] = &[
    "",
    "Kind staff, short wait.",
    "Ring me on 07700 900123 about my NHS number 943 476 5919",
    "Roedd y staff yn garedig iawn 🙂",
    "شكرا لكم — the nurse explained everything",
    "Tab\tand new\nline, e-mail a.patient@example.com",
    "👩🏽‍⚕️👍 born 12/03/1954, postcode LS1 4AP",
];

/// The submission client `c` sends as its `i`th response: a pure function of `(c, i)`, so a
/// retry sends exactly the same body.
fn submission(c: usize, i: usize) -> Value {
    let key = format!("crash-{c:03}-{i:07}");
    let response = if (c + i) % 5 == 4 {
        // SDM-Q-9 (numbers, one missing now and then).
        let answers: serde_json::Map<String, Value> = (1..=9)
            .filter(|q| !(i + q).is_multiple_of(11))
            .map(|q| (format!("q{q}"), json!((c + i + q) % 6)))
            .collect();
        json!({"instrument": "sdm-q-9", "version": 1, "locale": "en", "idempotency_key": key, "answers": answers})
    } else {
        let fft = chorus_core::instrument::FFT_ANSWER_IDS[(c * 7 + i) % 6];
        let why = TEXTS[(c + 3 * i) % TEXTS.len()];
        json!({"instrument": "fft", "version": 1, "locale": if i.is_multiple_of(3) { "cy" } else { "en" },
            "idempotency_key": key, "answers": {"fft": fft, "why": why}})
    };
    json!({"site": "crash", "service": "ward-12", "response": response})
}

/// What a client saw.
#[derive(Default)]
struct ClientLog {
    /// Key → (row id, reference) from the first receipt.
    acked: BTreeMap<String, (i64, String)>,
    /// Keys given up on after a transport failure: stored or not, never acknowledged.
    abandoned: BTreeSet<String>,
    /// Attempts that failed and were retried.
    retries: usize,
    /// Deliberate re-sends of acknowledged responses that got the same receipt back.
    replays_checked: usize,
    /// Anything that breaks the promise: described for the failure message.
    problems: Vec<String>,
}

fn client(c: usize, seed: u64, addr: Arc<Mutex<String>>, stop: Arc<AtomicBool>) -> ClientLog {
    let mut rng = Rng((seed ^ (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
    let mut log = ClientLog::default();
    common::until_stopped(
        &stop,
        |i| submission(c, i),
        |key, body| {
            loop {
                let at = addr.lock().unwrap().clone();
                match post(&at, &body) {
                    Ok((201 | 200, v)) => {
                        let (Some(id), Some(reference)) =
                            (v["id"].as_i64(), v["reference"].as_str())
                        else {
                            log.problems
                                .push(format!("{key}: a receipt without id: {v}"));
                            break;
                        };
                        log.acked.insert(key.clone(), (id, reference.to_string()));
                        // Now and then the widget's retry arrives after the receipt did.
                        if rng.below(8) == 0
                            && let Ok((status, again)) = post(&at, &body)
                        {
                            if status == 200
                                && again["replayed"] == true
                                && again["id"] == v["id"]
                                && again["reference"] == v["reference"]
                            {
                                log.replays_checked += 1;
                            } else if status != 503 && status != 408 {
                                log.problems
                                    .push(format!("{key}: a retry got {status} {again}, not {v}"));
                            }
                        }
                        break;
                    }
                    Ok((503 | 408 | 500 | 502, _)) | Err(_) => {
                        // Not acknowledged. A patient may give up (unless the run is ending:
                        // then every client finishes what it started).
                        if !stop.load(Ordering::Relaxed) && rng.below(10) == 0 {
                            log.abandoned.insert(key.clone());
                            break;
                        }
                        log.retries += 1;
                        std::thread::sleep(Duration::from_millis(5 + rng.below(40)));
                    }
                    Ok((status, v)) => {
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

/// One stored row, as read back.
struct Row {
    id: i64,
    key: String,
    site: String,
    service: Option<String>,
    instrument: String,
    version: i64,
    locale: String,
    body_hash: String,
    answers: String,
    scores: String,
    received_at: String,
}

/// The answers and scores the server should have stored for this submission, and its hash.
fn expected_row(sub: &Value) -> (Value, Value, String) {
    let parsed: chorus_server::api::Submission = serde_json::from_value(sub.clone()).unwrap();
    let r = &parsed.response;
    let inst = chorus_core::library::get(&r.instrument).unwrap();
    let answers: BTreeMap<String, chorus_core::Answer> = r
        .answers
        .iter()
        .map(|(k, a)| {
            let a = match a {
                chorus_core::Answer::Text(t) => {
                    chorus_core::Answer::Text(chorus_core::redact::redact(t).text)
                }
                other => other.clone(),
            };
            (k.clone(), a)
        })
        .collect();
    let scores = serde_json::to_value(chorus_core::score(&inst, r)).unwrap();
    let hash: String = Sha256::digest(serde_json::to_vec(&parsed).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (serde_json::to_value(answers).unwrap(), scores, hash)
}

/// Read every row (and, for SQLite, run the integrity check) after the server has stopped.
fn read_back(database: &str) -> (Vec<Row>, Option<String>) {
    use sqlx::Row as _;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(database).await.unwrap();
        let rows = sqlx::query(
            "SELECT id, idempotency_key, site, service, instrument, version, locale, body_hash, answers, scores, received_at FROM responses ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|r| Row {
            id: r.get(0),
            key: r.get(1),
            site: r.get(2),
            service: r.get(3),
            instrument: r.get(4),
            version: r.get(5),
            locale: r.get(6),
            body_hash: r.get(7),
            answers: r.get(8),
            scores: r.get(9),
            received_at: r.get(10),
        })
        .collect();
        let integrity = if database.starts_with("sqlite:") {
            Some(
                sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
                    .fetch_one(&pool)
                    .await
                    .unwrap(),
            )
        } else {
            None
        };
        pool.close().await;
        (rows, integrity)
    })
}

fn scale() -> usize {
    std::env::var("CHORUS_CRASH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

fn crash_test(name: &str, database: &str, dir: &Path) {
    let scale = scale();
    let (clients, kills) = (12 * scale, 3 * scale);
    let seed = (nanos() as u64) | 1;
    let mut rng = Rng(seed);
    let started = Instant::now();

    let (mut child, first) = serve(database, dir);
    let addr = Arc::new(Mutex::new(first));
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, stop) = (addr.clone(), stop.clone());
            std::thread::spawn(move || client(c, seed, addr, stop))
        })
        .collect();
    for _ in 0..kills {
        // Long enough for commits to be under way, short enough to land in the middle of one.
        std::thread::sleep(Duration::from_millis(300 + rng.below(700)));
        child.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        child.child.wait().unwrap();
        // Clients hammer a dead address for a moment, as they would in real life.
        std::thread::sleep(Duration::from_millis(rng.below(200)));
        let (next, at) = serve(database, dir);
        child = next;
        *addr.lock().unwrap() = at;
    }
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::Relaxed);
    let logs: Vec<ClientLog> = threads.into_iter().map(|t| t.join().unwrap()).collect();

    // SIGTERM (what systemd, Docker and the e2e harness send) is a clean, prompt exit.
    let term = Command::new("kill")
        .args(["-TERM", &child.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");

    let mut acked: BTreeMap<String, (i64, String)> = BTreeMap::new();
    let mut abandoned = BTreeSet::new();
    let mut problems = Vec::new();
    let (mut retries, mut replays) = (0, 0);
    for log in logs {
        acked.extend(log.acked);
        abandoned.extend(log.abandoned);
        problems.extend(log.problems);
        retries += log.retries;
        replays += log.replays_checked;
    }

    let (mut rows, integrity) = read_back(database);
    // A key that looks like personal data is stored hashed (`api::stored_key`): "crash-001-
    // 0000086" holds 001 000 0086, which passes the NHS number check. Map back the keys sent.
    let sent: BTreeMap<String, &String> = acked
        .keys()
        .chain(&abandoned)
        .map(|k| (chorus_server::api::stored_key(k), k))
        .collect();
    for row in &mut rows {
        if let Some(k) = sent.get(&row.key) {
            row.key = (*k).clone();
        }
    }
    let mut by_key: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        by_key.entry(row.key.as_str()).or_default().push(row);
    }
    let duplicates: usize = by_key.values().map(|v| v.len() - 1).sum();
    // Every acknowledged response: there once, under the id its receipt named.
    let mut stored_once = 0;
    for (key, (id, reference)) in &acked {
        match by_key.get(key.as_str()).map(Vec::as_slice) {
            Some([row])
                if row.id == *id && chorus_server::reference::from_id(row.id) == *reference =>
            {
                stored_once += 1
            }
            Some([row]) => problems.push(format!(
                "{key}: receipt said id {id} ({reference}), stored as id {}",
                row.id
            )),
            Some(_) => {}
            None => problems.push(format!("{key}: acknowledged as {reference} but LOST")),
        }
    }
    // Every row: sent by a client, acknowledged or abandoned, and whole.
    let (mut half_written, mut unaccounted, mut abandoned_stored) = (0, 0, 0);
    for row in &rows {
        let Some((c, i)) = row
            .key
            .strip_prefix("crash-")
            .and_then(|k| k.split_once('-'))
            .and_then(|(c, i)| Some((c.parse().ok()?, i.parse().ok()?)))
        else {
            unaccounted += 1;
            problems.push(format!("row {}: key {:?} no client sent", row.id, row.key));
            continue;
        };
        if !acked.contains_key(&row.key) {
            if abandoned.contains(&row.key) {
                abandoned_stored += 1;
            } else {
                unaccounted += 1;
                problems.push(format!(
                    "row {}: {} is stored but was neither acknowledged nor abandoned",
                    row.id, row.key
                ));
            }
        }
        let sub = submission(c, i);
        let (answers, scores, hash) = expected_row(&sub);
        let r = &sub["response"];
        let whole = row.site == "crash"
            && row.service.as_deref() == Some("ward-12")
            && row.instrument == r["instrument"]
            && row.version == 1
            && row.locale == r["locale"]
            && row.body_hash == hash
            && serde_json::from_str::<Value>(&row.answers).ok() == Some(answers)
            && serde_json::from_str::<Value>(&row.scores).ok() == Some(scores)
            && row.received_at.len() >= 20;
        if !whole {
            half_written += 1;
            problems.push(format!(
                "row {} ({}) is not what was sent: answers {} scores {}",
                row.id, row.key, row.answers, row.scores
            ));
        }
    }

    report(&format!(
        "crash test ({name}, seed {seed}, scale {scale}): {clients} clients, {kills} SIGKILLs in {:.1} s; \
         {} acknowledged, {stored_once} stored exactly once, {duplicates} duplicates, \
         {} rows in all, {} abandoned unacknowledged ({abandoned_stored} of them stored whole, {} absent), \
         {half_written} half-written, {unaccounted} unaccounted for; {retries} retries, {replays} replays with the same receipt; \
         integrity {}",
        started.elapsed().as_secs_f64(),
        acked.len(),
        rows.len(),
        abandoned.len(),
        abandoned.len() - abandoned_stored,
        integrity.as_deref().unwrap_or("n/a"),
    ));
    problems.truncate(20);
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
    assert_eq!(stored_once, acked.len(), "{name}: acknowledged = stored");
    assert_eq!(duplicates, 0, "{name}: duplicates");
    assert_eq!((half_written, unaccounted), (0, 0), "{name}");
    assert_eq!(rows.len(), acked.len() + abandoned_stored, "{name}");
    if let Some(check) = integrity {
        assert_eq!(check, "ok", "{name}: SQLite integrity check");
    }
    // The rollups reports read were kept in the same commits as the rows, kills or not.
    let check = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["rollup", "check", "--database", database])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    report(&format!(
        "crash test ({name}): chorus rollup check: {}",
        said.trim()
    ));
    assert!(
        check.status.success() && said.contains(" 0 differ"),
        "{name}: rollups differ from the rows after the kills:\n{said}{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        said.contains(&format!("({} responses)", rows.len())),
        "{name}: the check recounted every row: {said}"
    );
    // The test is only worth something if the kills landed among live traffic.
    assert!(
        acked.len() >= 50 * scale,
        "{name}: only {} acknowledged",
        acked.len()
    );
    assert!(
        retries > 0,
        "{name}: no request ever failed: the kills missed"
    );
}

#[test]
fn acknowledged_responses_survive_repeated_kill_9_exactly_once_sqlite() {
    let dir = TempDir::new("crash");
    let database = format!("sqlite://{}", dir.0.join("chorus.db").display());
    crash_test("SQLite", &database, &dir.0);
}

#[test]
fn acknowledged_responses_survive_repeated_kill_9_exactly_once_postgres() {
    let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
        report("skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL");
        return;
    };
    let dir = TempDir::new("crash-pg");
    let schema = format!("crash_{}_{}", std::process::id(), nanos());
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Names made of digits we generated: safe to splice.
    let admin = |sql: String| common::pg_admin(&rt, &base, &sql);
    admin(format!("CREATE SCHEMA {schema}"));
    let sep = if base.contains('?') { '&' } else { '?' };
    crash_test(
        "PostgreSQL",
        &format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        &dir.0,
    );
    admin(format!("DROP SCHEMA {schema} CASCADE"));
}
