//! BENCHMARKS.md section 3. Interaction: a click to the next frame.

use super::*;

impl Report {
    pub(super) fn interaction_section(&self, s: &mut String) {
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
}
