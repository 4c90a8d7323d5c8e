//! `cargo xtask dist`: the embed bundle in `pkg/`.
//!
//! Steps: release build of `chorus-widgets` for wasm32 → `wasm-bindgen --target no-modules` →
//! `wasm-opt -Oz` → `pkg/chorus.js` (glue + loader + CSS in one function scope, so the web
//! team's single `<script integrity>` covers all the JavaScript) and `pkg/chorus-<hash>.wasm`
//! (content-hashed, so it can be cached forever and is fetched with its own SRI hash), plus
//! precompressed `.br`/`.gz` twins and `pkg/manifest.json` with sizes and SRI hashes.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context;
use base64::Engine;
use sha2::{Digest, Sha384};

use crate::{
    toolchain::{self, Wasm},
    util::{self, CommandExt, root, step},
};

/// One file of the bundle with its measured sizes.
pub struct Entry {
    /// File name inside `pkg/`.
    pub name: String,
    /// Uncompressed bytes.
    pub raw: usize,
    /// gzip -9 bytes.
    pub gzip: usize,
    /// brotli q11 bytes.
    pub brotli: usize,
    /// `sha384-…` for the `integrity` attribute.
    pub sri: String,
}

/// The one `wasm-opt` recipe (the shipped bundle's, and the bench's named copy for twiggy): the
/// wasm features the module uses (binaryen must be told, or it rejects current rustc output),
/// then `-Oz` run until it changes nothing more (`--converge`: a few hundred bytes).
pub const WASM_OPT: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "-Oz",
    "--converge",
];

/// Where a bundle is built from and to. The shipped one: this checkout into `pkg/`; the
/// reproducibility check builds a copy of the checkout elsewhere and compares.
pub struct Build {
    /// The checkout whose crates are compiled.
    pub src: PathBuf,
    /// Cargo's target dir for the wasm build.
    pub target: PathBuf,
    /// The folder the bundle is written to (emptied first).
    pub out: PathBuf,
    /// Scratch folder for the intermediate files.
    pub scratch: PathBuf,
}

impl Build {
    /// This checkout into `pkg/`, with the toolchain's own target dir.
    pub fn here(wasm: &Wasm) -> Build {
        let root = root();
        Build {
            src: root.clone(),
            target: wasm.target_dir(),
            out: root.join("pkg"),
            scratch: root.join("target/dist"),
        }
    }
}

/// Build the shipped bundle into `pkg/` with the pinned recipe; returns its entries (also
/// written to `pkg/manifest.json`). `any_toolchain` allows another compiler where the pinned one
/// is missing (the manifest then says the bundle is not reproducible).
pub fn run(any_toolchain: bool) -> anyhow::Result<Vec<Entry>> {
    let wasm = Wasm::for_bundle(any_toolchain)?;
    let entries = build(&wasm, &Build::here(&wasm))?;
    print_table(&entries);
    vendor_site_assets(&root())?;
    Ok(entries)
}

/// Build the bundle described by `b` with `wasm`. Tools (wasm-bindgen, binaryen, terser) come
/// from this checkout's pinned installs whatever `b.src` is.
pub fn build(wasm: &Wasm, b: &Build) -> anyhow::Result<Vec<Entry>> {
    let root = root();
    let recipe = recipe(wasm);
    step(&format!(
        "Building chorus-widgets for wasm32 (release, {recipe})"
    ));
    if !wasm.reproducible() {
        println!(
            "    warning: not the pinned recipe ({} / {}): this bundle's bytes and SRI hashes are not reproducible",
            toolchain::PINNED_NIGHTLY,
            toolchain::PINNED_COMMIT
        );
    }
    let mut cargo = wasm.cargo("build", false);
    cargo
        .args(["--release", "--package", "chorus-widgets", "--lib"])
        .env("CARGO_TARGET_DIR", &b.target)
        .current_dir(&b.src);
    let mut flags: Vec<String> = Vec::new();
    if wasm.nightly_flags() {
        // Panics become a trap with no formatting machinery: tens of KB smaller.
        flags.extend(
            [
                "-Zunstable-options",
                "-Cpanic=immediate-abort",
                "-Zlocation-detail=none",
                "-Zfmt-debug=none",
            ]
            .map(String::from),
        );
    }
    // No machine path may reach the output: the checkout, cargo's registry, the sysroot.
    for (from, to) in remaps(wasm, &b.src) {
        flags.push(format!("--remap-path-prefix={}={to}", from.display()));
    }
    cargo
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}"));
    cargo.status_checked()?;
    let built = b
        .target
        .join("wasm32-unknown-unknown/release/chorus_widgets.wasm");

    step("wasm-bindgen --target no-modules");
    let tmp = &b.scratch;
    let _ = fs::remove_dir_all(tmp);
    fs::create_dir_all(tmp)?;
    util::cmd(util::cargo_bin("wasm-bindgen"))
        .args(["--target", "no-modules", "--no-typescript", "--out-dir"])
        .arg(tmp)
        .arg(&built)
        .status_checked()
        .context("wasm-bindgen failed (does `cargo xtask setup` need running?)")?;

    step("wasm-opt -Oz --converge (binaryen from npm)");
    let opt = tmp.join("opt.wasm");
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    anyhow::ensure!(
        wasm_opt.exists(),
        "node_modules/.bin/wasm-opt is missing: run `cargo xtask setup`"
    );
    util::cmd(&wasm_opt)
        .args(WASM_OPT)
        .args(["--strip-debug", "--strip-producers", "-o"])
        .arg(&opt)
        .arg(tmp.join("chorus_widgets_bg.wasm"))
        .status_checked()?;

    step(&format!("Assembling {}", b.out.display()));
    let pkg = &b.out;
    let _ = fs::remove_dir_all(pkg);
    fs::create_dir_all(pkg)?;
    let wasm_bytes = fs::read(&opt)?;
    let wasm_name = format!("chorus-{}.wasm", &hex(&Sha384::digest(&wasm_bytes))[..10]);
    fs::write(pkg.join(&wasm_name), &wasm_bytes)?;

    let glue = fs::read_to_string(tmp.join("chorus_widgets.js"))?;
    let widgets = b.src.join("crates/widgets");
    let locales = write_locales(&widgets.join("locales"), pkg)?;
    let pins: serde_json::Map<String, serde_json::Value> = locales
        .iter()
        .map(|(tag, e, _)| (tag.clone(), serde_json::json!([e.name, e.sri])))
        .collect();
    let loader = fs::read_to_string(widgets.join("js/loader.js"))?;
    // The stylesheet as the token source gives it (a stale chorus.css cannot ship).
    let css = crate::tokens::bundle_css(&b.src)?;
    let loader = loader
        .replace("__CHORUS_WASM__", &serde_json::to_string(&wasm_name)?)
        .replace(
            "__CHORUS_WASM_SRI__",
            &serde_json::to_string(&sri(&wasm_bytes))?,
        )
        .replace("__CHORUS_CSS__", &serde_json::to_string(&minify_css(&css))?)
        .replace("__CHORUS_LOCALES__", &serde_json::to_string(&pins)?)
        .replace("__CHORUS_PRERENDER__", &prerender(&widgets)?);
    let js = format!(
        "/*! Chorus {} — patient feedback widgets. https://github.com/chorus-nhs/chorus */\n(function () {{\n\"use strict\";\n{glue}\n{loader}\n}})();\n",
        env!("CARGO_PKG_VERSION")
    );
    let raw_js = tmp.join("chorus.js");
    fs::write(&raw_js, js)?;
    step("terser (minify chorus.js)");
    util::cmd(root.join("node_modules/.bin/terser"))
        .arg(&raw_js)
        .args([
            "--compress",
            "passes=2",
            "--mangle",
            "--comments",
            "/^!/",
            "--ecma",
            "2020",
            "-o",
        ])
        .arg(pkg.join("chorus.js"))
        .status_checked()?;

    let mut entries = Vec::new();
    for name in ["chorus.js", wasm_name.as_str()] {
        entries.push(measure_and_compress(pkg, name)?);
    }
    write_manifest(pkg, &entries, &locales, &wasm_name, wasm)?;
    print_locales(&locales);
    Ok(entries)
}

/// The locales fetched on demand (`crates/widgets/locales/<tag>.json`: the widget's words and
/// the built-in FFT's and About you texts in one file per language, for a translator to edit;
/// every language but English and Welsh): each checked,
/// written compact as `chorus-<tag>-<hash>.json` (content-addressed, cached for ever) with its
/// `.br`/`.gz` twins. The loader gets each file's name and SRI hash, so the script tag's hash
/// pins them as it pins the module; the bundle's sizes and budget leave them out. Each file's
/// `fft_question` (the review status of its wording of the FFT's mandated question) must be the
/// one the core gives ([`chorus_core::fft_question_status`]), so the manifest cannot call a
/// draft approved.
fn write_locales(dir: &Path, pkg: &Path) -> anyhow::Result<Vec<(String, Entry, &'static str)>> {
    let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(d) => d.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?,
        Err(_) => return Ok(Vec::new()),
    };
    paths.retain(|p| p.extension().is_some_and(|x| x == "json"));
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let tag = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let what = path.display();
        anyhow::ensure!(
            !tag.is_empty() && tag.bytes().all(|b| b.is_ascii_lowercase()) && tag.len() <= 3,
            "{what}: a locale file is named by its language's BCP 47 primary subtag, such as pl.json"
        );
        anyhow::ensure!(
            !matches!(tag.as_str(), "en" | "cy"),
            "{what}: {tag} is built into the bundle (crates/widgets/src/strings), not fetched"
        );
        let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path)?)
            .with_context(|| format!("{what} is not JSON"))?;
        anyhow::ensure!(
            v["locale"] == tag.as_str(),
            "{what}: \"locale\" must be \"{tag}\""
        );
        anyhow::ensure!(
            matches!(v["dir"].as_str(), Some("ltr" | "rtl")),
            "{what}: \"dir\" must be \"ltr\" or \"rtl\""
        );
        anyhow::ensure!(
            v["status"].is_string(),
            "{what}: \"status\" must say who has reviewed it (or that it awaits review)"
        );
        let status = chorus_core::fft_question_status(chorus_core::Locale::from_attribute(&tag));
        anyhow::ensure!(
            chorus_core::Locale::from_attribute(&tag).tag() == tag,
            "{what}: {tag} is not a locale chorus_core::Locale knows (add it there first)"
        );
        anyhow::ensure!(
            v["fft_question"] == status.as_str(),
            "{what}: \"fft_question\" must be \"{}\", the FFT question's status chorus_core::fft_question_status gives for {tag}",
            status.as_str()
        );
        for key in ["strings", "texts"] {
            anyhow::ensure!(
                v[key]
                    .as_object()
                    .is_some_and(|o| o.values().all(|s| s.is_string())),
                "{what}: \"{key}\" must be an object of strings"
            );
        }
        let bytes = serde_json::to_vec(&v)?;
        let name = format!("chorus-{tag}-{}.json", &hex(&Sha384::digest(&bytes))[..10]);
        fs::write(pkg.join(&name), &bytes)?;
        out.push((tag, measure_and_compress(pkg, &name)?, status.as_str()));
    }
    Ok(out)
}

fn print_locales(locales: &[(String, Entry, &str)]) {
    if locales.is_empty() {
        return;
    }
    println!("    locales fetched only by pages that ask for them (not in the bundle's total):");
    for (tag, e, _) in locales {
        println!(
            "    {:<28} {:>10} {:>10} {:>10}   ({tag})",
            e.name, e.raw, e.gzip, e.brotli
        );
    }
}

/// Copy this checkout's files (tracked and untracked-but-not-ignored) to a fresh folder, build
/// the bundle there with the pinned recipe and a separate target dir, and compare every file of
/// the two `pkg/`s by SHA-384. `pkg/` must already hold this checkout's build.
pub fn check_reproducible() -> anyhow::Result<()> {
    use sha2::{Digest, Sha384};
    let root = root();
    let wasm = crate::toolchain::pinned()?;
    let dir = std::env::temp_dir().join(format!("chorus-repro-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("elsewhere/chorus");
    let files = std::process::Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&root)
        .output_checked()?;
    for f in files.split('\0').filter(|f| !f.is_empty()) {
        let from = root.join(f);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let to = src.join(f);
        std::fs::create_dir_all(to.parent().expect("a file has a parent"))?;
        std::fs::copy(&from, &to)?;
    }
    let copy = Build {
        src: src.clone(),
        target: dir.join("target"),
        out: dir.join("pkg"),
        scratch: dir.join("scratch"),
    };
    build(&wasm, &copy)?;
    let digests =
        |d: &std::path::Path| -> anyhow::Result<std::collections::BTreeMap<String, String>> {
            let mut m = std::collections::BTreeMap::new();
            for e in std::fs::read_dir(d)? {
                let e = e?;
                let bytes = std::fs::read(e.path())?;
                let hex: String = Sha384::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                m.insert(e.file_name().to_string_lossy().into_owned(), hex);
            }
            Ok(m)
        };
    let (a, b) = (digests(&root.join("pkg"))?, digests(&copy.out)?);
    for (name, h) in &a {
        println!("    {name:<28} {}", &h[..16]);
    }
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(
        a == b,
        "the two builds differ:\n  here:      {a:?}\n  elsewhere: {b:?}"
    );
    println!("    {} files identical", a.len());
    Ok(())
}

/// The recipe's name as the manifest and the build log give it.
fn recipe(wasm: &Wasm) -> String {
    match wasm {
        // Not the local toolchain's name: the manifest must be the same bytes on every machine.
        Wasm::Pinned(_) => format!(
            "pinned: rustup {} (rustc {}), -Zbuild-std, immediate-abort",
            toolchain::PINNED_NIGHTLY,
            &toolchain::PINNED_COMMIT[..9]
        ),
        Wasm::Rustup => "rustup's wasm32 target (not the pinned recipe)".into(),
        Wasm::DebianBuildStd => "Debian rustc-web, -Zbuild-std (not the pinned recipe)".into(),
    }
}

/// Machine-specific path prefixes and the fixed names they are written as.
fn remaps(wasm: &Wasm, src: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut v = vec![(src.to_path_buf(), "/chorus")];
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = cargo_home {
        v.push((home, "/cargo"));
    }
    if let Some(sysroot) = toolchain::sysroot(wasm) {
        v.push((sysroot, "/rustc"));
    }
    v
}

/// The demo site uses the real NHS.UK frontend CSS from npm (pinned in package-lock.json),
/// copied into `www/` at build time and never committed.
fn vendor_site_assets(root: &Path) -> anyhow::Result<()> {
    let from = root.join("node_modules/nhsuk-frontend/dist/nhsuk");
    anyhow::ensure!(
        from.is_dir(),
        "nhsuk-frontend is missing: run `cargo xtask setup`"
    );
    let vendor = root.join("www/vendor");
    fs::create_dir_all(&vendor)?;
    fs::copy(
        from.join("nhsuk-frontend.min.css"),
        vendor.join("nhsuk-frontend.min.css"),
    )?;
    // The CSS refers to its icons at /assets/images/.
    let images = root.join("www/assets/images");
    fs::create_dir_all(&images)?;
    for entry in fs::read_dir(from.join("assets/images"))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs::copy(entry.path(), images.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// Sizes, SRI, and the `.br`/`.gz` twins the server sends to browsers that accept them.
fn measure_and_compress(pkg: &Path, name: &str) -> anyhow::Result<Entry> {
    let bytes = fs::read(pkg.join(name))?;
    let gz = gzip(&bytes)?;
    let br = brotli(&bytes)?;
    fs::write(pkg.join(format!("{name}.gz")), &gz)?;
    fs::write(pkg.join(format!("{name}.br")), &br)?;
    Ok(Entry {
        name: name.to_string(),
        raw: bytes.len(),
        gzip: gz.len(),
        brotli: br.len(),
        sri: sri(&bytes),
    })
}

fn write_manifest(
    pkg: &Path,
    entries: &[Entry],
    locales: &[(String, Entry, &str)],
    wasm_name: &str,
    wasm: &Wasm,
) -> anyhow::Result<()> {
    let files: Vec<_> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "file": e.name, "raw": e.raw, "gzip": e.gzip, "brotli": e.brotli, "integrity": e.sri,
            })
        })
        .collect();
    let total = |f: fn(&Entry) -> usize| entries.iter().map(f).sum::<usize>();
    let fft_question: serde_json::Map<String, serde_json::Value> =
        [chorus_core::Locale::En, chorus_core::Locale::Cy]
            .into_iter()
            .map(|l| (l.tag(), chorus_core::fft_question_status(l).as_str()))
            .chain(
                locales
                    .iter()
                    .map(|(tag, _, status)| (tag.as_str(), *status)),
            )
            .map(|(tag, status)| (tag.to_string(), status.into()))
            .collect();
    let manifest = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "entry": "chorus.js",
        "wasm": wasm_name,
        "files": files,
        "total": { "raw": total(|e| e.raw), "gzip": total(|e| e.gzip), "brotli": total(|e| e.brotli) },
        "budget": { "brotli": BUDGET_BROTLI },
        // Fetched on demand by the loader (pinned by these hashes): not in the total.
        "locales": locales.iter().map(|(tag, e, status)| serde_json::json!({
            "locale": tag, "file": e.name, "raw": e.raw, "gzip": e.gzip, "brotli": e.brotli, "integrity": e.sri,
            "fft_question": status,
        })).collect::<Vec<_>>(),
        // The review status of each language's wording of the FFT's mandated question: English
        // is the mandated wording; a "draft" translation is not yet approved by a fluent speaker.
        "fft_question": {
            "text": chorus_core::FFT_QUESTION_EN,
            "status": fft_question,
        },
        "toolchain": { "recipe": recipe(wasm), "reproducible": wasm.reproducible() },
    });
    fs::write(
        pkg.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    Ok(())
}

/// The brief's budget for the whole widget suite, brotli bytes.
pub const BUDGET_BROTLI: usize = 80 * 1024;

pub fn print_table(entries: &[Entry]) {
    println!(
        "\n    {:<28} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip", "brotli"
    );
    for e in entries {
        println!(
            "    {:<28} {:>10} {:>10} {:>10}",
            e.name, e.raw, e.gzip, e.brotli
        );
    }
    let br: usize = entries.iter().map(|e| e.brotli).sum();
    println!(
        "    {:<28} {:>10} {:>10} {:>10}   ({:.1} KB of the {} KB brotli budget)\n",
        "total",
        entries.iter().map(|e| e.raw).sum::<usize>(),
        entries.iter().map(|e| e.gzip).sum::<usize>(),
        br,
        br as f64 / 1024.0,
        BUDGET_BROTLI / 1024
    );
}

/// `sha384-<base64>`, the Subresource Integrity form.
pub fn sri(bytes: &[u8]) -> String {
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha384::digest(bytes))
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Gzip at its best (what the server sends as `.gz`).
pub(crate) fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?)
}

/// Brotli at its best (what the server sends as `.br`).
pub(crate) fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// Drop comments and collapse whitespace: enough for our hand-written CSS, no dependency.
fn minify_css(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start + 2..].split_once("*/").map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where the built bundle lives.
#[allow(dead_code)]
pub fn pkg_dir() -> PathBuf {
    root().join("pkg")
}

/// The standard FFT's first screen for the loader (`crates/widgets/prerender/fft.json`), compact.
/// It is the app's own markup, written by `tests/e2e/prerender.test.mjs` (run it with
/// `CHORUS_UPDATE_PRERENDER=1` after changing how the FFT is drawn) and checked by it against
/// the app on every test run. Refused here if it is for another version of the FFT or its
/// answers are not the core's, so a stale first screen cannot ship.
fn prerender(widgets: &Path) -> anyhow::Result<String> {
    let file = widgets.join("prerender/fft.json");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&file)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let fft = chorus_core::Instrument::from_json(chorus_core::FFT_JSON)
        .map_err(|p| anyhow::anyhow!("fft.json: {p:?}"))?;
    anyhow::ensure!(
        v["version"] == fft.version,
        "{}: made for FFT version {}, but fft.json is version {}: run tests/e2e/prerender.test.mjs with CHORUS_UPDATE_PRERENDER=1",
        file.display(),
        v["version"],
        fft.version
    );
    let ids: Vec<&str> = v["items"]["fft"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    anyhow::ensure!(
        ids == chorus_core::aggregate::FFT_ANSWER_IDS,
        "{}: its FFT answers {ids:?} are not the core's",
        file.display()
    );
    for lang in ["en", "cy"] {
        anyhow::ensure!(
            v[lang].is_array() || v[lang].is_null(),
            "{}: \"{lang}\" must be the screen's nodes or null",
            file.display()
        );
    }
    Ok(v.to_string())
}
