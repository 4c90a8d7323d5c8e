//! Safeguarding and complaint flags reach people: a REAL SMTP server (aiosmtpd, from PyPI;
//! `cargo xtask setup` installs it) and a real webhook receiver (Python's `http.server`), both
//! started here on loopback, receive the notice for a flagged response posted through the API;
//! the mail and the webhook body carry the expected fields and no comment text; the webhook's
//! HMAC-SHA256 signature verifies (checked by the receiver in Python and here with the `hmac`
//! crate); the receiver's first answer is a 500, so the retry is proven too. With both
//! channels down the patient still gets the receipt at once, and the failure is audited.

use std::{
    io::BufRead,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Router, http::StatusCode};
use chorus_server::{AppState, Paths, router, store::Store};
use serde_json::{Value, json};

#[allow(dead_code)]
mod common;

use common::{Backend, TestDb};

const SECRET: &str = "test-secret-0123456789";

/// Child processes are ended when the test ends, pass or fail.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python() -> String {
    std::env::var("CHORUS_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// aiosmtpd writing every message into a Maildir at `dir`.
fn smtp_server(dir: &Path) -> (Kill, u16) {
    let ok = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "Python's aiosmtpd is needed for this test: run `cargo xtask setup` (or `python3 -m pip install aiosmtpd`)"
    );
    let port = common::free_port();
    let child = Command::new(python())
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let child = Kill(child);
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "aiosmtpd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Writes each POST (headers, body, and whether Python's own HMAC check passed) to
/// `<dir>/<n>.json`; answers the first with 500 and the rest with 204.
const RECEIVER: &str = r#"
import hashlib, hmac, http.server, json, os, sys
out, secret = sys.argv[1], sys.argv[2].encode()
os.makedirs(out, exist_ok=True)
count = [0]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        ts = self.headers.get("X-Chorus-Timestamp", "")
        want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        got = self.headers.get("X-Chorus-Signature", "")
        count[0] += 1
        with open(os.path.join(out, "%d.json" % count[0]), "w") as f:
            json.dump({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode(),
                       "python_hmac_ok": hmac.compare_digest(want, got)}, f)
        self.send_response(500 if count[0] == 1 else 204)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

fn webhook_receiver(dir: &Path) -> (Kill, u16) {
    let mut child = Command::new(python())
        .args(["-c", RECEIVER])
        .arg(dir)
        .arg(SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (
        Kill(child),
        line.trim().parse().expect("the receiver prints its port"),
    )
}

async fn app_with(
    db: &TestDb,
    notify: chorus_server::notify::NotifyConfig,
) -> (Router, Arc<AppState>) {
    let store = Store::open(&db.url).await.unwrap();
    let mut config = chorus_server::config::Config::demo();
    config.notify = notify;
    config.check().unwrap();
    let state = Arc::new(AppState::new(store, config));
    std::fs::create_dir_all(db.dir.join("www")).unwrap();
    let paths = Paths {
        pkg_dir: db.dir.join("pkg"),
        www_dir: db.dir.join("www"),
    };
    (router(state.clone(), paths), state)
}

async fn post(app: &Router, why: &str) -> (StatusCode, Value, Duration) {
    let body = json!({"site": "demo", "service": "emergency", "response": {
        "instrument": "fft", "version": 1, "locale": "en",
        "idempotency_key": format!("flag-{}", common::rand_suffix()),
        "answers": {"fft": "very_poor", "why": why}}});
    let started = Instant::now();
    let (status, answer) = common::post_submission(app, &body, None).await;
    assert!(!answer.is_null(), "the answer is JSON");
    (status, answer, started.elapsed())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    });
    v
}

fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'=', Some(x)) => {
                out.push(x);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !f().await {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The comment: abuse and a complaint, with a phone number the redactor removes before storage.
const COMMENT: &str = "A nurse shouted at me in the corridor and I want to make a formal complaint. Ring me on 07700 900123 about the leg ulcer.";

async fn a_flagged_comment_reaches_the_smtp_server_and_the_webhook(backend: Backend) {
    let Some(db) = TestDb::new(backend, "flags").await else {
        return;
    };
    let (mail_dir, hook_dir) = (db.dir.join("mail"), db.dir.join("hook"));
    std::fs::create_dir_all(&db.dir).unwrap();
    let (_smtp, smtp_port) = smtp_server(&mail_dir);
    let (_hook, hook_port) = webhook_receiver(&hook_dir);
    let (app, state) = app_with(
        &db,
        chorus_server::notify::NotifyConfig {
            smtp: Some(format!("smtp://127.0.0.1:{smtp_port}")),
            email_to: vec!["safeguarding@example-trust.nhs.uk".into()],
            email_from: Some("chorus@example-trust.nhs.uk".into()),
            webhook_url: Some(format!("http://127.0.0.1:{hook_port}/chorus/flags")),
            webhook_secret: Some(SECRET.into()),
            dashboard_url: Some("https://feedback.example-trust.nhs.uk/".into()),
            attempts: 4,
            retry_seconds: 1,
        },
    )
    .await;

    let (status, receipt, _) = post(&app, COMMENT).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let reference = receipt["reference"].as_str().unwrap().to_string();
    let id = receipt["id"].as_i64().unwrap();

    // The mail.
    let new = mail_dir.join("new");
    wait_for("the e-mail", 30, async || !files(&new).is_empty()).await;
    let mails = files(&new);
    assert_eq!(mails.len(), 1);
    let mail = std::fs::read_to_string(&mails[0]).unwrap();
    // Headers unfolded, the quoted-printable body decoded, as a mail client shows it.
    let unfolded = quoted_printable(&mail.replace("\r\n", "\n").replace("\n ", " "));
    assert!(
        unfolded.contains("To: safeguarding@example-trust.nhs.uk"),
        "{mail}"
    );
    assert!(
        unfolded.contains("From: chorus@example-trust.nhs.uk"),
        "{mail}"
    );
    let subject = unfolded
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or("");
    assert!(
        subject.contains(&reference) && subject.contains("abuse") && subject.contains("complaint"),
        "{subject}"
    );
    assert!(
        unfolded.contains(&format!("Reference: {reference}")),
        "{mail}"
    );
    assert!(unfolded.contains("Service: emergency"), "{mail}");
    assert!(
        unfolded.contains("Flag: abuse (matched: shouted at)"),
        "{mail}"
    );
    assert!(
        unfolded.contains(&format!(
            "https://feedback.example-trust.nhs.uk/dashboard/review?site=demo#{reference}"
        )),
        "{mail}"
    );
    // No comment text: neither the redacted part nor the rest.
    for s in [
        "07700",
        "900123",
        "leg ulcer",
        "corridor",
        "[phone number]",
        "Ring me",
    ] {
        assert!(!mail.contains(s), "the mail holds {s:?}: {mail}");
    }

    // The webhook: the first try was answered 500, the retry 204.
    wait_for("the webhook retry", 30, async || {
        files(&hook_dir).len() >= 2
    })
    .await;
    let hooks: Vec<Value> = files(&hook_dir)
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    assert_eq!(hooks.len(), 2, "one failed try and one delivery: {hooks:?}");
    for h in &hooks {
        assert_eq!(h["path"], "/chorus/flags");
        assert_eq!(h["python_hmac_ok"], true, "{h}");
        let ts = h["headers"]["x-chorus-timestamp"].as_str().unwrap();
        let sig = h["headers"]["x-chorus-signature"].as_str().unwrap();
        let body = h["body"].as_str().unwrap();
        use hmac::{KeyInit, Mac};
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        m.update(format!("{ts}.{body}").as_bytes());
        let want: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig, format!("sha256={want}"));
        let age = chorus_server::dashboard::now_secs() - ts.parse::<i64>().unwrap();
        assert!((0..120).contains(&age), "timestamp {ts}");
        let n: Value = serde_json::from_str(body).unwrap();
        assert_eq!(n["event"], "comment_flagged");
        assert_eq!(n["site"], "demo");
        assert_eq!(n["service"], "emergency");
        assert_eq!(n["reference"], reference.as_str());
        let kinds: Vec<&str> = n["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["abuse", "complaint"], "{n}");
        assert_eq!(n["flags"][0]["cues"], json!(["shouted at"]));
        assert!(
            n["review_url"].as_str().unwrap().starts_with(
                "https://feedback.example-trust.nhs.uk/dashboard/review?site=demo#CH-"
            )
        );
        for s in ["07700", "900123", "leg ulcer", "corridor", "phone number"] {
            assert!(!body.contains(s), "the webhook body holds {s:?}: {body}");
        }
    }

    // In the review queue's tables, and audited.
    let kinds: Vec<String> = common::column(
        &state,
        "SELECT kind FROM comment_flags WHERE response_id = $1 ORDER BY kind",
        &[id.into()],
    )
    .await;
    assert_eq!(kinds, ["abuse", "complaint"]);
    wait_for("the audit entries", 10, async || {
        let actions: Vec<String> = common::column(
            &state,
            "SELECT action FROM audit_log WHERE action LIKE 'flag_%'",
            &[],
        )
        .await;
        actions.contains(&"flag_emailed".to_string())
            && actions.contains(&"flag_webhook_sent".to_string())
    })
    .await;

    // A comment with nothing to flag sends nothing.
    let (status, r2, _) = post(&app, "Kind nurses and a short wait, thank you.").await;
    assert_eq!(status, StatusCode::CREATED);
    let id2 = r2["id"].as_i64().unwrap();
    wait_for("the second comment to be read", 10, async || {
        sqlx::query("SELECT 1 FROM comment_classified WHERE response_id = $1")
            .bind(id2)
            .fetch_optional(state.store.pool())
            .await
            .unwrap()
            .is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(files(&new).len(), 1);
    assert_eq!(files(&hook_dir).len(), 2);
    db.remove(state).await;
}

async fn with_both_channels_down_the_receipt_is_immediate_and_the_failure_audited(
    backend: Backend,
) {
    let Some(db) = TestDb::new(backend, "flags-down").await else {
        return;
    };
    // Ports nothing listens on.
    let (a, b) = (common::free_port(), common::free_port());
    let (app, state) = app_with(
        &db,
        chorus_server::notify::NotifyConfig {
            smtp: Some(format!("smtp://127.0.0.1:{a}")),
            email_to: vec!["safeguarding@example-trust.nhs.uk".into()],
            email_from: Some("chorus@example-trust.nhs.uk".into()),
            webhook_url: Some(format!("http://127.0.0.1:{b}/hook")),
            webhook_secret: Some(SECRET.into()),
            dashboard_url: None,
            attempts: 2,
            retry_seconds: 1,
        },
    )
    .await;
    let (status, receipt, took) = post(&app, COMMENT).await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert!(took < Duration::from_secs(2), "the receipt waited {took:?}");
    let id = receipt["id"].as_i64().unwrap();
    wait_for("both failures in the audit log", 30, async || {
        let n: i64 = common::value(
            &state,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'flag_notify_failed'",
            &[],
        )
        .await;
        n == 2
    })
    .await;
    let flagged: i64 = common::value(
        &state,
        "SELECT COUNT(*) FROM comment_flags WHERE response_id = $1",
        &[id.into()],
    )
    .await;
    assert_eq!(flagged, 2, "the flags are kept for the review queue");
    db.remove(state).await;
}

macro_rules! both {
    ($($name:ident),*) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Backend::Sqlite).await })* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::Backend::Postgres).await })* }
    };
}

both!(
    a_flagged_comment_reaches_the_smtp_server_and_the_webhook,
    with_both_channels_down_the_receipt_is_immediate_and_the_failure_audited
);
