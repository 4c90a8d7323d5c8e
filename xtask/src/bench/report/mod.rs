//! BENCHMARKS.md: the machine, the figures, the ratios, and each miss of the brief's budgets
//! with what the run shows about its cause. Every number here comes from this run.
//!
//! Here: the report and its frame; [`verdicts`]: the budget table and the misses; one module
//! per numbered section.

mod bytes;
mod core_bench;
mod first_view;
mod interaction;
mod machine;
mod pages;
mod throughput;
mod verdicts;

use std::{fmt::Write as _, path::Path, process::Command};

pub use machine::Machine;

use serde_json::Value;

use super::{
    Options,
    browser::{median_of, numbers},
    bundle::{self, Contributors, FileSize},
    corebench::{Estimate, Throughput},
    load::{self, LoadRun},
    stats::{self, kb, median, percentile, thousands},
};
use crate::dist::BUDGET_BROTLI;

/// The brief's budgets.
const TTF_RATIO_BUDGET: f64 = 1.5;
/// Issue 15's goals: visible within 1.2× the floor, interactive within 1.5×, no layout shift.
const TTV_GOAL_RATIO: f64 = 1.2;
const TTI_GOAL_RATIO: f64 = 1.5;
const SQLITE_RATE_BUDGET: f64 = 10_000.0;
const P99_BUDGET_MS: f64 = 20.0;
/// Not a brief budget: web.dev's "good" Interaction to Next Paint, shown for reference.
const INP_GOOD_MS: f64 = 200.0;

/// Everything one run found.
pub struct Report {
    opts: Options,
    started: String,
    finished: String,
    machine: Machine,
    load_end: Option<[f64; 3]>,
    git: String,
    /// twiggy's view of the wasm.
    pub contributors: Option<Contributors>,
    browser: Option<Value>,
    /// Per page: id, name, files.
    sizes: Vec<(String, String, Vec<FileSize>)>,
    /// Server runs.
    pub loads: Vec<LoadRun>,
    /// Report pages at scale.
    pub reports: Vec<super::reports::ReportRun>,
    /// Core benchmarks.
    pub core: Option<Result<Vec<Estimate>, String>>,
    /// Things that went differently from the plan, said at the top.
    notes: Vec<String>,
}

impl Report {
    /// A report with nothing measured yet.
    pub fn new(opts: &Options, started: String, machine: Machine) -> Report {
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(crate::util::root())
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default()
        };
        let head = git(&["rev-parse", "--short", "HEAD"]);
        let dirty = !git(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
        Report {
            opts: opts.clone(),
            started,
            finished: String::new(),
            machine,
            load_end: None,
            git: if dirty {
                format!(
                    "{head} plus uncommitted changes in the working tree (other engineers' work in progress is built in)"
                )
            } else {
                head
            },
            contributors: None,
            browser: None,
            sizes: Vec::new(),
            loads: Vec::new(),
            reports: Vec::new(),
            core: None,
            notes: Vec::new(),
        }
    }

    /// Keep the browser's figures and size every file each page downloaded.
    pub fn set_browser(&mut self, v: Value, site: &Path) -> anyhow::Result<()> {
        for var in v["variants"].as_array().into_iter().flatten() {
            let files: Vec<(String, usize)> = var["files"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| {
                    Some((
                        f["path"].as_str()?.to_string(),
                        f["encoded"].as_u64().unwrap_or(0) as usize,
                    ))
                })
                .collect();
            self.sizes.push((
                var["id"].as_str().unwrap_or_default().to_string(),
                var["name"].as_str().unwrap_or_default().to_string(),
                bundle::file_sizes(site, &files)?,
            ));
        }
        self.browser = Some(v);
        Ok(())
    }

    /// Say something about the run at the top of the report.
    pub fn note(&mut self, text: String) {
        self.notes.push(text);
    }

    /// Note the end of the run.
    pub fn finish(&mut self, at: String, load: Option<[f64; 3]>) {
        self.finished = at;
        self.load_end = load;
    }

    fn variant(&self, id: &str) -> Option<&Value> {
        self.browser.as_ref()?["variants"]
            .as_array()?
            .iter()
            .find(|v| v["id"] == id)
    }

    fn ttf(&self, id: &str) -> Option<f64> {
        median_of(&self.variant(id)?["ttf"])
    }

    /// Every network profile measured: (id, name, its variants). A result from before profiles
    /// existed is one profile, the CPU-only one.
    fn profiles(&self) -> Vec<(&str, &str, &Value)> {
        let Some(b) = &self.browser else {
            return Vec::new();
        };
        match b["profiles"].as_array() {
            Some(ps) => ps
                .iter()
                .map(|p| {
                    (
                        p["id"].as_str().unwrap_or(""),
                        p["name"].as_str().unwrap_or(""),
                        &p["variants"],
                    )
                })
                .collect(),
            None => vec![("cpu", "CPU only", &b["variants"])],
        }
    }

    /// The median of `field` for page `id` in one profile's variants.
    fn median_in(variants: &Value, id: &str, field: &str) -> Option<f64> {
        let v = variants.as_array()?.iter().find(|v| v["id"] == id)?;
        median_of(&v[field])
    }

    /// The largest layout shift of any load of page `id` in one profile.
    fn worst_cls(variants: &Value, id: &str) -> Option<f64> {
        let v = variants.as_array()?.iter().find(|v| v["id"] == id)?;
        numbers(&v["cls"]).into_iter().reduce(f64::max)
    }

    /// Brotli bytes of the form's own files on page `id`.
    fn form_brotli(&self, id: &str) -> Option<usize> {
        let (_, _, files) = self.sizes.iter().find(|s| s.0 == id)?;
        Some(files.iter().filter(|f| f.form).map(|f| f.brotli).sum())
    }

    fn sqlite(&self) -> Option<&Value> {
        self.loads
            .iter()
            .find(|l| l.backend == "SQLite")?
            .figures
            .as_ref()
            .ok()
    }

    /// The whole report.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let _ = writeln!(s, "# Benchmarks\n");
        let _ = writeln!(
            s,
            "Written by `cargo xtask bench` (see `xtask/src/bench.rs`); run it again rather than editing this file. Every figure comes from one run on the machine below: figures, not timed assertions. Peers are measured in the same run, interleaved, so their ratios are fairer than their absolute times.\n"
        );
        let _ = writeln!(s, "| | |\n|---|---|");
        let _ = writeln!(s, "| date | {} to {} |", self.started, self.finished);
        let _ = writeln!(s, "| commit | {} |", self.git);
        let _ = writeln!(
            s,
            "| machine | {}, {} cores, {} memory; {}, Linux {} |",
            m.cpu,
            m.cores,
            m.mem_gib
                .map_or("unknown".into(), |g| format!("{g:.0} GiB")),
            m.os,
            m.kernel
        );
        let chromium = self
            .browser
            .as_ref()
            .and_then(|b| b["chromium"].as_str())
            .unwrap_or("not run");
        let _ = writeln!(
            s,
            "| tools | {}; Node {}; Chromium {chromium} (Debian, headless) |",
            m.rustc, m.node
        );
        let la = |l: Option<[f64; 3]>| {
            l.map_or("unknown".into(), |l| {
                format!("{:.2} / {:.2} / {:.2}", l[0], l[1], l[2])
            })
        };
        let _ = writeln!(
            s,
            "| load | load average (1 / 5 / 15 min) {} at the start, {} at the end; {} compiler or linker processes were running when it started. The {} cores are shared with other engineers building and testing in the same checkout during this run, so every time here is noisier and longer than on a quiet machine. |",
            la(m.load_start),
            la(self.load_end),
            m.compilers_at_start,
            m.cores
        );
        let _ = writeln!(
            s,
            "| settings | {} page loads per page and network profile, CPU throttled 4×, viewport 412×915; network profiles: {}; load: {} connections for {} s per database |\n",
            self.opts.runs,
            {
                let names: Vec<&str> = self.profiles().iter().map(|p| p.1).collect();
                if names.is_empty() {
                    "not run".to_string()
                } else {
                    names.join("; ")
                }
            },
            self.opts.connections,
            self.opts.seconds
        );

        for n in &self.notes {
            let _ = writeln!(s, "> **Note.** {n}\n");
        }
        let _ = writeln!(s, "## Against the brief's budgets\n");
        let _ = writeln!(s, "| figure | budget | measured | |\n|---|---|---|---|");
        for (what, budget, measured, ok) in self.budget_rows() {
            let verdict = match ok {
                Some(true) => "meets",
                Some(false) => "**misses**",
                None => "",
            };
            let _ = writeln!(s, "| {what} | {budget} | {measured} | {verdict} |");
        }
        let misses = self.misses();
        let _ = writeln!(s);
        if misses.is_empty() {
            let _ = writeln!(s, "No figure measured in this run misses a budget.\n");
        } else {
            let _ = writeln!(s, "### What misses, and why (from this run's figures)\n");
            for miss in misses {
                let _ = writeln!(s, "- {miss}");
            }
            let _ = writeln!(s);
        }

        self.bundle_section(&mut s);
        self.ttf_section(&mut s);
        self.interaction_section(&mut s);
        self.server_section(&mut s);
        self.core_section(&mut s);
        self.reports_section(&mut s);
        let _ = writeln!(s, "## How it is measured\n");
        for line in METHOD {
            let _ = writeln!(s, "- {line}");
        }
        s
    }

    /// The budget table as plain text, for the terminal.
    pub fn summary_text(&self) -> String {
        let mut s = String::from("\n");
        for (what, budget, measured, ok) in self.budget_rows() {
            let mark = match ok {
                Some(true) => "meets ",
                Some(false) => "MISSES",
                None => "      ",
            };
            let _ = writeln!(s, "{mark} {what}: {measured} (budget {budget})");
        }
        s
    }
}

/// A section's heading, and whether it was run (saying so when it was not).
fn section(s: &mut String, title: &str, run: bool) -> bool {
    let _ = writeln!(s, "## {title}\n");
    if !run {
        let _ = writeln!(s, "Not run.\n");
    }
    run
}

/// How the figures are taken; printed at the end of the report.
const METHOD: &[&str] = &[
    "Pages: `bench/fft-plain.html` (the floor: the question built with a few lines of DOM code), `bench/fft-surveyjs.html` (SurveyJS 2.5.38 from npm: survey-core, survey-js-ui and its fontless stylesheet, since the default one loads a web font from a third party) and `bench/fft-chorus.html` (the one-script-tag embed). All are served by one release `chorus serve` from a folder where every file has brotli and gzip twins.",
    "Browser: `bench/measure.mjs`, playwright-core driving Debian's Chromium (`--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --no-first-run`), CPU slowed with the DevTools protocol's `Emulation.setCPUThrottlingRate`. One unmeasured load of each page first, then the pages (on each network profile) in rotating order.",
    "Time to visible: a script installed before the page's own checks on every animation frame whether six radio answers are laid out and visible (inside the widget's shadow root for Chorus), and takes the time at the end of the first frame that shows them. That check runs on every page alike.",
    "Time to interactive: from that frame on, the same script clicks an answer's label on every frame (answers 2 and 3 in turn, so each click is a change) until the page's own code shows it has taken the click: the floor's change handler sets `data-answer` on its form; SurveyJS renders `sd-item--checked` on the item from its model; the Chorus app writes its draft of the answers (`chorus:draft:…` in sessionStorage) from its change handler. A radio the browser checks in markup no app has taken over yet does not count.",
    "Slow mobile network: the DevTools protocol's `Network.emulateNetworkConditions` with 150 ms latency per request, 1.6 Mbps down and 750 kbps up, on top of the CPU throttling; its loads are interleaved with the CPU-only ones in the same run. Cumulative layout shift: a `PerformanceObserver` for `layout-shift` entries (buffered, so from the document's start), summing those without recent input.",
    "Interaction: the time from a click's event timestamp to the end of the next frame (a message posted from the following `requestAnimationFrame`).",
    "Bundle: the file list comes from the browser (Resource Timing), the sizes from the files themselves (gzip -9, brotli q11, as `cargo xtask dist` compresses). twiggy reads a copy of the wasm optimised exactly like the shipped one but with its names section kept.",
    "Server: the load generator is closed-loop (fixed concurrency, the rate is what the server sustains) and runs on the same 2 cores as the server. SQLite runs with WAL and `synchronous = FULL`; PostgreSQL with its defaults (`fsync` and `synchronous_commit` on).",
    "Core: criterion with a 2 s warm-up and 4 s of measurement per benchmark, built with the server's `server` profile (opt-level 3, as deployed) rather than the wasm-tuned `release` profile.",
];

/// A JSON count with thousands separators ("–" when absent).
fn count(v: &Value) -> String {
    v.as_u64().map_or("–".into(), thousands)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn ms(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{x:.0} ms"))
}

fn ratio(x: Option<f64>, floor: Option<f64>) -> String {
    match (x, floor) {
        (Some(x), Some(f)) if f > 0.0 => format!("{:.2}×", x / f),
        _ => "–".into(),
    }
}

fn nanos(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report from made-up figures: the verdicts and the causes follow the numbers.
    #[test]
    fn verdicts_and_causes_follow_the_figures() {
        let site = std::env::temp_dir().join(format!("chorus-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&site).unwrap();
        // A wasm of incompressible bytes: well over the budget once compressed.
        let mut x: u32 = 1;
        let noise: Vec<u8> = (0..120_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        std::fs::write(site.join("chorus-0123456789.wasm"), &noise).unwrap();
        std::fs::write(site.join("chorus.js"), "x".repeat(3000)).unwrap();
        std::fs::write(site.join("plain.js"), "y".repeat(1000)).unwrap();
        std::fs::write(site.join("fft-plain.html"), "<p>page</p>").unwrap();
        let plain = serde_json::json!({"id": "plain", "name": "floor", "ttf": [200.0, 210.0, 190.0], "tti": [200.0, 210.0, 190.0], "cls": [0.0, 0.0, 0.0], "fcp": [100.0], "clicks": [20.0],
             "files": [{"path": "/embed/fft-plain.html", "encoded": 11}, {"path": "/embed/plain.js", "encoded": 40}],
             "milestones": {"/embed/plain.js": 150.0}});
        let chorus = serde_json::json!({"id": "chorus", "name": "Chorus", "ttf": [400.0, 420.0, 380.0], "tti": [410.0, 430.0, 390.0], "cls": [0.0, 0.02, 0.0], "fcp": [100.0], "clicks": [30.0],
             "files": [{"path": "/embed/chorus.js", "encoded": 40}, {"path": "/embed/chorus-0123456789.wasm", "encoded": 120000}],
             "milestones": {"/embed/chorus.js": 150.0, "/embed/chorus-0123456789.wasm": 250.0}});
        // The slow network: Chorus visible within 1.2× but interactive beyond 1.5×.
        let slow = serde_json::json!([
            {"id": "plain", "name": "floor", "ttf": [1000.0], "tti": [1000.0], "cls": [0.0], "milestones": {}},
            {"id": "chorus", "name": "Chorus", "ttf": [1100.0], "tti": [1700.0], "cls": [0.0],
             "milestones": {"/embed/chorus.js": 600.0, "/embed/chorus-0123456789.wasm": 1200.0}}
        ]);
        let browser = serde_json::json!({
            "chromium": "1.2.3", "throttle": 4, "registered": ["chorus-fft"],
            "form": {"available": false, "note": "not yet available: test"},
            "variants": [plain.clone(), chorus.clone()],
            "profiles": [
                {"id": "cpu", "name": "CPU 4× slower, local network", "variants": [plain, chorus]},
                {"id": "mobile", "name": "CPU 4× slower, slow mobile network", "variants": slow}
            ]
        });
        let opts = Options {
            runs: 3,
            seconds: 1.0,
            connections: 2,
            scale: 1000,
            only: None,
            out: None,
        };
        let mut r = Report::new(&opts, "start".into(), Machine::default());
        r.set_browser(browser, &site).unwrap();
        r.loads.push(LoadRun {
            backend: "SQLite".into(),
            settings: "WAL".into(),
            figures: Ok(serde_json::json!({
                "throughput": 12000.0, "p50_ms": 3.0, "p90_ms": 9.0, "p99_ms": 25.0, "max_ms": 40.0,
                "receipts": 120, "stored": 120, "distinct_references": 120, "sampled": 10, "sampled_found": 10,
                "seconds": 1.0, "commits": 4, "rows_committed": 120, "refused": {}
            })),
            server_cpu: Some(1.5),
            load: (Some(1.0), Some(2.0)),
        });
        r.finish("end".into(), None);
        let md = r.markdown();
        let _ = std::fs::remove_dir_all(&site);
        let rows = r.budget_rows();
        let verdict = |what: &str| rows.iter().find(|x| x.0.starts_with(what)).map(|x| x.3);
        assert_eq!(verdict("Bundle"), Some(Some(false)), "{md}");
        assert_eq!(verdict("Time to visible: Chorus"), Some(Some(false)));
        let row = |what: &str| rows.iter().find(|x| x.0 == what).map(|x| x.3);
        assert_eq!(
            row("Time to interactive: Chorus ÷ the plain floor (median, CPU 4× slower)"),
            Some(Some(false))
        );
        assert_eq!(
            row("Time to visible, issue 15's goal (median, CPU 4× slower, slow mobile network)"),
            Some(Some(true))
        );
        assert_eq!(
            row(
                "Time to interactive: Chorus ÷ the plain floor (median, CPU 4× slower, slow mobile network)"
            ),
            Some(Some(false))
        );
        assert_eq!(
            row("Cumulative layout shift, Chorus (worst load, CPU 4× slower)"),
            Some(Some(false))
        );
        assert_eq!(
            row("Cumulative layout shift, Chorus (worst load, CPU 4× slower, slow mobile network)"),
            Some(Some(true))
        );
        // Both profiles get their table, and the slow network's interactive miss its cause.
        assert!(
            md.contains("**CPU 4× slower, slow mobile network**"),
            "{md}"
        );
        assert!(md.contains("| Chorus | 1100 ms | 1100 – 1100 ms | 1.10× | 1700 ms | 1700 – 1700 ms | 1.70× | 0.000 |"), "{md}");
        assert!(
            md.contains("the wasm module at 1200 ms (medians), so 500 ms went to"),
            "{md}"
        );
        assert!(md.contains("- Chorus: 400/410, 420/430, 380/390"), "{md}");
        assert_eq!(verdict("Server on SQLite: durably"), Some(Some(true)));
        assert_eq!(verdict("Server on SQLite: p99"), Some(Some(false)));
        assert_eq!(verdict("Server on SQLite: every receipt"), Some(Some(true)));
        assert!(md.contains("2.00× (400 ms ÷ 200 ms)"), "{md}");
        // Causes name the measured milestones and the server's figures.
        assert!(
            md.contains("the wasm module it then fetches at 250 ms"),
            "{md}"
        );
        assert!(md.contains("p99 25.0 ms against 20 ms"), "{md}");
        assert!(md.contains("30.0 responses per fsynced commit"), "{md}");
        assert!(md.contains("not yet available: test"), "{md}");
        assert!(!md.contains("12,000/s against"), "{md}");
    }

    #[test]
    fn units() {
        assert_eq!(nanos(512.0), "512 ns");
        assert_eq!(nanos(2_500.0), "2.50 µs");
        assert_eq!(nanos(3_200_000.0), "3.20 ms");
        assert_eq!(ratio(Some(300.0), Some(200.0)), "1.50×");
        assert_eq!(ratio(Some(300.0), None), "–");
        assert_eq!(file_name("/embed/vendor/x.js"), "x.js");
    }
}
