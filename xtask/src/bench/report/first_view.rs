//! BENCHMARKS.md section 2. Time to visible and to interactive, per page and network profile.

use super::*;

impl Report {
    pub(super) fn ttf_section(&self, s: &mut String) {
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
}
