//! Item 6: report pages at scale. `chorus seed` fills a fresh database with `--scale`
//! responses over twelve months (the bulk path: the patient's handler without HTTP or rate
//! limits, so validation, scoring, redaction and rollups are all real), a release
//! `chorus serve` is started on it, a member of staff signs in, and every report page is
//! fetched many times over HTTP: p50 and p95 per page, the seeding rate and the database size.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::Context;

use super::{Options, Server, stats};
use crate::util::{self, step};

/// Report pages measured, with what they show.
pub const PAGES: [(&str, &str); 11] = [
    ("/dashboard?site=demo", "overview"),
    ("/dashboard/fft?site=demo", "FFT, all services, all time"),
    (
        "/dashboard/fft?site=demo&service=outpatients",
        "FFT, one service",
    ),
    ("/dashboard/i-statements?site=demo", "I Statements"),
    (
        "/dashboard/decisions?site=demo",
        "decision aids and measures",
    ),
    ("/dashboard/comments?site=demo", "comments, newest page"),
    (
        "/dashboard/comments?site=demo&q=parking",
        "comment search \"parking\"",
    ),
    ("/dashboard/themes?site=demo", "themes"),
    (
        "/dashboard/equality?site=demo",
        "experience gaps (equality)",
    ),
    (
        "/dashboard/exports/fft-return?site=demo&month={last}",
        "FFT return preview, last month",
    ),
    (
        "/dashboard/exports/fft-return.csv?site=demo&month={last}",
        "FFT return CSV, last month",
    ),
];

/// Timed fetches per page (after one untimed).
const RUNS: usize = 20;
/// [`RUNS`] for the report's text.
pub const RUNS_DOC: usize = RUNS;

const PASSWORD: &str = "bench-password-for-reports-42";

/// One page's figures: (path, what, p50 ms, p95 ms, status).
pub type PageTiming = (String, String, f64, f64, u16);

/// One backend's figures.
#[derive(Debug)]
pub struct ReportRun {
    /// "SQLite" or "PostgreSQL".
    pub backend: String,
    /// Responses stored.
    pub responses: u64,
    /// Seconds the seeding took.
    pub seed_seconds: f64,
    /// Database size in bytes.
    pub db_bytes: Option<u64>,
    /// Per page: (path, what, p50 ms, p95 ms, status), or why the run has none.
    pub pages: Result<Vec<PageTiming>, String>,
}

/// SQLite, then PostgreSQL where it can be started.
pub fn run_all(server_bin: &Path, work: &Path, opts: &Options) -> Vec<ReportRun> {
    let mut out = Vec::new();
    let file = work.join("reports.db");
    let _ = std::fs::remove_file(&file);
    let sqlite = format!("sqlite://{}", file.display());
    out.push(one("SQLite", &sqlite, server_bin, work, opts, || {
        let wal = std::fs::metadata(file.with_extension("db-wal")).map_or(0, |m| m.len());
        std::fs::metadata(&file).ok().map(|m| m.len() + wal)
    }));
    match util::fresh_local_postgres("chorus_bench_reports") {
        Ok(url) => out.push(one("PostgreSQL", &url, server_bin, work, opts, || {
            util::psql("SELECT pg_database_size('chorus_bench_reports')")
                .ok()
                .and_then(|s| s.trim().parse().ok())
        })),
        Err(e) => out.push(ReportRun {
            backend: "PostgreSQL".into(),
            responses: 0,
            seed_seconds: 0.0,
            db_bytes: None,
            pages: Err(format!("PostgreSQL could not be started here: {e:#}")),
        }),
    }
    out
}

fn one(
    backend: &str,
    url: &str,
    server_bin: &Path,
    work: &Path,
    opts: &Options,
    size: impl Fn() -> Option<u64>,
) -> ReportRun {
    let per_month = opts.scale.div_ceil(12);
    step(&format!(
        "Reports: {backend}, seeding {} responses ({per_month} a month for 12 months)",
        stats::thousands(per_month * 12)
    ));
    let mut run = ReportRun {
        backend: backend.into(),
        responses: per_month * 12,
        seed_seconds: 0.0,
        db_bytes: None,
        pages: Err(String::new()),
    };
    let started = Instant::now();
    let seeded = util::cmd(server_bin)
        .args([
            "seed",
            "--database",
            url,
            "--site",
            "demo",
            "--months",
            "12",
            "--per-month",
            &per_month.to_string(),
            "--admin-email",
            "bench@chorus.example",
            "--admin-password",
            PASSWORD,
        ])
        .env("RUST_LOG", "warn")
        .env_remove("CHORUS_CONFIG")
        .output();
    run.seed_seconds = started.elapsed().as_secs_f64();
    match seeded {
        Ok(o) if o.status.success() => println!(
            "    {}",
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
        ),
        Ok(o) => {
            run.pages = Err(format!(
                "chorus seed failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            return run;
        }
        Err(e) => {
            run.pages = Err(format!("chorus seed did not start: {e}"));
            return run;
        }
    }
    let server = match Server::start(server_bin, url, None, work.join("site").as_path()) {
        Ok(s) => s,
        Err(e) => {
            run.pages = Err(format!("the server did not start: {e:#}"));
            return run;
        }
    };
    // The server finishes its background work first (themes of comments the seeding left
    // unclassified): report pages are measured on a server at rest, not one still catching up.
    let quiet = settle(&server);
    println!("    background work done after {quiet:.0} s");
    run.pages = measure(&server.addr).map_err(|e| format!("{e:#}"));
    let _ = server.stop();
    run.db_bytes = size();
    if let Ok(pages) = &run.pages {
        for (path, _, p50, p95, status) in pages {
            println!("    {path}: p50 {p50:.1} ms, p95 {p95:.1} ms ({status})");
        }
    }
    run
}

/// Wait until the server uses less than a tenth of a core for two seconds (at most 20
/// minutes); returns the seconds waited.
fn settle(server: &Server) -> f64 {
    let started = Instant::now();
    let mut last = server.cpu_seconds();
    while started.elapsed() < Duration::from_secs(1200) {
        std::thread::sleep(Duration::from_secs(2));
        let now = server.cpu_seconds();
        if let (Some(a), Some(b)) = (last, now)
            && b - a < 0.2
        {
            break;
        }
        last = now;
    }
    started.elapsed().as_secs_f64()
}

/// Sign in, then fetch every page: p50 and p95 of [`RUNS`] fetches each.
fn measure(addr: &str) -> anyhow::Result<Vec<PageTiming>> {
    let cookie = sign_in(addr)?;
    // Last month (`YYYY-MM`), for the FFT return.
    let now = stats::now_utc();
    let (y, m) = (
        now[..4].parse::<i32>().unwrap_or(2026),
        now[5..7].parse::<u32>().unwrap_or(1),
    );
    let last = if m == 1 {
        format!("{:04}-12", y - 1)
    } else {
        format!("{y:04}-{:02}", m - 1)
    };
    let mut out = Vec::new();
    for (path, what) in PAGES {
        let path = &path.replace("{last}", &last);
        let (status, _, _) = request(addr, "GET", path, &cookie, None, REPORT_TIMEOUT)?;
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let (s, _, _) = request(addr, "GET", path, &cookie, None, REPORT_TIMEOUT)?;
            anyhow::ensure!(s == status, "{path} answered {s}, then {status}");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        out.push((
            path.clone(),
            what.to_string(),
            stats::percentile(&times, 0.50).unwrap_or(0.0),
            stats::percentile(&times, 0.95).unwrap_or(0.0),
            status,
        ));
    }
    Ok(out)
}

/// The session cookie of the seeded admin.
fn sign_in(addr: &str) -> anyhow::Result<String> {
    let (_, headers, body) = request(addr, "GET", "/dashboard/login", "", None, REPORT_TIMEOUT)?;
    let login_cookie = cookies(&headers);
    let token = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("no CSRF token on the sign-in page")?;
    let form = format!(
        "csrf={token}&email=bench%40chorus.example&password={}",
        PASSWORD.replace('-', "%2D")
    );
    let (status, headers, body) = request(
        addr,
        "POST",
        "/dashboard/login",
        &login_cookie,
        Some(&form),
        REPORT_TIMEOUT,
    )?;
    anyhow::ensure!(
        status == 303,
        "signing in answered {status}: {}",
        body.chars().take(300).collect::<String>()
    );
    Ok(cookies(&headers))
}

/// `name=value; …` of every Set-Cookie header.
fn cookies(headers: &str) -> String {
    headers
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("set-cookie")
                .then(|| v.trim().split(';').next().unwrap_or("").to_string())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// How long a report page may take to answer at the benchmark's scale.
const REPORT_TIMEOUT: Duration = Duration::from_secs(120);

/// One HTTP/1.1 request on a new connection: (status, header block, body), read to the end
/// (or until nothing has come for `timeout`).
pub(super) fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<(u16, String, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(timeout))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if let Some(f) = form {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nOrigin: http://{addr}\r\nContent-Length: {}\r\n",
            f.len()
        ));
    }
    req.push_str("\r\n");
    if let Some(f) = form {
        req.push_str(f);
    }
    s.write_all(req.as_bytes())?;
    let mut bytes = Vec::new();
    s.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no HTTP status")?;
    Ok((status, head.to_string(), body.to_string()))
}
