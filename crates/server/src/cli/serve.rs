//! `chorus serve` and `chorus migrate`.

use std::{net::SocketAddr, path::PathBuf};

use super::{DEFAULT_ADDR, Db, redact_url};

/// `chorus serve`: the config recorded, storage opened, then the connection loop until a signal.
pub async fn serve(
    addr: Option<SocketAddr>,
    pkg_dir: PathBuf,
    www_dir: PathBuf,
    db: Db,
) -> anyhow::Result<()> {
    let (config, database) = db.resolve()?;
    if db.config.is_none() {
        tracing::info!(
            "no --config given: serving the local demo site only (site \"demo\", pages on 127.0.0.1 and localhost)"
        );
    }
    let addr = match addr.or(config.addr) {
        Some(a) => a,
        None => DEFAULT_ADDR.parse()?,
    };
    let store = chorus_server::store::Store::open(&database).await?;
    tracing::info!(database = %redact_url(&database), "storage ready");
    let config_text = match &db.config {
        Some(path) => std::fs::read_to_string(path)?,
        None => "built-in demo configuration".to_string(),
    };
    chorus_server::audit::record_config(&store, &config_text, &config).await?;
    let state = std::sync::Arc::new(chorus_server::AppState::new(store, config));
    let housekeeping = chorus_server::spawn_housekeeping(state.clone());
    let app = chorus_server::router(state.clone(), chorus_server::Paths { pkg_dir, www_dir });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Chorus listening on http://{}", listener.local_addr()?);
    // On a signal: stop accepting, let requests in flight finish (each is answered
    // after its commit). Connections a client keeps open get ten seconds, then we
    // exit anyway: anything acknowledged is already committed.
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let opts = chorus_server::serve::ServeOptions::for_this_process(&state.config.limits);
    tracing::info!(
        header_read_timeout = ?opts.header_read_timeout,
        idle_timeout = ?opts.idle_timeout,
        per_ip = ?opts.per_ip,
        total = opts.total,
        "connection limits"
    );
    let server = chorus_server::serve::serve(listener, app, opts, async move {
        shutdown_signal().await;
        let _ = stopping.send(true);
    });
    tokio::select! {
        done = server => done?,
        _ = async {
            let _ = stopped.wait_for(|&s| s).await;
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        } => tracing::warn!("connections still open ten seconds after the signal; exiting"),
    }
    housekeeping.abort();
    state.store.pool().close().await;
    Ok(())
}

/// `chorus migrate`.
pub async fn migrate(db: Db) -> anyhow::Result<()> {
    let (_, database) = db.resolve()?;
    chorus_server::store::Store::open(&database).await?;
    println!("{}: schema is up to date", redact_url(&database));
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what systemd, Docker and the test harness send), so
/// in-flight requests finish and their commits are answered before the process exits.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down: finishing requests in flight");
}
