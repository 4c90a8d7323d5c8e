//! `chorus`: the collector server's command line.

//! The commands themselves are in `cli`; this file is their arguments and the dispatch.

mod cli;

use std::{io::IsTerminal, net::SocketAddr, path::PathBuf};

use clap::{Parser, Subcommand};
use cli::Db;

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
    Seed(cli::ops::SeedArgs),
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
            cli::serve::serve(addr, pkg_dir, www_dir, db).await?;
        }
        Command::Migrate { db } => {
            cli::serve::migrate(db).await?;
        }
        Command::Score { instrument, file } => {
            cli::offline::score(instrument, file)?;
        }
        Command::Check {
            file,
            strict,
            self_assessment,
            today,
        } => {
            cli::offline::check_command(file, strict, self_assessment, today)?;
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
            cli::ops::user_add(email, site, role, db).await?;
        }
        Command::Seed(args) => cli::ops::seed(args).await?,
        Command::Backup { file, db } => {
            cli::ops::backup(file, db).await?;
        }
        Command::Restore { file, db } => {
            cli::ops::restore(file, db).await?;
        }
        Command::Doctor {
            db,
            pkg_dir,
            www_dir,
            strict,
        } => {
            cli::ops::doctor(db, pkg_dir, www_dir, strict).await?;
        }
        Command::Rollup {
            action: RollupAction::Rebuild { db, site },
        } => {
            cli::ops::rollup_rebuild(db, site).await?;
        }
        Command::Rollup {
            action: RollupAction::Check { db, site },
        } => {
            cli::ops::rollup_check(db, site).await?;
        }
        Command::Export {
            db,
            site,
            instrument,
            out,
        } => {
            cli::offline::export(db, site, instrument, out).await?;
        }
    }
    Ok(())
}
