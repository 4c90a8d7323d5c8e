//! Item 1: the bytes each page downloads, and what inside the wasm takes them (twiggy).

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;

use super::stats;
use crate::util::{self, CommandExt, root, step};

/// One file a page downloaded, with its sizes on disk and as the browser received it.
#[derive(Debug, Clone)]
pub struct FileSize {
    /// Path on the bench server (`/embed/chorus.js`).
    pub path: String,
    /// Bytes uncompressed.
    pub raw: usize,
    /// gzip -9.
    pub gzip: usize,
    /// brotli q11.
    pub brotli: usize,
    /// Bytes on the wire as the browser reported them (`encodedBodySize`).
    pub served: usize,
    /// Part of the form, rather than of the host page (the HTML document and its page.css).
    pub form: bool,
}

/// Sizes of the files the browser fetched, read from the bench site folder.
pub fn file_sizes(site: &Path, files: &[(String, usize)]) -> anyhow::Result<Vec<FileSize>> {
    files
        .iter()
        .map(|(path, served)| {
            let name = path.rsplit('/').next().unwrap_or_default();
            let local = path
                .strip_prefix("/embed/")
                .with_context(|| format!("{path} is not under /embed/"))?;
            let file = site.join(local);
            let bytes = std::fs::read(&file).with_context(|| format!("reading {local}"))?;
            // The twins the site serves were made with the same settings: reuse their sizes
            // (compressing again at brotli q11 is slow in a debug build of this tool).
            let twin = |ext: &str| {
                std::fs::metadata(format!("{}.{ext}", file.display()))
                    .ok()
                    .map(|m| m.len() as usize)
            };
            let (gzip, brotli) = match (twin("gz"), twin("br")) {
                (Some(gz), Some(br)) => (gz, br),
                _ => stats::compressed_sizes(&bytes)?,
            };
            Ok(FileSize {
                path: path.clone(),
                raw: bytes.len(),
                gzip,
                brotli,
                served: *served,
                form: !name.ends_with(".html") && name != "page.css",
            })
        })
        .collect()
}

/// One row of twiggy's `top`.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Symbol or section name.
    pub name: String,
    /// Bytes of the item itself.
    pub size: u64,
}

/// What twiggy says about the module.
#[derive(Debug, Default)]
pub struct Contributors {
    /// Bytes of the module twiggy read (the shipped code plus a names section).
    pub module_bytes: u64,
    /// Largest items.
    pub top: Vec<Item>,
    /// Code and data summed by the crate named first in each symbol (approximate).
    pub by_crate: Vec<(String, u64)>,
    /// Why there are none, if there are none.
    pub note: Option<String>,
}

/// Run twiggy on a copy of the bundle's wasm that keeps its function names: the wasm-bindgen
/// output optimised with the same `wasm-opt` recipe as the shipped file but `-g` (names kept),
/// so the code is the shipped code and each function is named.
pub fn contributors(work: &Path) -> Contributors {
    match try_contributors(work) {
        Ok(c) => c,
        Err(e) => Contributors {
            note: Some(format!("twiggy could not be run: {e:#}")),
            ..Default::default()
        },
    }
}

fn try_contributors(work: &Path) -> anyhow::Result<Contributors> {
    let twiggy = util::cargo_bin("twiggy");
    if !util::have(&twiggy.to_string_lossy()) {
        step("cargo install twiggy (once; the wasm size profiler)");
        util::cmd(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["install", "twiggy"])
            .status_checked()?;
    }
    let twiggy = util::cargo_bin("twiggy");
    let root = root();
    let bindgen_out = root.join("target/dist/chorus_widgets_bg.wasm");
    anyhow::ensure!(
        bindgen_out.exists(),
        "{} is missing (cargo xtask dist leaves it there)",
        bindgen_out.display()
    );
    let named = work.join("chorus-named.wasm");
    step("wasm-opt (the shipped optimisation, names kept: -g) for twiggy");
    util::cmd(root.join("node_modules/.bin/wasm-opt"))
        .args(crate::dist::WASM_OPT)
        .args(["-g", "--strip-producers", "-o"])
        .arg(&named)
        .arg(&bindgen_out)
        .status_checked()?;
    let module_bytes = std::fs::metadata(&named)?.len();
    let json = util::cmd(&twiggy)
        .args(["top", "-f", "json"])
        .arg(&named)
        .output_checked()?;
    let items = parse_twiggy(&json)?;
    let mut top: Vec<Item> = items
        .iter()
        .filter(|i| !i.name.contains("names\" subsection") && i.name != "\"name\"")
        .cloned()
        .collect();
    let by_crate = group_by_crate(&top);
    top.truncate(15);
    Ok(Contributors {
        module_bytes,
        top,
        by_crate,
        note: None,
    })
}

/// twiggy's `top -f json`: an array of `{"name", "shallow_size", …}`.
pub fn parse_twiggy(json: &str) -> anyhow::Result<Vec<Item>> {
    let v: serde_json::Value = serde_json::from_str(json).context("twiggy's JSON")?;
    let list = v
        .as_array()
        .or_else(|| v["items"].as_array())
        .context("twiggy's JSON is not a list")?;
    let mut items: Vec<Item> = list
        .iter()
        .filter_map(|i| {
            Some(Item {
                name: i["name"].as_str()?.to_string(),
                size: i["shallow_size"].as_u64()?,
            })
        })
        .collect();
    items.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.name.cmp(&b.name)));
    Ok(items)
}

/// The crate a symbol belongs to, read from its demangled name: the first path segment, looking
/// through `<… as …>` and `&`. Data segments, tables and sections are their own group.
pub fn crate_of(name: &str) -> String {
    let name = strip_hashes(name);
    let n = name.trim_start_matches(['<', '&', '(', '*']);
    let n = n.strip_prefix("mut ").unwrap_or(n);
    let n = n.strip_prefix("dyn ").unwrap_or(n);
    if n.starts_with("data[") || n.starts_with("data segment") {
        return "(data: strings, tables)".into();
    }
    match n.split_once("::") {
        Some((head, _))
            if !head.is_empty() && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            head.to_string()
        }
        _ if n.starts_with("wasm-bindgen")
            || n.starts_with("__wbg")
            || n.starts_with("__wbindgen") =>
        {
            "wasm_bindgen".into()
        }
        _ => "(other: unnamed functions, sections, glue)".into(),
    }
}

/// Drop the crate disambiguators of v0-style symbol names: `yew[dc51063664586c32]::html`
/// → `yew::html`.
pub fn strip_hashes(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('[') {
        let tail = &rest[at + 1..];
        match tail.find(']') {
            Some(end) if end >= 8 && tail[..end].chars().all(|c| c.is_ascii_hexdigit()) => {
                out.push_str(&rest[..at]);
                rest = &tail[end + 1..];
            }
            _ => {
                out.push_str(&rest[..=at]);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    // Legacy mangling ends in a hash: `…::redact::h0123456789abcdef`.
    if let Some(at) = out.rfind("::h")
        && out.len() - at == 19
        && out[at + 3..].chars().all(|c| c.is_ascii_hexdigit())
    {
        out.truncate(at);
    }
    out
}

/// Bytes by crate, largest first.
pub fn group_by_crate(items: &[Item]) -> Vec<(String, u64)> {
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for i in items {
        *m.entry(crate_of(&i.name)).or_default() += i.size;
    }
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiggy_json_and_crates() {
        let json = r#"[
          {"name":"data[0]","shallow_size":9000,"shallow_size_percent":9.0},
          {"name":"yew::html::component::lifecycle::ComponentState::run::h0123","shallow_size":4000,"shallow_size_percent":4.0},
          {"name":"<chorus_core::score::Report as core::clone::Clone>::clone::h99","shallow_size":700,"shallow_size_percent":0.7},
          {"name":"<&T as core::fmt::Display>::fmt::h1","shallow_size":300,"shallow_size_percent":0.3},
          {"name":"yew::dom_bundle::Bundle::reconcile::h77","shallow_size":1000,"shallow_size_percent":1.0},
          {"name":"code[12]","shallow_size":50,"shallow_size_percent":0.05},
          {"name":"broken"}
        ]"#;
        let items = parse_twiggy(json).unwrap();
        assert_eq!(items.len(), 6);
        assert_eq!(items[0].name, "data[0]");
        assert_eq!(items[1].size, 4000);
        assert_eq!(
            group_by_crate(&items),
            vec![
                ("(data: strings, tables)".to_string(), 9000),
                ("yew".to_string(), 5000),
                ("chorus_core".to_string(), 700),
                (
                    "(other: unnamed functions, sections, glue)".to_string(),
                    350
                ),
            ]
        );
        assert_eq!(
            parse_twiggy(r#"{"items":[{"name":"a::b","shallow_size":1}]}"#).unwrap()[0].size,
            1
        );
        assert!(parse_twiggy("not json").is_err());
    }

    #[test]
    fn crates_from_symbols() {
        assert_eq!(
            crate_of("dlmalloc::dlmalloc::Dlmalloc::malloc::h1"),
            "dlmalloc"
        );
        assert_eq!(
            crate_of("<alloc::string::String as core::fmt::Write>::write_str"),
            "alloc"
        );
        assert_eq!(crate_of("&mut serde_json::de::Deserializer"), "serde_json");
        assert_eq!(crate_of("__wbindgen_malloc"), "wasm_bindgen");
        assert_eq!(crate_of("data[3]"), "(data: strings, tables)");
        assert_eq!(
            crate_of("data segment \".rodata\""),
            "(data: strings, tables)"
        );
        let v0 = "<chorus_widgets[5210fbe13e2e672a]::survey::Runner as yew[dc51063664586c32]::functional::FunctionProvider>::run";
        assert_eq!(crate_of(v0), "chorus_widgets");
        assert_eq!(
            strip_hashes(v0),
            "<chorus_widgets::survey::Runner as yew::functional::FunctionProvider>::run"
        );
        assert_eq!(
            strip_hashes("data[3] and [x] and a[]"),
            "data[3] and [x] and a[]"
        );
        assert_eq!(
            strip_hashes("chorus_core::redact::redact::hb6afc75435989c20"),
            "chorus_core::redact::redact"
        );
        assert_eq!(strip_hashes("a::hb6af"), "a::hb6af");
    }
}
