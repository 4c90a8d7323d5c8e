//! Item 5: the core's criterion benchmarks (`crates/core/benches/core.rs`), read back from
//! criterion's own files (`<target>/criterion/<group>/<bench>/new/{benchmark,estimates}.json`).

use std::path::Path;

use anyhow::Context;

use crate::util::{CommandExt, root, step};

/// One benchmark's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// `group/function` as criterion names it.
    pub id: String,
    /// Median time per iteration, nanoseconds.
    pub median_ns: f64,
    /// Lower and upper bounds of criterion's confidence interval for the median.
    pub ci_ns: (f64, f64),
    /// What one iteration processes.
    pub throughput: Throughput,
}

/// Criterion's throughput declaration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Throughput {
    /// Items (responses, reports) per iteration.
    Elements(u64),
    /// Bytes per iteration.
    Bytes(u64),
    /// None declared.
    None,
}

impl Estimate {
    /// Items or bytes per second at the median time.
    pub fn per_second(&self) -> Option<f64> {
        let per_iter = match self.throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) => n as f64,
            Throughput::None => return None,
        };
        (self.median_ns > 0.0).then(|| per_iter * 1e9 / self.median_ns)
    }
}

/// Run `cargo bench -p chorus-core` (shortened warm-up and measurement) and read the results.
pub fn run(target_dir: &Path) -> anyhow::Result<Vec<Estimate>> {
    step("Core: criterion (validate + score + redact, redaction, aggregation)");
    let dir = target_dir.join("criterion");
    let _ = std::fs::remove_dir_all(&dir);
    crate::util::cmd(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "bench",
            // The server's optimisation (the release profile is tuned for a small wasm).
            "--profile",
            "server",
            "--package",
            "chorus-core",
            "--bench",
            "core",
            "--",
            "--warm-up-time",
            "2",
            "--measurement-time",
            "4",
            "--noplot",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(root())
        .status_checked()?;
    read_dir(&dir)
}

/// Every `new/` result under criterion's folder, sorted by id.
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<Estimate>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let p = e?.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "new") {
                    let bench = std::fs::read_to_string(p.join("benchmark.json"))?;
                    let est = std::fs::read_to_string(p.join("estimates.json"))?;
                    out.push(parse(&bench, &est)?);
                } else {
                    stack.push(p);
                }
            }
        }
    }
    anyhow::ensure!(
        !out.is_empty(),
        "criterion wrote no results under {}",
        dir.display()
    );
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// One benchmark from criterion's `benchmark.json` and `estimates.json`.
pub fn parse(benchmark: &str, estimates: &str) -> anyhow::Result<Estimate> {
    let b: serde_json::Value = serde_json::from_str(benchmark).context("benchmark.json")?;
    let e: serde_json::Value = serde_json::from_str(estimates).context("estimates.json")?;
    let id = b["full_id"]
        .as_str()
        .or_else(|| b["title"].as_str())
        .context("benchmark.json has no full_id")?
        .to_string();
    let median = &e["median"];
    let num = |v: &serde_json::Value| v.as_f64().context("estimates.json: missing number");
    let throughput = match &b["throughput"] {
        serde_json::Value::Object(m) => match (m.get("Elements"), m.get("Bytes")) {
            (Some(n), _) => Throughput::Elements(n.as_u64().context("Elements")?),
            (_, Some(n)) => Throughput::Bytes(n.as_u64().context("Bytes")?),
            _ => Throughput::None,
        },
        _ => Throughput::None,
    };
    Ok(Estimate {
        id,
        median_ns: num(&median["point_estimate"])?,
        ci_ns: (
            num(&median["confidence_interval"]["lower_bound"])?,
            num(&median["confidence_interval"]["upper_bound"])?,
        ),
        throughput,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_files() {
        let bench = r#"{"group_id":"per_response","function_id":"validate+score+redact fft","value_str":null,
            "throughput":{"Elements":1},"full_id":"per_response/validate+score+redact fft",
            "directory_name":"per_response/validate+score+redact fft","title":"per_response/validate+score+redact fft"}"#;
        let est = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":2100.0,"upper_bound":2300.0},"point_estimate":2200.0,"standard_error":10.0},
            "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1990.5,"upper_bound":2010.0},"point_estimate":2000.0,"standard_error":5.0},
            "median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},
            "slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1}}"#;
        let e = parse(bench, est).unwrap();
        assert_eq!(e.id, "per_response/validate+score+redact fft");
        assert_eq!(e.median_ns, 2000.0);
        assert_eq!(e.ci_ns, (1990.5, 2010.0));
        assert_eq!(e.throughput, Throughput::Elements(1));
        assert_eq!(e.per_second(), Some(500_000.0));

        let bytes = bench.replace(r#"{"Elements":1}"#, r#"{"Bytes":2048}"#);
        let e = parse(&bytes, est).unwrap();
        assert_eq!(e.throughput, Throughput::Bytes(2048));
        assert_eq!(e.per_second(), Some(1_024_000_000.0));

        let none = bench.replace(r#"{"Elements":1}"#, "null");
        assert_eq!(parse(&none, est).unwrap().per_second(), None);
        assert!(parse(bench, "{}").is_err());
    }
}
