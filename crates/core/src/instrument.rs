//! Instrument definitions: versioned JSON describing what a widget asks and how it is scored.
//!
//! The item model is deliberately flat (one `Item` struct with a `kind` and the fields each
//! kind uses) rather than an enum with per-variant payloads: it keeps serde's generated code,
//! and so the wasm bundle, small, and lets validation report *every* problem with a JSON path
//! instead of stopping at the first shape error.

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

/// Stable codes of definition problems: tools translate or group by them, so they are part of
/// the API and never renamed (serialised in snake_case, e.g. `duplicate_id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefinitionCode {
    /// An option grid row has the wrong number of cells.
    CellCount,
    /// Two items, options or themes share an id.
    DuplicateId,
    /// The instrument has no items.
    EmptyItems,
    /// A choice item has no options.
    EmptyOptions,
    /// An option grid has no rows.
    EmptyRows,
    /// The definition is not JSON of the right shape (serde's reason in the message).
    InvalidJson,
    /// A date that is not a calendar date written `YYYY-MM-DD`, or a review date that is not
    /// after the date of production.
    InvalidDate,
    /// A free-text limit above 10,000 characters.
    InvalidMaxLength,
    /// A decision aid or option grid compares other than 2 to 4 options.
    InvalidOptionCount,
    /// A number range that is empty or not the one the scoring uses.
    InvalidRange,
    /// An event rate with a denominator other than 10, 100 or 1000, an empty time frame, or
    /// an uncertainty range that is half given or does not contain the rate.
    InvalidRate,
    /// An option's stance is not -1, 0 or 1.
    InvalidStance,
    /// Version 0 (versions start at 1).
    InvalidVersion,
    /// A knowledge question has no right answer.
    MissingAnswer,
    /// A knowledge question has no explanation.
    MissingExplanation,
    /// An item, option or theme has no id.
    MissingId,
    /// A reference cited with neither a link nor an identifier (DOI, PMID, ISBN).
    MissingLink,
    /// A free-text item without a `max_length` above 0.
    MissingMaxLength,
    /// An item of a themed instrument names no theme.
    MissingTheme,
    /// A decision aid without its required information (`about`: authors, dates, funding,
    /// conflicts, references, what the aid is not), or with a piece of it empty.
    MissingMetadata,
    /// An outcome without its rates, or an option of the aid without a rate for it.
    MissingRate,
    /// A shipped text lacks a locale (English and Welsh are required).
    MissingTranslation,
    /// The rates of one outcome use different denominators across options.
    MixedDenominators,
    /// The rates of one outcome use different time frames across options.
    MixedTimeFrames,
    /// Information or a grid marked required (they cannot be answered).
    NotAnswerable,
    /// A decision aid's text gives a percentage ("12%", "12 per cent"): chances are given as
    /// rates of an outcome item, shown as natural frequencies.
    PercentageInText,
    /// More events (or a higher uncertainty bound) than people in the denominator.
    RateAboveDenominator,
    /// An item's role needs another kind of item.
    RoleKindMismatch,
    /// The items do not fit the instrument's scoring rule.
    ScoringMismatch,
    /// A theme has more items than the scoring allows.
    ThemeTooLarge,
    /// More themes than the scoring allows.
    TooManyThemes,
    /// A reference to an option the item does not have.
    UnknownOption,
    /// An outcome names a source that is not one of the aid's references.
    UnknownReference,
    /// A role the core does not know.
    UnknownRole,
    /// An item names a theme the instrument does not define.
    UnknownTheme,
}

impl DefinitionCode {
    /// The code as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            DefinitionCode::CellCount => "cell_count",
            DefinitionCode::DuplicateId => "duplicate_id",
            DefinitionCode::EmptyItems => "empty_items",
            DefinitionCode::EmptyOptions => "empty_options",
            DefinitionCode::EmptyRows => "empty_rows",
            DefinitionCode::InvalidJson => "invalid_json",
            DefinitionCode::InvalidDate => "invalid_date",
            DefinitionCode::InvalidMaxLength => "invalid_max_length",
            DefinitionCode::InvalidOptionCount => "invalid_option_count",
            DefinitionCode::InvalidRange => "invalid_range",
            DefinitionCode::InvalidRate => "invalid_rate",
            DefinitionCode::InvalidStance => "invalid_stance",
            DefinitionCode::InvalidVersion => "invalid_version",
            DefinitionCode::MissingAnswer => "missing_answer",
            DefinitionCode::MissingExplanation => "missing_explanation",
            DefinitionCode::MissingId => "missing_id",
            DefinitionCode::MissingLink => "missing_link",
            DefinitionCode::MissingMetadata => "missing_metadata",
            DefinitionCode::MissingMaxLength => "missing_max_length",
            DefinitionCode::MissingTheme => "missing_theme",
            DefinitionCode::MissingRate => "missing_rate",
            DefinitionCode::MissingTranslation => "missing_translation",
            DefinitionCode::MixedDenominators => "mixed_denominators",
            DefinitionCode::MixedTimeFrames => "mixed_time_frames",
            DefinitionCode::NotAnswerable => "not_answerable",
            DefinitionCode::PercentageInText => "percentage_in_text",
            DefinitionCode::RateAboveDenominator => "rate_above_denominator",
            DefinitionCode::RoleKindMismatch => "role_kind_mismatch",
            DefinitionCode::ScoringMismatch => "scoring_mismatch",
            DefinitionCode::ThemeTooLarge => "theme_too_large",
            DefinitionCode::TooManyThemes => "too_many_themes",
            DefinitionCode::UnknownOption => "unknown_option",
            DefinitionCode::UnknownReference => "unknown_reference",
            DefinitionCode::UnknownRole => "unknown_role",
            DefinitionCode::UnknownTheme => "unknown_theme",
        }
    }
}

impl PartialEq<&str> for DefinitionCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl core::fmt::Display for DefinitionCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem in a definition, with where it is: authors fix all problems in one pass, and
/// a stable `code` lets tools translate or group them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionProblem {
    /// JSON path, e.g. `$.items[3].options`.
    pub path: String,
    /// Stable code, e.g. `duplicate_id`.
    pub code: DefinitionCode,
    /// A sentence for the author.
    pub message: String,
}

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

    /// Every problem in the definition (empty when valid). Separate from parsing so a
    /// definition built in code, or deserialised by a caller, can be checked too.
    pub fn validate(&self) -> Vec<DefinitionProblem> {
        let mut p = Problems(Vec::new(), self.scoring == Scoring::DecisionAid);
        if self.id.trim().is_empty() {
            p.add(
                "$.id",
                DefinitionCode::MissingId,
                "the instrument needs an id",
            );
        }
        if self.version == 0 {
            p.add(
                "$.version",
                DefinitionCode::InvalidVersion,
                "versions start at 1",
            );
        }
        p.text("$.title", &self.title);
        if let Some(t) = &self.intro {
            p.text("$.intro", t);
        }
        if self.items.is_empty() {
            p.add(
                "$.items",
                DefinitionCode::EmptyItems,
                "an instrument needs at least one item",
            );
        }
        let theme_ids = p.unique_ids("$.themes", self.themes.iter().map(|t| t.id.as_str()));
        for (i, t) in self.themes.iter().enumerate() {
            p.text(&format!("$.themes[{i}].title"), &t.title);
        }
        let option_ids = p.unique_ids("$.options", self.options.iter().map(|o| o.id.as_str()));
        for (i, o) in self.options.iter().enumerate() {
            p.text(&format!("$.options[{i}].text"), &o.text);
        }
        p.unique_ids("$.items", self.items.iter().map(|i| i.id.as_str()));
        for (n, item) in self.items.iter().enumerate() {
            self.validate_item(
                &mut p,
                &format!("$.items[{n}]"),
                item,
                &theme_ids,
                &option_ids,
            );
        }
        self.validate_scoring(&mut p);
        p.0
    }

    fn validate_item(
        &self,
        p: &mut Problems,
        at: &str,
        item: &Item,
        themes: &[&str],
        options: &[&str],
    ) {
        p.text(&format!("{at}.text"), &item.text);
        if let Some(h) = &item.hint {
            p.text(&format!("{at}.hint"), h);
        }
        if let Some(t) = &item.theme
            && !themes.contains(&t.as_str())
        {
            p.add(
                &format!("{at}.theme"),
                DefinitionCode::UnknownTheme,
                &format!("no theme has id \"{t}\""),
            );
        }
        if let Some(role) = &item.role {
            match ROLES.iter().find(|(r, _)| r == role) {
                None => p.add(
                    &format!("{at}.role"),
                    DefinitionCode::UnknownRole,
                    &format!(
                        "\"{role}\" is not a role; roles are \"fft\", \"sure\" and \"questions\""
                    ),
                ),
                Some((_, kind)) if *kind != item.kind => p.add(
                    &format!("{at}.role"),
                    DefinitionCode::RoleKindMismatch,
                    &format!("an item with role \"{role}\" must be of kind {kind:?}"),
                ),
                _ => {}
            }
        }
        if item.required && !item.kind.answerable() {
            p.add(
                &format!("{at}.required"),
                DefinitionCode::NotAnswerable,
                "information and grids cannot be required",
            );
        }
        match item.kind {
            ItemKind::SingleChoice | ItemKind::MultipleChoice | ItemKind::Knowledge => {
                if item.options.is_empty() {
                    p.add(
                        &format!("{at}.options"),
                        DefinitionCode::EmptyOptions,
                        "a choice needs options",
                    );
                }
                let ids = p.unique_ids(
                    &format!("{at}.options"),
                    item.options.iter().map(|o| o.id.as_str()),
                );
                for (i, o) in item.options.iter().enumerate() {
                    p.text(&format!("{at}.options[{i}].text"), &o.text);
                }
                if item.kind == ItemKind::Knowledge {
                    match &item.answer {
                        None => p.add(
                            &format!("{at}.answer"),
                            DefinitionCode::MissingAnswer,
                            "a knowledge question needs its right answer",
                        ),
                        Some(a) if !ids.contains(&a.as_str()) => p.add(
                            &format!("{at}.answer"),
                            DefinitionCode::UnknownOption,
                            &format!("the right answer \"{a}\" is not one of the options"),
                        ),
                        _ => {}
                    }
                    match &item.explanation {
                        None => p.add(
                            &format!("{at}.explanation"),
                            DefinitionCode::MissingExplanation,
                            "a knowledge question needs an explanation",
                        ),
                        Some(e) => p.text(&format!("{at}.explanation"), e),
                    }
                }
            }
            ItemKind::Scale | ItemKind::Importance => {
                let (min, max) = item.range();
                if min >= max {
                    p.add(
                        &format!("{at}.max"),
                        DefinitionCode::InvalidRange,
                        "max must be greater than min",
                    );
                }
                if item.kind == ItemKind::Importance {
                    if (min, max) != (0, 10) {
                        p.add(
                            &format!("{at}.min"),
                            DefinitionCode::InvalidRange,
                            "importance is always 0 to 10",
                        );
                    }
                    for (o, s) in &item.stances {
                        if !options.contains(&o.as_str()) {
                            p.add(
                                &format!("{at}.stances.{o}"),
                                DefinitionCode::UnknownOption,
                                &format!("no option has id \"{o}\""),
                            );
                        }
                        if !(-1..=1).contains(s) {
                            p.add(
                                &format!("{at}.stances.{o}"),
                                DefinitionCode::InvalidStance,
                                "a stance is -1, 0 or 1",
                            );
                        }
                    }
                }
                for (l, name) in [
                    (&item.min_label, "min_label"),
                    (&item.max_label, "max_label"),
                ] {
                    if let Some(l) = l {
                        p.text(&format!("{at}.{name}"), l);
                    }
                }
            }
            ItemKind::FreeText => match item.max_length {
                None | Some(0) => p.add(
                    &format!("{at}.max_length"),
                    DefinitionCode::MissingMaxLength,
                    "free text needs a max_length above 0",
                ),
                Some(n) if n > 10_000 => p.add(
                    &format!("{at}.max_length"),
                    DefinitionCode::InvalidMaxLength,
                    "free text is limited to 10000 characters",
                ),
                _ => {}
            },
            ItemKind::OptionGrid => {
                if self.options.len() < 2 || self.options.len() > 4 {
                    p.add(
                        "$.options",
                        DefinitionCode::InvalidOptionCount,
                        "an option grid compares 2 to 4 options",
                    );
                }
                if item.rows.is_empty() {
                    p.add(
                        &format!("{at}.rows"),
                        DefinitionCode::EmptyRows,
                        "an option grid needs questions",
                    );
                }
                p.unique_ids(
                    &format!("{at}.rows"),
                    item.rows.iter().map(|r| r.id.as_str()),
                );
                for (r, row) in item.rows.iter().enumerate() {
                    p.text(&format!("{at}.rows[{r}].question"), &row.question);
                    if row.cells.len() != self.options.len() {
                        p.add(
                            &format!("{at}.rows[{r}].cells"),
                            DefinitionCode::CellCount,
                            &format!(
                                "{} cells for {} options",
                                row.cells.len(),
                                self.options.len()
                            ),
                        );
                    }
                    for (c, cell) in row.cells.iter().enumerate() {
                        p.text(&format!("{at}.rows[{r}].cells[{c}]"), cell);
                    }
                }
            }
            // An outcome's rates are read and checked by `crate::aid` (the widget's walker
            // does not read them yet); here it needs the aid's options.
            ItemKind::Outcome => {
                if self.options.len() < 2 || self.options.len() > 4 {
                    p.add(
                        "$.options",
                        DefinitionCode::InvalidOptionCount,
                        "an outcome compares 2 to 4 options",
                    );
                }
            }
            ItemKind::Agreement | ItemKind::YesNo | ItemKind::Info => {}
        }
    }

    fn validate_scoring(&self, p: &mut Problems) {
        let count = |kind: ItemKind| self.items.iter().filter(|i| i.kind == kind).count();
        let expect = |p: &mut Problems, kind: ItemKind, n: usize, what: &str| {
            if count(kind) != n {
                p.add(
                    "$.items",
                    DefinitionCode::ScoringMismatch,
                    &format!(
                        "{what} needs exactly {n} {kind:?} items, found {}",
                        count(kind)
                    ),
                );
            }
        };
        match self.scoring {
            Scoring::Fft => {
                let fft: Vec<_> = self
                    .items
                    .iter()
                    .filter(|i| i.role.as_deref() == Some(FFT_ROLE))
                    .collect();
                if fft.len() != 1 {
                    p.add(
                        "$.items",
                        DefinitionCode::ScoringMismatch,
                        "an FFT instrument needs exactly one item with role \"fft\"",
                    );
                } else {
                    let ids: Vec<_> = fft[0].options.iter().map(|o| o.id.as_str()).collect();
                    if fft[0].kind != ItemKind::SingleChoice || ids != FFT_ANSWER_IDS {
                        p.add("$.items", DefinitionCode::ScoringMismatch, "the FFT item is a single choice with the six standard answers in order");
                    }
                }
            }
            Scoring::IStatements => {
                if count(ItemKind::Agreement) == 0 {
                    p.add(
                        "$.items",
                        DefinitionCode::ScoringMismatch,
                        "an I Statement form needs agreement items",
                    );
                }
                for (n, i) in self.items.iter().enumerate() {
                    if i.kind == ItemKind::Agreement && i.theme.is_none() {
                        p.add(
                            &format!("$.items[{n}].theme"),
                            DefinitionCode::MissingTheme,
                            "each statement belongs to a theme",
                        );
                    }
                }
                if self.themes.len() > MAX_THEMES {
                    p.add(
                        "$.themes",
                        DefinitionCode::TooManyThemes,
                        &format!(
                            "{} themes; an I Statement form has at most {MAX_THEMES}",
                            self.themes.len()
                        ),
                    );
                }
                for t in &self.themes {
                    let n = self
                        .items
                        .iter()
                        .filter(|i| {
                            i.kind == ItemKind::Agreement && i.theme.as_deref() == Some(&t.id)
                        })
                        .count();
                    if n > MAX_THEME_STATEMENTS {
                        p.add(
                            "$.themes",
                            DefinitionCode::ThemeTooLarge,
                            &format!(
                                "theme \"{}\" has {n} statements; at most {MAX_THEME_STATEMENTS}",
                                t.id
                            ),
                        );
                    }
                }
            }
            Scoring::Sure => expect(p, ItemKind::YesNo, 4, "SURE"),
            Scoring::Collaborate => {
                expect(p, ItemKind::Scale, 3, "CollaboRATE");
                self.expect_ranges(p, 0, 9);
            }
            Scoring::SdmQ9 => {
                expect(p, ItemKind::Scale, 9, "SDM-Q-9");
                self.expect_ranges(p, 0, 5);
            }
            Scoring::DecisionAid => {
                if self.options.len() < 2 || self.options.len() > 4 {
                    p.add(
                        "$.options",
                        DefinitionCode::InvalidOptionCount,
                        "a decision aid compares 2 to 4 options",
                    );
                }
                let sure = self
                    .items
                    .iter()
                    .filter(|i| i.role.as_deref() == Some("sure"))
                    .count();
                if sure != 0 && sure != 4 {
                    p.add(
                        "$.items",
                        DefinitionCode::ScoringMismatch,
                        "a decision aid has no SURE items or exactly 4 (role \"sure\")",
                    );
                }
            }
            Scoring::None => {}
        }
    }

    fn expect_ranges(&self, p: &mut Problems, min: i64, max: i64) {
        for (n, i) in self.items.iter().enumerate() {
            if i.kind == ItemKind::Scale && i.range() != (min, max) {
                p.add(
                    &format!("$.items[{n}]"),
                    DefinitionCode::InvalidRange,
                    &format!("this instrument's items run from {min} to {max}"),
                );
            }
        }
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

/// Collects problems; small helpers keep the checks above readable.
pub(crate) struct Problems(pub(crate) Vec<DefinitionProblem>, pub(crate) bool);

impl Problems {
    pub(crate) fn add(&mut self, path: &str, code: DefinitionCode, message: &str) {
        self.0.push(DefinitionProblem {
            path: path.into(),
            code,
            message: message.into(),
        });
    }

    /// Every shipped text needs English and Welsh; a decision aid's texts give no
    /// percentages (its chances are outcome rates).
    pub(crate) fn text(&mut self, path: &str, t: &Text) {
        for l in Locale::ALL {
            if !t.has(l) {
                self.add(
                    &format!("{path}.{}", l.tag()),
                    DefinitionCode::MissingTranslation,
                    &format!("no {} text", l.tag()),
                );
            } else if self.1 && has_percentage(t.get(l)) {
                self.add(
                    &format!("{path}.{}", l.tag()),
                    DefinitionCode::PercentageInText,
                    "a percentage written as text: give the chance as a rate of an outcome item (events out of 10, 100 or 1000 over a time frame), which is shown in words for both framings",
                );
            }
        }
    }

    fn unique_ids<'a>(&mut self, path: &str, ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
        // A list, not a set: a few dozen ids at most, and a set type is kilobytes of bundle.
        let mut seen = Vec::new();
        for (i, id) in ids.enumerate() {
            if id.trim().is_empty() {
                self.add(
                    &format!("{path}[{i}].id"),
                    DefinitionCode::MissingId,
                    "every entry needs an id",
                );
            } else if seen.contains(&id) {
                self.add(
                    &format!("{path}[{i}].id"),
                    DefinitionCode::DuplicateId,
                    &format!("\"{id}\" is used twice"),
                );
            } else {
                seen.push(id);
            }
        }
        seen
    }
}
