//! Measuring the classifier on the labelled comments (`data/labelled.jsonl`): per-theme
//! precision and recall, theme sentiment agreement, and per-flag precision and recall, on one
//! split. The cue lists are tuned on `dev` only; `test` is what is reported.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::{Classifier, Sentiment};

/// One labelled comment.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labelled {
    /// Line number, from 1.
    pub id: u32,
    /// `dev` or `test`.
    pub split: String,
    /// `en` or `cy`.
    pub lang: String,
    /// The comment (written for this set, already free of personal data).
    pub comment: String,
    /// Theme → sentiment, as a person read it.
    pub themes: BTreeMap<String, Sentiment>,
    /// Flag kinds a person would want reviewed.
    #[serde(default)]
    pub flags: Vec<String>,
}

/// The shipped labelled set.
pub fn labelled() -> Vec<Labelled> {
    include_str!("../data/labelled.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).expect("data/labelled.jsonl is checked by the crate's tests")
        })
        .collect()
}

/// Counts for one label.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    /// Found and labelled.
    pub tp: u32,
    /// Found, not labelled.
    pub fp: u32,
    /// Labelled, not found.
    pub fn_: u32,
}

impl Counts {
    /// tp / (tp + fp); 1 when nothing was found and nothing was labelled.
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            if self.fn_ == 0 { 1.0 } else { 0.0 }
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }
    /// tp / (tp + fn).
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
    /// Harmonic mean of the two.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// The result on one split.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Comments measured.
    pub comments: usize,
    /// Per theme.
    pub themes: BTreeMap<String, Counts>,
    /// Per flag kind.
    pub flags: BTreeMap<String, Counts>,
    /// Themes found and labelled whose sentiment agreed, and how many there were.
    pub sentiment_agree: (u32, u32),
    /// Mistakes, for tuning on `dev`: (id, what).
    pub mistakes: Vec<(u32, String)>,
}

impl Report {
    /// Mean of the per-theme F1 scores.
    pub fn theme_macro_f1(&self) -> f64 {
        mean(self.themes.values().map(Counts::f1))
    }
    /// Mean of the per-flag F1 scores.
    pub fn flag_macro_f1(&self) -> f64 {
        mean(self.flags.values().map(Counts::f1))
    }
    /// Share of correctly found themes whose sentiment matches the label.
    pub fn sentiment_accuracy(&self) -> f64 {
        let (a, n) = self.sentiment_agree;
        if n == 0 { 0.0 } else { a as f64 / n as f64 }
    }

    /// A Markdown table.
    pub fn table(&self) -> String {
        let mut s = rows("theme", &self.themes, self.theme_macro_f1());
        let (a, n) = self.sentiment_agree;
        s += &format!(
            "\nTheme sentiment agrees with the label on {a} of {n} correctly found themes ({:.0}%).\n\n",
            100.0 * self.sentiment_accuracy()
        );
        s += &rows("flag", &self.flags, self.flag_macro_f1());
        s
    }
}

/// One Markdown table of per-label figures (`what`: theme or flag), with the macro mean F1.
fn rows(what: &str, counts: &BTreeMap<String, Counts>, macro_f1: f64) -> String {
    let mut s =
        format!("| {what} | labelled | precision | recall | F1 |\n|---|---:|---:|---:|---:|\n");
    for (t, c) in counts {
        s += &format!(
            "| {t} | {} | {:.2} | {:.2} | {:.2} |\n",
            c.tp + c.fn_,
            c.precision(),
            c.recall(),
            c.f1()
        );
    }
    s + &format!("| **macro mean** | | | | **{macro_f1:.2}** |\n")
}

fn mean(it: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = it.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Measure `c` on the comments of `split` (`dev`, `test`, or `all`).
pub fn evaluate(c: &Classifier, set: &[Labelled], split: &str) -> Report {
    let mut r = Report::default();
    for t in c.theme_names() {
        r.themes.insert(t.clone(), Counts::default());
    }
    for f in c.flag_names() {
        r.flags.insert(f.clone(), Counts::default());
    }
    for l in set.iter().filter(|l| split == "all" || l.split == split) {
        r.comments += 1;
        let a = c.classify(&l.comment);
        for (name, counts) in r.themes.iter_mut() {
            let got = a.theme(name);
            let want = l.themes.get(name);
            match (got, want) {
                (Some(g), Some(w)) => {
                    counts.tp += 1;
                    r.sentiment_agree.1 += 1;
                    if g.sentiment == *w {
                        r.sentiment_agree.0 += 1;
                    } else {
                        r.mistakes.push((
                            l.id,
                            format!(
                                "{name}: sentiment {:?}, labelled {:?} ({:?})",
                                g.sentiment,
                                w,
                                g.sentiment_words
                                    .iter()
                                    .map(|e| &e.text)
                                    .collect::<Vec<_>>()
                            ),
                        ));
                    }
                }
                (Some(g), None) => {
                    counts.fp += 1;
                    r.mistakes.push((l.id, found_unlabelled(name, &g.cues)));
                }
                (None, Some(_)) => {
                    counts.fn_ += 1;
                    r.mistakes.push((l.id, format!("{name}: missed")));
                }
                (None, None) => {}
            }
        }
        for (name, counts) in r.flags.iter_mut() {
            let got = a.flags.iter().find(|f| &f.kind == name);
            let want = l.flags.contains(name);
            match (got, want) {
                (Some(_), true) => counts.tp += 1,
                (Some(g), false) => {
                    counts.fp += 1;
                    r.mistakes
                        .push((l.id, found_unlabelled(&format!("flag {name}"), &g.cues)));
                }
                (None, true) => {
                    counts.fn_ += 1;
                    r.mistakes.push((l.id, format!("flag {name}: missed")));
                }
                (None, false) => {}
            }
        }
    }
    r
}

/// The mistake of a theme or flag found where the labels have none, with the cues that led to it.
fn found_unlabelled(what: &str, cues: &[crate::Evidence]) -> String {
    format!(
        "{what}: found, not labelled ({:?})",
        cues.iter().map(|e| &e.text).collect::<Vec<_>>()
    )
}
