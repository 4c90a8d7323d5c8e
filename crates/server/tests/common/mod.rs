//! What the server's integration tests share: a fresh database on either backend, and its
//! removal after a test passes (a failed test keeps it to look at).

pub mod client;

use std::{path::PathBuf, sync::Arc};

use chorus_server::AppState;
use sqlx::any::AnyRow;

/// Which storage backend a test runs on.
#[derive(Clone, Copy, Debug)]
#[allow(dead_code)] // not every test file runs on PostgreSQL
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A number no other test in this run will pick.
pub fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
}

/// A fresh, empty database: a SQLite file in its own temporary directory, or an isolated
/// schema on `CHORUS_TEST_POSTGRES_URL` so tests never see each other's rows.
pub struct TestDb {
    /// Database URL for `Store::open`.
    pub url: String,
    /// The test's own temporary directory (SQLite file, stand-in bundle and site).
    pub dir: PathBuf,
    schema: Option<(String, String)>,
}

impl TestDb {
    /// `None` (with the reason printed) when the backend is not available here.
    pub async fn new(backend: Backend, prefix: &str) -> Option<TestDb> {
        let dir = std::env::temp_dir().join(format!(
            "chorus-{prefix}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let (url, schema) = match backend {
            Backend::Sqlite => (format!("sqlite://{}", dir.join("t.db").display()), None),
            Backend::Postgres => {
                let Ok(base) = std::env::var("CHORUS_TEST_POSTGRES_URL") else {
                    // Straight to stderr, past libtest's capture, so the skip is seen.
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "skipped: set CHORUS_TEST_POSTGRES_URL to run this test on PostgreSQL"
                    );
                    return None;
                };
                sqlx::any::install_default_drivers();
                let schema = format!("t_{}_{}", std::process::id(), rand_suffix());
                let admin = sqlx::AnyPool::connect(&base)
                    .await
                    .expect("connect to PostgreSQL");
                // The name is made of digits we generated: safe to splice.
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&admin)
                    .await
                    .unwrap();
                admin.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
                (url, Some((base, schema)))
            }
        };
        Some(TestDb { url, dir, schema })
    }

    /// Close the app's pool, then remove the directory and the schema.
    pub async fn remove(self, state: Arc<AppState>) {
        state.store.pool().close().await;
        self.clean().await;
    }

    /// Remove the directory and the schema (for a test whose servers are processes).
    pub async fn clean(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((base, schema)) = self.schema {
            let admin = sqlx::AnyPool::connect(&base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }
}

/// A second site beside the demo one: no origins, 30 days' retention, the given services.
#[allow(dead_code)] // not every test file has a second site
pub fn other_site(services: &[&str]) -> chorus_server::config::Site {
    chorus_server::config::Site {
        id: "other".into(),
        name: "Another trust".into(),
        origins: vec![],
        services: services.iter().map(|s| (*s).into()).collect(),
        instruments: vec![],
        retention_days: 30,
        withdraw_days: 30,
        org_code: "OTH".into(),
        site_code: "OTH01".into(),
    }
}

/// The app on a fresh database of `backend`: the demo configuration with sign-in failures
/// answered at once, changed by `configure`, and empty bundle and site folders.
#[allow(dead_code)] // only the dashboard-style test files use it
pub async fn app_with(
    backend: Backend,
    prefix: &str,
    configure: impl FnOnce(&mut chorus_server::config::Config),
) -> Option<(axum::Router, Arc<AppState>, TestDb)> {
    let db = TestDb::new(backend, prefix).await?;
    let store = chorus_server::store::Store::open(&db.url)
        .await
        .unwrap_or_else(|e| panic!("{backend:?}: {e:#}"));
    let mut config = chorus_server::config::Config::demo();
    config.dashboard.failure_delay_ms = 1;
    configure(&mut config);
    let state = Arc::new(AppState::new(store, config));
    std::fs::create_dir_all(db.dir.join("www")).unwrap();
    let paths = chorus_server::Paths {
        pkg_dir: db.dir.join("pkg"),
        www_dir: db.dir.join("www"),
    };
    Some((chorus_server::router(state.clone(), paths), state, db))
}

/// Post a submission to the API as JSON, from `origin` if given (no `Origin` header is a
/// server-to-server post): the status and the JSON answer (`Null` if it is not JSON).
#[allow(dead_code)] // not every test file posts through the router
pub async fn post_submission(
    app: &axum::Router,
    body: &serde_json::Value,
    origin: Option<&str>,
) -> (axum::http::StatusCode, serde_json::Value) {
    let mut req = axum::http::Request::post("/api/v1/responses")
        .header(axum::http::header::CONTENT_TYPE, "application/json");
    if let Some(o) = origin {
        req = req.header(axum::http::header::ORIGIN, o);
    }
    json_answer(
        app,
        req.body(axum::body::Body::from(body.to_string())).unwrap(),
    )
    .await
}

/// Send a request through the router: the status and the JSON answer (`Null` if it is not
/// JSON).
#[allow(dead_code)] // not every test file sends through the router
pub async fn json_answer(
    app: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> (axum::http::StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Each listed case runs on SQLite and, where `CHORUS_TEST_POSTGRES_URL` is set, PostgreSQL:
/// `on_both!(workers; case, …)` calls the test file's own `app_on(Backend)` for a fresh
/// `(Router, Arc<AppState>, TestDb)`, runs `case(app, state)` on a runtime with that many worker
/// threads, and removes the database after a pass.
#[macro_export]
macro_rules! on_both {
    ($workers:literal; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
            async fn $name() {
                let (app, state, leftovers) = super::app_on(super::Backend::Sqlite).await.unwrap();
                super::$name(app, state.clone()).await;
                leftovers.remove(state).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = $workers)]
            async fn $name() {
                if let Some((app, state, leftovers)) = super::app_on(super::Backend::Postgres).await {
                    super::$name(app, state.clone()).await;
                    leftovers.remove(state).await;
                }
            })*
        }
    };
}

/// One HTTP/1.1 request over a fresh connection to a server the test started: (status, body).
/// Any transport failure — refused, reset, or an answer shorter than its `Content-Length` (a
/// server killed mid-answer) — is an `Err`: the request was not acknowledged.
#[allow(dead_code)] // only the tests that start a server process use it
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    body: &str,
    timeout: std::time::Duration,
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8(raw).map_err(std::io::Error::other)?;
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {text:?}")))?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(usize::MAX))
        })
        .unwrap_or(body.len());
    if body.len() != length {
        return Err(std::io::Error::other("truncated answer"));
    }
    Ok((status, body.to_string()))
}

/// A `chorus serve` child process a test started: killed if the test ends before stopping it,
/// and its log (stderr) kept for the test to read.
#[allow(dead_code)] // only the tests that start a server process use it
pub struct ServerProcess {
    pub child: std::process::Child,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start the built `chorus serve` on a free port with `config` (TOML, written into `dir`, which
/// also stands in for the bundle and site folders) and `database`; returns it and its address,
/// or the log if it exits before listening.
#[allow(dead_code)] // only the tests that start a server process use it
pub fn serve_process(
    database: &str,
    dir: &std::path::Path,
    config: &str,
) -> Result<(ServerProcess, String), String> {
    use std::io::BufRead;
    let file = dir.join("chorus-test.toml");
    std::fs::write(&file, config).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["serve", "--addr", "127.0.0.1:0", "--pkg-dir"])
        .arg(dir)
        .arg("--www-dir")
        .arg(dir)
        .arg("--config")
        .arg(&file)
        .env("DATABASE_URL", database)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.wait();
            return Err(log.lock().unwrap().join("\n"));
        };
        log.lock().unwrap().push(line.clone());
        if let Some((_, rest)) = line.split_once("Chorus listening on http://") {
            break rest
                .split(|c: char| c == '"' || c.is_whitespace())
                .next()
                .unwrap()
                .to_string();
        }
    };
    // Keep draining (and keeping) the log, or the server would block on a full pipe.
    let keep = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(line);
        }
    });
    Ok((ServerProcess { child, log }, addr))
}

/// A form body as a browser sends it (`application/x-www-form-urlencoded`).
#[allow(dead_code)] // only the dashboard tests post forms
pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Run `sql` (one statement or several) on the PostgreSQL database at `url`, from a test that
/// is not async itself: creating and dropping the schema or database a process test runs in,
/// or turning connections off and on. Only names the test generated are spliced into `sql`.
#[allow(dead_code)] // only the PostgreSQL process tests use it
pub fn pg_admin(rt: &tokio::runtime::Runtime, url: &str, sql: &str) {
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    })
}

/// A shared scoring vector's library instrument, at the version the case names (else the
/// current one).
#[allow(dead_code)] // only the tests that read the core's vectors use it
pub fn vector_instrument(case: &serde_json::Value) -> chorus_core::Instrument {
    let id = case["instrument"]
        .as_str()
        .expect("a library instrument id");
    match case["version"].as_u64() {
        Some(v) => chorus_core::library::get_version(id, u32::try_from(v).unwrap()),
        None => chorus_core::library::get(id),
    }
    .unwrap_or_else(|| panic!("no library instrument {id} at {}", case["version"]))
}

/// The password of every account a dashboard test makes (long enough for the password rules).
#[allow(dead_code)] // only the tests that sign in use it
pub const PASSWORD: &str = "correct horse battery";

/// A new account (`role` on `site`, with [`PASSWORD`]) and a browser signed in as it.
#[allow(dead_code)] // only the tests that sign in use it
pub async fn signed_in(
    app: &axum::Router,
    state: &AppState,
    email: &str,
    site: &str,
    role: &str,
) -> client::Client {
    signed_in_as(client::Client::new(app), state, email, site, role).await
}

/// [`signed_in`] with a browser of the test's own (one that names a host, say).
#[allow(dead_code)] // only the tests that sign in use it
pub async fn signed_in_as(
    mut c: client::Client,
    state: &AppState,
    email: &str,
    site: &str,
    role: &str,
) -> client::Client {
    chorus_server::users::add(&state.store, email, PASSWORD, site, role)
        .await
        .unwrap();
    let p = c.sign_in(email, PASSWORD).await;
    assert_eq!(p.status, axum::http::StatusCode::SEE_OTHER, "{}", p.body);
    c
}

/// A value bound into a test's query: the tests look rows up by number or by text.
#[allow(dead_code)] // not every test file reads rows
pub enum Arg<'a> {
    Int(i64),
    Text(std::borrow::Cow<'a, str>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(v.into())
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(v.into())
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(v.into())
    }
}

/// Where a test's query runs: the app's own database, or a pool the test opened itself (on a
/// server process's database).
pub trait Db {
    fn pool(&self) -> &sqlx::AnyPool;
}

impl Db for AppState {
    fn pool(&self) -> &sqlx::AnyPool {
        self.store.pool()
    }
}

impl Db for sqlx::AnyPool {
    fn pool(&self) -> &sqlx::AnyPool {
        self
    }
}

impl<T: Db + ?Sized> Db for &T {
    fn pool(&self) -> &sqlx::AnyPool {
        (**self).pool()
    }
}

impl<T: Db + ?Sized> Db for Arc<T> {
    fn pool(&self) -> &sqlx::AnyPool {
        (**self).pool()
    }
}

/// `sql` with `args` bound in order as `$1`, `$2`, …, each row read as `T` (a tuple of its
/// columns).
fn query<'q, T>(
    sql: &'static str,
    args: &[Arg<'_>],
) -> sqlx::query::QueryAs<'q, sqlx::Any, T, sqlx::any::AnyArguments>
where
    T: for<'r> sqlx::FromRow<'r, AnyRow>,
{
    let mut q = sqlx::query_as::<_, T>(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.to_string()),
        };
    }
    q
}

/// Every row of `sql` (see [`query`]) on `db`.
#[allow(dead_code)] // not every test file reads rows
pub async fn rows<T>(db: &(impl Db + Sync), sql: &'static str, args: &[Arg<'_>]) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
{
    query::<T>(sql, args)
        .fetch_all(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first row of `sql` (see [`query`]); the test fails if there is none.
#[allow(dead_code)] // not every test file reads rows
pub async fn row<T>(db: &(impl Db + Sync), sql: &'static str, args: &[Arg<'_>]) -> T
where
    T: for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
{
    query::<T>(sql, args)
        .fetch_one(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Run the statement `sql` (see [`query`]) on `db`: the rows it changed.
#[allow(dead_code)] // not every test file changes rows behind the app's back
pub async fn exec(db: &(impl Db + Sync), sql: &'static str, args: &[Arg<'_>]) -> u64 {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(*v),
            Arg::Text(v) => q.bind(v.to_string()),
        };
    }
    q.execute(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows_affected()
}

/// The first column of every row of `sql` (see [`query`]).
#[allow(dead_code)] // not every test file reads rows
pub async fn column<T>(db: &(impl Db + Sync), sql: &'static str, args: &[Arg<'_>]) -> Vec<T>
where
    (T,): for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
{
    rows::<(T,)>(db, sql, args)
        .await
        .into_iter()
        .map(|(v,)| v)
        .collect()
}

/// The first column of the first row of `sql` (see [`row`]): a count, an id, a setting.
#[allow(dead_code)] // not every test file reads rows
pub async fn value<T>(db: &(impl Db + Sync), sql: &'static str, args: &[Arg<'_>]) -> T
where
    (T,): for<'r> sqlx::FromRow<'r, AnyRow> + Send + Unpin,
{
    row::<(T,)>(db, sql, args).await.0
}

/// A small deterministic generator (xorshift64*), seeded per run and printed by the tests that
/// use it, so a failing schedule can be replayed.
#[allow(dead_code)] // only the randomised tests use it
pub struct Rng(pub u64);

#[allow(dead_code)] // only the randomised tests use it
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A load client's submissions, `make(0)`, `make(1)`, … until `stop` is set, each handed to
/// `send` with its idempotency key (and as the JSON body it posts, unchanged by a retry).
#[allow(dead_code)] // only the tests that load a server process use it
pub fn until_stopped(
    stop: &std::sync::atomic::AtomicBool,
    make: impl Fn(usize) -> serde_json::Value,
    mut send: impl FnMut(String, String),
) {
    for i in 0.. {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        let sub = make(i);
        let key = sub["response"]["idempotency_key"]
            .as_str()
            .unwrap()
            .to_string();
        send(key, sub.to_string());
    }
}

/// A port free on 127.0.0.1 now (the listener that found it is closed again), for a process or
/// stand-in service a test starts.
#[allow(dead_code)] // only the tests that start processes or stand-in services use it
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `chorus score --instrument <id>` on `lines` (one response as JSON a line, written to a file
/// in `dir`): the reports it prints, one a line; the command must succeed.
#[allow(dead_code)] // only the tests that compare the offline scorer use it
pub fn chorus_score(dir: &std::path::Path, id: &str, lines: &[String]) -> Vec<serde_json::Value> {
    let file = dir.join(format!("{id}.jsonl"));
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = succeeded(
        std::process::Command::new(env!("CARGO_BIN_EXE_chorus"))
            .args(["score", "--instrument", id])
            .arg(&file),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A stand-in bundle and site in `dir` (what `cargo xtask dist` writes, in miniature): `files`
/// (name, bytes) in `pkg/`, and an empty `www/`. Returns the two folders.
#[allow(dead_code)] // only the tests that serve the bundle use it
pub fn stand_in_bundle(dir: &std::path::Path, files: &[(&str, &[u8])]) -> chorus_server::Paths {
    let (pkg_dir, www_dir) = (dir.join("pkg"), dir.join("www"));
    std::fs::create_dir_all(&pkg_dir).unwrap();
    std::fs::create_dir_all(&www_dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(pkg_dir.join(name), bytes).unwrap();
    }
    chorus_server::Paths { pkg_dir, www_dir }
}

/// The output of `command`, which must succeed (its stderr shown if it does not).
#[allow(dead_code)] // only the tests that run commands use it
pub fn succeeded(command: &mut std::process::Command) -> std::process::Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A temporary folder, removed when dropped (a process test's database and configuration).
#[allow(dead_code)] // only the tests that run the binary use it
pub struct TempDir(pub PathBuf);

#[allow(dead_code)] // only the tests that run the binary use it
impl TempDir {
    pub fn new(what: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "chorus-{what}-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Nanoseconds since the epoch: a seed that differs from run to run.
#[allow(dead_code)] // only the randomised process tests use it
pub fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// A line straight to stderr, past libtest's capture, so a test's figures are always seen.
#[allow(dead_code)] // only the tests that report figures use it
pub fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}
