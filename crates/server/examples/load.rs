//! Load test: how many validated, re-scored, redacted and durably stored responses per second
//! the collector takes, and the latency under that load. Prints figures; asserts nothing but
//! that every acknowledged response is in the database, exactly once.
//!
//! ```text
//! # the server in this process, a fixed number of responses
//! cargo run -p chorus-server --profile server --example load -- [REQUESTS] [CONNECTIONS] [DATABASE_URL]
//! # a running server (e.g. a release `chorus serve`), a fixed time, then count its database
//! cargo run -p chorus-server --profile server --example load -- --url http://127.0.0.1:8080 \
//!     --seconds 10 --connections 64 --database sqlite://data/chorus.db [--json]
//! ```
//!
//! Clients are plain HTTP/1.1 keep-alive connections, each posting one valid FFT response after
//! another (a closed loop: the concurrency is fixed, the rate is what the server allows). On
//! one machine the clients' work is counted against the server's cores: the figure is a floor.
//! In-process defaults: 20,000 FFT responses over 64 connections to a fresh SQLite file (WAL,
//! synchronous = FULL, as in production). Against a running server, the rate limits of its
//! configuration apply: raise them for a load test.
//!
//! The check: every receipt reference is distinct, the database holds exactly as many rows as
//! receipts were given (so the database must be empty at the start), and a sample of the
//! references (up to 1,000) is looked up row by row.

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use chorus_server::{AppState, Paths, config::Config, router, store::Store};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[derive(Parser)]
#[command(about = "Load test for the Chorus collector")]
struct Args {
    /// Responses to send in all (ignored with --seconds).
    #[arg(default_value_t = 20_000)]
    requests: usize,
    /// Concurrent keep-alive connections.
    #[arg(default_value_t = 64)]
    connections: usize,
    /// Database URL: where the in-process server stores, or (with --url) the running server's
    /// database, counted afterwards. In-process default: a fresh SQLite file.
    database: Option<String>,
    /// Drive a running server at this base URL instead of one in this process.
    #[arg(long)]
    url: Option<String>,
    /// Concurrent connections (same as the second positional argument).
    #[arg(long = "connections")]
    connections_flag: Option<usize>,
    /// Database URL (same as the third positional argument).
    #[arg(long = "database")]
    database_flag: Option<String>,
    /// Send for this many seconds rather than a fixed number of responses.
    #[arg(long)]
    seconds: Option<f64>,
    /// Print one JSON object with the figures (what `cargo xtask bench` reads).
    #[arg(long)]
    json: bool,
}

/// When the clients stop.
#[derive(Clone, Copy)]
enum Until {
    /// After this many responses per connection.
    Count(usize),
    /// At this instant (a request under way when it passes is finished).
    Deadline(Instant),
}

/// What one connection saw.
#[derive(Default)]
struct ClientResult {
    /// Seconds from writing each request to reading its whole response (201s only).
    latencies: Vec<f64>,
    /// Receipt references of the 201s.
    references: Vec<String>,
    /// Responses other than 201, by status line.
    refused: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let conns = args.connections_flag.unwrap_or(args.connections).max(1);
    let database = args.database_flag.clone().or(args.database.clone());
    let dir = std::env::temp_dir().join(format!("chorus-load-{}", std::process::id()));

    // The server: either one in this process on a fresh database, or the one at --url.
    let (addr, host, store, state, url) = match &args.url {
        Some(base) => {
            let host = base
                .trim_end_matches('/')
                .strip_prefix("http://")
                .ok_or_else(|| anyhow::anyhow!("--url must be http://host:port, not {base}"))?
                .to_string();
            anyhow::ensure!(!host.contains('/'), "--url must have no path: {base}");
            let addr = tokio::net::lookup_host(&host)
                .await?
                .next()
                .ok_or_else(|| anyhow::anyhow!("{host} does not resolve"))?;
            let store = match &database {
                Some(db) => Some(Store::open(db).await?),
                None => None,
            };
            (
                addr,
                host,
                store,
                None,
                database.clone().unwrap_or_default(),
            )
        }
        None => {
            let url = database
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}", dir.join("load.db").display()));
            let store = Store::open(&url).await?;
            if std::env::var_os("CHORUS_LOAD_STORE_ONLY").is_some() {
                return store_only(store, args.requests, conns).await;
            }
            let mut config = Config::demo();
            config.limits.per_ip_per_minute = u32::MAX;
            config.limits.per_site_per_minute = u32::MAX;
            let state = Arc::new(AppState::new(store.clone(), config));
            let app = router(
                state.clone(),
                Paths {
                    pkg_dir: dir.join("pkg"),
                    www_dir: dir.join("www"),
                },
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .await
            });
            (addr, addr.to_string(), Some(store), Some(state), url)
        }
    };

    let (commits_before, rows_before) = match &state {
        Some(_) => (0, 0),
        None => writer_counters(addr, &host).await.unwrap_or((0, 0)),
    };
    let until = match args.seconds {
        Some(s) => Until::Deadline(Instant::now() + Duration::from_secs_f64(s)),
        None => Until::Count(args.requests.div_ceil(conns)),
    };
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        tasks.push(tokio::spawn(client(addr, host.clone(), c, until)));
    }
    let mut all = ClientResult::default();
    for t in tasks {
        let r = t.await??;
        all.latencies.extend(r.latencies);
        all.references.extend(r.references);
        all.refused.extend(r.refused);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut latencies = all.latencies;
    latencies.sort_unstable_by(f64::total_cmp);
    let receipts = latencies.len();
    let q = |p: f64| percentile(&latencies, p) * 1e3;
    let distinct = all.references.iter().collect::<HashSet<_>>().len();

    // Group commit at work: rows per commit, from the writer's own counters.
    let (commits, rows) = match &state {
        Some(state) => {
            let stats = state.store.stats();
            (
                stats.commits.load(std::sync::atomic::Ordering::Relaxed),
                stats.rows.load(std::sync::atomic::Ordering::Relaxed),
            )
        }
        None => {
            let (c, r) = writer_counters(addr, &host).await.unwrap_or((0, 0));
            (
                c.saturating_sub(commits_before),
                r.saturating_sub(rows_before),
            )
        }
    };

    // Rows in the database, and a sample of receipts looked up one by one.
    let (stored, sampled, found) = match &store {
        Some(store) => {
            let stored = store.count().await?;
            let step = (all.references.len() / 1000).max(1);
            let (mut sampled, mut found) = (0usize, 0usize);
            for r in all.references.iter().step_by(step) {
                sampled += 1;
                if store.find_reference(r).await?.is_some() {
                    found += 1;
                }
            }
            (Some(stored), sampled, found)
        }
        None => (None, 0, 0),
    };

    let shown = redact_password(&url);
    if args.json {
        let refused: std::collections::BTreeMap<&str, usize> =
            all.refused.iter().fold(Default::default(), |mut m, s| {
                *m.entry(s.as_str()).or_default() += 1;
                m
            });
        println!(
            "{}",
            serde_json::json!({
                "database": shown,
                "connections": conns,
                "seconds": elapsed,
                "receipts": receipts,
                "distinct_references": distinct,
                "refused": refused,
                "stored": stored,
                "sampled": sampled,
                "sampled_found": found,
                "throughput": receipts as f64 / elapsed,
                "p50_ms": q(0.50),
                "p90_ms": q(0.90),
                "p99_ms": q(0.99),
                "max_ms": q(1.0),
                "commits": commits,
                "rows_committed": rows,
                "client_cpu_seconds": own_cpu_seconds(),
            })
        );
    } else {
        println!("database       {shown}");
        println!(
            "responses      {receipts} acknowledged ({distinct} distinct references), {} refused, {} stored",
            all.refused.len(),
            stored.map_or("not counted".to_string(), |s| s.to_string())
        );
        println!(
            "throughput     {:.0} responses/s over {elapsed:.1} s at {conns} connections",
            receipts as f64 / elapsed
        );
        println!(
            "latency        p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            q(0.50),
            q(0.99),
            q(1.0)
        );
        println!(
            "group commit   {commits} commits, {:.1} responses per commit",
            rows as f64 / commits.max(1) as f64
        );
        if sampled > 0 {
            println!("look-ups       {found} of {sampled} sampled receipts found by reference");
        }
    }
    anyhow::ensure!(distinct == receipts, "a receipt reference was given twice");
    if let Some(stored) = stored {
        anyhow::ensure!(
            stored as usize == receipts,
            "{receipts} responses acknowledged but {stored} stored"
        );
        anyhow::ensure!(found == sampled, "acknowledged responses are missing");
    }
    if args.url.is_none() && url.starts_with("sqlite:") && database.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// CPU time this process (the clients) has used, from Linux's `/proc/self/stat` (user +
/// system, in the kernel's fixed 100 Hz ticks); `None` elsewhere.
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The value at fraction `p` of sorted `xs` (nearest rank; 0 for none).
fn percentile(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs[((xs.len() as f64 * p) as usize).min(xs.len() - 1)]
}

/// `scheme://user:secret@host/db` → `scheme://…@host/db`, for printing.
fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}…{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

/// The writer's commit and row counters from a running server's `/metrics`.
async fn writer_counters(addr: SocketAddr, host: &str) -> anyhow::Result<(u64, u64)> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (r, mut w) = stream.into_split();
    w.write_all(
        format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut text = String::new();
    BufReader::new(r).read_to_string(&mut text).await?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0)
    };
    Ok((
        value("chorus_commits_total"),
        value("chorus_committed_rows_total"),
    ))
}

/// One keep-alive connection posting responses one after another until `until`.
async fn client(
    addr: SocketAddr,
    host: String,
    c: usize,
    until: Until,
) -> anyhow::Result<ClientResult> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let answers = [
        "very_good",
        "good",
        "neither",
        "poor",
        "very_poor",
        "dont_know",
    ];
    let mut out = ClientResult::default();
    let mut line = String::new();
    // Unique per run as well as per request, so a second run against the same database is
    // not answered from the first run's idempotency records.
    let run = std::process::id();
    for i in 0.. {
        match until {
            Until::Count(n) if i >= n => break,
            Until::Deadline(d) if Instant::now() >= d => break,
            _ => {}
        }
        let body = format!(
            r#"{{"site":"demo","service":"outpatients","response":{{"instrument":"fft","version":1,"locale":"en","idempotency_key":"load-{run}-{c:04}-{i:08}","answers":{{"fft":"{}","why":"Call me on 07700 900123 please"}}}}}}"#,
            answers[i % answers.len()]
        );
        let req = format!(
            "POST /api/v1/responses HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let t = Instant::now();
        w.write_all(req.as_bytes()).await?;
        let mut len = 0usize;
        let mut status = String::new();
        loop {
            line.clear();
            let n = r.read_line(&mut line).await?;
            anyhow::ensure!(n > 0, "the server closed the connection");
            if status.is_empty() {
                status = line.trim().to_string();
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line
                .to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
            {
                len = v.parse()?;
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).await?;
        if status.starts_with("HTTP/1.1 201") {
            out.latencies.push(t.elapsed().as_secs_f64());
            let receipt: serde_json::Value = serde_json::from_slice(&body)?;
            let reference = receipt["reference"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("a 201 with no reference"))?;
            out.references.push(reference.to_string());
        } else {
            out.refused.push(status);
        }
    }
    Ok(out)
}

/// The writer alone (no HTTP, no validation): what storage can take.
async fn store_only(store: Store, total: usize, conns: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..total.div_ceil(conns) {
                store
                    .insert(chorus_server::store::NewResponse {
                        site: "demo".into(),
                        service: None,
                        instrument: "fft".into(),
                        version: 1,
                        locale: "en".into(),
                        idempotency_key: format!("store-{c:04}-{i:08}"),
                        body_hash: "0123456789abcdef".repeat(4),
                        answers: r#"{"fft":"good","why":"Call me on [phone number] please"}"#.into(),
                        scores: r#"{"instrument":"fft","version":1,"fft":{"answer":"good","category":"positive"}}"#.into(),
                        client_scores: None,
                        score_mismatch: false,
                        mode: "online".into(),
                        about: None,
                        search_text: Some("Call me on [phone number] please".into()),
                        withdraw_hash: None,
                        received_at: None,
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!(e))?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let n = store.count().await?;
    println!(
        "store only     {n} rows, {:.0} rows/s",
        n as f64 / start.elapsed().as_secs_f64()
    );
    Ok(())
}
