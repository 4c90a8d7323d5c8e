//! Load test: how many validated, re-scored, redacted and durably stored responses per second
//! the collector takes, and the latency under that load. Prints figures; asserts nothing but
//! that every acknowledged response is in the database.
//!
//! ```text
//! cargo run -p chorus-server --profile server --example load -- [REQUESTS] [CONNECTIONS] [DATABASE_URL]
//! ```
//!
//! The server runs in this process on a real TCP port, and the clients are plain HTTP/1.1
//! keep-alive connections in the same process, so the clients' work is counted against the
//! server's cores: the figure is a floor. Defaults: 20,000 FFT responses over 64 connections
//! to a fresh SQLite file (WAL, synchronous = FULL, as in production).

use std::{net::SocketAddr, sync::Arc, time::Instant};

use chorus_server::{AppState, Paths, config::Config, router, store::Store};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let total: usize = args.first().map_or(Ok(20_000), |a| a.parse())?;
    let conns: usize = args.get(1).map_or(Ok(64), |a| a.parse())?;
    let dir = std::env::temp_dir().join(format!("chorus-load-{}", std::process::id()));
    let url = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("load.db").display()));

    let store = Store::open(&url).await?;
    if std::env::var_os("CHORUS_LOAD_STORE_ONLY").is_some() {
        return store_only(store, total, conns).await;
    }
    let mut config = Config::demo();
    config.limits.per_ip_per_minute = u32::MAX;
    config.limits.per_site_per_minute = u32::MAX;
    let state = Arc::new(AppState::new(store, config));
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

    let per_conn = total.div_ceil(conns);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        tasks.push(tokio::spawn(client(addr, c, per_conn)));
    }
    let mut latencies = Vec::with_capacity(total);
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let stored = state.store.count().await?;
    let stats = state.store.stats();
    let commits = stats.commits.load(std::sync::atomic::Ordering::Relaxed);
    let rows = stats.rows.load(std::sync::atomic::Ordering::Relaxed);
    let shown = match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}…{}", &url[..s + 3], &url[at..]),
        _ => url.clone(),
    };
    println!("database       {shown}");
    println!(
        "responses      {} acknowledged, {stored} stored",
        latencies.len()
    );
    println!(
        "throughput     {:.0} responses/s",
        latencies.len() as f64 / elapsed
    );
    println!(
        "latency        p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        q(0.50) * 1e3,
        q(0.99) * 1e3,
        q(1.0) * 1e3
    );
    println!(
        "group commit   {commits} commits, {:.1} responses per commit",
        rows as f64 / commits.max(1) as f64
    );
    anyhow::ensure!(
        stored as usize == latencies.len(),
        "acknowledged responses are missing"
    );
    if url.starts_with("sqlite:") {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// One keep-alive connection posting `n` responses, one after another; returns each latency.
async fn client(addr: SocketAddr, c: usize, n: usize) -> anyhow::Result<Vec<f64>> {
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
    let mut out = Vec::with_capacity(n);
    let mut line = String::new();
    for i in 0..n {
        let body = format!(
            r#"{{"site":"demo","service":"outpatients","response":{{"instrument":"fft","version":1,"locale":"en","idempotency_key":"load-{c:04}-{i:08}","answers":{{"fft":"{}","why":"Call me on 07700 900123 please"}}}}}}"#,
            answers[i % answers.len()]
        );
        let req = format!(
            "POST /api/v1/responses HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let t = Instant::now();
        w.write_all(req.as_bytes()).await?;
        let mut len = 0usize;
        let mut status = String::new();
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            if status.is_empty() {
                status = line.trim().to_string();
            }
            if line == "\r\n" || line.is_empty() {
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
        anyhow::ensure!(
            status.starts_with("HTTP/1.1 201"),
            "{status}: {}",
            String::from_utf8_lossy(&body)
        );
        out.push(t.elapsed().as_secs_f64());
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
