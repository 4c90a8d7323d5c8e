//! The `chorus` command line's commands, one module per kind: `serve` (the server, and
//! `migrate`), `offline` (`score`, `check`, `export`: files in, files out) and `ops`
//! (accounts, demo data, backups, the doctor, rollups). `main.rs` holds the arguments.

pub mod offline;
pub mod ops;
pub mod serve;

use std::path::PathBuf;

use clap::Args;

/// Used when neither a flag, the environment nor the config file names a database.
pub const DEFAULT_DATABASE: &str = "sqlite://data/chorus.db";
/// Used when neither a flag, the environment nor the config file names an address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// Where the data is: shared by every command that opens the database.
#[derive(Args)]
pub struct Db {
    /// Database URL: `sqlite://path/file.db` (created if missing) or `postgres://…`
    /// [default: the config file's `database`, else sqlite://data/chorus.db].
    #[arg(long, env = "DATABASE_URL")]
    pub database: Option<String>,
    /// Configuration file (sites, origins, services, instruments, retention, limits);
    /// without one, a permissive local demo site.
    #[arg(long, env = "CHORUS_CONFIG")]
    pub config: Option<PathBuf>,
}

impl Db {
    /// The configuration (file or demo) and the database URL it resolves to.
    pub fn resolve(&self) -> anyhow::Result<(chorus_server::config::Config, String)> {
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

    pub async fn open(&self) -> anyhow::Result<chorus_server::store::Store> {
        let (_, url) = self.resolve()?;
        chorus_server::store::Store::open(&url).await
    }
}

/// A database URL fit for logs: the password, if any, replaced by `***`.
pub fn redact_url(url: &str) -> String {
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
