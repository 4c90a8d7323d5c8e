//! What a decision aid carries beyond its questions, for the standards it is held to (IPDAS
//! minimum standards; NICE NG197 and its standards framework for shared decision making
//! support tools): outcome chances as natural frequencies, who wrote it and from what
//! evidence, when it is due for review, and what it is not.
//!
//! These parts sit in the same JSON file as the instrument (`about` at the top level,
//! `outcome` on items of kind `outcome`, `feature` on option-grid rows, `watchful_waiting` on
//! options) but are read here, by [`load`], rather than into [`Instrument`]'s structs: the
//! widget builds those structs itself from the browser's parsed JSON and must not pay for
//! parsing (or be broken by) parts it does not show yet. [`load`] checks the whole file: the
//! instrument's definition rules and these.
//!
//! [`framing`] turns a rate into words for both framings, in English and (a draft awaiting
//! review by a fluent speaker, like every Welsh text here) Welsh.

mod framing;
mod parse;

pub use framing::*;
pub use parse::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    instrument::{DefinitionCode, DefinitionProblem, Instrument, ItemKind, Problems},
    text::{Locale, Text},
};

/// An outcome of a decision aid with its chance under each option (IPDAS probabilities: a
/// defined reference class, event rates as natural frequencies over a stated time, the same
/// denominator and time frame across options). Authors give numbers; [`framing`] gives the
/// sentences, so no number is ever written into a text by hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Who the numbers are for (the reference class), e.g. "people aged 40 to 70 with raised
    /// blood pressure and no heart disease".
    pub population: Text,
    /// The event as a plural verb phrase: `en` "have a stroke", `cy` "yn cael strôc" (it
    /// follows "12 out of 100 people" / "Mae 12 o bob 100 o bobl").
    pub event: Text,
    /// Its opposite, for the other framing: `en` "do not have a stroke", `cy` "heb gael strôc".
    pub no_event: Text,
    /// The id of the reference in `about.references` the numbers come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// One rate per option of the aid.
    #[serde(default)]
    pub rates: Vec<Rate>,
}

/// An event rate: `events` out of `per` people over `over`, with an optional uncertainty
/// range `low` to `high`. Integers, so "12 out of 100" is exactly what the author wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// The option of the aid this rate is for.
    pub option: String,
    /// How many people have the event.
    pub events: u32,
    /// Out of how many people (one of [`DENOMINATORS`]).
    pub per: u32,
    /// Over how long.
    pub over: Span,
    /// Lowest plausible number of events (given with `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<u32>,
    /// Highest plausible number of events (given with `low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
}

/// A time frame, written `{"years": 10}`. Two spans are the same time frame only when written
/// the same way: `{"months": 12}` beside `{"years": 1}` is refused, because a reader compares
/// the words, not the arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// Days.
    Days(u32),
    /// Weeks.
    Weeks(u32),
    /// Months.
    Months(u32),
    /// Years.
    Years(u32),
}

impl Span {
    /// The number of units.
    pub fn amount(self) -> u32 {
        match self {
            Span::Days(n) | Span::Weeks(n) | Span::Months(n) | Span::Years(n) => n,
        }
    }
}

/// The denominators a rate may use: natural frequencies out of 10, 100 or 1000 people, the
/// sizes an icon array can show.
pub const DENOMINATORS: [u32; 3] = [10, 100, 1000];

/// The required information about an aid (IPDAS certification; NICE's standards framework):
/// shown in "About this aid" and in the printable summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct About {
    /// Who wrote it (people or organisations).
    #[serde(default)]
    pub authors: Vec<String>,
    /// Date of production, `YYYY-MM-DD`.
    #[serde(default)]
    pub produced: String,
    /// When it is next due for review, `YYYY-MM-DD` (after `produced`).
    #[serde(default)]
    pub next_review: String,
    /// How and when it is updated (optional; a lint asks for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_policy: Option<Text>,
    /// Who paid for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding: Option<Text>,
    /// The authors' conflicts of interest ("none" is an answer, saying nothing is not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Text>,
    /// What the aid is not, e.g. "It does not replace talking to your doctor".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_for: Option<Text>,
    /// The evidence it draws on.
    #[serde(default)]
    pub references: Vec<Reference>,
}

/// A citation, with a link or an identifier a reader can follow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Id outcomes cite it by.
    pub id: String,
    /// The citation as written (authors, title, publisher, year).
    pub citation: String,
    /// A link, `https://…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An identifier such as `doi:10.1136/bmj.…`, `PMID 12345678`, `ISBN …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

/// A calendar date (proleptic Gregorian), ordered. The core has no clock: callers pass today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

impl Date {
    /// Parse `YYYY-MM-DD`, refusing anything that is not a real date (2026-02-29 is refused).
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            s.get(r.clone())
                .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|t| t.parse().ok())
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1 && (1..=days).contains(&day)).then_some(Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        })
    }

    /// The date `days` days after 1970-01-01 (for a caller that has a Unix clock).
    pub fn from_unix_days(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

impl core::fmt::Display for Date {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl About {
    /// Is the aid past its review date on `today` (the review date itself is still in date)?
    /// An unreadable review date counts as past: nobody can say it is current.
    pub fn past_review(&self, today: Date) -> bool {
        Date::parse(&self.next_review).is_none_or(|d| today > d)
    }
}

/// What an option-grid row tells about the options: their good points or their bad ones
/// (IPDAS qualifying: positive and negative features of each option).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    /// Good points (benefits).
    Benefit,
    /// Bad points (downsides, risks, burdens).
    Downside,
}

/// A decision aid's parts beyond its questions (see the module docs), read by [`load`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aid {
    /// The required information about the aid.
    pub about: Option<About>,
    /// Outcomes by the id of their item.
    pub outcomes: BTreeMap<String, Outcome>,
    /// Option-grid rows marked as benefits or downsides: (grid item id, row id, feature).
    pub features: Vec<(String, String, Feature)>,
    /// Ids of options marked as doing nothing, watchful waiting or active monitoring.
    pub waiting_options: Vec<String>,
}

impl Aid {
    /// The outcome of the item with this id.
    pub fn outcome(&self, item: &str) -> Option<&Outcome> {
        self.outcomes.get(item)
    }

    /// The feature of a grid row, if marked.
    pub fn feature(&self, item: &str, row: &str) -> Option<Feature> {
        self.features
            .iter()
            .find(|(i, r, _)| i == item && r == row)
            .map(|f| f.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(en: &str, cy: &str) -> Text {
        Text {
            en: en.into(),
            cy: Some(cy.into()),
        }
    }

    #[test]
    fn a_rate_reads_in_both_framings_in_english_and_welsh() {
        let o = Outcome {
            population: t("people like you", "pobl fel chi"),
            event: t("have a stroke", "yn cael strôc"),
            no_event: t("do not have a stroke", "heb gael strôc"),
            source: None,
            rates: vec![],
        };
        let r = Rate {
            option: "tablets".into(),
            events: 12,
            per: 100,
            over: Span::Years(10),
            low: Some(9),
            high: Some(15),
        };
        let en = framing(&o, &r, Locale::En);
        assert_eq!(
            en.with_event,
            "Over 10 years, 12 out of 100 people have a stroke."
        );
        assert_eq!(
            en.without_event,
            "88 out of 100 people do not have a stroke."
        );
        assert_eq!(
            en.range.as_deref(),
            Some("The true number could be anywhere from 9 to 15 out of 100.")
        );
        let cy = framing(&o, &r, Locale::Cy);
        assert_eq!(
            cy.with_event,
            "Dros 10 o flynyddoedd, mae 12 o bob 100 o bobl yn cael strôc."
        );
        assert_eq!(cy.without_event, "Mae 88 o bob 100 o bobl heb gael strôc.");
        let one = Rate {
            over: Span::Years(1),
            low: None,
            high: None,
            ..r
        };
        assert_eq!(
            framing(&o, &one, Locale::Cy).with_event,
            "Dros 1 flwyddyn, mae 12 o bob 100 o bobl yn cael strôc."
        );
        assert_eq!(framing(&o, &one, Locale::En).range, None);
        assert_eq!(span_words(Span::Weeks(6), Locale::En), "6 weeks");
        assert_eq!(span_words(Span::Months(1), Locale::En), "1 month");
        assert_eq!(span_words(Span::Months(3), Locale::Cy), "3 o fisoedd");
    }

    #[test]
    fn dates_are_real_calendar_dates_and_review_is_past_only_after_the_day() {
        assert_eq!(
            Date::parse("2028-02-29").map(|d| d.to_string()).as_deref(),
            Some("2028-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-32",
            "2026/01/01",
            "2026-00-10",
            "+026-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(20_423).to_string(), "2025-12-01");
        assert_eq!(Date::from_unix_days(11_016).to_string(), "2000-02-29");
        let a = About {
            next_review: "2027-06-30".into(),
            ..About::default()
        };
        let day = |s| Date::parse(s).unwrap();
        assert!(!a.past_review(day("2027-06-30")));
        assert!(a.past_review(day("2027-07-01")));
        assert!(!a.past_review(day("2026-12-31")));
        assert!(About::default().past_review(day("2026-01-01")));
    }
}
