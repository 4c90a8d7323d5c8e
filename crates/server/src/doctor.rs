//! `chorus doctor`: checks a deployment the way an operator would before trusting it, and says
//! what to fix in plain words. Nothing it does changes a patient's data: the one write is a
//! committed bump of its own heartbeat row, which proves the database takes writes now.
//!
//! Exit status (for scripts and monitoring): 0 when nothing failed, 1 when a check failed;
//! with `--strict`, warnings count as failures too.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use sqlx::{Connection, Row};

use crate::config::Config;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One thing checked: a stable id for scripts and tests, what was found, what to do.
#[derive(Clone, Debug)]
pub struct Finding {
    pub level: Level,
    pub check: &'static str,
    pub message: String,
}

/// What to check.
pub struct Options {
    /// The configuration file, if the deployment has one.
    pub config: Option<PathBuf>,
    /// The database URL (after flags, environment and file are resolved).
    pub database: String,
    /// The embed bundle folder.
    pub pkg_dir: PathBuf,
    /// The site folder.
    pub www_dir: PathBuf,
}

/// Below this, storage is about to fill: new responses would fail.
const DISK_FAIL_BYTES: u64 = 512 * 1024 * 1024;
/// Below this, an operator should act soon.
const DISK_WARN_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Run every check.
pub async fn run(opts: &Options) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    check_config(&mut f, opts.config.as_deref());
    check_database(&mut f, &opts.database).await;
    check_disk(&mut f, &opts.database);
    check_bundle(&mut f, &opts.pkg_dir);
    if !opts.www_dir.join("index.html").is_file() {
        f.warn(
            "www",
            format!(
                "{} has no index.html: the demo site and docs will not be served (harmless if you only embed)",
                opts.www_dir.display()
            ),
        );
    }
    f.0
}

struct Findings(Vec<Finding>);

impl Findings {
    fn push(&mut self, level: Level, check: &'static str, message: String) {
        self.0.push(Finding {
            level,
            check,
            message,
        });
    }
    fn ok(&mut self, check: &'static str, m: String) {
        self.push(Level::Ok, check, m);
    }
    fn warn(&mut self, check: &'static str, m: String) {
        self.push(Level::Warn, check, m);
    }
    fn fail(&mut self, check: &'static str, m: String) {
        self.push(Level::Fail, check, m);
    }
}

fn check_config(f: &mut Findings, path: Option<&Path>) {
    let Some(path) = path else {
        f.warn(
            "config",
            "no configuration file (--config or CHORUS_CONFIG): the server runs the permissive demo site; write one from chorus.example.toml".into(),
        );
        return;
    };
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            f.fail("config", format!("{e:#}"));
            return;
        }
    };
    f.ok("config", format!("{} reads and checks", path.display()));
    // The provider's client secret lives in the environment, not the file: a missing variable
    // is found here, not when the first member of staff tries to sign in.
    if let Some(o) = &config.oidc {
        match std::env::var(&o.client_secret_env) {
            Ok(v) if !v.trim().is_empty() => f.ok(
                "config.oidc_secret",
                format!("the OpenID client secret is set (in {})", o.client_secret_env),
            ),
            _ => f.fail(
                "config.oidc_secret",
                format!(
                    "[oidc] reads its client secret from {}, which is not set in this environment: staff could not sign in with the trust's accounts",
                    o.client_secret_env
                ),
            ),
        }
    }
    if config.sites.is_empty() {
        f.fail(
            "config.sites",
            "no [[sites]]: no page can submit a response; add one per trust website".into(),
        );
    }
    for s in &config.sites {
        if s.origins.is_empty() {
            f.warn(
                "config.origins",
                format!(
                    "site \"{}\" lists no origins: only pages served by Chorus itself can submit",
                    s.id
                ),
            );
        }
        for o in &s.origins {
            let local = ["http://localhost", "http://127.0.0.1", "http://[::1]"]
                .iter()
                .any(|l| o.starts_with(l));
            if !o.starts_with("https://") && !local {
                f.fail(
                    "config.origins",
                    format!(
                        "site \"{}\": origin {o} is not https: patients' answers would cross the network in clear; use https://",
                        s.id
                    ),
                );
            } else if local {
                f.warn(
                    "config.origins",
                    format!(
                        "site \"{}\": origin {o} is a local development address; remove it in production",
                        s.id
                    ),
                );
            }
        }
        if s.services.is_empty() {
            f.warn(
                "config.services",
                format!(
                    "site \"{}\" accepts any service name: list its services so reports stay tidy and typos are refused",
                    s.id
                ),
            );
        }
        if s.org_code.is_empty() {
            f.warn(
                "config.org_code",
                format!(
                    "site \"{}\" has no ODS org_code: the NHS England FFT return will have a blank organisation",
                    s.id
                ),
            );
        }
    }
    if let Some(db) = &config.database
        && db.starts_with("postgres")
        && db.contains('@')
        && db
            .split("://")
            .nth(1)
            .and_then(|r| r.split('@').next())
            .is_some_and(|cred| cred.contains(':'))
    {
        f.warn(
            "config.secrets",
            "the database password is written in the configuration file: set DATABASE_URL in the service's environment (or a credentials file) instead".into(),
        );
    }
    if config.dashboard.secure_cookies == Some(false) {
        f.warn(
            "config.dashboard",
            "dashboard.secure_cookies = false: staff session cookies may be sent over plain http"
                .into(),
        );
    }
}

async fn check_database(f: &mut Findings, url: &str) {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    if let Some(path) = crate::store::sqlite_path(url)
        && !path.exists()
    {
        f.fail(
            "database",
            format!(
                "there is no database at {}: run `chorus migrate` (or start the server once) to create it",
                path.display()
            ),
        );
        return;
    }
    let connect = sqlx::AnyConnection::connect(url);
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            f.fail(
                "database",
                format!(
                    "cannot connect: {e}; check the URL, that the database server runs and accepts this user"
                ),
            );
            return;
        }
        Err(_) => {
            f.fail(
                "database",
                "no answer within 5 s: is the database server running and reachable?".into(),
            );
            return;
        }
    };
    f.ok("database", "reachable".into());

    // Migrated: exactly the migrations this build knows, all applied.
    let known: Vec<i64> = crate::store::migrator(sqlite)
        .iter()
        .map(|m| m.version)
        .collect();
    let applied: Vec<i64> =
        match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&mut conn)
            .await
        {
            Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
            Err(_) => Vec::new(),
        };
    let newer: Vec<_> = applied.iter().filter(|v| !known.contains(v)).collect();
    let pending: Vec<_> = known.iter().filter(|v| !applied.contains(v)).collect();
    if !newer.is_empty() {
        f.fail(
            "database.schema",
            format!(
                "written by a newer version of Chorus (migrations {newer:?} are unknown to this build): run that version or later"
            ),
        );
        return;
    }
    if !pending.is_empty() {
        f.fail(
            "database.schema",
            format!(
                "not migrated ({} of {} migrations pending): run `chorus migrate` (the server also migrates on start)",
                pending.len(),
                known.len()
            ),
        );
        return;
    }
    f.ok(
        "database.schema",
        format!("migrated ({} migrations)", known.len()),
    );

    // Writable now: a real, committed write to doctor's own heartbeat row.
    let write = async {
        let mut tx = conn.begin().await?;
        sqlx::query(
            "INSERT INTO heartbeat (id, beats) VALUES (2, 1) ON CONFLICT (id) DO UPDATE SET beats = heartbeat.beats + 1",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    };
    match tokio::time::timeout(Duration::from_secs(10), write).await {
        Ok(Ok(())) => f.ok("database.write", "a write committed".into()),
        Ok(Err(e)) => f.fail(
            "database.write",
            format!(
                "cannot write: {e}; new responses would be refused (503). Check free space, file permissions and attributes, and the database user's rights"
            ),
        ),
        Err(_) => f.fail(
            "database.write",
            "a write did not finish within 10 s: the database is locked or overloaded".into(),
        ),
    }

    // The clock: a clock behind the newest stored response would file answers in the past.
    let now = crate::store::iso_utc(crate::util::now_secs());
    match sqlx::query("SELECT MAX(received_at) FROM responses")
        .fetch_one(&mut conn)
        .await
        .map(|r| r.get::<Option<String>, _>(0))
    {
        Ok(Some(newest)) if newest.as_str() > now.as_str() => f.fail(
            "clock",
            format!(
                "this machine's clock ({now}) is behind the newest stored response ({newest}): fix the time (NTP) before serving"
            ),
        ),
        Ok(_) => f.ok("clock", format!("{now} (not behind any stored response)")),
        Err(e) => f.warn("clock", format!("could not compare with stored responses: {e}")),
    }
    if !sqlite
        && let Ok(row) = sqlx::query("SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)")
            .fetch_one(&mut conn)
            .await
    {
        let db_secs: i64 = row.get(0);
        let skew = (db_secs - crate::util::now_secs()).abs();
        if skew > 60 {
            f.warn(
                "clock",
                format!(
                    "this machine and the database server disagree on the time by {skew} s: run NTP on both"
                ),
            );
        }
    }
    let _ = conn.close().await;
}

fn check_disk(f: &mut Findings, url: &str) {
    let Some(path) = crate::store::sqlite_path(url) else {
        return; // PostgreSQL's disk is the database server's: monitor it there.
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match rustix::fs::statvfs(dir) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let gib = free as f64 / (1024.0 * 1024.0 * 1024.0);
            let m = format!("{gib:.1} GiB free for {}", dir.display());
            if free < DISK_FAIL_BYTES {
                f.fail(
                    "disk",
                    format!("{m}: storage is about to fill and responses would be refused; free space or move the database"),
                );
            } else if free < DISK_WARN_BYTES {
                f.warn("disk", format!("{m}: add space soon"));
            } else {
                f.ok("disk", m);
            }
        }
        Err(e) => f.warn(
            "disk",
            format!("cannot read free space of {}: {e}", dir.display()),
        ),
    }
}

fn check_bundle(f: &mut Findings, pkg: &Path) {
    let manifest = pkg.join("manifest.json");
    let text = match std::fs::read_to_string(&manifest) {
        Ok(t) => t,
        Err(e) => {
            f.fail(
                "bundle",
                format!(
                    "{}: {e}; the widgets cannot be served: unpack the release's pkg/ there (or point --pkg-dir at it)",
                    manifest.display()
                ),
            );
            return;
        }
    };
    let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
        f.fail("bundle", format!("{} is not JSON", manifest.display()));
        return;
    };
    let mut bad = Vec::new();
    let files = m["files"].as_array().cloned().unwrap_or_default();
    for file in &files {
        let (Some(name), Some(want)) = (file["file"].as_str(), file["integrity"].as_str()) else {
            continue;
        };
        match std::fs::read(pkg.join(name)) {
            Ok(bytes) if sri(&bytes) == want => {}
            Ok(_) => bad.push(format!("{name} does not match its hash")),
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    if files.is_empty() {
        f.fail("bundle", format!("{} lists no files", manifest.display()));
    } else if bad.is_empty() {
        f.ok(
            "bundle",
            format!("{} files match {}", files.len(), manifest.display()),
        );
        if m["toolchain"]["reproducible"] == serde_json::Value::Bool(false) {
            f.warn(
                "bundle",
                "the bundle was not built with the pinned recipe: its SRI hashes cannot be reproduced from source".into(),
            );
        }
    } else {
        f.fail(
            "bundle",
            format!(
                "{}: web teams' integrity attributes would block the widget; reinstall pkg/ from the release",
                bad.join("; ")
            ),
        );
    }
}

fn sri(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha384};
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

/// The findings as the operator reads them, and the exit status.
pub fn print(findings: &[Finding], strict: bool) -> i32 {
    for x in findings {
        let mark = match x.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        println!("{mark}  {:<16} {}", x.check, x.message);
    }
    let worst = findings.iter().map(|x| x.level).max().unwrap_or(Level::Ok);
    let fails = findings.iter().filter(|x| x.level == Level::Fail).count();
    let warns = findings.iter().filter(|x| x.level == Level::Warn).count();
    println!("{fails} failed, {warns} warnings");
    match worst {
        Level::Fail => 1,
        Level::Warn if strict => 1,
        _ => 0,
    }
}
