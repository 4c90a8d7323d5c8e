//! chorus-classify: themes, phrase-level sentiment and safeguarding flags for patient comments,
//! in English and Welsh, from cue lists a person can read (`cues/*.toml`) — no model, no
//! download, nothing leaves the trust's server. It is given comments *after* redaction.
//!
//! Every tag comes with the words that led to it ([`Evidence`]: byte spans into the comment),
//! so staff can see why a comment was tagged and correct it; a site's corrections
//! ([`SiteRules`]) are consulted before the cues: phrases staff said show a theme, and
//! phrases staff said do not.
//!
//! How it reads a comment:
//! 1. Words are split out (lower case, accents folded, `’` read as `'`, Welsh `'n`/`'r` read
//!    as `yn`/`yr`), in clauses (split at `, ; : . ! ?` and at "but", "although", "ond", …)
//!    and sentences. Redaction tokens (`[phone number]`) are skipped.
//! 2. Theme cues are matched as phrases; Welsh cues also match the mutations of their first
//!    word (soft, nasal, aspirate, h-prothesis).
//! 3. Sentiment phrases are matched longest first. A negator up to four words before a phrase
//!    in the same clause turns it round ("not rude" weakly positive, "wasn't helpful"
//!    negative; Welsh "ddim yn garedig"); an intensifier before it ("very kind", Welsh "mor")
//!    or, in Welsh, after it ("caredig iawn") makes it count 1.5 times.
//! 4. A theme's sentiment is the sum over the clauses that mention it; where those hold no
//!    sentiment, over the theme-free clauses of the same sentences, then of the comment.
//! 5. Flag cues (self-harm, abuse, harm, neglect, safety incident, complaint) are matched the
//!    same way; a negated cue ("I was not harmed", "no complaints") does not flag.

mod cues;
pub mod eval;
mod phrase;
mod words;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use cues::{LexiconFile, NEG, POS};
pub use cues::{builtin_flags, builtin_themes};
use phrase::{Phrase, PhraseSet, phrase};
use words::tokenize;

/// A theme: a name and cue phrases in English and Welsh.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThemeDef {
    /// Shown to staff and stored with each tag, e.g. `waiting`.
    pub name: String,
    /// English cue phrases.
    #[serde(default)]
    pub en: Vec<String>,
    /// Welsh cue phrases.
    #[serde(default)]
    pub cy: Vec<String>,
}

/// A flag kind and its cue phrases (same shape as a theme).
pub type FlagDef = ThemeDef;

/// Positive or negative (or neither) as the comment expresses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    /// Praise.
    Positive,
    /// Criticism.
    Negative,
    /// Neither, or both equally.
    Neutral,
}

impl Sentiment {
    /// `positive`, `negative`, `neutral`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
        }
    }

    /// The inverse of [`Sentiment::as_str`].
    pub fn parse(s: &str) -> Option<Sentiment> {
        match s {
            "positive" => Some(Sentiment::Positive),
            "negative" => Some(Sentiment::Negative),
            "neutral" => Some(Sentiment::Neutral),
            _ => None,
        }
    }

    fn of(score: f64) -> Sentiment {
        if score > 1e-9 {
            Sentiment::Positive
        } else if score < -1e-9 {
            Sentiment::Negative
        } else {
            Sentiment::Neutral
        }
    }
}

/// Words in the comment that led to a tag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// The words, as written in the comment.
    pub text: String,
    /// What they did: `cue`, `positive`, `negative`, `negated positive`, `negated negative`,
    /// `staff cue` (a phrase from the site's corrections).
    pub why: String,
}

/// One theme found in a comment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThemeTag {
    /// Theme name.
    pub theme: String,
    /// What the comment says about it.
    pub sentiment: Sentiment,
    /// Sum of the sentiment phrases counted (positive above zero).
    pub score: f64,
    /// The cue words that named the theme.
    pub cues: Vec<Evidence>,
    /// The sentiment phrases that were counted for it.
    pub sentiment_words: Vec<Evidence>,
}

/// One safeguarding or complaint flag.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlagTag {
    /// Flag kind (`self-harm`, `abuse`, `harm`, `neglect`, `safety incident`, `complaint`).
    pub kind: String,
    /// The cue words.
    pub cues: Vec<Evidence>,
}

/// Everything found in one comment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Themes, in the order of the classifier's theme list.
    pub themes: Vec<ThemeTag>,
    /// Flags, in the order of the flag list.
    pub flags: Vec<FlagTag>,
    /// The comment as a whole.
    pub sentiment: Option<Sentiment>,
}

impl Analysis {
    /// The tag for `theme`, if found.
    pub fn theme(&self, theme: &str) -> Option<&ThemeTag> {
        self.themes.iter().find(|t| t.theme == theme)
    }
}

/// A site's corrections, as phrases: where staff said a phrase shows a theme (`show`), and
/// where staff said a phrase that matched a cue does not (`ignore`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SiteRules {
    /// `(theme, phrase)`: the phrase names the theme.
    pub show: Vec<(String, String)>,
    /// `(theme, phrase)`: a cue for the theme inside this phrase does not count.
    pub ignore: Vec<(String, String)>,
}

/// The classifier: compiled cue lists.
#[derive(Clone, Debug)]
pub struct Classifier {
    theme_names: Vec<String>,
    themes: PhraseSet,
    flag_names: Vec<String>,
    flags: PhraseSet,
    sentiment: PhraseSet,
    negators: PhraseSet,
    intensifiers: PhraseSet,
    post_intensifiers: PhraseSet,
    downtoners: PhraseSet,
}

/// Compiled [`SiteRules`].
#[derive(Clone, Debug, Default)]
pub struct CompiledRules {
    show: PhraseSet,
    ignore: PhraseSet,
}

/// Check a theme or flag list: names 1–40 characters, unique, each with a cue.
fn check_defs(defs: &[ThemeDef], what: &str) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for d in defs {
        let n = d.name.trim();
        if n.is_empty() || n.chars().count() > 40 || n != d.name {
            return Err(format!(
                "{what} \"{}\": a name must be 1 to 40 characters with no spaces around it",
                d.name
            ));
        }
        if !seen.insert(n.to_string()) {
            return Err(format!("{what} \"{n}\" is listed twice"));
        }
        if d.en.is_empty() && d.cy.is_empty() {
            return Err(format!("{what} \"{n}\" has no cue phrases"));
        }
    }
    Ok(())
}

impl Classifier {
    /// The shipped themes, flags and lexicon.
    pub fn builtin() -> Classifier {
        Classifier::new(builtin_themes(), builtin_flags())
            .expect("the shipped cue lists are checked by the crate's tests")
    }

    /// A classifier for these themes and flags (and the shipped sentiment lexicon). Errors name
    /// the list and the phrase at fault.
    pub fn new(themes: Vec<ThemeDef>, flags: Vec<FlagDef>) -> Result<Classifier, String> {
        check_defs(&themes, "theme")?;
        check_defs(&flags, "flag")?;
        let mut c = Classifier {
            theme_names: themes.iter().map(|t| t.name.clone()).collect(),
            themes: PhraseSet::default(),
            flag_names: flags.iter().map(|t| t.name.clone()).collect(),
            flags: PhraseSet::default(),
            sentiment: PhraseSet::default(),
            negators: PhraseSet::default(),
            intensifiers: PhraseSet::default(),
            post_intensifiers: PhraseSet::default(),
            downtoners: PhraseSet::default(),
        };
        for (i, t) in themes.iter().enumerate() {
            c.themes
                .add_all(&t.en, &t.cy, i)
                .map_err(|e| format!("theme \"{}\": {e}", t.name))?;
        }
        for (i, t) in flags.iter().enumerate() {
            c.flags
                .add_all(&t.en, &t.cy, i)
                .map_err(|e| format!("flag \"{}\": {e}", t.name))?;
        }
        let lex: LexiconFile = toml::from_str(include_str!("../cues/sentiment.toml"))
            .map_err(|e| format!("cues/sentiment.toml: {e}"))?;
        for (l, welsh) in [(&lex.en, false), (&lex.cy, true)] {
            let compile = |list: &[String]| -> Result<Vec<Phrase>, String> {
                list.iter()
                    .map(|s| phrase(s, welsh).map_err(|e| format!("sentiment: {e}")))
                    .collect()
            };
            for p in compile(&l.positive)? {
                c.sentiment.add(p, POS);
            }
            for p in compile(&l.negative)? {
                c.sentiment.add(p, NEG);
            }
            for (list, set) in [
                (&l.negators, &mut c.negators),
                (&l.intensifiers, &mut c.intensifiers),
                (&l.post_intensifiers, &mut c.post_intensifiers),
                (&l.downtoners, &mut c.downtoners),
            ] {
                for p in compile(list)? {
                    set.add(p, 0);
                }
            }
        }
        Ok(c)
    }

    /// The theme names, in order.
    pub fn theme_names(&self) -> &[String] {
        &self.theme_names
    }

    /// The flag kinds, in order.
    pub fn flag_names(&self) -> &[String] {
        &self.flag_names
    }

    /// Compile a site's corrections; phrases for themes this classifier does not have, or that
    /// have no words, are left out.
    pub fn rules(&self, rules: &SiteRules) -> CompiledRules {
        let mut out = CompiledRules::default();
        for (list, set) in [
            (&rules.show, &mut out.show),
            (&rules.ignore, &mut out.ignore),
        ] {
            for (theme, p) in list {
                let Some(i) = self.theme_names.iter().position(|n| n == theme) else {
                    continue;
                };
                // Staff phrases are matched word for word (as written, any mutation included).
                if let Ok(ph) = phrase(&format!("={}", p.replace('*', " ")), false) {
                    set.add(ph, i);
                }
            }
        }
        out
    }

    /// Classify one (redacted) comment with no site corrections.
    pub fn classify(&self, text: &str) -> Analysis {
        self.classify_with(text, &CompiledRules::default())
    }

    /// Classify one (redacted) comment, consulting a site's corrections first.
    pub fn classify_with(&self, text: &str, rules: &CompiledRules) -> Analysis {
        let toks = tokenize(text);
        let ev = |a: usize, b: usize, why: &str| Evidence {
            start: toks[a].start,
            end: toks[b - 1].end,
            text: text[toks[a].start..toks[b - 1].end].to_string(),
            why: why.to_string(),
        };
        let negated_at = |i: usize| -> Option<usize> {
            // A negator ending in the four words before `i`, in the same clause.
            (i.saturating_sub(4)..i).rev().find(|&j| {
                toks[j].clause == toks[i].clause
                    && (toks[j].norm.ends_with("n't")
                        || self
                            .negators
                            .at(&toks, j)
                            .iter()
                            .any(|(n, _, _)| j + n <= i))
            })
        };

        // Sentiment phrases, longest first, left to right, not overlapping.
        struct Hit {
            a: usize,
            b: usize,
            value: f64,
            why: &'static str,
            negator: Option<usize>,
        }
        let mut hits: Vec<Hit> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let best = self
                .sentiment
                .at(&toks, i)
                .into_iter()
                .max_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)));
            let Some((n, w, tag)) = best else {
                i += 1;
                continue;
            };
            let mut value = if tag == POS { w } else { -w };
            let before = |set: &PhraseSet| {
                (i.saturating_sub(2)..i).any(|j| {
                    toks[j].clause == toks[i].clause
                        && set.at(&toks, j).iter().any(|(m, _, _)| j + m == i)
                })
            };
            if before(&self.intensifiers)
                || (i + n < toks.len()
                    && toks[i + n].clause == toks[i].clause
                    && !self.post_intensifiers.at(&toks, i + n).is_empty())
            {
                value *= 1.5;
            }
            if before(&self.downtoners) {
                value *= 0.5;
            }
            let negator = negated_at(i);
            let why = match (negator.is_some(), value > 0.0) {
                (false, true) => "positive",
                (false, false) => "negative",
                (true, true) => {
                    value = -value;
                    "negated positive"
                }
                (true, false) => {
                    value = -value * 0.5;
                    "negated negative"
                }
            };
            hits.push(Hit {
                a: i,
                b: i + n,
                value,
                why,
                negator,
            });
            i += n;
        }
        // A word that negated another phrase does not count on its own as well ("nobody was
        // rude" is not also "nobody").
        let used: Vec<usize> = hits.iter().filter_map(|h| h.negator).collect();
        hits.retain(|h| !(h.b - h.a == 1 && used.contains(&h.a)));

        // Themes: staff phrases first, then cues not inside a phrase staff said to ignore.
        let mut ignored = vec![Vec::<usize>::new(); toks.len()];
        for i in 0..toks.len() {
            for (n, _, tag) in rules.ignore.at(&toks, i) {
                for slot in ignored.iter_mut().skip(i).take(n) {
                    slot.push(tag);
                }
            }
        }
        let mut mentions: BTreeMap<usize, Vec<(usize, usize, &'static str)>> = BTreeMap::new();
        for i in 0..toks.len() {
            for (n, _, tag) in rules.show.at(&toks, i) {
                mentions
                    .entry(tag)
                    .or_default()
                    .push((i, i + n, "staff cue"));
            }
            for (n, _, tag) in self.themes.at(&toks, i) {
                if (i..i + n).any(|k| ignored[k].contains(&tag)) {
                    continue;
                }
                mentions.entry(tag).or_default().push((i, i + n, "cue"));
            }
        }
        // A cue inside a longer cue of another theme gives way to it ("waiting room" is the
        // environment, not waiting).
        let all: Vec<(usize, usize, usize)> = mentions
            .iter()
            .flat_map(|(t, v)| v.iter().map(move |(a, b, _)| (*t, *a, *b)))
            .collect();
        for (tag, ms) in mentions.iter_mut() {
            ms.retain(|(a, b, why)| {
                *why == "staff cue"
                    || !all
                        .iter()
                        .any(|(t, x, y)| t != tag && x <= a && b <= y && y - x > b - a)
            });
        }
        mentions.retain(|_, v| !v.is_empty());
        let theme_clauses: std::collections::BTreeSet<usize> = mentions
            .values()
            .flatten()
            .map(|(a, _, _)| toks[*a].clause)
            .collect();
        let mut themes = Vec::new();
        for (tag, ms) in &mentions {
            // Keep the longest cue where cues overlap.
            let mut ms = ms.clone();
            ms.sort_by_key(|(a, b, _)| (*a, std::cmp::Reverse(*b)));
            let mut cues: Vec<(usize, usize, &str)> = Vec::new();
            for m in ms {
                if cues.last().is_none_or(|l| m.0 >= l.1) {
                    cues.push(m);
                }
            }
            let clauses: Vec<usize> = cues.iter().map(|(a, _, _)| toks[*a].clause).collect();
            let sentences: Vec<usize> = cues.iter().map(|(a, _, _)| toks[*a].sentence).collect();
            // The theme's own clauses; while they come to nothing, the theme-free clauses of
            // the same sentences, then of the whole comment, are added.
            let own = |h: &Hit| clauses.contains(&toks[h.a].clause);
            let near = |h: &Hit| {
                sentences.contains(&toks[h.a].sentence)
                    && !theme_clauses.contains(&toks[h.a].clause)
            };
            let far = |h: &Hit| !theme_clauses.contains(&toks[h.a].clause) && !near(h);
            let mut counted: Vec<&Hit> = Vec::new();
            for f in [&own as &dyn Fn(&Hit) -> bool, &near, &far] {
                counted.extend(hits.iter().filter(|h| f(h)));
                if counted.iter().map(|h| h.value).sum::<f64>().abs() > 1e-9 {
                    break;
                }
            }
            let score: f64 = counted.iter().map(|h| h.value).sum();
            themes.push(ThemeTag {
                theme: self.theme_names[*tag].clone(),
                sentiment: Sentiment::of(score),
                score,
                cues: cues.iter().map(|(a, b, why)| ev(*a, *b, why)).collect(),
                sentiment_words: counted
                    .iter()
                    .map(|h| ev(h.negator.unwrap_or(h.a).min(h.a), h.b, h.why))
                    .collect(),
            });
        }

        // Flags: a negated cue does not flag.
        let mut flags: BTreeMap<usize, Vec<Evidence>> = BTreeMap::new();
        for i in 0..toks.len() {
            for (n, _, tag) in self.flags.at(&toks, i) {
                if negated_at(i).is_none() {
                    flags.entry(tag).or_default().push(ev(i, i + n, "cue"));
                }
            }
        }
        let flags = flags
            .into_iter()
            .map(|(tag, cues)| FlagTag {
                kind: self.flag_names[tag].clone(),
                cues,
            })
            .collect();

        let total: f64 = hits.iter().map(|h| h.value).sum();
        Analysis {
            themes,
            flags,
            sentiment: (!hits.is_empty()).then(|| Sentiment::of(total)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phrase::mutations;

    fn c() -> Classifier {
        Classifier::builtin()
    }

    fn theme(text: &str, t: &str) -> Option<Sentiment> {
        c().classify(text).theme(t).map(|x| x.sentiment)
    }

    #[test]
    fn the_shipped_lists_compile() {
        let c = c();
        assert_eq!(c.theme_names().len(), 10);
        assert!(c.flag_names().contains(&"self-harm".to_string()));
    }

    #[test]
    fn negation_and_intensifiers() {
        assert_eq!(
            theme("The nurse was not rude.", "staff attitude"),
            Some(Sentiment::Positive)
        );
        assert_eq!(
            theme("The doctor wasn't helpful.", "staff attitude"),
            Some(Sentiment::Negative)
        );
        let a = c().classify("The nurse was very kind.");
        let t = a.theme("staff attitude").unwrap();
        assert_eq!(t.sentiment, Sentiment::Positive);
        assert!((t.score - 1.5).abs() < 1e-9, "{t:?}");
        assert_eq!(t.sentiment_words[0].text, "kind");
        // Welsh: "ddim yn gyfeillgar" (not friendly), with the mutation of "cyfeillgar".
        assert_eq!(
            theme("Doedd y staff ddim yn gyfeillgar.", "staff attitude"),
            Some(Sentiment::Negative)
        );
        assert_eq!(
            theme("Roedd y nyrsys yn garedig iawn.", "staff attitude"),
            Some(Sentiment::Positive)
        );
        let t = c().classify("Roedd y nyrsys yn garedig iawn.");
        assert!((t.themes[0].score - 1.5).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn themes_take_the_sentiment_of_their_own_clause() {
        let a = c().classify("The food was cold but the nurses were lovely.");
        assert_eq!(a.theme("food").unwrap().sentiment, Sentiment::Negative);
        assert_eq!(
            a.theme("staff attitude").unwrap().sentiment,
            Sentiment::Positive
        );
        let f = a.theme("food").unwrap();
        assert_eq!(f.cues[0].text, "food");
        assert_eq!(
            &"The food was cold but the nurses were lovely."[f.cues[0].start..f.cues[0].end],
            "food"
        );
    }

    #[test]
    fn flags_with_negation() {
        let kinds = |t: &str| -> Vec<String> {
            c().classify(t).flags.into_iter().map(|f| f.kind).collect()
        };
        assert_eq!(kinds("I want to make a formal complaint."), ["complaint"]);
        assert!(kinds("I have no complaints at all.").is_empty());
        assert!(kinds("Nothing to complain about.").is_empty());
        assert!(kinds("I was not harmed in any way.").is_empty());
        assert!(kinds("I keep thinking I will kill myself.").contains(&"self-harm".to_string()));
        assert!(kinds("Dwi eisiau cwyno.").contains(&"complaint".to_string()));
        assert!(kinds("Roedd y nyrs yn gweiddi arna i.").contains(&"abuse".to_string()));
    }

    #[test]
    fn redaction_tokens_are_not_words() {
        assert!(
            c().classify("Call me on [phone number] please")
                .themes
                .is_empty()
        );
    }

    #[test]
    fn welsh_mutations() {
        assert!(mutations("bwyd").contains(&"fwyd".to_string()));
        assert!(mutations("poen").contains(&"mhoen".to_string()));
        assert!(mutations("caredig").contains(&"garedig".to_string()));
        assert!(mutations("gwael").contains(&"wael".to_string()));
        assert_eq!(
            theme("Roedd y fwyd yn dda", "food"),
            Some(Sentiment::Positive)
        );
    }

    #[test]
    fn site_corrections_come_first() {
        let c = c();
        let text = "That gave me food for thought.";
        assert!(c.classify(text).theme("food").is_some());
        let rules = c.rules(&SiteRules {
            show: vec![("communication".into(), "food for thought".into())],
            ignore: vec![("food".into(), "food for thought".into())],
        });
        let a = c.classify_with(text, &rules);
        assert!(a.theme("food").is_none(), "{a:?}");
        assert_eq!(a.theme("communication").unwrap().cues[0].why, "staff cue");
    }

    #[test]
    fn bad_lists_are_refused_with_the_reason() {
        let t = |name: &str, en: &[&str]| ThemeDef {
            name: name.into(),
            en: en.iter().map(|s| s.to_string()).collect(),
            cy: vec![],
        };
        let e = Classifier::new(vec![t("a", &["x"]), t("a", &["y"])], vec![]).unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = Classifier::new(vec![t("a", &["wa*it"])], vec![]).unwrap_err();
        assert!(e.contains("'*'"), "{e}");
        let e = Classifier::new(vec![t("a", &["  "])], vec![]).unwrap_err();
        assert!(e.contains("empty"), "{e}");
        let e = Classifier::new(vec![t("b", &[])], vec![]).unwrap_err();
        assert!(e.contains("no cue"), "{e}");
    }
}
