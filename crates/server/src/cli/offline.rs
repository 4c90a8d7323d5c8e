//! `chorus score`, `chorus check` and `chorus export`: files in, files out.

use std::{io::BufReader, path::PathBuf};

use super::Db;

/// `chorus check`: the core decides everything (`standards::check`); this prints it and picks
/// the exit status (0 clean, 1 errors, or warnings with `--strict`).
fn check(
    file: &str,
    strict: bool,
    self_assessment: bool,
    today: Option<&str>,
) -> anyhow::Result<i32> {
    use chorus_core::aid::Date;
    let text = match chorus_core::library::SOURCES
        .iter()
        .find(|(id, _)| *id == file)
    {
        Some((_, json)) => json.to_string(),
        None => std::fs::read_to_string(file).map_err(|e| {
            anyhow::anyhow!("\"{file}\" is neither a built-in instrument nor a readable file ({e})")
        })?,
    };
    let today = match today {
        Some(t) => Date::parse(t)
            .ok_or_else(|| anyhow::anyhow!("--today \"{t}\" is not a date written YYYY-MM-DD"))?,
        None => chorus_server::util::today(),
    };
    let c = chorus_core::standards::check(&text, Some(today));
    for p in &c.problems {
        println!("error   {}  {}: {}", p.path, p.code, p.message);
    }
    for l in &c.lints {
        println!(
            "warning {}  {} [{}]: {}",
            l.path,
            serde_json::to_value(l.code)?.as_str().unwrap_or_default(),
            l.criterion_name(),
            l.message
        );
    }
    println!(
        "{file}: {} error(s), {} warning(s) (checked as of {today})",
        c.problems.len(),
        c.lints.len()
    );
    if self_assessment {
        match &c.assessment {
            Some(a) => println!("\n{}", a.markdown()),
            None => {
                println!("\nNo self-assessment: it is made for decision aids whose file parses.")
            }
        }
    }
    Ok(i32::from(
        !c.problems.is_empty() || (strict && !c.lints.is_empty()),
    ))
}

/// `chorus score`: JSONL re-scored against every version of the instrument.
pub fn score(instrument: String, file: PathBuf) -> anyhow::Result<()> {
    let mut versions = chorus_core::library::versions(&instrument);
    if versions.is_empty() {
        let text = std::fs::read_to_string(&instrument).map_err(|_| {
            anyhow::anyhow!("\"{instrument}\" is neither a built-in instrument nor a readable file")
        })?;
        versions.push(chorus_core::Instrument::from_json(&text).map_err(|p| {
            anyhow::anyhow!(
                "{instrument}: {}",
                p.iter()
                    .map(|p| format!("{} {}", p.path, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?);
    }
    let input =
        std::fs::File::open(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let lines = std::io::BufRead::lines(BufReader::new(std::fs::File::open(&file)?)).count() as u64;
    let bar = chorus_server::offline::progress(Some(lines), "scoring");
    let stdout = std::io::stdout().lock();
    let summary = chorus_server::offline::score_jsonl(
        &versions,
        BufReader::new(input),
        std::io::BufWriter::new(stdout),
        std::io::stderr(),
        &bar,
    )?;
    bar.finish_and_clear();
    eprintln!("{} scored, {} invalid", summary.scored, summary.invalid);
    if summary.invalid > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// `chorus check`.
pub fn check_command(
    file: String,
    strict: bool,
    self_assessment: bool,
    today: Option<String>,
) -> anyhow::Result<()> {
    let code = check(&file, strict, self_assessment, today.as_deref())?;
    std::process::exit(code)
}

/// `chorus export`: CSV to a file or stdout.
pub async fn export(
    db: Db,
    site: Option<String>,
    instrument: Option<String>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let store = db.open().await?;
    let n = match out {
        Some(path) => {
            let f = std::fs::File::create(&path)?;
            chorus_server::offline::export_csv(&store, site.as_deref(), instrument.as_deref(), f)
                .await?
        }
        None => {
            chorus_server::offline::export_csv(
                &store,
                site.as_deref(),
                instrument.as_deref(),
                std::io::stdout().lock(),
            )
            .await?
        }
    };
    eprintln!("{n} responses exported");
    Ok(())
}
