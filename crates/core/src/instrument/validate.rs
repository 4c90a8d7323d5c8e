//! Validation of an instrument definition: the problem codes, the checks, and the collector
//! they report to.

use super::*;

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
