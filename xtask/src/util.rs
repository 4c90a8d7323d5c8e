//! Small helpers shared by the tasks: paths, announcing steps, running commands.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Announce a step, so a long run tells the reader what it is doing.
pub fn step(what: &str) {
    println!("==> {what}");
}

/// Announce that a step is skipped and why; returns `Ok` so a step can `return skip(…)`.
pub fn skip(what: &str) -> anyhow::Result<()> {
    println!("    {what}");
    Ok(())
}

/// A command with the error-reporting extension below.
pub fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    Command::new(program)
}

/// Running a command and failing with its name when it fails.
pub trait CommandExt {
    /// Run, inheriting stdio; error if it cannot start or exits non-zero.
    fn status_checked(&mut self) -> anyhow::Result<()>;
    /// Run and capture stdout as a string; error if it exits non-zero.
    fn output_checked(&mut self) -> anyhow::Result<String>;
}

impl CommandExt for Command {
    fn status_checked(&mut self) -> anyhow::Result<()> {
        let status = self
            .status()
            .with_context(|| format!("could not start {:?}", self.get_program()))?;
        if !status.success() {
            bail!("{:?} failed ({status})", describe(self));
        }
        Ok(())
    }

    fn output_checked(&mut self) -> anyhow::Result<String> {
        let out = self
            .output()
            .with_context(|| format!("could not start {:?}", self.get_program()))?;
        if !out.status.success() {
            bail!(
                "{} failed ({}): {}",
                describe(self),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

/// `program arg arg…` for messages.
pub fn describe(c: &Command) -> String {
    let mut s = c.get_program().to_string_lossy().into_owned();
    for a in c.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Is `program` on PATH (or an existing path)?
pub fn have(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Where `cargo install` puts binaries, so tools we install are found even if not on PATH.
pub fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    let p = home.join("bin").join(name);
    if p.exists() { p } else { PathBuf::from(name) }
}

/// The version of a crate pinned in Cargo.lock (used to match `wasm-bindgen-cli`).
pub fn locked_version(krate: &str) -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let needle = format!("name = \"{krate}\"\nversion = \"");
    let at = lock
        .find(&needle)
        .with_context(|| format!("{krate} is not in Cargo.lock"))?
        + needle.len();
    Ok(lock[at..].split('"').next().unwrap_or_default().to_string())
}

/// Run SQL as the `postgres` superuser on the local cluster; returns psql's unaligned output.
pub fn psql(sql: &str) -> anyhow::Result<String> {
    Command::new("runuser")
        .args([
            "-u",
            "postgres",
            "--",
            "psql",
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ])
        .output_checked()
}

/// Start the local Debian PostgreSQL cluster (newest version; already running is fine), make
/// sure the `chorus` role exists, and create `database` afresh and empty, owned by it. Returns
/// its URL. The test suite and the benchmark each use their own database this way.
pub fn fresh_local_postgres(database: &str) -> anyhow::Result<String> {
    anyhow::ensure!(have("pg_ctlcluster"), "PostgreSQL is not installed");
    let version = std::fs::read_dir("/etc/postgresql")
        .context("/etc/postgresql")?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
        .context("no PostgreSQL cluster")?;
    // Already running is fine; a real failure shows in the first psql call.
    let _ = Command::new("pg_ctlcluster")
        .args([&version, "main", "start"])
        .output();
    if psql("SELECT 1 FROM pg_roles WHERE rolname = 'chorus'")?.trim() != "1" {
        psql("CREATE ROLE chorus LOGIN PASSWORD 'chorus' CREATEDB")?;
    }
    psql(&format!("DROP DATABASE IF EXISTS {database}"))?;
    psql(&format!("CREATE DATABASE {database} OWNER chorus"))?;
    Ok(format!(
        "postgres://chorus:chorus@127.0.0.1:5432/{database}"
    ))
}
