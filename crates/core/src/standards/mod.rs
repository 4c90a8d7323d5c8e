//! The standards a decision aid is held to, as lints and a self-assessment (feature
//! `authoring`; `chorus check` prints them). The criteria are those of the IPDAS minimum
//! standards (qualifying, certification, and the probability criteria for aids that give
//! outcome chances) and of NICE NG197 (shared decision making) with its standards framework
//! for shared decision making support tools, named in words here ([`CRITERIA`]).
//!
//! A lint is a warning with the criterion it serves; definition problems
//! ([`crate::aid::load`]) are errors and come first. Some criteria a program can check (an
//! option for watchful waiting is marked, each rate has a range); others only a person can
//! judge (whether the aid describes what the outcomes feel like): the self-assessment says
//! which is which, so a clinical safety officer signs off exactly the rest.
//!
//! The "equal detail" and reading-age checks are heuristics (see [`UNEQUAL_RATIO`] and
//! [`crate::readability`]): they point an author at a place to look, they do not prove the
//! criterion met, and the self-assessment says so.

mod assess;
mod lint;

pub use assess::*;
pub use lint::*;

use serde::Serialize;

use crate::{
    Instrument, ItemKind, Locale, Scoring, Text,
    aid::{Aid, Date, Feature, framing},
    instrument::DefinitionProblem,
    readability::{self, TARGET_GRADE},
};

/// Which standard a criterion is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    /// IPDAS minimum standards: qualifying criteria (what makes it a decision aid at all).
    IpdasQualifying,
    /// IPDAS minimum standards: certification criteria.
    IpdasCertification,
    /// IPDAS minimum standards: criteria for aids that give outcome probabilities.
    IpdasProbabilities,
    /// NICE NG197 and its standards framework for shared decision making support tools.
    NiceNg197,
}

impl Standard {
    /// Its name in words.
    pub fn name(self) -> &'static str {
        match self {
            Standard::IpdasQualifying => "IPDAS qualifying",
            Standard::IpdasCertification => "IPDAS certification",
            Standard::IpdasProbabilities => "IPDAS probabilities",
            Standard::NiceNg197 => "NICE NG197",
        }
    }
}

/// One criterion: a stable id, its standard, what it asks, and whether Chorus checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// Stable id, e.g. `ipdas-q-options`.
    pub id: &'static str,
    /// Its standard.
    pub standard: Standard,
    /// What it asks, in words.
    pub name: &'static str,
    /// `true`: the lints decide it; `false`: a person signs it off (see `check`).
    pub automatic: bool,
    /// How Chorus checks it, or what the person checks.
    pub check: &'static str,
}

const fn c(
    id: &'static str,
    standard: Standard,
    name: &'static str,
    automatic: bool,
    check: &'static str,
) -> Criterion {
    Criterion {
        id,
        standard,
        name,
        automatic,
        check,
    }
}

use Standard::{
    IpdasCertification as Cert, IpdasProbabilities as Prob, IpdasQualifying as Qual,
    NiceNg197 as Nice,
};

/// Every criterion, in the order the self-assessment lists them.
pub const CRITERIA: [Criterion; 19] = [
    c(
        "ipdas-q-condition",
        Qual,
        "Describes the health condition or problem",
        false,
        "Read the introduction: does it say what the condition is, in plain words?",
    ),
    c(
        "ipdas-q-decision",
        Qual,
        "States the decision to be made",
        false,
        "Read the title and introduction: is the decision named?",
    ),
    c(
        "ipdas-q-options",
        Qual,
        "Lists the options, including doing nothing or watchful waiting",
        true,
        "An option is marked `watchful_waiting` (doing nothing, waiting or active monitoring).",
    ),
    c(
        "ipdas-q-benefits",
        Qual,
        "Gives the positive features of each option",
        true,
        "The option grid has a row marked `\"feature\": \"benefit\"`.",
    ),
    c(
        "ipdas-q-downsides",
        Qual,
        "Gives the negative features of each option",
        true,
        "The option grid has a row marked `\"feature\": \"downside\"`.",
    ),
    c(
        "ipdas-q-experience",
        Qual,
        "Describes what it is like to experience the outcomes",
        false,
        "Read the grid and outcomes: do they say what living with each outcome is like (physical, emotional, social)?",
    ),
    c(
        "ipdas-c-equal-detail",
        Cert,
        "Shows positive and negative features with equal detail",
        true,
        "Benefits and downsides have about the same number of points and words for every option (a heuristic: also read them side by side).",
    ),
    c(
        "ipdas-c-citations",
        Cert,
        "Cites the evidence",
        true,
        "Every reference has a link or identifier, and every outcome names its source.",
    ),
    c(
        "ipdas-c-date",
        Cert,
        "Gives the date it was produced",
        true,
        "`about.produced` is a date.",
    ),
    c(
        "ipdas-c-update",
        Cert,
        "Describes its update policy",
        true,
        "`about.update_policy` is written and the review date has not passed.",
    ),
    c(
        "ipdas-c-uncertainty",
        Cert,
        "Describes the uncertainty around the outcome probabilities",
        true,
        "Every rate has a range (`low`, `high`).",
    ),
    c(
        "ipdas-c-funding",
        Cert,
        "States its funding and any conflicts of interest",
        true,
        "`about.funding` and `about.conflicts` are written.",
    ),
    c(
        "ipdas-p-reference-class",
        Prob,
        "Says which group of people the numbers are for",
        true,
        "Every outcome names its population.",
    ),
    c(
        "ipdas-p-event-rates",
        Prob,
        "Gives event rates as natural frequencies over a stated time",
        true,
        "Chances are outcome rates out of 10, 100 or 1000 over a time frame; no percentage, relative risk or frequency is written in the text.",
    ),
    c(
        "ipdas-p-same-scale",
        Prob,
        "Compares options with the same denominator and time frame",
        true,
        "The definition refuses an outcome whose options use different denominators or time frames.",
    ),
    c(
        "ipdas-p-framing",
        Prob,
        "Frames chances both ways (the event, and no event)",
        true,
        "Chorus writes both framings for every rate (\"12 out of 100 people have …; 88 out of 100 people do not\").",
    ),
    c(
        "ipdas-p-views",
        Prob,
        "Shows the numbers in more than one way (words and an icon array)",
        false,
        "Look at the aid as a patient sees it: is each rate shown in words and as an icon array?",
    ),
    c(
        "nice-plain-language",
        Nice,
        "Uses plain language (reading age about 9 to 11, grade 8 or below)",
        true,
        "No English sentence of five or more words has a Flesch–Kincaid grade above 8 (Welsh: a fluent reader checks).",
    ),
    c(
        "nice-in-date",
        Nice,
        "Is in date, and says what it is not",
        true,
        "The review date has not passed and `about.not_for` is written.",
    ),
];

/// The criterion with this id.
pub fn criterion(id: &str) -> Option<&'static Criterion> {
    CRITERIA.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_ids_are_unique_and_each_lint_names_one() {
        for (n, c) in CRITERIA.iter().enumerate() {
            assert!(CRITERIA[..n].iter().all(|d| d.id != c.id), "{}", c.id);
        }
        assert!(CRITERIA.iter().any(|c| !c.automatic));
    }

    #[test]
    fn chances_in_words_are_found() {
        for (t, found) in [
            ("About ten per cent of people", Some("per cent")),
            (
                "Tablets make a stroke twice as likely",
                Some("twice as likely"),
            ),
            ("It affects 1 in 5 people", Some("1 in 5")),
            ("3 out of 10 people feel better", Some("3 out of 10")),
            ("Take 2 tablets in 3 days", None),
            ("Most people feel better in 2 weeks", None),
            ("You can stop at any time", None),
        ] {
            assert_eq!(chance_in_words(t).as_deref(), found, "{t}");
        }
    }
}
