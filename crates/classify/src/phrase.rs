//! Cue phrases and their matching: Welsh mutations of a first word, and a set of phrases
//! matched longest first (steps 2, 3 and 5 of the crate's reading).

use std::collections::HashMap;

use crate::words::{Tok, tokenize};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Pat {
    Exact(String),
    Prefix(String),
    /// Any of these (a Welsh first word and its mutations).
    Any(Vec<String>),
}

impl Pat {
    pub(crate) fn matches(&self, w: &str) -> bool {
        match self {
            Pat::Exact(e) => e == w,
            Pat::Prefix(p) => w.starts_with(p.as_str()),
            Pat::Any(v) => v.iter().any(|x| x == w),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Phrase {
    pub(crate) pats: Vec<Pat>,
    pub(crate) weight: f64,
}

/// The mutated forms of a Welsh word (the word itself first).
pub(crate) fn mutations(w: &str) -> Vec<String> {
    let mut v = vec![w.to_string()];
    let mut add = |prefix: &str, rest: &str| v.push(format!("{prefix}{rest}"));
    if let Some(r) = w.strip_prefix("ll") {
        add("l", r);
    } else if let Some(r) = w.strip_prefix("rh") {
        add("r", r);
    } else if w.starts_with("ch")
        || w.starts_with("dd")
        || w.starts_with("th")
        || w.starts_with("ph")
    {
    } else if let Some(r) = w.strip_prefix('p') {
        add("b", r);
        add("mh", r);
        add("ph", r);
    } else if let Some(r) = w.strip_prefix('t') {
        add("d", r);
        add("nh", r);
        add("th", r);
    } else if let Some(r) = w.strip_prefix('c') {
        add("g", r);
        add("ngh", r);
        add("ch", r);
    } else if let Some(r) = w.strip_prefix('b') {
        add("f", r);
        add("m", r);
    } else if let Some(r) = w.strip_prefix('d') {
        add("dd", r);
        add("n", r);
    } else if let Some(r) = w.strip_prefix('g') {
        if !r.is_empty() {
            add("", r);
        }
        add("ng", r);
    } else if let Some(r) = w.strip_prefix('m') {
        add("f", r);
    } else if w.starts_with(['a', 'e', 'i', 'o', 'u', 'w', 'y']) {
        add("h", w);
    }
    v
}

/// Compile one phrase of the cue syntax. `welsh`: the first word also matches its mutations.
pub(crate) fn phrase(src: &str, welsh: bool) -> Result<Phrase, String> {
    let (src, weight) = match src.rsplit_once('~') {
        Some((p, w)) => (
            p,
            w.parse::<f64>()
                .ok()
                .filter(|w| w.is_finite() && *w > 0.0 && *w <= 10.0)
                .ok_or_else(|| {
                    format!("\"{src}\": the weight after ~ must be a number above 0 and at most 10")
                })?,
        ),
        None => (src, 1.0),
    };
    let (src, exact) = match src.strip_prefix('=') {
        Some(s) => (s, true),
        None => (src, false),
    };
    let words: Vec<&str> = src.split_whitespace().collect();
    if words.is_empty() {
        return Err("a cue phrase is empty".into());
    }
    let mut pats = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let (w, prefix) = match w.strip_suffix('*') {
            Some(w) => (w, true),
            None => (*w, false),
        };
        if w.contains('*') {
            return Err(format!("\"{src}\": '*' may only end a word"));
        }
        // The same splitting as comments get, so "self-harm" is the words "self harm".
        let toks = tokenize(w);
        if toks.is_empty() {
            return Err(format!("\"{src}\": \"{w}\" has no letters or digits"));
        }
        let n = toks.len();
        for (j, t) in toks.into_iter().enumerate() {
            let last = j + 1 == n;
            pats.push(if prefix && last {
                Pat::Prefix(t.norm)
            } else if welsh && !exact && i == 0 && j == 0 {
                Pat::Any(mutations(&t.norm))
            } else {
                Pat::Exact(t.norm)
            });
        }
    }
    Ok(Phrase { pats, weight })
}

/// Phrases with an index by first word, for matching many at once.
#[derive(Clone, Debug, Default)]
pub(crate) struct PhraseSet {
    pub(crate) phrases: Vec<(Phrase, usize)>,
    pub(crate) by_first: HashMap<String, Vec<usize>>,
    pub(crate) prefixed: Vec<usize>,
}

impl PhraseSet {
    pub(crate) fn add(&mut self, p: Phrase, tag: usize) {
        let i = self.phrases.len();
        match &p.pats[0] {
            Pat::Exact(w) => self.by_first.entry(w.clone()).or_default().push(i),
            Pat::Any(v) => {
                for w in v {
                    self.by_first.entry(w.clone()).or_default().push(i);
                }
            }
            Pat::Prefix(_) => self.prefixed.push(i),
        }
        self.phrases.push((p, tag));
    }

    pub(crate) fn add_all(
        &mut self,
        en: &[String],
        cy: &[String],
        tag: usize,
    ) -> Result<(), String> {
        for s in en {
            self.add(phrase(s, false)?, tag);
        }
        for s in cy {
            self.add(phrase(s, true)?, tag);
        }
        Ok(())
    }

    /// Every match starting at `i`: (length in words, weight, tag). A phrase never crosses a
    /// sentence.
    pub(crate) fn at(&self, toks: &[Tok], i: usize) -> Vec<(usize, f64, usize)> {
        let mut out = Vec::new();
        let first = &toks[i].norm;
        let candidates = self
            .by_first
            .get(first)
            .into_iter()
            .flatten()
            .chain(self.prefixed.iter());
        for &k in candidates {
            let (p, tag) = &self.phrases[k];
            let n = p.pats.len();
            if i + n > toks.len() || toks[i + n - 1].sentence != toks[i].sentence {
                continue;
            }
            if p.pats
                .iter()
                .zip(&toks[i..i + n])
                .all(|(pat, t)| pat.matches(&t.norm))
            {
                out.push((n, p.weight, *tag));
            }
        }
        out
    }
}
