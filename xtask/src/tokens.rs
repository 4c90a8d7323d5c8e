//! Design tokens from one source: `crates/widgets/tokens.json` (every token's name, group,
//! default, NHS.UK property, example and purpose, and the presets). From it come
//!
//! - the token declarations in `chorus.css`'s `:host` block, the default inside every inline
//!   `var(--chorus-…, default)`, and the `:host([theme=…])` preset blocks;
//! - `www/js/tokens-data.js`, the list the theme playground builds its controls from;
//! - the token table in `www/docs/designers.html`.
//!
//! `cargo xtask tokens` writes them; `cargo xtask dist` builds the bundle's stylesheet from the
//! same generation (so a stale `chorus.css` cannot ship), and a test fails while any committed
//! copy differs from what the source gives. A designer or a translator of the docs edits one
//! file.

use std::{fs, path::Path};

use anyhow::{Context, bail};
use serde::Deserialize;

/// The source file, relative to the workspace root.
pub const SOURCE: &str = "crates/widgets/tokens.json";

#[derive(Debug, Deserialize)]
struct Source {
    groups: Vec<Group>,
    tokens: Vec<Token>,
    presets: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Group {
    id: String,
    title: String,
}

#[derive(Debug, Deserialize)]
struct Token {
    name: String,
    group: String,
    default: String,
    #[serde(default)]
    nhsuk: Option<String>,
    /// Declared on `:host` (so the widget's own default applies even where an ancestor of the
    /// host sets the token); otherwise the default sits inside each `var()` that reads it and
    /// an ancestor's value is inherited.
    declared: bool,
    example: String,
    /// What it styles, in plain words (the playground).
    #[serde(rename = "use")]
    purpose: String,
    /// The same for the designers' page, where it may say more (HTML).
    #[serde(default)]
    doc: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Preset {
    label: String,
    /// Also a `theme="…"` attribute value built into the widget.
    theme: bool,
    values: serde_json::Map<String, serde_json::Value>,
}

fn load(root: &Path) -> anyhow::Result<Source> {
    let text =
        fs::read_to_string(root.join(SOURCE)).with_context(|| format!("reading {SOURCE}"))?;
    let s: Source =
        serde_json::from_str(&text).with_context(|| format!("{SOURCE} is not valid"))?;
    for t in &s.tokens {
        if !t.name.starts_with("--chorus-") || !s.groups.iter().any(|g| g.id == t.group) {
            bail!(
                "{SOURCE}: token {} needs a --chorus- name and a known group",
                t.name
            );
        }
    }
    for (id, p) in &s.presets {
        let p: Preset =
            serde_json::from_value(p.clone()).with_context(|| format!("{SOURCE}: preset {id}"))?;
        for k in p.values.keys() {
            if !s.tokens.iter().any(|t| &t.name == k) {
                bail!("{SOURCE}: preset {id} sets {k}, which is not a token");
            }
        }
    }
    Ok(s)
}

fn preset(v: &serde_json::Value) -> Preset {
    serde_json::from_value(v.clone()).expect("checked in load")
}

/// Replace the text between `begin` and `end` (markers kept) in `text`.
fn splice(text: &str, begin: &str, end: &str, with: &str, file: &str) -> anyhow::Result<String> {
    let a = text
        .find(begin)
        .with_context(|| format!("{file}: no {begin:?} marker"))?
        + begin.len();
    let b = text[a..]
        .find(end)
        .with_context(|| format!("{file}: no {end:?} marker"))?
        + a;
    Ok(format!("{}{with}{}", &text[..a], &text[b..]))
}

/// `chorus.css` with its generated parts written from the source.
fn css(s: &Source, current: &str) -> anyhow::Result<String> {
    const FILE: &str = "crates/widgets/css/chorus.css";
    let mut decls = String::from("\n");
    for t in s.tokens.iter().filter(|t| t.declared) {
        match &t.nhsuk {
            Some(n) => decls.push_str(&format!("  {}: var({n}, {});\n", t.name, t.default)),
            None => decls.push_str(&format!("  {}: {};\n", t.name, t.default)),
        }
    }
    decls.push_str("  ");
    let mut out = splice(
        current,
        "/* tokens:begin (generated from tokens.json) */",
        "/* tokens:end */",
        &decls,
        FILE,
    )?;
    let mut presets = String::from("\n");
    for (id, p) in &s.presets {
        let p = preset(p);
        if !p.theme {
            continue;
        }
        let body: Vec<String> = p
            .values
            .iter()
            .map(|(k, v)| format!("{k}: {};", v.as_str().unwrap_or_default()))
            .collect();
        presets.push_str(&format!(
            ":host([theme=\"{id}\"]) {{ {} }}\n",
            body.join(" ")
        ));
    }
    out = splice(
        &out,
        "/* presets:begin (generated from tokens.json) */",
        "/* presets:end */",
        &presets,
        FILE,
    )?;
    // Every var() that reads a token: a known token; an undeclared one carries its default.
    let mut fixed = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("var(--chorus-") {
        fixed.push_str(&rest[..at]);
        let inner = &rest[at + 4..];
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(inner.len());
        let name = &inner[..name_len];
        let Some(t) = s.tokens.iter().find(|t| t.name == name) else {
            bail!("{FILE} reads {name}, which is not in {SOURCE}");
        };
        // The end of this var(): the matching parenthesis.
        let mut depth = 1;
        let mut end = None;
        for (i, c) in inner.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.with_context(|| format!("{FILE}: unclosed var({name}"))?;
        if t.declared {
            fixed.push_str(&format!("var({name})"));
        } else {
            fixed.push_str(&format!("var({name}, {})", t.default));
        }
        rest = &inner[end + 1..];
    }
    fixed.push_str(rest);
    Ok(fixed)
}

fn js_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// `www/js/tokens-data.js`.
fn playground(s: &Source) -> String {
    let mut o = String::from(
        "// Generated from crates/widgets/tokens.json by `cargo xtask tokens`: edit that file, not this one.\n\n",
    );
    o.push_str("export const TOKENS = [\n");
    for t in &s.tokens {
        o.push_str(&format!(
            "  {{ name: {}, group: {}, fallback: {}{}, example: {}, use: {} }},\n",
            js_string(&t.name),
            js_string(&t.group),
            js_string(&t.default),
            t.nhsuk
                .as_ref()
                .map(|n| format!(", nhsuk: {}", js_string(n)))
                .unwrap_or_default(),
            js_string(&t.example),
            js_string(&t.purpose)
        ));
    }
    o.push_str("];\n\nexport const GROUPS = [\n");
    for g in &s.groups {
        o.push_str(&format!(
            "  {{ id: {}, title: {} }},\n",
            js_string(&g.id),
            js_string(&g.title)
        ));
    }
    o.push_str("];\n\n// Starting points. \"NHS default\" clears every token, so the widget falls back to NHS.UK\n// frontend's custom properties (or the NHS.UK palette).\nexport const PRESETS = {\n");
    for (id, p) in &s.presets {
        let p = preset(p);
        let values: Vec<String> = p
            .values
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}: {}",
                    js_string(k),
                    js_string(v.as_str().unwrap_or_default())
                )
            })
            .collect();
        o.push_str(&format!(
            "  {}: {{ label: {}, values: {{ {} }} }},\n",
            js_string(id),
            js_string(&p.label),
            values.join(", ")
        ));
    }
    o.push_str("};\n");
    o
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `designers.html` with its token table written from the source.
fn designers(s: &Source, current: &str) -> anyhow::Result<String> {
    let mut rows = String::from("\n");
    for g in &s.groups {
        rows.push_str(&format!(
            "        <tbody>\n          <tr><th scope=\"rowgroup\" colspan=\"4\" class=\"table__group\">{}</th></tr>\n",
            html_escape(&g.title)
        ));
        for t in s.tokens.iter().filter(|t| t.group == g.id) {
            let doc = t.doc.clone().unwrap_or_else(|| html_escape(&t.purpose));
            let default = match &t.nhsuk {
                Some(n) => format!(
                    "<code>{}</code>, or the page's <code>{}</code> if set",
                    html_escape(&t.default),
                    html_escape(n)
                ),
                None => format!("<code>{}</code>", html_escape(&t.default)),
            };
            rows.push_str(&format!(
                "          <tr data-token=\"{n}\"><th scope=\"row\"><code>{n}</code></th><td data-label=\"What it styles\">{doc}</td><td data-label=\"Default\">{default}</td><td data-label=\"Example\"><code>{}</code></td></tr>\n",
                html_escape(&t.example),
                n = t.name,
            ));
        }
        rows.push_str("        </tbody>\n");
    }
    rows.push_str("        ");
    splice(
        current,
        "<!-- tokens:begin (generated from crates/widgets/tokens.json) -->",
        "<!-- tokens:end -->",
        &rows,
        "www/docs/designers.html",
    )
}

/// Every generated file as the source gives it: (path, contents).
pub fn generate(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let s = load(root)?;
    let read = |p: &str| fs::read_to_string(root.join(p)).with_context(|| format!("reading {p}"));
    Ok(vec![
        (
            "crates/widgets/css/chorus.css".into(),
            css(&s, &read("crates/widgets/css/chorus.css")?)?,
        ),
        ("www/js/tokens-data.js".into(), playground(&s)),
        (
            "www/docs/designers.html".into(),
            designers(&s, &read("www/docs/designers.html")?)?,
        ),
    ])
}

/// The bundle's stylesheet: `chorus.css` as generated (whatever the file on disk says).
pub fn bundle_css(root: &Path) -> anyhow::Result<String> {
    let s = load(root)?;
    css(
        &s,
        &fs::read_to_string(root.join("crates/widgets/css/chorus.css"))?,
    )
}

/// `cargo xtask tokens [--check]`.
pub fn run(root: &Path, check: bool) -> anyhow::Result<()> {
    let mut stale = Vec::new();
    for (path, text) in generate(root)? {
        let on_disk = fs::read_to_string(root.join(&path)).unwrap_or_default();
        if on_disk != text {
            if check {
                stale.push(path);
            } else {
                fs::write(root.join(&path), text)?;
                println!("wrote {path}");
            }
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} not what {SOURCE} gives: run `cargo xtask tokens`",
            stale.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_committed_files_are_what_the_token_source_gives() {
        run(&root(), true).unwrap();
    }

    /// Defaults and presets, not only names: the stylesheet declares each declared token's
    /// default (behind its NHS.UK property), carries each other token's default in its var(),
    /// and draws each theme preset with exactly the source's values.
    #[test]
    fn defaults_and_presets_reach_the_stylesheet() {
        let s = load(&root()).unwrap();
        let css = bundle_css(&root()).unwrap();
        for t in &s.tokens {
            let want = match (&t.nhsuk, t.declared) {
                (Some(n), true) => format!("{}: var({n}, {});", t.name, t.default),
                (None, true) => format!("{}: {};", t.name, t.default),
                (_, false) => format!("var({}, {})", t.name, t.default),
            };
            assert!(css.contains(&want), "{want} is not in the stylesheet");
        }
        for (id, p) in &s.presets {
            let p = preset(p);
            if p.theme {
                let block = &css[css.find(&format!(":host([theme=\"{id}\"])")).unwrap()..];
                let block = &block[..block.find('}').unwrap()];
                for (k, v) in &p.values {
                    assert!(
                        block.contains(&format!("{k}: {};", v.as_str().unwrap())),
                        "{id}: {k}"
                    );
                }
            }
        }
    }
}
