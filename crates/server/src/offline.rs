//! Offline work for the command line: re-scoring a JSONL file exactly as the server would, and
//! exporting stored responses as CSV.

use std::io::{BufRead, Write};

use crate::store::{RowQuery, Selection, Store};
use chorus_core::{Instrument, Response, score, validate_response};
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar on stderr when it is a terminal; hidden otherwise (CI logs, pipes).
pub fn progress(len: Option<u64>, what: &str) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {pos}/{len} {wide_bar} {eta}")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}

/// Outcome of [`score_jsonl`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScoreSummary {
    /// Lines scored.
    pub scored: u64,
    /// Lines that were not a valid response (reported on `errors`).
    pub invalid: u64,
}

/// Score each line (a response JSON) with the core, writing one score report JSON per line to
/// `out`, in input order. A bad line is reported on `errors` with its line number and written
/// to `out` as `null`, so output line N always belongs to input line N.
///
/// `versions` are the instrument's versions, current first (see
/// `chorus_core::library::versions`): each line is scored by the version it names, as the
/// server stored it; a version not among them is validated against the first, which refuses it
/// with both versions named.
pub fn score_jsonl(
    versions: &[Instrument],
    input: impl BufRead,
    mut out: impl Write,
    mut errors: impl Write,
    bar: &ProgressBar,
) -> anyhow::Result<ScoreSummary> {
    let mut summary = ScoreSummary::default();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        bar.inc(1);
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Response>(&line)
            .map_err(|e| e.to_string())
            .and_then(|r| {
                let instrument = versions
                    .iter()
                    .find(|i| i.version == r.version)
                    .or(versions.first())
                    .ok_or("no instrument to score by")?;
                validate_response(instrument, &r)
                    .map(|_| (instrument, r))
                    .map_err(|errs| {
                        errs.iter()
                            .map(|e| e.message.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
            });
        match parsed {
            Ok((instrument, r)) => {
                serde_json::to_writer(&mut out, &score(instrument, &r))?;
                summary.scored += 1;
            }
            Err(e) => {
                writeln!(errors, "line {}: {e}", n + 1)?;
                out.write_all(b"null")?;
                summary.invalid += 1;
            }
        }
        out.write_all(b"\n")?;
    }
    Ok(summary)
}

/// Write stored responses as CSV (free text is already redacted in storage), oldest first.
///
/// Read in pages of [`EXPORT_PAGE`] rows by id (keyset paging), so memory stays flat however
/// many responses a trust has, and no long read transaction holds back the writer.
pub async fn export_csv(
    store: &Store,
    site: Option<&str>,
    instrument: Option<&str>,
    out: impl Write,
) -> anyhow::Result<u64> {
    let query = RowQuery::new(
        &Selection {
            site: site.map(str::to_string),
            instruments: instrument.map(|i| vec![i.to_string()]),
            ..Selection::default()
        },
        true,
    );
    let total = query.count(store).await?;
    let bar = progress(Some(total.max(0) as u64), "exporting");
    let mut w = csv::Writer::from_writer(out);
    w.write_record(crate::csv_out::RESPONSES_HEADER)?;
    let mut last = 0i64;
    let mut written = 0u64;
    loop {
        let rows = query.page(store, last).await?;
        for row in &rows {
            w.write_record(crate::csv_out::response_record(row))?;
            last = row.id;
        }
        written += rows.len() as u64;
        bar.inc(rows.len() as u64);
        if (rows.len() as i64) < EXPORT_PAGE {
            break;
        }
    }
    w.flush()?;
    bar.finish_and_clear();
    Ok(written)
}

/// Rows per page read by [`export_csv`].
pub const EXPORT_PAGE: i64 = chorus_store::PAGE;
