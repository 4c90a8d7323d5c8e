//! Item 4: the collector under load, on SQLite and on PostgreSQL, with durable commits.

use std::path::Path;

use super::{Options, Server, stats};
use crate::util::{self, step};

/// One backend's run.
#[derive(Debug)]
pub struct LoadRun {
    /// "SQLite" or "PostgreSQL".
    pub backend: String,
    /// Version and durability settings, as the database reports them.
    pub settings: String,
    /// The load generator's JSON figures, or why there are none.
    pub figures: Result<serde_json::Value, String>,
    /// CPU seconds the server process used during the run.
    pub server_cpu: Option<f64>,
    /// Load average (1 minute) just before and just after.
    pub load: (Option<f64>, Option<f64>),
}

/// The server's configuration for load: the demo site, rate limits out of the way.
const CONFIG: &str = r#"# Written by `cargo xtask bench`: one site, and rate limits a load test does not hit.
[[sites]]
id = "demo"
name = "Benchmark"
origins = ["http://127.0.0.1:*"]

[limits]
per_ip_per_minute = 4000000000
per_site_per_minute = 4000000000
"#;

/// SQLite, then PostgreSQL (if it can be started here).
pub fn run_all(server_bin: &Path, load_bin: &Path, work: &Path, opts: &Options) -> Vec<LoadRun> {
    let config = work.join("load.toml");
    let mut runs = Vec::new();
    if let Err(e) = std::fs::write(&config, CONFIG) {
        runs.push(failed(
            "SQLite",
            format!("writing {}: {e}", config.display()),
        ));
        return runs;
    }
    let sqlite = format!("sqlite://{}", work.join("load-sqlite.db").display());
    let settings = "bundled SQLite, WAL, synchronous = FULL (every commit fsynced)".to_string();
    runs.push(one(
        "SQLite", settings, &sqlite, server_bin, load_bin, &config, work, opts,
    ));
    match postgres() {
        Ok((url, settings)) => runs.push(one(
            "PostgreSQL",
            settings,
            &url,
            server_bin,
            load_bin,
            &config,
            work,
            opts,
        )),
        Err(e) => runs.push(failed("PostgreSQL", format!("not run: {e:#}"))),
    }
    runs
}

fn failed(backend: &str, why: String) -> LoadRun {
    LoadRun {
        backend: backend.into(),
        settings: String::new(),
        figures: Err(why),
        server_cpu: None,
        load: (None, None),
    }
}

#[allow(clippy::too_many_arguments)]
fn one(
    backend: &str,
    settings: String,
    url: &str,
    server_bin: &Path,
    load_bin: &Path,
    config: &Path,
    work: &Path,
    opts: &Options,
) -> LoadRun {
    step(&format!(
        "Server: {backend}, {} connections for {} s",
        opts.connections, opts.seconds
    ));
    let mut run = failed(backend, String::new());
    run.settings = settings;
    let server = match Server::start(server_bin, url, Some(config), work.join("site").as_path()) {
        Ok(s) => s,
        Err(e) => {
            run.figures = Err(format!("the server did not start: {e:#}"));
            return run;
        }
    };
    run.load.0 = stats::loadavg_now().map(|l| l[0]);
    let cpu_before = server.cpu_seconds();
    let out = util::cmd(load_bin)
        .args([
            "--url",
            &format!("http://{}", server.addr),
            "--seconds",
            &opts.seconds.to_string(),
            "--connections",
            &opts.connections.to_string(),
            "--database",
            url,
            "--json",
        ])
        .output();
    run.server_cpu = cpu_before.zip(server.cpu_seconds()).map(|(a, b)| b - a);
    run.load.1 = stats::loadavg_now().map(|l| l[0]);
    let _ = server.stop();
    run.figures = match out {
        Err(e) => Err(format!("the load generator did not start: {e}")),
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let parsed = stdout
                .lines()
                .rev()
                .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
            match (parsed, o.status.success()) {
                (Some(v), true) => Ok(v),
                (Some(v), false) => Err(format!(
                    "the check failed: {} (figures: {v})",
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                (None, _) => Err(format!(
                    "the load generator failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
            }
        }
    };
    if let Ok(v) = &run.figures {
        println!(
            "    {:.0} responses/s, p50 {:.1} ms, p99 {:.1} ms, {} receipts, {} rows stored",
            v["throughput"].as_f64().unwrap_or(0.0),
            v["p50_ms"].as_f64().unwrap_or(0.0),
            v["p99_ms"].as_f64().unwrap_or(0.0),
            v["receipts"],
            v["stored"]
        );
    } else if let Err(e) = &run.figures {
        println!("    {e}");
    }
    run
}

/// A fresh, empty `chorus_bench` database on the local cluster (`CHORUS_BENCH_POSTGRES_URL`
/// to use another, which must be empty); returns its URL and what it says about durability.
fn postgres() -> anyhow::Result<(String, String)> {
    if let Ok(url) = std::env::var("CHORUS_BENCH_POSTGRES_URL") {
        return Ok((url, "PostgreSQL from CHORUS_BENCH_POSTGRES_URL".into()));
    }
    let url = util::fresh_local_postgres("chorus_bench")?;
    let show = |name: &str| util::psql(&format!("SHOW {name}")).map(|s| s.trim().to_string());
    let settings = format!(
        "PostgreSQL {} (local cluster), fsync = {}, synchronous_commit = {}",
        show("server_version")?,
        show("fsync")?,
        show("synchronous_commit")?
    );
    Ok((url, settings))
}

/// Responses per second as a whole number with separators.
pub fn rate(v: &serde_json::Value) -> String {
    stats::thousands(v["throughput"].as_f64().unwrap_or(0.0).round() as u64)
}
