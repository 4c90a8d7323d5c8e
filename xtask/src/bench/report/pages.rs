//! BENCHMARKS.md section 6. Report pages at scale.

use super::*;

impl Report {
    pub(super) fn reports_section(&self, s: &mut String) {
        if !section(s, "6. Report pages at scale", !(self.reports.is_empty())) {
            return;
        }
        let _ = writeln!(
            s,
            "`chorus seed` stores {} responses over 12 months through the patient's handler (validation, re-scoring, redaction, rollups in the same commit; no HTTP or rate limits), a release `chorus serve` is started on the database and left to finish its background work (themes of the comments), then a signed-in admin fetches each page {} times over HTTP, one at a time. Budget: every report page and the FFT return ≤ 200 ms p95, comment search ≤ 100 ms.\n",
            thousands(self.opts.scale),
            crate::bench::reports::RUNS_DOC
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
}
