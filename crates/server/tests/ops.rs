//! Running Chorus for years: backups taken under write load restore with every acknowledged
//! response, restores never overwrite, and `chorus doctor` finds each misconfiguration a test
//! plants (and passes a healthy deployment).

use std::{path::Path, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::{
    AppState, Paths, backup,
    doctor::{self, Finding, Level},
    router,
    store::Store,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

#[allow(dead_code)] // only its unique suffix is used here
mod common;

fn temp_dir(prefix: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "chorus-{prefix}-{}-{}",
        std::process::id(),
        common::rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn app(url: &str, dir: &Path) -> (Router, Arc<AppState>) {
    let store = Store::open(url).await.unwrap();
    let state = Arc::new(AppState::new(store, chorus_server::config::Config::demo()));
    let paths = Paths {
        pkg_dir: dir.join("pkg"),
        www_dir: dir.join("www"),
    };
    (router(state.clone(), paths), state)
}

/// POST one FFT response; the receipt's reference if it was acknowledged.
async fn submit(app: &Router, key: &str) -> Option<String> {
    let body = json!({"site": "demo", "service": "outpatients", "response": {
        "instrument": "fft", "version": 1, "locale": "en", "idempotency_key": key,
        "answers": {"fft": "good", "why": "Seen quickly."}}});
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/responses")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status != StatusCode::CREATED {
        eprintln!("{key}: {status} {v}");
    }
    (status == StatusCode::CREATED).then(|| v["reference"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_restores_every_response_acknowledged_before_it() {
    let dir = temp_dir("backup");
    let url = format!("sqlite://{}", dir.join("live.db").display());
    let (app, state) = app(&url, &dir).await;

    // Writers keep submitting while the backup runs.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = Arc::new(std::sync::Mutex::new(
        Vec::<(std::time::Instant, String)>::new(),
    ));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (app, stop, acked) = (app.clone(), stop.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 5_000 {
                if let Some(r) = submit(&app, &format!("backup-load-w{w}-{i}")).await {
                    acked.lock().unwrap().push((std::time::Instant::now(), r));
                }
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = std::time::Instant::now();
    let file = dir.join("backups/chorus-1.db");
    let outcome = backup::backup(&url, &file).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let before: Vec<&String> = acked
        .iter()
        .filter(|(t, _)| *t < started)
        .map(|(_, r)| r)
        .collect();
    let after = acked.len() - before.len();
    assert!(
        !before.is_empty() && after > 0,
        "the load did not overlap the backup ({} before, {after} after)",
        before.len()
    );
    eprintln!(
        "backup of {} responses in {:.2} s while {} more were acknowledged",
        outcome.responses, outcome.seconds, after
    );
    // Overwriting is refused.
    let again = backup::backup(&url, &file).await.unwrap_err();
    assert!(format!("{again:#}").contains("already exists"), "{again:#}");
    state.store.pool().close().await;

    // Into a fresh server: every response acknowledged before the backup started is there.
    let restored = format!("sqlite://{}", dir.join("restored/chorus.db").display());
    let o = backup::restore(&file, &restored).await.unwrap();
    assert_eq!(o.responses, outcome.responses);
    let store = Store::open(&restored).await.unwrap();
    for r in &before {
        assert!(
            store.find_reference(r).await.unwrap().is_some(),
            "{r} was acknowledged before the backup and is missing from it"
        );
    }
    // And a restore never overwrites a database.
    let over = backup::restore(&file, &restored).await.unwrap_err();
    assert!(format!("{over:#}").contains("already exists"), "{over:#}");
    store.pool().close().await;
    // A file that is not a backup is refused before anything is written.
    std::fs::write(dir.join("junk.db"), b"not a database at all").unwrap();
    let target = dir.join("from-junk/chorus.db");
    let junk = backup::restore(
        &dir.join("junk.db"),
        &format!("sqlite://{}", target.display()),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{junk:#}").contains("not a usable backup"),
        "{junk:#}"
    );
    assert!(!target.exists(), "a refused restore left a database behind");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A healthy deployment in `dir`: config, migrated database, a bundle with its manifest.
async fn healthy(dir: &Path) -> doctor::Options {
    let db = dir.join("data/chorus.db");
    let url = format!("sqlite://{}", db.display());
    Store::open(&url).await.unwrap().pool().close().await;
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(
        dir.join("www/index.html"),
        "<!doctype html><title>x</title>",
    )
    .unwrap();
    let js = b"console.log('chorus')";
    std::fs::write(pkg.join("chorus.js"), js).unwrap();
    let sri = {
        use base64::Engine;
        use sha2::{Digest, Sha384};
        format!(
            "sha384-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha384::digest(js))
        )
    };
    std::fs::write(
        pkg.join("manifest.json"),
        json!({"files": [{"file": "chorus.js", "integrity": sri}], "toolchain": {"reproducible": true}}).to_string(),
    )
    .unwrap();
    let config = dir.join("chorus.toml");
    std::fs::write(
        &config,
        r#"
[[sites]]
id = "trust"
name = "A trust"
origins = ["https://www.example-trust.nhs.uk"]
services = ["outpatients"]
org_code = "RXX"
site_code = "RXX01"
"#,
    )
    .unwrap();
    doctor::Options {
        config: Some(config),
        database: url,
        pkg_dir: pkg,
        www_dir: dir.join("www"),
    }
}

fn worst(findings: &[Finding], check: &str) -> Level {
    findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.level)
        .max()
        .unwrap_or_else(|| panic!("no {check} finding in {findings:#?}"))
}

fn message(findings: &[Finding], check: &str) -> String {
    findings
        .iter()
        .filter(|f| f.check == check && f.level != Level::Ok)
        .map(|f| f.message.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn doctor_passes_a_healthy_deployment() {
    let dir = temp_dir("doctor-ok");
    let opts = healthy(&dir).await;
    let findings = doctor::run(&opts).await;
    for f in &findings {
        // Free disk depends on the machine running the tests; everything else must be ok.
        if f.check != "disk" {
            assert_eq!(f.level, Level::Ok, "{f:?}");
        }
    }
    for check in [
        "config",
        "database",
        "database.schema",
        "database.write",
        "clock",
        "bundle",
    ] {
        assert_eq!(worst(&findings, check), Level::Ok, "{check}");
    }
    assert_eq!(doctor::print(&findings, false), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn doctor_finds_each_planted_misconfiguration() {
    // Config: an http origin, a site without services, no ODS code, a password in the file.
    let dir = temp_dir("doctor-config");
    let opts = healthy(&dir).await;
    std::fs::write(
        opts.config.as_ref().unwrap(),
        r#"
database = "postgres://chorus:secret@db.internal/chorus"
[[sites]]
id = "trust"
origins = ["http://www.example-trust.nhs.uk"]
"#,
    )
    .unwrap();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "config.origins"), Level::Fail);
    assert!(message(&f, "config.origins").contains("not https"));
    assert_eq!(worst(&f, "config.services"), Level::Warn);
    assert_eq!(worst(&f, "config.org_code"), Level::Warn);
    assert_eq!(worst(&f, "config.secrets"), Level::Warn);
    assert_eq!(doctor::print(&f, false), 1);

    // Sign-in through the trust's provider whose client secret is not in the environment;
    // then one whose variable is set (PATH stands in for it: set in every environment).
    let oidc = |var: &str| {
        format!(
            "[[sites]]\nid = \"trust\"\norigins = [\"https://www.example-trust.nhs.uk\"]\nservices = [\"ae\"]\norg_code = \"RXX\"\n[oidc]\nissuer = \"https://login.example.com/t/v2.0\"\nclient_id = \"c\"\nclient_secret_env = \"{var}\"\nredirect_url = \"https://c.example-trust.nhs.uk/dashboard/oidc/callback\"\nallowed_domains = [\"nhs.net\"]\n"
        )
    };
    std::fs::write(
        opts.config.as_ref().unwrap(),
        oidc("CHORUS_TEST_NO_SUCH_SECRET_VARIABLE"),
    )
    .unwrap();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "config.oidc_secret"), Level::Fail);
    assert!(message(&f, "config.oidc_secret").contains("CHORUS_TEST_NO_SUCH_SECRET_VARIABLE"));
    std::fs::write(opts.config.as_ref().unwrap(), oidc("PATH")).unwrap();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "config.oidc_secret"), Level::Ok);

    // A configuration that does not parse.
    std::fs::write(opts.config.as_ref().unwrap(), "[[sites]]\nid = 3\n").unwrap();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "config"), Level::Fail);

    // No database file at all; then an unmigrated one; then one from a newer version.
    let dir = temp_dir("doctor-db");
    let mut opts = healthy(&dir).await;
    opts.database = format!("sqlite://{}", dir.join("missing/chorus.db").display());
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "database"), Level::Fail);
    assert!(message(&f, "database").contains("chorus migrate"));

    let empty = dir.join("empty.db");
    {
        use sqlx::Connection;
        let o = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&empty)
            .create_if_missing(true);
        let mut c = sqlx::SqliteConnection::connect_with(&o).await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    opts.database = format!("sqlite://{}", empty.display());
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "database.schema"), Level::Fail);
    assert!(message(&f, "database.schema").contains("not migrated"));

    let newer = dir.join("data/chorus.db");
    let url = format!("sqlite://{}", newer.display());
    let store = Store::open(&url).await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999999, 'later', TRUE, X'00', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    store.pool().close().await;
    opts.database = url;
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "database.schema"), Level::Fail);
    assert!(message(&f, "database.schema").contains("newer version"));

    // A database server that does not answer.
    opts.database = "postgres://chorus:chorus@127.0.0.1:9/chorus".into();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "database"), Level::Fail);

    // A clock behind the newest stored response.
    let dir = temp_dir("doctor-clock");
    let opts = healthy(&dir).await;
    let store = Store::open(&opts.database).await.unwrap();
    sqlx::query("INSERT INTO responses (site, instrument, version, locale, idempotency_key, body_hash, answers, scores, received_at) VALUES ('trust', 'fft', 1, 'en', 'k', 'h', '{}', '{}', '2999-01-01T00:00:00.000Z')")
        .execute(store.pool())
        .await
        .unwrap();
    store.pool().close().await;
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "clock"), Level::Fail);

    // A bundle file changed after its manifest was written, then a missing manifest.
    let dir = temp_dir("doctor-pkg");
    let opts = healthy(&dir).await;
    std::fs::write(opts.pkg_dir.join("chorus.js"), b"tampered").unwrap();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "bundle"), Level::Fail);
    assert!(message(&f, "bundle").contains("does not match"));
    std::fs::remove_file(opts.pkg_dir.join("manifest.json")).unwrap();
    let f = doctor::run(&opts).await;
    assert_eq!(worst(&f, "bundle"), Level::Fail);
}

#[tokio::test]
async fn doctor_finds_a_database_that_cannot_be_written() {
    // As root, permissions do not stop writes; an immutable file does (chattr +i), where the
    // filesystem supports it.
    let dir = temp_dir("doctor-ro");
    let opts = healthy(&dir).await;
    let db = chorus_server::store::sqlite_path(&opts.database).unwrap();
    let immutable = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&db)
        .status()
        .is_ok_and(|s| s.success());
    if !immutable {
        // Not root, or no chattr: read-only permissions do stop a normal user.
        let mut p = std::fs::metadata(&db).unwrap().permissions();
        p.set_readonly(true);
        std::fs::set_permissions(&db, p).unwrap();
    }
    let f = doctor::run(&opts).await;
    if immutable {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&db)
            .status();
    }
    assert_eq!(worst(&f, "database.write"), Level::Fail, "{f:#?}");
    assert!(message(&f, "database.write").contains("cannot write"));
    let _ = std::fs::remove_dir_all(&dir);
}
