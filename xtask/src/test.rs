//! `cargo xtask test`: every check Chorus has, in one command, ending with one line
//! `N passed, N failed`. Exits non-zero on any failure. CI runs exactly this.
//!
//! Steps: fmt check, clippy `-D warnings`, native tests (SQLite and, where it can be started,
//! PostgreSQL), bounded fuzzing (libFuzzer on the core, Schemathesis on the API), the core's
//! shared test vectors compiled to wasm and run under Node, widget component tests in headless
//! Chromium, and the browser end-to-end suite.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Command, Stdio},
    sync::mpsc,
};

use crate::{
    dist,
    toolchain::Wasm,
    util::{self, CommandExt, root, step},
};

/// Seconds per libFuzzer target, and Schemathesis examples per API operation, in CI.
const FUZZ_SECONDS: u64 = 20;
const FUZZ_EXAMPLES: u32 = 100;

/// Pass/fail counts of one step.
#[derive(Default, Clone, Copy)]
struct Counts {
    passed: usize,
    failed: usize,
}

/// Run the whole suite.
pub fn run(native_only: bool) -> anyhow::Result<()> {
    if !native_only {
        // So `cargo xtask test` alone works on a fresh machine (README's promise).
        crate::setup::run()?;
    }
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut results: Vec<(String, Counts)> = Vec::new();
    let mut record = |name: &str, c: Counts| {
        println!("    {name}: {} passed, {} failed", c.passed, c.failed);
        results.push((name.to_string(), c));
    };

    step("cargo fmt --check");
    record(
        "fmt",
        check(
            Command::new(&cargo)
                .args(["fmt", "--all", "--check"])
                .current_dir(&root),
        ),
    );

    step("cargo clippy --workspace --all-targets -- -D warnings");
    record(
        "clippy",
        check(
            Command::new(&cargo)
                .args([
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ])
                .current_dir(&root),
        ),
    );

    step("Native tests (cargo test --workspace)");
    let mut native = Command::new(&cargo);
    // Every test binary runs and is counted, even after one fails.
    native
        .args(["test", "--workspace", "--no-fail-fast"])
        .current_dir(&root);
    match postgres_url() {
        Some(url) => {
            println!("    PostgreSQL tests use {url}");
            native.env("CHORUS_TEST_POSTGRES_URL", url);
        }
        None => println!(
            "    PostgreSQL could not be started here: its tests will say they were skipped"
        ),
    }
    record("native", counted(&mut native));

    if !native_only {
        // Bounded, so CI time stays predictable: `cargo xtask fuzz` runs longer.
        step("Fuzzing: libFuzzer on the core, Schemathesis on the API (bounded)");
        let mut fuzzed = crate::fuzz::fuzz_targets(FUZZ_SECONDS);
        match crate::fuzz::server_binary() {
            Ok(bin) => fuzzed.push(crate::fuzz::schemathesis(FUZZ_EXAMPLES, &bin)),
            Err(e) => record("schemathesis", failed_step(&format!("{e:#}"))),
        }
        for o in fuzzed {
            record(
                &o.name,
                Counts {
                    passed: usize::from(o.ok),
                    failed: usize::from(!o.ok),
                },
            );
        }

        match Wasm::for_tests() {
            Err(e) => record("wasm", failed_step(&e.to_string())),
            Ok(wasm) => {
                let runner = util::cargo_bin("wasm-bindgen-test-runner");
                step("Core test vectors compiled to wasm, run under Node");
                let mut node = wasm.cargo("test", true);
                node.args(["--package", "chorus-core", "--tests"])
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
                    .current_dir(&root);
                record("wasm (node)", counted(&mut node));

                step("Widget component tests in headless Chromium");
                let mut chrome = wasm.cargo("test", true);
                chrome
                    .args(["--package", "chorus-widgets", "--tests"])
                    .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
                    .env("CHROMEDRIVER", "/usr/bin/chromedriver")
                    .env(
                        "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                        root.join("tests/webdriver.json"),
                    )
                    .current_dir(&root);
                record("wasm (chromium)", counted(&mut chrome));

                // The FFT module (the widgets without their `suite` feature) is not shipped yet,
                // but the code that gates it must keep compiling for when it is.
                step("The FFT module (chorus-widgets --no-default-features) compiles for wasm32");
                let mut fft = wasm.cargo("check", false);
                fft.args([
                    "--package",
                    "chorus-widgets",
                    "--lib",
                    "--no-default-features",
                ])
                .current_dir(&root);
                record("wasm (FFT module)", check(&mut fft));
            }
        }

        step("Browser end-to-end tests (Playwright + Debian Chromium)");
        match e2e_prerequisites(&cargo) {
            Err(e) => record("e2e", failed_step(&format!("{e:#}"))),
            Ok(bin) => {
                // Screenshots of each state are kept here as test artifacts.
                let artifacts = root.join("target/e2e-artifacts");
                let _ = std::fs::create_dir_all(&artifacts);
                let mut e2e = Command::new("node");
                e2e.env("CHORUS_ARTIFACTS", &artifacts);
                e2e.args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
                    .arg("tests/e2e/")
                    .env("CHORUS_BIN", &bin)
                    .current_dir(&root);
                record("e2e", counted(&mut e2e));

                step(
                    "Release archive: built around this server, installed into an empty folder, used",
                );
                let out = root.join("target/release-test");
                record(
                    "release archive",
                    match crate::release::archive(&bin, &out)
                        .and_then(|a| crate::release::check(&a))
                    {
                        Ok(()) => Counts {
                            passed: 1,
                            failed: 0,
                        },
                        Err(e) => failed_step(&format!("{e:#}")),
                    },
                );
            }
        }

        step(
            "Reproducible bundle: rebuilt from another path and target dir, same SHA-384 per file",
        );
        record(
            "reproducible",
            match dist::check_reproducible() {
                Ok(()) => Counts {
                    passed: 1,
                    failed: 0,
                },
                Err(e) => failed_step(&format!("{e:#}")),
            },
        );
    }

    let passed: usize = results.iter().map(|r| r.1.passed).sum();
    let failed: usize = results.iter().map(|r| r.1.failed).sum();
    println!();
    for (name, c) in &results {
        let mark = if c.failed == 0 { "ok  " } else { "FAIL" };
        println!(
            "{mark} {name:<16} {:>5} passed, {:>3} failed",
            c.passed, c.failed
        );
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// The bundle and the server binary the end-to-end tests need.
fn e2e_prerequisites(cargo: &str) -> anyhow::Result<std::path::PathBuf> {
    dist::run(false)?;
    Command::new(cargo)
        .args(["build", "--package", "chorus-server", "--bin", "chorus"])
        .current_dir(root())
        .status_checked()?;
    Ok(root().join("target/debug/chorus"))
}

/// A step that could not even start counts as one failure, with the reason shown.
fn failed_step(why: &str) -> Counts {
    eprintln!("    could not run: {why}");
    Counts {
        passed: 0,
        failed: 1,
    }
}

/// A check with no test count of its own (fmt, clippy): one pass or one failure.
fn check(c: &mut Command) -> Counts {
    match c.status() {
        Ok(s) if s.success() => Counts {
            passed: 1,
            failed: 0,
        },
        Ok(_) => Counts {
            passed: 0,
            failed: 1,
        },
        Err(e) => failed_step(&e.to_string()),
    }
}

/// Run a test command, echo its output, and add up the counts its runners print
/// (cargo/libtest and wasm-bindgen-test: `test result: … N passed; N failed`; node's test
/// runner: `ℹ pass N` / `ℹ fail N`). A non-zero exit with no failure counted (a build
/// error, a crash) still counts as one failure, so nothing fails silently.
fn counted(c: &mut Command) -> Counts {
    let mut child = match c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) => return failed_step(&format!("{}: {e}", util::describe(c))),
    };
    let (tx, rx) = mpsc::channel::<String>();
    let pump = |stream: Box<dyn Read + Send>, tx: mpsc::Sender<String>, to_err: bool| {
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if to_err {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
                let _ = tx.send(line);
            }
        })
    };
    let a = pump(
        Box::new(child.stdout.take().expect("piped")),
        tx.clone(),
        false,
    );
    let b = pump(Box::new(child.stderr.take().expect("piped")), tx, true);
    let mut counts = Counts::default();
    for line in rx {
        parse_line(&line, &mut counts);
    }
    let _ = (a.join(), b.join());
    let ok = child.wait().map(|s| s.success()).unwrap_or(false);
    if !ok && counts.failed == 0 {
        counts.failed = 1;
    }
    counts
}

/// Add the counts one output line reports, if any.
fn parse_line(line: &str, counts: &mut Counts) {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("test result: ") {
        // "ok. 12 passed; 0 failed; 0 ignored; …"
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(what), Some(n)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<usize>() else { continue };
            match what {
                "passed" => counts.passed += n,
                "failed" => counts.failed += n,
                _ => {}
            }
        }
    } else if let Some(rest) = line
        .strip_prefix("ℹ pass ")
        .or_else(|| line.strip_prefix("# pass "))
    {
        counts.passed += rest.trim().parse().unwrap_or(0);
    } else if let Some(rest) = line
        .strip_prefix("ℹ fail ")
        .or_else(|| line.strip_prefix("# fail "))
    {
        counts.failed += rest.trim().parse().unwrap_or(0);
    }
}

/// A PostgreSQL URL for the server's tests: `CHORUS_TEST_POSTGRES_URL` if set, else start the
/// local Debian cluster (`pg_ctlcluster`) and make a `chorus` role and `chorus_test` database.
fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("CHORUS_TEST_POSTGRES_URL") {
        return Some(url);
    }
    // A fresh database each run: the tests' per-test schemas never pile up.
    match util::fresh_local_postgres("chorus_test") {
        Ok(url) => Some(url),
        Err(e) => {
            eprintln!("    PostgreSQL setup failed: {e:#}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_and_node_summaries() {
        let mut c = Counts::default();
        parse_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            &mut c,
        );
        parse_line("test result: FAILED. 3 passed; 2 failed; 0 ignored", &mut c);
        parse_line("ℹ pass 4", &mut c);
        parse_line("ℹ fail 1", &mut c);
        parse_line("# pass 2", &mut c);
        parse_line("something else 9 passed", &mut c);
        assert_eq!((c.passed, c.failed), (21, 3));
    }
}
