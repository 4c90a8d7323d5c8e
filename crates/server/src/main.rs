//! `chorus`: the collector server's command line.

use std::{
    io::{BufReader, IsTerminal},
    net::SocketAddr,
    path::PathBuf,
};

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
    /// Create or update the database schema, then exit.
    Migrate {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chorus.db")]
        database: String,
    },
    /// Re-score a JSONL file of responses offline: one score report per line on stdout, the
    /// same numbers the server computes.
    Score {
        /// Instrument id (a built-in instrument) or a path to an instrument JSON file.
        #[arg(long)]
        instrument: String,
        /// Responses, one JSON object per line.
        file: PathBuf,
    },
    /// Manage staff accounts for the dashboard.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Export stored responses (free text redacted) as CSV.
    Export {
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chorus.db")]
        database: String,
        /// Only this site.
        #[arg(long)]
        site: Option<String>,
        /// Only this instrument.
        #[arg(long)]
        instrument: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user (or give an existing one a role on another site). The password is read
    /// from standard input, so it never appears in the shell history or the process list.
    Add {
        /// E-mail address (the sign-in name).
        #[arg(long)]
        email: String,
        /// Site the role applies to.
        #[arg(long)]
        site: String,
        /// admin, analyst or viewer.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Database URL.
        #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/chorus.db")]
        database: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=info".into());
    // Humans get readable lines; log collectors (not a terminal) get JSON.
    if std::io::stderr().is_terminal() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
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
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        Command::Migrate { database } => {
            chorus_server::store::Store::open(&database).await?;
            println!("{database}: schema is up to date");
        }
        Command::Score { instrument, file } => {
            let inst = match chorus_core::library::get(&instrument) {
                Some(i) => i,
                None => {
                    let text = std::fs::read_to_string(&instrument).map_err(|_| {
                        anyhow::anyhow!(
                            "\"{instrument}\" is neither a built-in instrument nor a readable file"
                        )
                    })?;
                    chorus_core::Instrument::from_json(&text).map_err(|p| {
                        anyhow::anyhow!(
                            "{instrument}: {}",
                            p.iter()
                                .map(|p| format!("{} {}", p.path, p.message))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    })?
                }
            };
            let input = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let lines =
                std::io::BufRead::lines(BufReader::new(std::fs::File::open(&file)?)).count() as u64;
            let bar = chorus_server::offline::progress(Some(lines), "scoring");
            let stdout = std::io::stdout().lock();
            let summary = chorus_server::offline::score_jsonl(
                &inst,
                BufReader::new(input),
                std::io::BufWriter::new(stdout),
                std::io::stderr(),
                &bar,
            )?;
            bar.finish_and_clear();
            eprintln!("{} scored, {} invalid", summary.scored, summary.invalid);
            if summary.invalid > 0 {
                std::process::exit(1);
            }
        }
        Command::User {
            action:
                UserAction::Add {
                    email,
                    site,
                    role,
                    database,
                },
        } => {
            if std::io::stdin().is_terminal() {
                eprint!(
                    "Password for {email} (at least {} characters): ",
                    chorus_server::users::MIN_PASSWORD
                );
            }
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let store = chorus_server::store::Store::open(&database).await?;
            let id = chorus_server::users::add(&store, &email, password, &site, &role).await?;
            println!("user {id} ({email}) is {role} on {site}");
        }
        Command::Export {
            database,
            site,
            instrument,
            out,
        } => {
            let store = chorus_server::store::Store::open(&database).await?;
            let n = match out {
                Some(path) => {
                    let f = std::fs::File::create(&path)?;
                    chorus_server::offline::export_csv(
                        &store,
                        site.as_deref(),
                        instrument.as_deref(),
                        f,
                    )
                    .await?
                }
                None => {
                    chorus_server::offline::export_csv(
                        &store,
                        site.as_deref(),
                        instrument.as_deref(),
                        std::io::stdout().lock(),
                    )
                    .await?
                }
            };
            eprintln!("{n} responses exported");
        }
    }
    Ok(())
}
