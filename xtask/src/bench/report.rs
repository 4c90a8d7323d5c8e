//! BENCHMARKS.md: the machine, the figures, the ratios, and each miss of the brief's budgets
//! with what the run shows about its cause. Every number here comes from this run.

use std::{fmt::Write as _, path::Path, process::Command};

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

/// What the machine is.
#[derive(Debug, Default)]
pub struct Machine {
    cpu: String,
    cores: usize,
    mem_gib: Option<f64>,
    os: String,
    kernel: String,
    rustc: String,
    node: String,
    load_start: Option<[f64; 3]>,
    compilers_at_start: usize,
}

impl Machine {
    /// Read it from /proc and the tools' `--version`.
    pub fn probe() -> Machine {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let out = |prog: &str, args: &[&str]| {
            Command::new(prog)
                .args(args)
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_else(|| "unknown".into())
        };
        Machine {
            cpu: stats::cpu_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown CPU".into()),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_gib: stats::mem_gib(&read("/proc/meminfo")),
            os: stats::os_name(&read("/etc/os-release")).unwrap_or_else(|| "unknown OS".into()),
            kernel: out("uname", &["-r"]),
            rustc: out("rustc", &["--version"]),
            node: out("node", &["--version"]),
            load_start: Machine::loadavg(),
            compilers_at_start: compilers_running(),
        }
    }

    /// The load average now (1, 5, 15 minutes).
    pub fn loadavg() -> Option<[f64; 3]> {
        stats::loadavg_now()
    }
}

/// rustc, cc and linker processes running now: other engineers' builds on this machine.
fn compilers_running() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|c| {
            matches!(
                c.trim(),
                "rustc" | "cc" | "cc1" | "ld" | "rust-lld" | "wasm-opt"
            )
        })
        .count()
}

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

    /// The budget table's rows: (figure, budget, measured, met?).
    fn budget_rows(&self) -> Vec<(String, String, String, Option<bool>)> {
        let mut rows = Vec::new();
        if let Some(br) = self.form_brotli("chorus") {
            rows.push((
                "Bundle: the whole widget suite, brotli".into(),
                format!("≤ {}", kb(BUDGET_BROTLI)),
                kb(br),
                Some(br <= BUDGET_BROTLI),
            ));
        }
        for (pid, _, vs) in self.profiles() {
            let profile = if pid == "mobile" {
                "CPU 4× slower, slow mobile network"
            } else {
                "CPU 4× slower"
            };
            let pair = |field: &str| {
                Some((
                    Self::median_in(vs, "chorus", field)?,
                    Self::median_in(vs, "plain", field)?,
                ))
            };
            if let Some((c, f)) = pair("ttf") {
                if pid == "cpu" {
                    rows.push((
                        format!("Time to visible: Chorus ÷ the plain floor (median, {profile})"),
                        format!("≤ {TTF_RATIO_BUDGET}× (brief)"),
                        format!("{:.2}× ({c:.0} ms ÷ {f:.0} ms)", c / f),
                        Some(c / f <= TTF_RATIO_BUDGET),
                    ));
                }
                rows.push((
                    format!("Time to visible, issue 15's goal (median, {profile})"),
                    format!("≤ {TTV_GOAL_RATIO}× (issue 15)"),
                    format!("{:.2}×", c / f),
                    Some(c / f <= TTV_GOAL_RATIO),
                ));
            }
            if let Some((c, f)) = pair("tti") {
                rows.push((
                    format!("Time to interactive: Chorus ÷ the plain floor (median, {profile})"),
                    format!("≤ {TTI_GOAL_RATIO}× (issue 15)"),
                    format!("{:.2}× ({c:.0} ms ÷ {f:.0} ms)", c / f),
                    Some(c / f <= TTI_GOAL_RATIO),
                ));
            }
            if let Some(cls) = Self::worst_cls(vs, "chorus") {
                rows.push((
                    format!("Cumulative layout shift, Chorus (worst load, {profile})"),
                    "0 (issue 15)".into(),
                    format!("{cls:.3}"),
                    Some(cls == 0.0),
                ));
            }
        }
        if let Some(v) = self.sqlite() {
            let rate = v["throughput"].as_f64().unwrap_or(0.0);
            rows.push((
                "Server on SQLite: durably stored responses per second".into(),
                format!("≥ {}", thousands(SQLITE_RATE_BUDGET as u64)),
                format!("{}/s", load::rate(v)),
                Some(rate >= SQLITE_RATE_BUDGET),
            ));
            let p99 = v["p99_ms"].as_f64().unwrap_or(f64::INFINITY);
            rows.push((
                "Server on SQLite: p99 latency under that load".into(),
                format!("≤ {P99_BUDGET_MS} ms"),
                format!("{p99:.1} ms"),
                Some(p99 <= P99_BUDGET_MS),
            ));
        }
        for l in &self.loads {
            let (measured, ok) = match &l.figures {
                Ok(v) => (
                    format!(
                        "{} receipts, {} rows stored, {} distinct references",
                        count(&v["receipts"]),
                        count(&v["stored"]),
                        count(&v["distinct_references"])
                    ),
                    Some(v["receipts"] == v["stored"] && v["receipts"] == v["distinct_references"]),
                ),
                Err(e) if e.starts_with("the check failed") => (e.clone(), Some(false)),
                Err(e) => (e.clone(), None),
            };
            rows.push((
                format!("Server on {}: every receipt stored exactly once", l.backend),
                "rows = receipts".into(),
                measured,
                ok,
            ));
        }
        if let Some(c) = self.variant("chorus").and_then(|v| median_of(&v["clicks"])) {
            rows.push((
                "Click on an answer → next frame, Chorus (median)".into(),
                format!(
                    "none in the brief ({INP_GOOD_MS:.0} ms: web.dev's \"good\" INP, for reference)"
                ),
                format!("{c:.0} ms"),
                None,
            ));
        }
        rows
    }

    /// Each budget missed, with what this run shows about why.
    fn misses(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(br) = self.form_brotli("chorus").filter(|b| *b > BUDGET_BROTLI) {
            let mut s = format!(
                "**Bundle, {} brotli against {}.** ",
                kb(br),
                kb(BUDGET_BROTLI)
            );
            if let Some((_, _, files)) = self.sizes.iter().find(|s| s.0 == "chorus") {
                for f in files.iter().filter(|f| f.form) {
                    let _ = write!(s, "{} is {} brotli; ", file_name(&f.path), kb(f.brotli));
                }
            }
            if let Some(c) = &self.contributors
                && c.note.is_none()
            {
                let total: u64 = c.by_crate.iter().map(|x| x.1).sum();
                let top: Vec<String> = c
                    .by_crate
                    .iter()
                    .take(5)
                    .map(|(k, b)| format!("{k} {:.0}%", *b as f64 * 100.0 / total.max(1) as f64))
                    .collect();
                let _ = write!(
                    s,
                    "inside the wasm (uncompressed, by crate, from symbol names): {}. ",
                    top.join(", ")
                );
            }
            s.push_str("For scale, the brief's anchor: a bare Yew counter built with this toolchain is about 52 KB brotli, so the framework and the standard library take most of the budget before any Chorus code; section 1 lists the largest items.");
            out.push(s);
        }
        if let (Some(c), Some(f)) = (self.ttf("chorus"), self.ttf("plain"))
            && c / f > TTF_RATIO_BUDGET
        {
            let ms = |id: &str, suffix: &str| {
                self.variant(id)?["milestones"]
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.ends_with(suffix))
                    .and_then(|(_, v)| v.as_f64())
            };
            let mut s = format!(
                "**Time to visible, Chorus {c:.0} ms against {:.0} ms (1.5 × the floor's {f:.0} ms).** ",
                f * TTF_RATIO_BUDGET
            );
            if let (Some(js), Some(wasm)) = (ms("chorus", "/chorus.js"), ms("chorus", ".wasm")) {
                let _ = write!(
                    s,
                    "Medians of this run: chorus.js had arrived at {js:.0} ms and the wasm module it then fetches at {wasm:.0} ms; the {:.0} ms after that went to compiling and instantiating the module and rendering the form, all on the 4×-throttled main thread. ",
                    c - wasm
                );
            }
            if let Some(p) = ms("plain", "/plain.js") {
                let _ = write!(
                    s,
                    "The floor's script had arrived at {p:.0} ms and drew its form {:.0} ms later. ",
                    f - p
                );
            }
            s.push_str("So the cost is two requests in sequence (the script, then the module it fetches) plus compiling and starting the wasm module, which grows with its size, rather than transfer time on a local server.");
            if let Some(l) = self.machine.load_start
                && l[0] > self.machine.cores as f64
            {
                let _ = write!(
                    s,
                    " The machine was oversubscribed (load average {:.1} on {} cores), which lengthens every page's times, the floor's included.",
                    l[0], self.machine.cores
                );
            }
            out.push(s);
        }
        for (pid, name, vs) in self.profiles() {
            let med = |id: &str, field: &str| Self::median_in(vs, id, field);
            let (Some(c), Some(f), Some(cv)) = (
                med("chorus", "tti"),
                med("plain", "tti"),
                med("chorus", "ttf"),
            ) else {
                continue;
            };
            if c / f <= TTI_GOAL_RATIO {
                continue;
            }
            let arrived = |suffix: &str| {
                vs.as_array()?.iter().find(|v| v["id"] == "chorus")?["milestones"]
                    .as_object()?
                    .iter()
                    .find(|(k, _)| k.ends_with(suffix))
                    .and_then(|(_, v)| v.as_f64())
            };
            let mut s = format!(
                "**Time to interactive ({name}), Chorus {c:.0} ms against {:.0} ms (1.5 × the floor's {f:.0} ms).** The answers were visible at {cv:.0} ms and the first click the app itself took was at {c:.0} ms. ",
                f * TTI_GOAL_RATIO
            );
            if let (Some(js), Some(wasm)) = (arrived("/chorus.js"), arrived(".wasm")) {
                let _ = write!(
                    s,
                    "chorus.js had arrived at {js:.0} ms and the wasm module at {wasm:.0} ms (medians), so {:.0} ms went to compiling and starting the module and handling the click.",
                    c - wasm
                );
            }
            if pid == "mobile" {
                s.push_str(" On this profile every request costs at least one 150 ms round trip, so requests made one after another add up.");
            }
            out.push(s);
        }
        for l in &self.loads {
            let Ok(v) = &l.figures else { continue };
            if l.backend != "SQLite" {
                continue;
            }
            let rate = v["throughput"].as_f64().unwrap_or(0.0);
            let p99 = v["p99_ms"].as_f64().unwrap_or(0.0);
            let rate_miss = rate < SQLITE_RATE_BUDGET;
            let p99_miss = p99 > P99_BUDGET_MS;
            if !rate_miss && !p99_miss {
                continue;
            }
            let mut s = String::from("**Server on SQLite: ");
            if rate_miss {
                let _ = write!(
                    s,
                    "{}/s against {}/s",
                    load::rate(v),
                    thousands(SQLITE_RATE_BUDGET as u64)
                );
            }
            if rate_miss && p99_miss {
                s.push_str("; ");
            }
            if p99_miss {
                let _ = write!(s, "p99 {p99:.1} ms against {P99_BUDGET_MS} ms");
            }
            s.push_str(".** ");
            let secs = v["seconds"].as_f64().unwrap_or(0.0);
            if let Some(cpu) = l.server_cpu.filter(|_| secs > 0.0) {
                let _ = write!(
                    s,
                    "The server process used {cpu:.1} CPU-seconds in {secs:.1} s, {:.2} of the machine's {} cores; ",
                    cpu / secs,
                    self.machine.cores
                );
                if let Some(c) = v["client_cpu_seconds"].as_f64() {
                    let _ = write!(
                        s,
                        "the load generator, on the same cores, used {:.2} cores; ",
                        c / secs
                    );
                }
            }
            if let (Some(a), Some(b)) = l.load {
                let _ = write!(
                    s,
                    "the load average was {a:.1} before and {b:.1} after the run (other engineers' builds take the rest). "
                );
            }
            let commits = v["commits"].as_f64().unwrap_or(0.0);
            if commits > 0.0 {
                let per = v["rows_committed"].as_f64().unwrap_or(0.0) / commits;
                if per >= 10.0 {
                    let _ = write!(
                        s,
                        "Group commit averaged {per:.1} responses per fsynced commit, so the fsync was shared widely: the limit was CPU for the per-request work (HTTP, JSON, validation, scoring, redaction), on cores shared with the load generator and the other builds."
                    );
                } else {
                    let _ = write!(
                        s,
                        "Group commit averaged only {per:.1} responses per fsynced commit, so the fsyncs themselves were a large part of the cost."
                    );
                }
            }
            out.push(s);
        }
        for l in &self.loads {
            if let Err(e) = &l.figures
                && e.starts_with("the check failed")
            {
                out.push(format!("**Server on {}: {e}**", l.backend));
            }
        }
        out
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

    fn bundle_section(&self, s: &mut String) {
        let _ = writeln!(s, "## 1. Bundle bytes\n");
        if self.sizes.is_empty() {
            let _ = writeln!(s, "Not run.\n");
            return;
        }
        let _ = writeln!(
            s,
            "Every file each benchmark page downloaded (the list is the browser's own resource timing), sized on disk with gzip -9 and brotli q11; \"served\" is what the browser received from the local server. The host page (its HTML and `page.css`) is shown but not counted in the form's total.\n"
        );
        let registered: Vec<String> = self
            .browser
            .as_ref()
            .and_then(|b| b["registered"].as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| Some(format!("`<{}>`", t.as_str()?)))
                    .collect()
            })
            .unwrap_or_default();
        for (id, name, files) in &self.sizes {
            // The same files as the plain Chorus page.
            if id == "chorus-preload" {
                continue;
            }
            let _ = writeln!(s, "**{name}**\n");
            let _ = writeln!(
                s,
                "| file | raw | gzip | brotli | served |\n|---|---:|---:|---:|---:|"
            );
            for f in files {
                let label = if f.form {
                    format!("`{}`", file_name(&f.path))
                } else {
                    format!("`{}` (host page)", file_name(&f.path))
                };
                let _ = writeln!(
                    s,
                    "| {label} | {} | {} | {} | {} |",
                    thousands(f.raw as u64),
                    thousands(f.gzip as u64),
                    thousands(f.brotli as u64),
                    thousands(f.served as u64)
                );
            }
            let sum =
                |g: fn(&FileSize) -> usize| files.iter().filter(|f| f.form).map(g).sum::<usize>();
            let _ = writeln!(
                s,
                "| **the form's files** | **{}** | **{}** | **{}** ({}) | {} |\n",
                thousands(sum(|f| f.raw) as u64),
                thousands(sum(|f| f.gzip) as u64),
                thousands(sum(|f| f.brotli) as u64),
                kb(sum(|f| f.brotli)),
                thousands(sum(|f| f.served) as u64)
            );
            if id == "chorus" && !registered.is_empty() {
                let _ = writeln!(
                    s,
                    "The bundle is one script and one wasm module for the whole suite: each widget it registers ({}) downloads exactly these files, so each widget's bytes and the suite's are the figure above, against the {} budget.\n",
                    registered.join(", "),
                    kb(BUDGET_BROTLI)
                );
            }
        }
        if let (Some(c), Some(p), Some(sj)) = (
            self.form_brotli("chorus"),
            self.form_brotli("plain"),
            self.form_brotli("surveyjs"),
        ) {
            let _ = writeln!(
                s,
                "Brotli ratios: Chorus is {:.1}× the floor's bytes; SurveyJS is {:.1}× Chorus's.\n",
                c as f64 / p.max(1) as f64,
                sj as f64 / c.max(1) as f64
            );
        }
        match &self.contributors {
            None => {}
            Some(c) if c.note.is_some() => {
                let _ = writeln!(
                    s,
                    "Biggest contributors: {}\n",
                    c.note.as_deref().unwrap_or("")
                );
            }
            Some(c) => {
                let total: u64 = c.by_crate.iter().map(|x| x.1).sum();
                let _ = writeln!(
                    s,
                    "**Biggest contributors inside the wasm** (twiggy `top`, on the same `wasm-opt -Oz` output with names kept; uncompressed bytes of each item, {} in all without the names section, of a {}-byte module with it).\n",
                    thousands(total),
                    thousands(c.module_bytes)
                );
                let _ = writeln!(
                    s,
                    "| crate (from symbol names) | bytes | share |\n|---|---:|---:|"
                );
                for (k, b) in c.by_crate.iter().take(12) {
                    let _ = writeln!(
                        s,
                        "| {k} | {} | {:.1}% |",
                        thousands(*b),
                        *b as f64 * 100.0 / total.max(1) as f64
                    );
                }
                let _ = writeln!(s, "\n| largest items | bytes |\n|---|---:|");
                for i in &c.top {
                    let name: String = bundle::strip_hashes(&i.name).chars().take(100).collect();
                    let _ = writeln!(
                        s,
                        "| `{}` | {} |",
                        name.replace('|', "\\|").replace('`', "'"),
                        thousands(i.size)
                    );
                }
                let _ = writeln!(s);
            }
        }
    }

    fn ttf_section(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "## 2. Time to visible, time to interactive, layout shift\n"
        );
        let Some(b) = &self.browser else {
            let _ = writeln!(s, "Not run.\n");
            return;
        };
        let _ = writeln!(
            s,
            "Headless Chromium, CPU throttled {}×, each load in a fresh browser context (nothing cached), every page on every network profile interleaved in one run. *Visible*: navigation start → the end of the frame that first shows all six FFT answers. *Interactive*: navigation start → the end of the frame in which the page's own code has taken a click on an answer (clicked on every frame from the moment the answers show, until it takes one). *CLS*: cumulative layout shift from the document's start until just after it was interactive.\n",
            b["throttle"]
        );
        for (_, name, vs) in self.profiles() {
            let _ = writeln!(s, "**{name}**\n");
            let _ = writeln!(
                s,
                "| page | visible (median) | min – max | ÷ floor | interactive (median) | min – max | ÷ floor | CLS (worst load) | first contentful paint (median) | loads |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            );
            let floor_v = Self::median_in(vs, "plain", "ttf");
            let floor_i = Self::median_in(vs, "plain", "tti");
            let span = |xs: &[f64]| {
                stats::range(xs).map_or("–".into(), |(lo, hi)| format!("{lo:.0} – {hi:.0} ms"))
            };
            for v in vs.as_array().into_iter().flatten() {
                let xs = numbers(&v["ttf"]);
                let is = numbers(&v["tti"]);
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    v["name"].as_str().unwrap_or(""),
                    ms(median(&xs)),
                    span(&xs),
                    ratio(median(&xs), floor_v),
                    ms(median(&is)),
                    span(&is),
                    ratio(median(&is), floor_i),
                    numbers(&v["cls"])
                        .into_iter()
                        .reduce(f64::max)
                        .map_or("–".into(), |c| format!("{c:.3}")),
                    ms(median_of(&v["fcp"])),
                    xs.len()
                );
            }
            let _ = writeln!(
                s,
                "\nWhen each file had arrived (median `responseEnd`, ms after navigation start):\n"
            );
            for v in vs.as_array().into_iter().flatten() {
                let mut arrived: Vec<(&str, f64)> = v["milestones"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, t)| Some((file_name(k), t.as_f64()?)))
                    .collect();
                arrived.sort_by(|a, b| a.1.total_cmp(&b.1));
                let parts: Vec<String> = arrived
                    .iter()
                    .map(|(k, t)| format!("`{k}` {t:.0}"))
                    .collect();
                let _ = writeln!(
                    s,
                    "- {}: {}",
                    v["name"].as_str().unwrap_or(""),
                    parts.join(", ")
                );
            }
            let _ = writeln!(s, "\nEvery load, in order (visible / interactive, ms):\n");
            for v in vs.as_array().into_iter().flatten() {
                let xs = numbers(&v["ttf"]);
                let is = numbers(&v["tti"]);
                let pairs: Vec<String> = xs
                    .iter()
                    .enumerate()
                    .map(|(k, x)| match is.get(k) {
                        Some(i) => format!("{x:.0}/{i:.0}"),
                        None => format!("{x:.0}"),
                    })
                    .collect();
                let _ = writeln!(
                    s,
                    "- {}: {}",
                    v["name"].as_str().unwrap_or(""),
                    pairs.join(", ")
                );
            }
            let _ = writeln!(s);
        }
    }

    fn interaction_section(&self, s: &mut String) {
        let _ = writeln!(s, "## 3. Interaction\n");
        let Some(b) = &self.browser else {
            let _ = writeln!(s, "Not run.\n");
            return;
        };
        let floor = self.variant("plain").and_then(|v| median_of(&v["clicks"]));
        let _ = writeln!(
            s,
            "Click on an answer → the end of the next frame (from the click event's timestamp), same throttling, a few clicks after each load. The brief sets no budget for this; web.dev calls an interaction under {INP_GOOD_MS:.0} ms \"good\".\n"
        );
        let _ = writeln!(
            s,
            "| page | median | 90th percentile | max | ÷ floor | clicks |\n|---|---:|---:|---:|---:|---:|"
        );
        for v in b["variants"].as_array().into_iter().flatten() {
            let xs = numbers(&v["clicks"]);
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                v["name"].as_str().unwrap_or(""),
                ms(median(&xs)),
                ms(percentile(&xs, 0.9)),
                ms(percentile(&xs, 1.0)),
                ratio(median(&xs), floor),
                xs.len()
            );
        }
        let f = &b["form"];
        let _ = writeln!(
            s,
            "\n**Moving between pages of the I Statement form (`<chorus-form>`)**\n"
        );
        if f["available"].as_bool() != Some(true) {
            let _ = writeln!(
                s,
                "{}. The measurement is in `bench/measure.mjs` and runs as soon as the bundle registers the element.\n",
                f["note"].as_str().unwrap_or("not measured")
            );
        } else {
            let moves = numbers(&f["moves"]);
            let clicks = numbers(&f["clicks"]);
            let pages: Vec<String> = numbers(&f["pages"])
                .iter()
                .map(|p| format!("{p:.0}"))
                .collect();
            let _ = writeln!(
                s,
                "| what | median | 90th percentile | max | samples |\n|---|---:|---:|---:|---:|"
            );
            let _ = writeln!(
                s,
                "| first page shown (navigation start →) | {} | {} | {} | {} |",
                ms(median_of(&f["ttf"])),
                ms(percentile(&numbers(&f["ttf"]), 0.9)),
                ms(percentile(&numbers(&f["ttf"]), 1.0)),
                numbers(&f["ttf"]).len()
            );
            let _ = writeln!(
                s,
                "| \"Continue\" → next page shown | {} | {} | {} | {} |",
                ms(median(&moves)),
                ms(percentile(&moves, 0.9)),
                ms(percentile(&moves, 1.0)),
                moves.len()
            );
            let _ = writeln!(
                s,
                "| click on an answer → next frame | {} | {} | {} | {} |\n",
                ms(median(&clicks)),
                ms(percentile(&clicks, 0.9)),
                ms(percentile(&clicks, 1.0)),
                clicks.len()
            );
            let _ = writeln!(s, "Pages walked per load: {}.\n", pages.join(", "));
        }
    }

    fn server_section(&self, s: &mut String) {
        let _ = writeln!(s, "## 4. Server throughput\n");
        if self.loads.is_empty() {
            let _ = writeln!(s, "Not run.\n");
            return;
        }
        let _ = writeln!(
            s,
            "`crates/server/examples/load.rs --url …` against a release (`server` profile) `chorus serve` on the same machine: {} keep-alive connections each posting one valid FFT response (with a phone number to redact) after another for {} s. Each response is validated, re-scored, redacted and committed durably before its receipt is sent. Afterwards the database is counted and up to 1,000 receipts are looked up by reference.\n",
            self.opts.connections, self.opts.seconds
        );
        let _ = writeln!(
            s,
            "| database | responses/s | p50 | p90 | p99 | max | receipts | rows stored | receipts found by reference | refused | responses per commit | server CPU | load generator CPU | load average before → after |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for l in &self.loads {
            match &l.figures {
                Ok(v) => {
                    let refused: u64 = v["refused"]
                        .as_object()
                        .map(|m| m.values().filter_map(Value::as_u64).sum())
                        .unwrap_or(0);
                    let secs = v["seconds"].as_f64().unwrap_or(0.0);
                    let _ = writeln!(
                        s,
                        "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {} | {} of {} | {refused} | {:.1} | {} | {} | {} |",
                        l.backend,
                        load::rate(v),
                        v["p50_ms"].as_f64().unwrap_or(0.0),
                        v["p90_ms"].as_f64().unwrap_or(0.0),
                        v["p99_ms"].as_f64().unwrap_or(0.0),
                        v["max_ms"].as_f64().unwrap_or(0.0),
                        thousands(v["receipts"].as_u64().unwrap_or(0)),
                        v["stored"].as_u64().map_or("–".into(), thousands),
                        v["sampled_found"],
                        v["sampled"],
                        v["rows_committed"].as_f64().unwrap_or(0.0)
                            / v["commits"].as_f64().unwrap_or(0.0).max(1.0),
                        l.server_cpu
                            .filter(|_| secs > 0.0)
                            .map_or("–".into(), |c| format!("{:.2} cores", c / secs)),
                        v["client_cpu_seconds"]
                            .as_f64()
                            .filter(|_| secs > 0.0)
                            .map_or("–".into(), |c| format!("{:.2} cores", c / secs)),
                        match l.load {
                            (Some(a), Some(b)) => format!("{a:.1} → {b:.1}"),
                            _ => "–".into(),
                        }
                    );
                }
                Err(e) => {
                    let _ = writeln!(s, "| {} | {e} | | | | | | | | | | | | |", l.backend);
                }
            }
        }
        let _ = writeln!(s);
        for l in &self.loads {
            if !l.settings.is_empty() {
                let _ = writeln!(s, "- {}: {}", l.backend, l.settings);
            }
        }
        let _ = writeln!(
            s,
            "- The brief's budget (≥ 10,000 responses/s, p99 ≤ 20 ms) is for SQLite on 2 cores; it sets none for PostgreSQL. Here the load generator and the server share the same cores, so the figures are a floor for the server alone.\n"
        );
    }

    fn reports_section(&self, s: &mut String) {
        let _ = writeln!(s, "## 6. Report pages at scale\n");
        if self.reports.is_empty() {
            let _ = writeln!(s, "Not run.\n");
            return;
        }
        let _ = writeln!(
            s,
            "`chorus seed` stores {} responses over 12 months through the patient's handler (validation, re-scoring, redaction, rollups in the same commit; no HTTP or rate limits), a release `chorus serve` is started on the database and left to finish its background work (themes of the comments), then a signed-in admin fetches each page {} times over HTTP, one at a time. Budget: every report page and the FFT return ≤ 200 ms p95, comment search ≤ 100 ms.\n",
            thousands(self.opts.scale),
            super::reports::RUNS_DOC
        );
        for r in &self.reports {
            let size = r
                .db_bytes
                .map_or("–".into(), |b| format!("{:.0} MB", b as f64 / 1e6));
            let per_million = r
                .db_bytes
                .filter(|_| r.responses > 0)
                .map_or("–".into(), |b| {
                    format!("{:.0} MB", b as f64 / 1e6 * 1e6 / r.responses as f64)
                });
            let _ = writeln!(
                s,
                "### {}\n\nSeeded {} responses in {:.0} s ({:.0} responses/s); database {size} ({per_million} per million responses).\n",
                r.backend,
                thousands(r.responses),
                r.seed_seconds,
                r.responses as f64 / r.seed_seconds.max(0.001)
            );
            match &r.pages {
                Err(e) => {
                    let _ = writeln!(s, "No figures: {e}\n");
                }
                Ok(pages) => {
                    let _ = writeln!(
                        s,
                        "| page | what | p50 | p95 | budget |\n|---|---|---:|---:|---|"
                    );
                    for (path, what, p50, p95, status) in pages {
                        let budget = if path.contains("q=") { 100.0 } else { 200.0 };
                        let verdict = if *status != 200 {
                            format!("answered {status}")
                        } else if *p95 <= budget {
                            format!("within {budget:.0} ms")
                        } else {
                            format!("**over {budget:.0} ms**")
                        };
                        let _ = writeln!(
                            s,
                            "| `{path}` | {what} | {p50:.1} ms | {p95:.1} ms | {verdict} |"
                        );
                    }
                    let _ = writeln!(s);
                }
            }
        }
    }

    fn core_section(&self, s: &mut String) {
        let _ = writeln!(s, "## 5. Core\n");
        match &self.core {
            None => {
                let _ = writeln!(s, "Not run.\n");
            }
            Some(Err(e)) => {
                let _ = writeln!(s, "The criterion run failed: {e}\n");
            }
            Some(Ok(list)) => {
                let _ = writeln!(
                    s,
                    "`crates/core/benches/core.rs` (criterion, native, one thread): what the server does per response, plus redaction and aggregation alone. Median time per iteration with criterion's 95% interval.\n"
                );
                let _ = writeln!(
                    s,
                    "| benchmark | median | 95% interval | per second |\n|---|---:|---:|---:|"
                );
                for e in list {
                    let per = match (e.throughput, e.per_second()) {
                        (Throughput::Bytes(_), Some(r)) => format!("{:.0} MB/s", r / 1e6),
                        (_, Some(r)) => format!("{}/s", thousands(r.round() as u64)),
                        _ => "–".into(),
                    };
                    let _ = writeln!(
                        s,
                        "| {} | {} | {} – {} | {per} |",
                        e.id,
                        nanos(e.median_ns),
                        nanos(e.ci_ns.0),
                        nanos(e.ci_ns.1)
                    );
                }
                if let Some(fft) = list.iter().find(|e| e.id.ends_with("redact fft"))
                    && let Some(r) = fft.per_second()
                {
                    let share = SQLITE_RATE_BUDGET / r * 100.0;
                    let _ = writeln!(
                        s,
                        "\nAt the brief's 10,000 responses/s, validating, scoring and redacting FFT responses like the benchmark's (a comment with six identifiers to redact) would take {share:.0}% of one core on its own, measured on this busy machine{}.\n",
                        if share > 25.0 {
                            ": a large part of a 2-core budget that must also parse HTTP and JSON and store, so it counts towards the server figures above"
                        } else {
                            ": a small part of a 2-core budget"
                        }
                    );
                } else {
                    let _ = writeln!(s);
                }
            }
        }
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
