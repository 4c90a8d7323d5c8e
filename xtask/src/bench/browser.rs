//! Items 2 and 3: the benchmark pages in headless Chromium (`bench/measure.mjs`).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Options, Server, stats};
use crate::util::{self, CommandExt, root, step};

/// SurveyJS files the peer page loads, from node_modules (pinned by package-lock.json).
const SURVEYJS: &[&str] = &[
    "survey-core/survey.core.min.js",
    "survey-core/survey-core.fontless.min.css",
    "survey-js-ui/survey-js-ui.min.js",
];

/// Lay out the folder the bench server serves at `/embed/`: the pages from `bench/`, SurveyJS
/// from node_modules in `vendor/`, and the built Chorus bundle from `pkg/`. Every file gets
/// `.br` and `.gz` twins, so all three pages are served compressed in the same way.
pub fn assemble_site(work: &Path) -> anyhow::Result<PathBuf> {
    step("Assembling the benchmark site (bench/ pages, SurveyJS from node_modules, pkg/)");
    let root = root();
    let site = work.join("site");
    std::fs::create_dir_all(site.join("vendor"))?;
    for e in std::fs::read_dir(root.join("bench"))? {
        let p = e?.path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if [".html", ".css", ".js"].iter().any(|x| name.ends_with(x)) {
            std::fs::copy(&p, site.join(&name))?;
        }
    }
    for f in SURVEYJS {
        let from = root.join("node_modules").join(f);
        anyhow::ensure!(
            from.exists(),
            "{} is missing: run `npm ci` (or `cargo xtask setup`)",
            from.display()
        );
        std::fs::copy(
            &from,
            site.join("vendor").join(f.rsplit('/').next().unwrap_or(f)),
        )?;
    }
    // Copy the bundle at once: another `cargo xtask dist` on this checkout would replace pkg/.
    for e in std::fs::read_dir(root.join("pkg")).context("pkg/ (cargo xtask dist)")? {
        let p = e?.path();
        if p.is_file() {
            std::fs::copy(&p, site.join(p.file_name().unwrap_or_default()))?;
        }
    }
    fill_in_module(&site)?;
    compress_twins(&site)?;
    Ok(site)
}

/// Name this release's wasm module (from `manifest.json`) where a page says `__CHORUS_WASM__`:
/// the preload line the snippet builder prints.
fn fill_in_module(site: &Path) -> anyhow::Result<()> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("manifest.json"))?)
            .context("pkg/manifest.json")?;
    let wasm = manifest["wasm"]
        .as_str()
        .context("pkg/manifest.json names no wasm module")?;
    for e in std::fs::read_dir(site)? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "html") {
            let text = std::fs::read_to_string(&p)?;
            if text.contains("__CHORUS_WASM__") {
                std::fs::write(&p, text.replace("__CHORUS_WASM__", wasm))?;
            }
        }
    }
    Ok(())
}

/// Write `.br` and `.gz` beside every file that has none.
fn compress_twins(dir: &Path) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            compress_twins(&p)?;
            continue;
        }
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".br") || name.ends_with(".gz") || name.ends_with(".json") {
            continue;
        }
        let br = p.with_file_name(format!("{name}.br"));
        let gz = p.with_file_name(format!("{name}.gz"));
        if br.exists() && gz.exists() {
            continue;
        }
        let bytes = std::fs::read(&p)?;
        std::fs::write(&gz, crate::dist::gzip(&bytes)?)?;
        std::fs::write(&br, crate::dist::brotli(&bytes)?)?;
    }
    Ok(())
}

/// Serve the site with a release `chorus serve` and run `bench/measure.mjs` against it.
pub fn run(
    server_bin: &Path,
    site: &Path,
    work: &Path,
    opts: &Options,
) -> anyhow::Result<serde_json::Value> {
    step(&format!(
        "Time to visible, to interactive, layout shift and interaction: headless Chromium, CPU 4× slower, local and slow mobile network, {} loads of each page on each",
        opts.runs
    ));
    let db = format!("sqlite://{}", work.join("browser.db").display());
    let server = Server::start(server_bin, &db, None, site)?;
    let out = work.join("browser.json");
    let result = util::cmd("node")
        .arg(root().join("bench/measure.mjs"))
        .args(["--base", &format!("http://{}/embed/", server.addr)])
        .arg("--out")
        .arg(&out)
        .args(["--runs", &opts.runs.to_string()])
        .current_dir(root())
        .status_checked();
    server.stop()?;
    result?;
    let text = std::fs::read_to_string(&out)?;
    serde_json::from_str(&text).context("bench/measure.mjs wrote bad JSON")
}

/// The numbers of a JSON array (nulls dropped).
pub fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default()
}

/// Median of a JSON array of numbers.
pub fn median_of(v: &serde_json::Value) -> Option<f64> {
    stats::median(&numbers(v))
}
