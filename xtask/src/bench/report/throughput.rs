//! BENCHMARKS.md section 4. Server throughput under the load generator.

use super::*;

impl Report {
    pub(super) fn server_section(&self, s: &mut String) {
        if !section(s, "4. Server throughput", !(self.loads.is_empty())) {
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
}
