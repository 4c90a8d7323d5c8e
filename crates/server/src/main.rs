//! `chorus`: the collector server's command line.

use std::{net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "chorus", version, about = "Chorus collector server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the embed bundle (`/embed/`) and the demo site (`/`).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CHORUS_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Folder holding the built embed bundle.
        #[arg(long, env = "CHORUS_PKG_DIR", default_value = "pkg")]
        pkg_dir: PathBuf,
        /// Folder holding the demo site.
        #[arg(long, env = "CHORUS_WWW_DIR", default_value = "www")]
        www_dir: PathBuf,
        /// Configuration file (sites, origins, services); without one, a local demo site.
        #[arg(long, env = "CHORUS_CONFIG")]
        config: Option<PathBuf>,
        /// Database URL (SQLite file by default).
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chorus.db")]
        database: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve {
            addr,
            pkg_dir,
            www_dir,
            database,
            config,
        } => {
            let config = match &config {
                Some(path) => chorus_server::config::Config::load(path)?,
                None => {
                    tracing::info!("no --config given: serving the local demo site only");
                    chorus_server::config::Config::demo()
                }
            };
            let store = chorus_server::store::Store::open(&database).await?;
            tracing::info!(%database, "storage ready");
            let state = std::sync::Arc::new(chorus_server::AppState::new(store, config));
            let app = chorus_server::router(state, chorus_server::Paths { pkg_dir, www_dir });
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!("Chorus listening on http://{}", listener.local_addr()?);
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
        }
    }
    Ok(())
}
