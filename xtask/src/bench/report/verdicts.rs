//! The budget table and, for each miss, what this run's figures show about its cause.

use super::*;

impl Report {
    /// The budget table's rows: (figure, budget, measured, met?).
    pub(super) fn budget_rows(&self) -> Vec<(String, String, String, Option<bool>)> {
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
    pub(super) fn misses(&self) -> Vec<String> {
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
}
