//! BENCHMARKS.md section 1. Bundle bytes: the files each page downloads, gzip and brotli, and twiggy's view of the wasm.

use super::*;

impl Report {
    pub(super) fn bundle_section(&self, s: &mut String) {
        if !section(s, "1. Bundle bytes", !(self.sizes.is_empty())) {
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
}
