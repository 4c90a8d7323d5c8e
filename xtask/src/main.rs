//! `cargo xtask`: Chorus's build, bundle, demo and test tasks, in Rust rather than in shell
//! scripts scattered about (matklad's pattern). Run `cargo xtask --help`.

mod bench;
mod dist;
mod fuzz;
mod release;
mod setup;
mod test;
mod tokens;
mod toolchain;
mod util;

use clap::{Parser, Subcommand};
use util::CommandExt;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Chorus build tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Make this machine able to build and test (idempotent; skips what is already there).
    Setup,
    /// Build the embed bundle into pkg/ with the pinned wasm recipe and print its size table.
    Dist {
        /// Where the pinned nightly is missing, build with whatever compiler is here (the
        /// bundle is then marked not reproducible in pkg/manifest.json).
        #[arg(long)]
        any_toolchain: bool,
    },
    /// Build the archive a trust installs: the server (release build), pkg/, www/, the example
    /// config, the systemd unit and SHA256SUMS, in target/release-archive/.
    Release {
        /// Package this server binary instead of building the release one.
        #[arg(long)]
        bin: Option<std::path::PathBuf>,
        /// Then install the archive into an empty folder and use it (what `cargo xtask test`
        /// does): checksums, migrate, doctor, serve, one submission, the bundle.
        #[arg(long)]
        check: bool,
    },
    /// Rebuild the bundle from a copy of this checkout in another folder (its own target dir)
    /// and compare every file's SHA-384 with pkg/: proves the published hashes reproducible.
    Reproduce,
    /// Write chorus.css's token and preset blocks, the playground's token list and the
    /// designers' token table from crates/widgets/tokens.json (`--check`: fail if stale).
    Tokens {
        /// Change nothing; fail if a generated file is not what the source gives.
        #[arg(long)]
        check: bool,
    },
    /// Build the bundle, then run the server on SQLite at http://127.0.0.1:8080 with the demo site.
    Demo {
        /// Address to serve on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
    /// Benchmarks side by side with peers (bundle bytes, time to form, interaction, server
    /// throughput, core); writes BENCHMARKS.md.
    Bench(bench::Options),
    /// Bounded fuzzing: libFuzzer on the core (instrument, response, redaction), then
    /// Schemathesis against the running server's OpenAPI document.
    Fuzz(fuzz::Options),
    /// Run everything: fmt, clippy, native tests, wasm tests, browser end-to-end tests.
    Test {
        /// Skip the wasm and browser steps (quick native loop).
        #[arg(long)]
        native_only: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::Setup => setup::run(),
        Task::Dist { any_toolchain } => dist::run(any_toolchain).map(|_| ()),
        Task::Demo { addr } => {
            setup::run()?;
            // The demo runs anywhere: another compiler will do (it says so) if the pinned is missing.
            dist::run(true)?;
            let chorus = |args: &[&str]| {
                util::cmd("cargo")
                    .args(["run", "--profile", "server", "--package", "chorus-server"])
                    .args(["--bin", "chorus", "--"])
                    .args(args)
                    .current_dir(util::root())
                    .status_checked()
            };
            util::step("Seeding months of demo responses and a dashboard account");
            chorus(&["seed", "--admin-password", "chorus-demo-password"])?;
            util::step("Starting the Chorus server (SQLite) with the demo site");
            println!("    open http://{addr}/  (Ctrl-C to stop)");
            println!(
                "    dashboard: http://{addr}/dashboard  (demo@chorus.example / chorus-demo-password)"
            );
            chorus(&["serve", "--addr", &addr])
        }
        Task::Reproduce => dist::check_reproducible(),
        Task::Tokens { check } => tokens::run(&util::root(), check),
        Task::Release { bin, check } => {
            let archive = release::run(bin)?;
            if check {
                release::check(&archive)?;
            }
            Ok(())
        }
        Task::Test { native_only } => test::run(native_only),
        Task::Bench(opts) => bench::run(opts),
        Task::Fuzz(opts) => fuzz::run(opts),
    }
}
