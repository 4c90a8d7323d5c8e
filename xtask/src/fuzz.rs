//! `cargo xtask fuzz [--seconds N] [--examples N]`: bounded fuzzing of the core and of the API.
//!
//! 1. libFuzzer (through cargo-fuzz) on the three core targets in `fuzz/`: instrument parse +
//!    validate, response validate + score, redaction. Each runs for a fixed time from seeds
//!    written fresh from `crates/core/vectors` and the instrument library (`fuzz/seeds/`, not
//!    committed), whatever it found before (`fuzz/corpus/`) and the committed inputs that once
//!    failed (`fuzz/regressions/`, replayed first every run). cargo-fuzz wants nightly
//!    flags; `RUSTC_BOOTSTRAP=1` lets the stable toolchain accept them. No sanitizer: the core
//!    forbids `unsafe`, so ASan would watch nothing of ours, and coverage-guided speed is worth
//!    more. Debug assertions are on, so an integer overflow is a crash.
//! 2. Schemathesis against `/api/v1/openapi.json` of a running server (a temporary SQLite
//!    database), a fixed number of examples per operation: any 5xx fails.
//!
//! Both print their figures (runs, coverage, test cases) and fail on any finding.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{
    setup::schemathesis_bin,
    util::{self, CommandExt, root, step},
};

/// The libFuzzer targets in `fuzz/fuzz_targets`.
pub const TARGETS: &[&str] = &["instrument", "response", "redaction"];

/// `cargo xtask fuzz` options.
#[derive(clap::Args)]
pub struct Options {
    /// Seconds per libFuzzer target.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Schemathesis examples per API operation.
    #[arg(long, default_value_t = 200)]
    pub examples: u32,
    /// Only the libFuzzer targets.
    #[arg(long)]
    pub no_schemathesis: bool,
}

/// What one bounded run found.
pub struct Outcome {
    pub name: String,
    pub ok: bool,
    pub figures: String,
}

/// The command: every target, then Schemathesis; errors if anything was found.
pub fn run(opts: Options) -> anyhow::Result<()> {
    crate::setup::fuzz_tools()?;
    let mut outcomes = fuzz_targets(opts.seconds);
    if !opts.no_schemathesis {
        outcomes.push(schemathesis(opts.examples, &server_binary()?));
    }
    println!();
    for o in &outcomes {
        println!(
            "{} {:<22} {}",
            if o.ok { "ok  " } else { "FAIL" },
            o.name,
            o.figures
        );
    }
    if outcomes.iter().any(|o| !o.ok) {
        bail!("fuzzing found problems (see above)");
    }
    Ok(())
}

/// Write the seeds, then run each target for `seconds`.
pub fn fuzz_targets(seconds: u64) -> Vec<Outcome> {
    let seeds = match write_seeds() {
        Ok(n) => n,
        Err(e) => {
            return vec![Outcome {
                name: "fuzz seeds".into(),
                ok: false,
                figures: format!("{e:#}"),
            }];
        }
    };
    TARGETS
        .iter()
        .map(|t| {
            step(&format!(
                "libFuzzer: {t} for {seconds} s ({} seeds from the vectors)",
                seeds[t]
            ));
            let outcome = fuzz_one(t, seconds);
            println!("    {}", outcome.figures);
            outcome
        })
        .collect()
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

/// Seeds per target from the shared vectors and the instrument library, written afresh each
/// run (a changed vector changes its seed). Returns how many each target got.
pub fn write_seeds() -> anyhow::Result<std::collections::BTreeMap<&'static str, usize>> {
    let core = root().join("crates/core");
    let read = |name: &str| -> anyhow::Result<Vec<Value>> {
        let path = core.join("vectors").join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    };
    // An instrument as the response target's first line: a library id, or a one-line definition.
    let head = |v: &Value| match v {
        Value::String(id) => id.clone(),
        other => other.to_string(),
    };
    let mut seeds: std::collections::BTreeMap<&str, Vec<Vec<u8>>> = Default::default();

    let instruments = seeds.entry("instrument").or_default();
    for case in read("definitions.json")? {
        instruments.push(match &case["definition"] {
            Value::String(raw) => raw.clone().into_bytes(),
            v => v.to_string().into_bytes(),
        });
    }
    let mut library = Vec::new();
    for entry in std::fs::read_dir(core.join("instruments"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            library.push(std::fs::read(&path)?);
        }
    }
    library.sort();
    instruments.extend(library);

    let responses = seeds.entry("response").or_default();
    for case in read("validation.json")? {
        responses.push(format!("{}\n{}", head(&case["instrument"]), case["response"]).into_bytes());
    }
    for file in ["scoring.json", "scoring-inline.json"] {
        for (n, case) in read(file)?.into_iter().enumerate() {
            let id = match &case["instrument"] {
                Value::String(id) => id.clone(),
                def => def["id"].as_str().unwrap_or_default().to_string(),
            };
            let response = serde_json::json!({"instrument": id, "version": 1,
                "idempotency_key": format!("seed-key-{n:06}"), "answers": case["answers"]});
            responses.push(format!("{}\n{response}", head(&case["instrument"])).into_bytes());
        }
    }

    let texts = seeds.entry("redaction").or_default();
    for case in read("redaction.json")? {
        if let Some(input) = case["input"].as_str() {
            texts.push(input.as_bytes().to_vec());
        }
    }

    let mut counts = std::collections::BTreeMap::new();
    for (target, inputs) in seeds {
        let dir = fuzz_dir().join("seeds").join(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        for (n, input) in inputs.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n:04}")), input)?;
        }
        std::fs::create_dir_all(fuzz_dir().join("corpus").join(target))?;
        counts.insert(target, inputs.len());
    }
    Ok(counts)
}

/// One bounded libFuzzer run. A crash, a panic, a timeout or running out of memory fails it;
/// the input that did it is kept in `fuzz/artifacts/<target>/`.
fn fuzz_one(target: &str, seconds: u64) -> Outcome {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let corpus = fuzz_dir().join("corpus").join(target);
    let seeds = fuzz_dir().join("seeds").join(target);
    // Inputs that once failed, committed: each run replays them first, so a fixed bug stays
    // fixed and a known one fails every run, not one run in ten.
    let regressions = fuzz_dir().join("regressions").join(target);
    let _ = std::fs::create_dir_all(&regressions);
    let mut c = Command::new(util::cargo_bin("cargo-fuzz"));
    c.arg("fuzz") // cargo-fuzz run as a plain program still expects its subcommand name first
        .args(["run", "--sanitizer", "none", "--debug-assertions", target])
        .arg(&corpus)
        .arg(&seeds)
        .arg(&regressions)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .args(["-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"])
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO", &cargo)
        // Its own target folder (fuzz/target): instrumented builds never mix with normal ones.
        .env_remove("CARGO_TARGET_DIR")
        .current_dir(root())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped());
    let mut child = match c.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Outcome {
                name: format!("fuzz {target}"),
                ok: false,
                figures: format!("could not start cargo-fuzz ({e}); run `cargo xtask setup`"),
            };
        }
    };
    // libFuzzer writes a status line every few thousand runs: show the build, the first status
    // and anything that looks like a finding (the panic, the input, where it was saved).
    let (mut runs, mut last_status) = (None, String::new());
    for line in BufReader::new(child.stderr.take().expect("piped"))
        .lines()
        .map_while(Result::ok)
    {
        let status_line = line.starts_with('#') && line.contains(" cov: ");
        if status_line {
            if line.contains("INITED") {
                println!("    {line}");
            }
            last_status = line.clone();
        } else if line.starts_with("Done ") {
            runs = line.split_whitespace().nth(1).map(str::to_string);
            println!("    {line}");
        } else if !quiet(&line) {
            println!("    {line}");
        }
    }
    let ok = child.wait().is_ok_and(|s| s.success());
    let coverage = last_status
        .split_whitespace()
        .skip_while(|w| *w != "cov:")
        .nth(1)
        .unwrap_or("?")
        .to_string();
    let corpus_size = std::fs::read_dir(&corpus).map_or(0, |d| d.count());
    let artifacts = fuzz_dir().join("artifacts").join(target);
    let figures = if ok {
        format!(
            "{} runs in {seconds} s, 0 crashes, coverage {coverage} edges, corpus {corpus_size}",
            runs.as_deref().unwrap_or("?")
        )
    } else {
        format!(
            "FOUND A PROBLEM: the input is in {} (reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run -s none -a {target} <file>)",
            artifacts.display()
        )
    };
    Outcome {
        name: format!("fuzz {target}"),
        ok,
        figures,
    }
}

/// libFuzzer's chatter that says nothing about the run's result: final stats (summarised
/// instead), its suggested dictionary, new-function notes, and the missing-sanitizer warnings
/// of a build without a sanitizer.
fn quiet(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("stat::")
        || t.starts_with('"')
        || t.starts_with("######")
        || t.starts_with("NEW_FUNC")
        || t.starts_with("WARNING: Failed to find function")
        || (t.starts_with("INFO:") && !t.starts_with("INFO: Seed"))
}

/// The server binary Schemathesis talks to, built if needed (debug: it is what the e2e tests
/// run, and debug assertions make more mistakes visible).
pub fn server_binary() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .args(["build", "--package", "chorus-server", "--bin", "chorus"])
        .current_dir(root())
        .status_checked()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    Ok(target.join("debug/chorus"))
}

/// Start the server on a temporary SQLite database, run Schemathesis against its OpenAPI
/// document, stop the server. Any 5xx (`not_a_server_error`) fails the run.
pub fn schemathesis(examples: u32, bin: &Path) -> Outcome {
    step(&format!(
        "Schemathesis: {examples} examples per operation against /api/v1/openapi.json"
    ));
    let outcome = (|| -> anyhow::Result<(bool, String)> {
        let dir = std::env::temp_dir().join(format!("chorus-schemathesis-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("chorus.toml");
        // The demo site, with limits high enough that the run measures the API, not the limiter.
        std::fs::write(
            &config,
            "[[sites]]\nid = \"demo\"\norigins = [\"http://localhost:*\"]\n[limits]\nper_ip_per_minute = 10000000\nper_site_per_minute = 10000000\n",
        )?;
        let mut server = Command::new(bin)
            .args(["serve", "--addr", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--pkg-dir")
            .arg(&dir)
            .arg("--www-dir")
            .arg(&dir)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.join("chorus.db").display()),
            )
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut lines = BufReader::new(server.stderr.take().expect("piped")).lines();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = server.kill();
                bail!("the server exited before listening");
            };
            if let Some((_, rest)) = line.split_once("Chorus listening on http://") {
                break rest
                    .split(|c: char| c == '"' || c.is_whitespace())
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        };
        // Keep the log flowing (a full pipe would stall the server), and count its errors.
        let errors = std::thread::spawn(move || {
            lines
                .map_while(Result::ok)
                .filter(|l| l.contains("\"level\":\"ERROR\"") || l.contains(" ERROR "))
                .count()
        });
        let report = root().join("target/schemathesis");
        let mut st = Command::new(schemathesis_bin())
            .arg("run")
            .arg(format!("http://{addr}/api/v1/openapi.json"))
            .args(["--url", &format!("http://{addr}")])
            .args(["--checks", "not_a_server_error"])
            .args(["--max-examples", &examples.to_string()])
            .args(["--phases", "examples,coverage,fuzzing"])
            .args([
                "--generation-database",
                "none",
                "--no-color",
                "--workers",
                "2",
            ])
            .args([
                "--request-timeout",
                "20",
                "--report",
                "junit",
                "--report-dir",
            ])
            .arg(&report)
            .stdout(Stdio::piped())
            .spawn()
            .context("running schemathesis (run `cargo xtask setup`)");
        // Echo its report, keeping the figures: operations tested and test cases generated.
        let (mut operations, mut cases) = (String::from("?"), String::from("?"));
        let status = st.as_mut().map(|st| {
            for line in BufReader::new(st.stdout.take().expect("piped"))
                .lines()
                .map_while(Result::ok)
            {
                println!("    {line}");
                let t = line.trim();
                if let Some(rest) = t.strip_prefix("Tested:") {
                    operations = rest.trim().to_string();
                } else if t.contains(" generated") {
                    cases = t.to_string();
                }
            }
            st.wait()
        });
        let _ = server.kill();
        let _ = server.wait();
        let errors = errors.join().unwrap_or(0);
        let _ = std::fs::remove_dir_all(&dir);
        let ok = status.map_err(|e| anyhow::anyhow!("{e:#}"))??.success();
        Ok((
            ok,
            format!(
                "{operations} operations, test cases: {cases}; server logged {errors} errors (JUnit in {})",
                report.display()
            ),
        ))
    })();
    let (ok, figures) = outcome.unwrap_or_else(|e| (false, format!("{e:#}")));
    println!("    {figures}");
    Outcome {
        name: "schemathesis".into(),
        ok,
        figures,
    }
}
