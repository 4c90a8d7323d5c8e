//! The instruments Chorus ships, as JSON files in `crates/core/instruments/`.
//!
//! They are data, not code, so trusts can read, diff and copy them; they are embedded here so
//! the server needs no files at run time. Every one is validated by the tests below.

use crate::instrument::Instrument;

/// The optional equality-monitoring questions ("About you"): asked with another
/// questionnaire and sent beside its response (`about`), never as a response of its own.
pub const ABOUT_YOU: &str = "about-you";

/// (id, JSON) of every built-in instrument, as text: the server serves them as they are and
/// hashes them for ETags without re-serialising.
pub const SOURCES: &[(&str, &str)] = &[
    ("about-you", include_str!("../instruments/about-you.json")),
    (
        "aid-blood-pressure",
        include_str!("../instruments/aid-blood-pressure.json"),
    ),
    (
        "aid-knee-pain",
        include_str!("../instruments/aid-knee-pain.json"),
    ),
    (
        "aid-statins",
        include_str!("../instruments/aid-statins.json"),
    ),
    (
        "collaborate",
        include_str!("../instruments/collaborate.json"),
    ),
    ("fft", crate::FFT_JSON),
    ("fft-ae", include_str!("../instruments/fft-ae.json")),
    (
        "fft-community",
        include_str!("../instruments/fft-community.json"),
    ),
    (
        "fft-easy-read",
        include_str!("../instruments/fft-easy-read.json"),
    ),
    ("fft-gp", include_str!("../instruments/fft-gp.json")),
    (
        "fft-inpatient",
        include_str!("../instruments/fft-inpatient.json"),
    ),
    (
        "fft-maternity",
        include_str!("../instruments/fft-maternity.json"),
    ),
    (
        "fft-mental-health",
        include_str!("../instruments/fft-mental-health.json"),
    ),
    (
        "fft-outpatient",
        include_str!("../instruments/fft-outpatient.json"),
    ),
    (
        "i-statements",
        include_str!("../instruments/i-statements.json"),
    ),
    ("sdm-q-9", include_str!("../instruments/sdm-q-9.json")),
    ("sure", include_str!("../instruments/sure.json")),
];

/// (id, JSON) of earlier versions of built-in instruments, still accepted and scored: a
/// response a patient began (or queued offline) on the old version before an upgrade is
/// stored and scored by the version it was written for, and the upgrade test rescores stored
/// rows with them. Reports count each version under its own rollup key. A version here is
/// never served to new patients: `SOURCES` holds the current one.
pub const EARLIER: &[(&str, &str)] = &[(
    "aid-knee-pain",
    include_str!("../instruments/earlier/aid-knee-pain-v1.json"),
)];

/// Every built-in instrument. The tests prove each parses and validates, so a failure here is
/// a build defect, not user input: such entries are skipped rather than panicking.
pub fn all() -> Vec<Instrument> {
    SOURCES
        .iter()
        .filter_map(|(_, json)| Instrument::from_json(json).ok())
        .collect()
}

/// The built-in instrument with this id, parsed and validated on each call (cheap, and it
/// keeps no global state, which the core avoids so it runs anywhere).
pub fn get(id: &str) -> Option<Instrument> {
    SOURCES
        .iter()
        .find(|(i, _)| *i == id)
        .and_then(|(_, json)| Instrument::from_json(json).ok())
}

/// Every earlier version of the built-in instruments (see [`EARLIER`]).
pub fn earlier() -> Vec<Instrument> {
    EARLIER
        .iter()
        .filter_map(|(_, json)| Instrument::from_json(json).ok())
        .collect()
}

/// Every version of the built-in instrument with this id, the current one first (empty for an
/// unknown id).
pub fn versions(id: &str) -> Vec<Instrument> {
    get(id)
        .into_iter()
        .chain(earlier().into_iter().filter(|i| i.id == id))
        .collect()
}

/// The built-in instrument with this id at this version: the current one, or an earlier one
/// still accepted (see [`EARLIER`]).
pub fn get_version(id: &str, version: u32) -> Option<Instrument> {
    get(id).filter(|i| i.version == version).or_else(|| {
        earlier()
            .into_iter()
            .find(|i| i.id == id && i.version == version)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_instrument_is_valid_and_named_after_its_file() {
        for (id, json) in SOURCES {
            let i = Instrument::from_json(json).unwrap_or_else(|p| panic!("{id}: {p:#?}"));
            assert_eq!(&i.id, id);
            // The whole file, aid parts included (a decision aid must have `about`).
            crate::aid::load(json).unwrap_or_else(|p| panic!("{id}: {p:#?}"));
        }
        assert_eq!(all().len(), SOURCES.len());
    }

    #[test]
    fn every_earlier_version_is_valid_and_older_than_the_current_one() {
        for (id, json) in EARLIER {
            let i = Instrument::from_json(json).unwrap_or_else(|p| panic!("{id}: {p:#?}"));
            assert_eq!(&i.id, id);
            crate::aid::load(json).unwrap_or_else(|p| panic!("{id}: {p:#?}"));
            let current = get(id).unwrap_or_else(|| panic!("{id}: no current version"));
            assert!(i.version < current.version, "{id} v{}", i.version);
            assert_eq!(get_version(id, i.version).as_ref(), Some(&i));
            assert_eq!(get_version(id, current.version), Some(current));
        }
        assert_eq!(earlier().len(), EARLIER.len());
        assert_eq!(get_version("aid-knee-pain", 99), None);
    }

    #[test]
    fn every_decision_aid_says_who_wrote_it_and_is_in_date_when_produced() {
        let mut aids = 0;
        for (id, json) in SOURCES {
            let (i, aid) = crate::aid::load(json).unwrap();
            if i.scoring != crate::Scoring::DecisionAid {
                continue;
            }
            aids += 1;
            let about = aid.about.unwrap_or_else(|| panic!("{id}: no about"));
            let produced = crate::aid::Date::parse(&about.produced).unwrap();
            assert!(!about.past_review(produced), "{id}");
            assert!(
                about
                    .references
                    .iter()
                    .all(|r| r.url.is_some() || r.identifier.is_some())
            );
        }
        assert!(aids >= 2);
    }

    #[test]
    fn i_statement_form_has_enough_statements_and_themes() {
        let i = get("i-statements").unwrap();
        let statements = i
            .items
            .iter()
            .filter(|i| i.kind == crate::ItemKind::Agreement)
            .count();
        assert!(
            statements >= 24 && i.themes.len() >= 6,
            "{statements} statements, {} themes",
            i.themes.len()
        );
    }

    #[test]
    fn welsh_is_flagged_as_awaiting_review() {
        for i in all() {
            let status = i.translation_status.get("cy").map(String::as_str);
            assert!(
                status.is_some_and(|s| s.contains("awaiting review")),
                "{}: {status:?}",
                i.id
            );
        }
    }

    #[test]
    fn every_fft_variant_asks_the_mandated_question_and_a_follow_up() {
        let ffts: Vec<_> = all()
            .into_iter()
            .filter(|i| i.scoring == crate::Scoring::Fft)
            .collect();
        assert!(ffts.len() >= 9, "the FFT, seven settings and easy read");
        for i in ffts {
            let q = i.fft_item();
            assert_eq!(
                q.map(|q| q.text.en.as_str()),
                Some(crate::FFT_QUESTION_EN),
                "{}",
                i.id
            );
            assert!(q.is_some_and(|q| q.required), "{}", i.id);
            assert!(
                i.items.iter().any(|x| x.kind == crate::ItemKind::FreeText),
                "{}",
                i.id
            );
        }
        let easy = get("fft-easy-read").unwrap();
        assert!(easy.items[0].options.iter().all(|o| o.symbol.is_some()));
    }

    #[test]
    fn the_fft_question_status_agrees_with_each_fft_definition() {
        use crate::{Locale, TranslationStatus, fft_question_status};
        assert_eq!(fft_question_status(Locale::En), TranslationStatus::Approved);
        assert_eq!(TranslationStatus::Approved.as_str(), "approved");
        assert_eq!(TranslationStatus::Draft.as_str(), "draft");
        for l in [Locale::Ar, Locale::Pl, Locale::Ur, Locale::Ro] {
            assert_eq!(fft_question_status(l), TranslationStatus::Draft, "{l:?}");
        }
        // Welsh is approved only when no FFT definition says its Welsh awaits review (and then
        // every one must say who approved it).
        for i in all()
            .into_iter()
            .filter(|i| i.scoring == crate::Scoring::Fft)
        {
            let cy = i.translation_status.get("cy").map(String::as_str);
            let draft = cy.is_none_or(|s| s.contains("awaiting review"));
            assert_eq!(
                fft_question_status(Locale::Cy) == TranslationStatus::Draft,
                draft,
                "{}: {cy:?}",
                i.id
            );
            assert!(
                i.fft_item().is_some_and(|q| q.text.has(Locale::Cy)),
                "{}",
                i.id
            );
        }
    }

    #[test]
    fn decision_aids_are_marked_as_examples() {
        let aids: Vec<_> = all()
            .into_iter()
            .filter(|i| i.scoring == crate::Scoring::DecisionAid)
            .collect();
        assert!(aids.len() >= 2);
        for a in aids {
            assert!(a.example, "{}", a.id);
            assert!(a.items.iter().any(|i| {
                i.text
                    .en
                    .starts_with("Example content, not clinical advice")
            }));
        }
    }
}
