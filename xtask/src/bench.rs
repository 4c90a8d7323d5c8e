//! `cargo xtask bench`: Chorus measured side by side with its peers, in one run, written to
//! `BENCHMARKS.md` with the machine, the date and how busy the machine was. Figures, never
//! timed assertions: the report names each figure that misses the brief's budget and what the
//! run shows about why.
//!
//! 1. Bundle: raw, gzip and brotli bytes of every file each benchmark page downloads (the list
//!    comes from the browser's resource timing), against the 80 KB brotli budget; the biggest
//!    contributors inside the wasm (twiggy).
//! 2. Time to form: `bench/measure.mjs` in headless Chromium, CPU throttled 4×, pages served
//!    locally by a release `chorus serve`: Chorus, a plain hand-written HTML + JS form (the
//!    floor) and SurveyJS showing the same question, interleaved in the same run.
//! 3. Interaction: click on an answer → next frame; page moves in the I Statement form.
//! 4. Server: `crates/server/examples/load.rs` against a release `chorus serve` on SQLite and
//!    PostgreSQL (durable commits), fixed concurrency for a fixed time; receipts are checked
//!    against the rows stored.
//! 5. Core: criterion's validate + score + redact per second.
//! 6. Reports: every report page's p50 / p95 over HTTP on a database seeded with `--scale`
//!    responses (1 million by default), SQLite and PostgreSQL, with the database's size.

mod browser;
mod bundle;
mod corebench;
mod load;
mod report;
mod reports;
mod stats;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::util::{self, CommandExt, root, step};

/// Command-line options of `cargo xtask bench`.
#[derive(clap::Args, Debug, Clone)]
pub struct Options {
    /// Page loads per page for time to form (the median of at least 9 is what the issue asks).
    #[arg(long, default_value_t = 11)]
    pub runs: usize,
    /// Seconds of load per database.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Responses seeded for the report-page timings (`reports`); 10000000 for the long run.
    #[arg(long, default_value_t = 1_000_000)]
    pub scale: u64,
    /// Only these parts, comma-separated: bundle, browser, server, reports, core. Without --out the
    /// report then goes to <target>/bench-run/BENCHMARKS.partial.md, not the repository's.
    #[arg(long)]
    pub only: Option<String>,
    /// Where to write the report [default: BENCHMARKS.md at the repository root].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl Options {
    fn wants(&self, part: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|p| p.trim() == part))
    }
}

/// The cargo target directory (where this run builds and keeps its scratch files).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

/// Run every benchmark and write the report.
pub fn run(opts: Options) -> anyhow::Result<()> {
    let root = root();
    let target = target_dir();
    let work = target.join("bench-run");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let started = stats::now_utc();
    let mut rep = report::Report::new(&opts, started, report::Machine::probe());

    // So the command works on a fresh machine: toolchains, npm packages, Chromium, PostgreSQL.
    crate::setup::run()?;

    let needs_pkg = opts.wants("bundle") || opts.wants("browser");
    if needs_pkg && let Err(e) = crate::dist::run(false) {
        // Others edit the widgets in this checkout: a half-edited widget must not stop the
        // server and core figures. The last good bundle is measured, and the report says so.
        anyhow::ensure!(
            root.join("pkg/manifest.json").exists(),
            "cargo xtask dist failed and there is no earlier bundle in pkg/: {e:#}"
        );
        println!("    cargo xtask dist failed; measuring the bundle already in pkg/: {e:#}");
        rep.note(format!(
            "`cargo xtask dist` failed during this run ({}); the bundle measured is the one already in `pkg/`, built earlier from this checkout.",
            format!("{e:#}").lines().next().unwrap_or("")
        ));
    }
    let needs_server = opts.wants("browser") || opts.wants("server") || opts.wants("reports");
    let bins = if needs_server {
        Some(build_server(&target)?)
    } else {
        None
    };

    let site = if needs_pkg {
        Some(browser::assemble_site(&work)?)
    } else {
        None
    };
    if opts.wants("bundle") {
        rep.contributors = Some(bundle::contributors(&work));
    }
    if opts.wants("browser") || opts.wants("bundle") {
        let (server_bin, _) = bins.as_ref().context("the server is built")?;
        let site = site.as_ref().context("the site is assembled")?;
        let result = browser::run(server_bin, site, &work, &opts)?;
        rep.set_browser(result, site)?;
    }
    if opts.wants("server") {
        let (server_bin, load_bin) = bins.as_ref().context("the server is built")?;
        rep.loads = load::run_all(server_bin, load_bin, &work, &opts);
    }
    if opts.wants("reports") {
        let (server_bin, _) = bins.as_ref().context("the server is built")?;
        std::fs::create_dir_all(work.join("site"))?;
        rep.reports = reports::run_all(server_bin, &work, &opts);
    }
    if opts.wants("core") {
        rep.core = Some(corebench::run(&target).map_err(|e| format!("{e:#}")));
    }

    rep.finish(stats::now_utc(), report::Machine::loadavg());
    let out = opts.out.clone().unwrap_or_else(|| {
        if opts.only.is_some() {
            work.join("BENCHMARKS.partial.md")
        } else {
            root.join("BENCHMARKS.md")
        }
    });
    std::fs::write(&out, rep.markdown())?;
    step(&format!("Wrote {}", out.display()));
    print!("{}", rep.summary_text());
    Ok(())
}

/// `chorus` and the load generator, built with the `server` profile (optimised, as deployed).
fn build_server(target: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    step("Building the chorus server and the load generator (release `server` profile)");
    util::cmd(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--profile",
            "server",
            "--package",
            "chorus-server",
            "--bin",
            "chorus",
            "--example",
            "load",
        ])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(root())
        .status_checked()?;
    let dir = target.join("server");
    Ok((dir.join("chorus"), dir.join("examples/load")))
}

/// A `chorus serve` child process on a free local port.
pub struct Server {
    child: Child,
    /// `127.0.0.1:port`.
    pub addr: String,
}

impl Server {
    /// Start it with this database (and configuration file), serving `site` as its bundle
    /// folder (`/embed/`); returns once `/healthz` answers 200.
    pub fn start(
        bin: &Path,
        database: &str,
        config: Option<&Path>,
        site: &Path,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = format!("127.0.0.1:{port}");
        let mut c = Command::new(bin);
        c.args(["serve", "--addr", &addr, "--database", database])
            .arg("--pkg-dir")
            .arg(site)
            .arg("--www-dir")
            .arg(site)
            .env("RUST_LOG", "warn")
            .env_remove("CHORUS_CONFIG")
            .stdin(Stdio::null());
        if let Some(config) = config {
            c.arg("--config").arg(config);
        }
        let child = c
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut server = Server { child, addr };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!("chorus serve exited at start-up ({status})");
            }
            if http_get(&server.addr, "/healthz").is_ok_and(|(s, _)| s == 200) {
                return Ok(server);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "chorus serve did not answer /healthz within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// CPU time the server has used so far, in seconds (Linux `/proc`).
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        let ticks = stats::proc_cpu_ticks(&stat)?;
        let hz = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .unwrap_or(100.0);
        Some(ticks as f64 / hz)
    }

    /// SIGTERM (a graceful stop: in-flight commits are answered), then wait.
    pub fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.wait();
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain HTTP/1.1 GET: `(status, body)`.
pub fn http_get(addr: &str, path: &str) -> anyhow::Result<(u16, String)> {
    reports::request(addr, "GET", path, "", None, Duration::from_secs(10))
        .map(|(status, _, body)| (status, body))
}
