//! The `chorus` binary: offline commands, configuration, and the running server as a process.

use std::process::Command;

use serde_json::{Value, json};

fn chorus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chorus"))
}

/// `chorus score` gives, line for line, the score reports the core (and so the API, whose
/// test compares it with the core) gives for the shared vectors.
#[test]
fn score_matches_the_core_for_the_vectors() {
    let vectors: Vec<Value> =
        serde_json::from_str(include_str!("../../core/vectors/scoring.json")).unwrap();
    let dir = std::env::temp_dir().join(format!("chorus-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    let ids: std::collections::BTreeSet<&str> = vectors
        .iter()
        .map(|c| c["instrument"].as_str().unwrap())
        .collect();
    for id in ids {
        let inst = chorus_core::library::get(id).unwrap();
        let mut lines = Vec::new();
        let mut expected = Vec::new();
        for (n, c) in vectors.iter().filter(|c| c["instrument"] == id).enumerate() {
            let r: chorus_core::Response = serde_json::from_value(json!({
                "instrument": id, "version": 1, "idempotency_key": format!("cli-{n:08}"), "answers": c["answers"]}))
            .unwrap();
            if chorus_core::validate_response(&inst, &r).is_err() {
                continue;
            }
            lines.push(serde_json::to_string(&r).unwrap());
            expected.push(serde_json::to_value(chorus_core::score(&inst, &r)).unwrap());
        }
        let file = dir.join(format!("{id}.jsonl"));
        std::fs::write(&file, lines.join("\n")).unwrap();
        let out = chorus()
            .args(["score", "--instrument", id])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got, expected, "{id}");
        checked += got.len();
    }
    assert!(checked >= 140, "{checked}");
}

#[test]
fn score_reports_bad_lines_and_keeps_line_numbers() {
    let dir = std::env::temp_dir().join(format!("chorus-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.jsonl");
    let good = r#"{"instrument":"fft","version":1,"idempotency_key":"cli-good-0001","answers":{"fft":"good"}}"#;
    std::fs::write(
        &file,
        format!(
            "{good}\nnot json\n{}\n",
            good.replace("good\"}", "great\"}")
        ),
    )
    .unwrap();
    let out = chorus()
        .args(["score", "--instrument", "fft"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].contains("positive"));
    assert_eq!((lines[1], lines[2]), ("null", "null"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 2:") && stderr.contains("line 3:"),
        "{stderr}"
    );
}

#[test]
fn unknown_instrument_is_a_clear_error() {
    let out = chorus()
        .args(["score", "--instrument", "nope", "/dev/null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a built-in instrument"));
}

/// A temporary folder, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("chorus-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_database_comes_from_the_flag_then_the_environment_then_the_config_file() {
    let dir = TempDir::new("config");
    let config = dir.0.join("chorus.toml");
    std::fs::write(
        &config,
        format!(
            "database = \"sqlite://{}\"\n[[sites]]\nid = \"t\"\norigins = [\"https://www.t.nhs.uk\"]\n",
            dir.0.join("from-file/chorus.db").display()
        ),
    )
    .unwrap();
    let migrate = |env: Option<&str>, flag: Option<&str>| {
        let mut c = chorus();
        c.env_remove("DATABASE_URL")
            .env("CHORUS_CONFIG", &config)
            .arg("migrate");
        if let Some(e) = env {
            c.env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.0.join(e).display()),
            );
        }
        if let Some(f) = flag {
            c.arg("--database")
                .arg(format!("sqlite://{}", dir.0.join(f).display()));
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    migrate(None, None);
    assert!(dir.0.join("from-file/chorus.db").exists());
    migrate(Some("from-env.db"), None);
    assert!(dir.0.join("from-env.db").exists());
    migrate(Some("from-env-2.db"), Some("from-flag.db"));
    assert!(dir.0.join("from-flag.db").exists() && !dir.0.join("from-env-2.db").exists());

    // A mistake in the file stops the server at start-up with the file and the problem named.
    std::fs::write(
        &config,
        "[[sites]]\nid = \"t\"\norigins = [\"www.t.nhs.uk\"]\n",
    )
    .unwrap();
    let out = chorus()
        .env_remove("DATABASE_URL")
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chorus.toml") && err.contains("www.t.nhs.uk"),
        "{err}"
    );
}

/// Start `chorus serve` on a free port; returns the child and its address.
fn serve(database: &str, dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    // The demo site, without the per-address limit (every client here is 127.0.0.1).
    let config = dir.join("load.toml");
    std::fs::write(
        &config,
        "[[sites]]\nid = \"demo\"\n[limits]\nper_ip_per_minute = 1000000\nper_site_per_minute = 1000000\n",
    )
    .unwrap();
    let mut child = chorus()
        .args(["serve", "--addr", "127.0.0.1:0", "--pkg-dir"])
        .arg(dir)
        .arg("--www-dir")
        .arg(dir)
        .arg("--config")
        .arg(&config)
        .env("DATABASE_URL", database)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("chorus exited before listening")
            .unwrap();
        if let Some((_, rest)) = line.split_once("Chorus listening on http://") {
            break rest
                .split(|c: char| c == '"' || c.is_whitespace())
                .next()
                .unwrap()
                .to_string();
        }
    };
    // Keep draining the log, or the server would block on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

/// One HTTP/1.1 POST over a fresh connection: (status, JSON body).
fn post(addr: &str, body: &str) -> std::io::Result<(u16, Value)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "POST /api/v1/responses HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {text:?}")))?;
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// The brief's promise: nothing acknowledged is lost on `kill -9`. Clients post as fast as
/// they can; the server is killed mid-stream; every receipt it gave must be in the database
/// when it comes back, and a retry of each gets the same receipt.
#[test]
fn nothing_acknowledged_is_lost_on_kill_9_sqlite() {
    let dir = TempDir::new("kill9");
    let database = format!("sqlite://{}", dir.0.join("chorus.db").display());
    kill_9_loses_nothing(&database, &dir.0);
}

#[test]
fn nothing_acknowledged_is_lost_on_kill_9_postgres() {
    let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL"
        );
        return;
    };
    let dir = TempDir::new("kill9-pg");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("k_{}_{nanos}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let admin = |sql: String| {
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        })
    };
    // The name is made of digits we generated: safe to splice.
    admin(format!("CREATE SCHEMA {schema}"));
    let sep = if base.contains('?') { '&' } else { '?' };
    kill_9_loses_nothing(
        &format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        &dir.0,
    );
    admin(format!("DROP SCHEMA {schema} CASCADE"));
}

fn kill_9_loses_nothing(database: &str, dir: &std::path::Path) {
    let (mut child, addr) = serve(database, dir);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..6)
        .map(|c| {
            let (addr, stop) = (addr.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let body = json!({"site": "demo", "response": {"instrument": "fft", "version": 1,
                        "idempotency_key": format!("kill9-{c}-{i:06}"), "answers": {"fft": "good"}}})
                    .to_string();
                    match post(&addr, &body) {
                        Ok((201, receipt)) => acked.push((body, receipt)),
                        _ => break, // the server is gone: this one was never acknowledged
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<(String, Value)> = clients
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(
        acked.len() > 20,
        "only {} acknowledged before the kill",
        acked.len()
    );

    let (mut child, addr) = serve(database, dir);
    for (body, receipt) in &acked {
        let (status, again) = post(&addr, body).unwrap();
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["reference"], receipt["reference"]);
        assert_eq!(again["replayed"], true);
    }
    // SIGTERM (what systemd, Docker and the e2e harness send) is a clean, prompt exit.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}
