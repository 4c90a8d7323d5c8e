//! BENCHMARKS.md section 5. Core benchmarks (criterion).

use super::*;

impl Report {
    pub(super) fn core_section(&self, s: &mut String) {
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
}
