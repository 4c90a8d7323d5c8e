//! Instrument definitions: versioned JSON describing what a widget asks and how it is scored.
//!
//! The item model is deliberately flat (one `Item` struct with a `kind` and the fields each
//! kind uses) rather than an enum with per-variant payloads: it keeps serde's generated code,
//! and so the wasm bundle, small, and lets validation report *every* problem with a JSON path
//! instead of stopping at the first shape error.

mod validate;

pub use validate::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    score::FftCategory,
    text::{Locale, Text},
};

/// Which of the brief's scoring rules applies to an instrument's responses. Declared by the
/// instrument, not guessed from its items, so [`crate::score::score`] applies exactly one rule
/// and validation can check the items that rule needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Friends and Family Test: the item with role `fft` is categorised.
    Fft,
    /// I Statements: agreement items grouped by theme.
    IStatements,
    /// SURE test: four yes/no items.
    Sure,
    /// CollaboRATE: three 0–9 items.
    Collaborate,
    /// SDM-Q-9: nine 0–5 items.
    #[serde(rename = "sdm_q_9")]
    SdmQ9,
    /// A decision aid: knowledge check, values lean and its SURE items (role `sure`).
    DecisionAid,
    /// No score (a plain survey).
    None,
}

/// How an item is answered. The kinds are the question patterns of the brief (FFT, I
/// Statements, decision aids, shared-decision measures); each maps to one answer shape, so
/// validation and widgets need no per-instrument code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// One option (answer: the option id).
    SingleChoice,
    /// Any number of options (answer: a list of option ids).
    MultipleChoice,
    /// Strongly agree … strongly disagree, or "does not apply" (answer: one of
    /// [`AGREEMENT_ANSWERS`]).
    Agreement,
    /// A whole number from `min` to `max` (answer: a number).
    Scale,
    /// Yes or no (answer: `true`/`false`).
    YesNo,
    /// Free text up to `max_length` characters (answer: a string). Redacted before storage.
    FreeText,
    /// Options × questions, each cell plain text. Shown, not answered.
    OptionGrid,
    /// How much a consideration matters, 0–10, with the author's stance of each option
    /// towards it (answer: a number).
    Importance,
    /// A knowledge question with one right option and an explanation (answer: the option id).
    Knowledge,
    /// Plain information between questions. Shown, not answered.
    Info,
    /// An outcome's chance with each option, as natural frequencies (events per
    /// denominator over a time frame, see [`crate::aid::Outcome`]). Shown, not answered.
    Outcome,
}

impl ItemKind {
    /// Can a patient answer this kind of item? Grids and information are shown, not
    /// answered: an answer to one is an error, and one cannot be required.
    pub fn answerable(self) -> bool {
        !matches!(
            self,
            ItemKind::OptionGrid | ItemKind::Info | ItemKind::Outcome
        )
    }
}

/// Agreement answers in scale order, with their values (the brief: 4 … 0; "does not apply"
/// is not scored). One table shared by validation, scoring and widgets, so the ids a widget
/// sends are by construction the ids the scorer knows.
pub const AGREEMENT_ANSWERS: [(&str, Option<u8>); 6] = [
    ("strongly_agree", Some(4)),
    ("agree", Some(3)),
    ("neither", Some(2)),
    ("disagree", Some(1)),
    ("strongly_disagree", Some(0)),
    ("does_not_apply", None),
];

/// A complete instrument definition: data, not code, so trusts can choose, translate and
/// version forms without a release, and the browser and server read the same file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instrument {
    /// Stable id, e.g. `fft-ae`. Responses name it.
    pub id: String,
    /// Bumped on any change to items or options, so stored answers always meet the questions
    /// they answered.
    pub version: u32,
    /// Which scoring rule applies.
    pub scoring: Scoring,
    /// Title shown to patients and staff.
    pub title: Text,
    /// Introduction shown before the first question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Text>,
    /// Example content (decision aids written for demonstration): widgets must say
    /// "example content, not clinical advice".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub example: bool,
    /// Translation notes per locale tag, e.g. `{"cy": "awaiting review by a fluent Welsh speaker"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translation_status: BTreeMap<String, String>,
    /// Themes (I Statements) or sections (decision aids); one page each on long forms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    /// The options a decision aid compares (2–4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// The items, in order.
    pub items: Vec<Item>,
}

/// A theme or section grouping items: I Statement theme scores are computed per theme, and
/// long forms show one theme per page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// Id items refer to.
    pub id: String,
    /// Heading.
    pub title: Text,
}

/// An option of a choice or knowledge item, or an option a decision aid compares. Answers
/// store the stable `id`, never the label, so a reworded or translated label does not change
/// stored data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Stable id stored in answers.
    pub id: String,
    /// Label.
    pub text: Text,
    /// A symbol for the easy-read variant (an emoji or short pictogram name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
}

/// A row of an option grid: a question patients ask, answered for each option (the brief's
/// "options × the questions patients ask, each cell plain text").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridRow {
    /// Row id.
    pub id: String,
    /// The question.
    pub question: Text,
    /// One cell per instrument option, in the same order.
    pub cells: Vec<Text>,
}

/// One item. Which fields matter depends on `kind`; [`Instrument::validate`] checks them.
/// Flat rather than an enum per kind so serde's code (and so the wasm bundle) stays small
/// and validation can report every problem with a path instead of the parser's first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Stable id, the key of its answer.
    pub id: String,
    /// How it is answered.
    pub kind: ItemKind,
    /// The question, statement or information.
    pub text: Text,
    /// Hint under the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Text>,
    /// Theme or section id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Must be answered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// The item's part in scoring, where the instrument's rule needs one: `fft` (the FFT
    /// question) or `sure` (a SURE item inside a decision aid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Options (single/multiple choice, knowledge).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Lowest scale value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Highest scale value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Label for the low end of a scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<Text>,
    /// Label for the high end of a scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<Text>,
    /// Longest free text accepted, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Option grid rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<GridRow>,
    /// Importance items: the author's stance of each option (by id) towards this
    /// consideration: −1 against, 0 neutral, +1 for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stances: BTreeMap<String, i8>,
    /// Knowledge items: the right option's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Knowledge items: why that answer is right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Text>,
}

/// Most statements a theme may hold. Why a limit: aggregation keeps means exact with one
/// fixed common denominator ([`crate::aggregate::SCALE`]) that covers theme sizes up to this;
/// and a theme longer than a page is two themes.
pub const MAX_THEME_STATEMENTS: usize = 16;

/// Most themes an I Statement form may have, for the same reason as
/// [`MAX_THEME_STATEMENTS`]: the overall score is a mean of theme scores, and its denominator
/// must divide [`crate::aggregate::SCALE`].
pub const MAX_THEMES: usize = 16;

/// Item roles the scoring rules and widgets understand, with the kind each needs: `fft` marks
/// the FFT question (a single choice), `sure` marks a SURE item inside a decision aid (yes/no),
/// `questions` a decision aid's "questions I want to ask" box (free text, drawn on its summary,
/// sent only if the patient sends their answers, and redacted like any free text).
pub const ROLES: [(&str, ItemKind); 3] = [
    (FFT_ROLE, ItemKind::SingleChoice),
    ("sure", ItemKind::YesNo),
    ("questions", ItemKind::FreeText),
];

impl Instrument {
    /// Parse and validate. Returns every problem found, never panics: definitions come
    /// from trusts' files and the network, so bad input is expected, not exceptional.
    pub fn from_json(json: &str) -> Result<Instrument, Vec<DefinitionProblem>> {
        let instrument: Instrument = serde_json::from_str(json).map_err(|e| {
            vec![DefinitionProblem {
                // The root: serde stops at the first shape error, so there is no finer
                // path to give; the line and column are in the message.
                path: "$".into(),
                code: DefinitionCode::InvalidJson,
                message: e.to_string(),
            }]
        })?;
        let problems = instrument.validate();
        if problems.is_empty() {
            Ok(instrument)
        } else {
            Err(problems)
        }
    }

    /// The item with this id (responses address items by id, not position).
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Every text the instrument can show a patient, so a caller can ask whether all of them
    /// exist in a language before showing the instrument in it.
    pub fn texts(&self) -> Vec<&Text> {
        let mut v = vec![&self.title];
        v.extend(&self.intro);
        v.extend(self.themes.iter().map(|t| &t.title));
        v.extend(self.options.iter().map(|o| &o.text));
        for it in &self.items {
            v.push(&it.text);
            for t in [&it.hint, &it.min_label, &it.max_label, &it.explanation] {
                v.extend(t);
            }
            v.extend(it.options.iter().map(|o| &o.text));
            for r in &it.rows {
                v.push(&r.question);
                v.extend(&r.cells);
            }
        }
        v
    }

    /// The FFT question (the item with role [`FFT_ROLE`]): the one way to find it, for
    /// scoring, reports and the widget's page alike.
    pub fn fft_item(&self) -> Option<&Item> {
        self.items
            .iter()
            .find(|i| i.role.as_deref() == Some(FFT_ROLE))
    }
}

/// The six FFT answers in the mandated order, with the category each counts in: the one table
/// of FFT answers (validation, scoring, aggregation and the monthly return all read it). Fixed,
/// because the FFT is a national standard: every FFT variant must use these ids so results can
/// be compared and returned to NHS England.
pub const FFT_ANSWERS: [(&str, FftCategory); 6] = [
    ("very_good", FftCategory::Positive),
    ("good", FftCategory::Positive),
    ("neither", FftCategory::Neutral),
    ("poor", FftCategory::Negative),
    ("very_poor", FftCategory::Negative),
    ("dont_know", FftCategory::DontKnow),
];

/// The six FFT answer ids in the mandated order (the first column of [`FFT_ANSWERS`]).
pub const FFT_ANSWER_IDS: [&str; 6] = {
    let mut ids = [""; 6];
    let mut n = 0;
    while n < 6 {
        ids[n] = FFT_ANSWERS[n].0;
        n += 1;
    }
    ids
};

/// The role that marks an instrument's FFT question.
pub const FFT_ROLE: &str = "fft";

impl Item {
    /// The inclusive range of a scale (importance: always 0–10; default 0–10), in one place
    /// so validation and scoring cannot disagree about a missing bound.
    pub fn range(&self) -> (i64, i64) {
        (self.min.unwrap_or(0), self.max.unwrap_or(10))
    }
}

/// Does `s` give a percentage: a number followed by `%`, "per cent", "percent" or (Welsh)
/// "y cant"? A hand-written scan (no regex in the bundle); case-insensitive.
pub fn has_percentage(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b',') {
                i += 1;
            }
            let mut j = i;
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            let rest = &b[j..];
            if ["%", "per cent", "percent", "y cant"].iter().any(|w| {
                rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes())
            }) {
                return true;
            }
        } else {
            i += 1;
        }
    }
    false
}
