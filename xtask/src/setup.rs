//! `cargo xtask setup`: make this machine able to build and test Chorus. Idempotent: each step
//! says what it is doing and skips what is already there.

use std::process::Command;

use anyhow::Context;

use crate::{
    toolchain,
    util::{self, CommandExt, root, skip, step},
};

/// The Schemathesis release this was tested with (installed into a venv here, run by
/// `cargo xtask fuzz`).
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Where [`fuzz_tools`] installs Schemathesis (a virtualenv, so Debian's system Python is left
/// alone).
pub fn schemathesis_bin() -> std::path::PathBuf {
    root().join("target/schemathesis-venv/bin/schemathesis")
}

/// Debian packages each capability needs (installed only where missing).
const WASM_PACKAGES: &[&str] = &["rustc-web", "rust-web-src", "lld-22"];
const BROWSER_PACKAGES: &[&str] = &["chromium", "chromium-driver"];
const DB_PACKAGES: &[&str] = &["postgresql"];
const PYTHON_PACKAGES: &[&str] = &["python3-venv"];

/// Run every setup step.
pub fn run() -> anyhow::Result<()> {
    wasm_target()?;
    if let Err(e) = pinned_nightly() {
        // Not fatal: tests and the demo still build; `cargo xtask dist` then says what is missing.
        println!("    {e:#}");
    }
    wasm_bindgen_cli()?;
    npm_packages()?;
    browser()?;
    postgres()?;
    // Not fatal: without it the notification test (crates/server/tests/flags.rs) fails, saying
    // so, and everything else still runs.
    if let Err(e) = smtp_server() {
        println!("    could not install aiosmtpd: {e:#}");
    }
    // Not fatal here: without them the fuzz steps of `cargo xtask test` fail on their own,
    // with the reason, and every other step still runs.
    if let Err(e) = fuzz_tools() {
        println!("    could not install the fuzzing tools: {e:#}");
    }
    Ok(())
}

/// cargo-fuzz (libFuzzer driver) and Schemathesis (API fuzzer), for `cargo xtask fuzz`.
pub fn fuzz_tools() -> anyhow::Result<()> {
    step("cargo-fuzz (from crates.io) for the core's fuzz targets");
    if util::cargo_bin("cargo-fuzz").exists() {
        skip("already installed")?;
    } else {
        util::cmd(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["install", "cargo-fuzz", "--version", "^0.13"])
            .status_checked()?;
    }
    let version = SCHEMATHESIS_VERSION;
    step(&format!(
        "Schemathesis {version} (from PyPI, in a virtualenv under target/)"
    ));
    let bin = schemathesis_bin();
    let have = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version));
    if have {
        return skip("already installed");
    }
    let venv = bin
        .parent()
        .and_then(|b| b.parent())
        .expect("venv/bin/schemathesis");
    if Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(venv)
        .status()
        .map_or(true, |s| !s.success())
    {
        // Debian splits venv (and its bundled pip) out of python3.
        apt_install(PYTHON_PACKAGES)?;
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(venv)
            .status_checked()?;
    }
    Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", &format!("schemathesis=={version}")])
        .status_checked()
}

fn wasm_target() -> anyhow::Result<()> {
    step("wasm32 toolchain");
    if toolchain::rustup_has_target() {
        return skip("rustup's wasm32-unknown-unknown target is installed");
    }
    // Where rustup's server is out of reach this either fails at once or hangs: bound it.
    let mut add = if util::have("timeout") {
        let mut c = Command::new("timeout");
        c.args(["120", "rustup"]);
        c
    } else {
        Command::new("rustup")
    };
    add.args(["target", "add", "wasm32-unknown-unknown"]);
    if util::have("rustup") && add.status().is_ok_and(|s| s.success()) {
        return Ok(());
    }
    if toolchain::debian_recipe_present() {
        return skip(
            "rustup cannot add the target here; using Debian's rustc-web with -Zbuild-std",
        );
    }
    println!("    rustup cannot add the target; installing Debian's rustc-web recipe");
    apt_install(WASM_PACKAGES)?;
    anyhow::ensure!(
        toolchain::debian_recipe_present(),
        "rustc-web, rust-web-src and lld-22 were installed but are not where expected"
    );
    Ok(())
}

/// The one compiler the shipped bundle is built with (see `toolchain`): rustup's dated nightly
/// with `rust-src`. A machine whose plain `nightly` is that build only needs `rust-src` added.
fn pinned_nightly() -> anyhow::Result<()> {
    step(&format!(
        "Pinned wasm recipe: rustup {} (rustc {}) with rust-src",
        toolchain::PINNED_NIGHTLY,
        &toolchain::PINNED_COMMIT[..9]
    ));
    if toolchain::pinned().is_ok() {
        return skip("installed");
    }
    anyhow::ensure!(util::have("rustup"), "rustup is not installed");
    let bounded = |args: &[&str]| {
        let mut c = Command::new("timeout");
        c.arg("300").arg("rustup").args(args);
        c.status().is_ok_and(|s| s.success())
    };
    // The machine's own `nightly`, if it is the pinned build, only lacks rust-src.
    let _ = bounded(&["component", "add", "rust-src", "--toolchain", "nightly"]);
    if toolchain::pinned().is_ok() {
        return Ok(());
    }
    let _ = bounded(&[
        "toolchain",
        "install",
        toolchain::PINNED_NIGHTLY,
        "--component",
        "rust-src",
        "--profile",
        "minimal",
    ]);
    toolchain::pinned().map(|_| ())
}

fn wasm_bindgen_cli() -> anyhow::Result<()> {
    let want = util::locked_version("wasm-bindgen")?;
    step(&format!(
        "wasm-bindgen-cli {want} (must equal the pinned wasm-bindgen)"
    ));
    let have = Command::new(util::cargo_bin("wasm-bindgen"))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if have.as_deref() == Some(&format!("wasm-bindgen {want}")) {
        return skip("already installed");
    }
    println!("    installing (a few minutes the first time)");
    // No --locked: the CLI's own lockfile pins crates this registry may not serve.
    util::cmd(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["install", "wasm-bindgen-cli", "--version", &want])
        .status_checked()
}

fn npm_packages() -> anyhow::Result<()> {
    step(
        "npm packages (binaryen's wasm-opt, playwright-core, axe-core), pinned by package-lock.json",
    );
    let root = root();
    let stamp = root.join("node_modules/.package-lock.json");
    let fresh = std::fs::metadata(&stamp)
        .and_then(|m| m.modified())
        .ok()
        .zip(
            std::fs::metadata(root.join("package-lock.json"))
                .and_then(|m| m.modified())
                .ok(),
        )
        .is_some_and(|(installed, lock)| installed >= lock);
    if fresh {
        return skip("node_modules is up to date with package-lock.json");
    }
    anyhow::ensure!(
        util::have("npm"),
        "npm is needed (Debian: apt-get install nodejs npm)"
    );
    util::cmd("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&root)
        .status_checked()
}

fn browser() -> anyhow::Result<()> {
    step(
        "Chromium and ChromeDriver for browser tests (Debian packages; nothing is downloaded at run time)",
    );
    if util::have("/usr/bin/chromium") && util::have("/usr/bin/chromedriver") {
        return skip("/usr/bin/chromium and /usr/bin/chromedriver are installed");
    }
    apt_install(BROWSER_PACKAGES)
}

fn postgres() -> anyhow::Result<()> {
    step("PostgreSQL for the server's second storage backend tests");
    if util::have("pg_ctlcluster") && util::have("/usr/lib/postgresql") {
        return skip("postgresql is installed");
    }
    apt_install(DB_PACKAGES)
}

/// Install Debian packages, with sudo when not root.
/// aiosmtpd (PyPI): the real SMTP server the flag-notification test sends mail to.
fn smtp_server() -> anyhow::Result<()> {
    step("aiosmtpd (from PyPI) for the flag-notification test's SMTP server");
    let python = std::env::var("CHORUS_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let importable = || {
        Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if importable() {
        return skip("already importable");
    }
    let pip = |extra: &[&str]| {
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "aiosmtpd"])
            .args(extra)
            .status()
            .is_ok_and(|s| s.success())
    };
    // A Python that Debian manages refuses plain pip (PEP 668); the test needs the module in
    // that same interpreter, so install it there anyway, or take Debian's package.
    if !pip(&[]) && !pip(&["--break-system-packages"]) {
        apt_install(&["python3-aiosmtpd"])?;
    }
    anyhow::ensure!(
        importable(),
        "aiosmtpd was installed but {python} cannot import it"
    );
    Ok(())
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    anyhow::ensure!(
        util::have("apt-get"),
        "this machine has no apt-get; install these yourself: {}",
        packages.join(" ")
    );
    let root_user = Command::new("id")
        .arg("-u")
        .output_checked()
        .is_ok_and(|o| o.trim() == "0");
    let mut c = if root_user {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    };
    println!(
        "    apt-get update && apt-get install {}",
        packages.join(" ")
    );
    let mut update = Command::new(c.get_program());
    update
        .args(c.get_args())
        .args(["update", "-q"])
        .status_checked()?;
    c.args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status_checked()
        .context("apt-get install failed (run `apt-get update` first on a fresh machine)")
}
