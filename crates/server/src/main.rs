//! `chorus`: the collector server's command line.

use std::{
    io::{BufReader, IsTerminal},
    net::SocketAddr,
    path::PathBuf,
};

use clap::{Args, Parser, Subcommand};

/// Used when neither a flag, the environment nor the config file names a database.
const DEFAULT_DATABASE: &str = "sqlite://data/chorus.db";
/// Used when neither a flag, the environment nor the config file names an address.
const DEFAULT_ADDR: &str = "127.0.0.1:8080";

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
        /// Address to listen on [default: the config file's `addr`, else 127.0.0.1:8080].
        #[arg(long, env = "CHORUS_ADDR")]
        addr: Option<SocketAddr>,
        /// Folder holding the built embed bundle.
        #[arg(long, env = "CHORUS_PKG_DIR", default_value = "pkg")]
        pkg_dir: PathBuf,
        /// Folder holding the demo site.
        #[arg(long, env = "CHORUS_WWW_DIR", default_value = "www")]
        www_dir: PathBuf,
        #[command(flatten)]
        db: Db,
    },
    /// Create or update the database schema, then exit.
    Migrate {
        #[command(flatten)]
        db: Db,
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
    /// Check an instrument file against the definition rules and, for a decision aid, the
    /// IPDAS and NICE NG197 standards: errors (definition problems) and warnings (lints, each
    /// naming its criterion). Exits 1 on an error (with --strict, also on a warning).
    Check {
        /// The instrument JSON file, or the id of a built-in instrument.
        file: String,
        /// Warnings count as failures in the exit status.
        #[arg(long)]
        strict: bool,
        /// Also print the IPDAS / NICE self-assessment (Markdown): which criteria are met
        /// automatically and which need a person's sign-off.
        #[arg(long)]
        self_assessment: bool,
        /// The date the review-date check uses, YYYY-MM-DD [default: today, UTC].
        #[arg(long)]
        today: Option<String>,
    },
    /// Manage staff accounts for the dashboard.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Fill the database with several months of generated demo responses (deterministic for a
    /// seed; running it again adds nothing) and create a demo admin for the dashboard.
    Seed {
        #[command(flatten)]
        db: Db,
        /// Site the responses are for.
        #[arg(long, default_value = "demo")]
        site: String,
        /// Months of data, ending now.
        #[arg(long, default_value_t = 6)]
        months: u32,
        /// Responses per month.
        #[arg(long, default_value_t = 300)]
        per_month: u32,
        /// Generator seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// E-mail of the demo admin (made admin of the site).
        #[arg(long, default_value = "demo@chorus.example")]
        admin_email: String,
        /// Password of the demo admin; without it, a random one is made and printed.
        #[arg(long, env = "CHORUS_DEMO_PASSWORD")]
        admin_password: Option<String>,
    },
    /// Back up the database to a new file while the server keeps serving (SQLite: a checked
    /// online copy; PostgreSQL: `pg_dump --format=custom`).
    Backup {
        /// The backup file to write (never overwritten).
        file: PathBuf,
        #[command(flatten)]
        db: Db,
    },
    /// Restore a backup into a new database (a SQLite file that does not exist yet, or an empty
    /// PostgreSQL database), then migrate it to this version. Stop the server first.
    Restore {
        /// The backup file (from `chorus backup`).
        file: PathBuf,
        #[command(flatten)]
        db: Db,
    },
    /// Check the deployment: configuration, database (reachable, migrated, writable), free
    /// disk, the clock, the bundle against its manifest. Says what to fix; exits 1 if a check
    /// failed (with --strict, also on warnings).
    Doctor {
        #[command(flatten)]
        db: Db,
        /// Folder holding the built embed bundle.
        #[arg(long, env = "CHORUS_PKG_DIR", default_value = "pkg")]
        pkg_dir: PathBuf,
        /// Folder holding the demo site.
        #[arg(long, env = "CHORUS_WWW_DIR", default_value = "www")]
        www_dir: PathBuf,
        /// Warnings count as failures in the exit status.
        #[arg(long)]
        strict: bool,
    },
    /// Export stored responses (free text redacted) as CSV.
    Export {
        #[command(flatten)]
        db: Db,
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
    /// The stored rollups reports are read from: recompute them, or check them against the rows.
    Rollup {
        #[command(subcommand)]
        action: RollupAction,
    },
}

#[derive(Subcommand)]
enum RollupAction {
    /// Recompute the rollups from the stored responses (after a restore of an edited database,
    /// or to repair what `check` found). Holds off new responses while it runs.
    Rebuild {
        #[command(flatten)]
        db: Db,
        /// Only this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Compare the rollups with a recomputation from the responses; exits 1 on any difference.
    Check {
        #[command(flatten)]
        db: Db,
        /// Only this site.
        #[arg(long)]
        site: Option<String>,
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
        #[command(flatten)]
        db: Db,
    },
}

/// `chorus check`: the core decides everything (`standards::check`); this prints it and picks
/// the exit status (0 clean, 1 errors, or warnings with `--strict`).
fn check(
    file: &str,
    strict: bool,
    self_assessment: bool,
    today: Option<&str>,
) -> anyhow::Result<i32> {
    use chorus_core::aid::Date;
    let text = match chorus_core::library::SOURCES
        .iter()
        .find(|(id, _)| *id == file)
    {
        Some((_, json)) => json.to_string(),
        None => std::fs::read_to_string(file).map_err(|e| {
            anyhow::anyhow!("\"{file}\" is neither a built-in instrument nor a readable file ({e})")
        })?,
    };
    let today = match today {
        Some(t) => Date::parse(t)
            .ok_or_else(|| anyhow::anyhow!("--today \"{t}\" is not a date written YYYY-MM-DD"))?,
        None => chorus_server::util::today(),
    };
    let c = chorus_core::standards::check(&text, Some(today));
    for p in &c.problems {
        println!("error   {}  {}: {}", p.path, p.code, p.message);
    }
    for l in &c.lints {
        println!(
            "warning {}  {} [{}]: {}",
            l.path,
            serde_json::to_value(l.code)?.as_str().unwrap_or_default(),
            l.criterion_name(),
            l.message
        );
    }
    println!(
        "{file}: {} error(s), {} warning(s) (checked as of {today})",
        c.problems.len(),
        c.lints.len()
    );
    if self_assessment {
        match &c.assessment {
            Some(a) => println!("\n{}", a.markdown()),
            None => {
                println!("\nNo self-assessment: it is made for decision aids whose file parses.")
            }
        }
    }
    Ok(i32::from(
        !c.problems.is_empty() || (strict && !c.lints.is_empty()),
    ))
}

/// Where the data is: shared by every command that opens the database.
#[derive(Args)]
struct Db {
    /// Database URL: `sqlite://path/file.db` (created if missing) or `postgres://…`
    /// [default: the config file's `database`, else sqlite://data/chorus.db].
    #[arg(long, env = "DATABASE_URL")]
    database: Option<String>,
    /// Configuration file (sites, origins, services, instruments, retention, limits);
    /// without one, a permissive local demo site.
    #[arg(long, env = "CHORUS_CONFIG")]
    config: Option<PathBuf>,
}

impl Db {
    /// The configuration (file or demo) and the database URL it resolves to.
    fn resolve(&self) -> anyhow::Result<(chorus_server::config::Config, String)> {
        let config = match &self.config {
            Some(path) => chorus_server::config::Config::load(path)?,
            None => chorus_server::config::Config::demo(),
        };
        let url = self
            .database
            .clone()
            .or_else(|| config.database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
        Ok((config, url))
    }

    async fn open(&self) -> anyhow::Result<chorus_server::store::Store> {
        let (_, url) = self.resolve()?;
        chorus_server::store::Store::open(&url).await
    }
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
            db,
        } => {
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
            let app =
                chorus_server::router(state.clone(), chorus_server::Paths { pkg_dir, www_dir });
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
        }
        Command::Migrate { db } => {
            let (_, database) = db.resolve()?;
            chorus_server::store::Store::open(&database).await?;
            println!("{}: schema is up to date", redact_url(&database));
        }
        Command::Score { instrument, file } => {
            let mut versions = chorus_core::library::versions(&instrument);
            if versions.is_empty() {
                let text = std::fs::read_to_string(&instrument).map_err(|_| {
                    anyhow::anyhow!(
                        "\"{instrument}\" is neither a built-in instrument nor a readable file"
                    )
                })?;
                versions.push(chorus_core::Instrument::from_json(&text).map_err(|p| {
                    anyhow::anyhow!(
                        "{instrument}: {}",
                        p.iter()
                            .map(|p| format!("{} {}", p.path, p.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                })?);
            }
            let input = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let lines =
                std::io::BufRead::lines(BufReader::new(std::fs::File::open(&file)?)).count() as u64;
            let bar = chorus_server::offline::progress(Some(lines), "scoring");
            let stdout = std::io::stdout().lock();
            let summary = chorus_server::offline::score_jsonl(
                &versions,
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
        Command::Check {
            file,
            strict,
            self_assessment,
            today,
        } => {
            let code = check(&file, strict, self_assessment, today.as_deref())?;
            std::process::exit(code);
        }
        Command::User {
            action:
                UserAction::Add {
                    email,
                    site,
                    role,
                    db,
                },
        } => {
            // A mistyped address is refused before the password is asked for.
            let email = chorus_server::users::check_email(&email).map_err(anyhow::Error::msg)?;
            if std::io::stdin().is_terminal() {
                eprint!(
                    "Password for {email} (at least {} characters, not a common password): ",
                    chorus_server::users::MIN_PASSWORD
                );
            }
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let store = db.open().await?;
            let id = chorus_server::users::add(&store, &email, password, &site, &role).await?;
            chorus_server::audit::record(
                &store,
                None,
                "command line",
                "user_role_set",
                Some(&site),
                &format!("{email} is {role}"),
            )
            .await?;
            println!("user {id} ({email}) is {role} on {site}");
        }
        Command::Seed {
            db,
            site,
            months,
            per_month,
            seed,
            admin_email,
            admin_password,
        } => {
            let (config, database) = db.resolve()?;
            anyhow::ensure!(
                config.site(&site).is_some(),
                "there is no site \"{site}\" in the configuration"
            );
            let store = chorus_server::store::Store::open(&database).await?;
            let state = std::sync::Arc::new(chorus_server::AppState::new(store, config));
            let opts = chorus_server::dashboard::seed::SeedOptions {
                site: site.clone(),
                months,
                per_month,
                seed,
                now: chorus_server::util::now_secs(),
            };
            let started = std::time::Instant::now();
            let bar = chorus_server::offline::progress(
                Some(u64::from(months) * u64::from(per_month)),
                "seeding",
            );
            let report = chorus_server::dashboard::seed::seed(&state, &opts, |done, _| {
                bar.set_position(done)
            })
            .await?;
            bar.finish_and_clear();
            let password = admin_password
                .unwrap_or_else(|| chorus_server::util::random_token()[..20].to_string());
            chorus_server::users::add(&state.store, &admin_email, &password, &site, "admin")
                .await?;
            println!(
                "seeded {} responses ({} already there) for site {site} in {:.1} s",
                report.created,
                report.replayed,
                started.elapsed().as_secs_f64()
            );
            println!("dashboard sign-in: {admin_email} / {password}");
            state.store.pool().close().await;
        }
        Command::Backup { file, db } => {
            let (_, url) = db.resolve()?;
            let o = chorus_server::backup::backup(&url, &file).await?;
            println!(
                "backed up {} responses to {} ({:.1} MB, checked) in {:.1} s",
                o.responses,
                file.display(),
                o.bytes as f64 / 1e6,
                o.seconds
            );
        }
        Command::Restore { file, db } => {
            let (_, url) = db.resolve()?;
            let o = chorus_server::backup::restore(&file, &url).await?;
            println!(
                "restored {} responses from {} into {} in {:.1} s",
                o.responses,
                file.display(),
                redact_url(&url),
                o.seconds
            );
        }
        Command::Doctor {
            db,
            pkg_dir,
            www_dir,
            strict,
        } => {
            // The file is read by the doctor itself, so a broken one is a finding, not an exit.
            let database = db
                .database
                .clone()
                .or_else(|| {
                    db.config
                        .as_ref()
                        .and_then(|p| chorus_server::config::Config::load(p).ok())
                        .and_then(|c| c.database)
                })
                .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
            let opts = chorus_server::doctor::Options {
                config: db.config.clone(),
                database,
                pkg_dir,
                www_dir,
            };
            let findings = chorus_server::doctor::run(&opts).await;
            std::process::exit(chorus_server::doctor::print(&findings, strict));
        }
        Command::Rollup {
            action: RollupAction::Rebuild { db, site },
        } => {
            let store = db.open().await?;
            let bar = chorus_server::offline::progress(None, "rolling up");
            let started = std::time::Instant::now();
            let n = store
                .rebuild_rollups(site.as_deref(), |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish_and_clear();
            println!(
                "rolled up {n} responses in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            store.pool().close().await;
        }
        Command::Rollup {
            action: RollupAction::Check { db, site },
        } => {
            let store = db.open().await?;
            let bar = chorus_server::offline::progress(None, "checking");
            let r = store
                .check_rollups(site.as_deref(), |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish_and_clear();
            store.pool().close().await;
            for k in &r.differences {
                println!(
                    "differs: site {} service {:?} instrument {} v{} locale {} mode {} day {}",
                    k.site, k.service, k.instrument, k.version, k.locale, k.mode, k.day
                );
            }
            for k in &r.theme_differences {
                println!(
                    "themes differ: site {} service {:?} day {}",
                    k.site, k.service, k.day
                );
            }
            println!(
                "{} rollups checked ({} responses): {} differ; theme rollups: {} differ",
                r.keys,
                r.responses,
                r.differences.len(),
                r.theme_differences.len()
            );
            if !r.differences.is_empty() || !r.theme_differences.is_empty() {
                std::process::exit(1);
            }
        }
        Command::Export {
            db,
            site,
            instrument,
            out,
        } => {
            let store = db.open().await?;
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

/// A database URL fit for logs: the password, if any, replaced by `***`.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
