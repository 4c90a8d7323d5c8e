//! Decision aids past their review date. IPDAS and NICE NG197 ask that an aid says when it is
//! next reviewed; once that date has passed, the evidence behind it may be out of date. The
//! widget shows the patient a plain note and the web team a console warning; the dashboard
//! tells staff here, on the overview and the decision-aid report, naming each aid and date.

use std::sync::OnceLock;

use chorus_core::{
    Scoring,
    aid::{About, Date},
};
use maud::{Markup, html};

use crate::state::AppState;

/// An aid whose review date has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdue {
    /// Instrument id.
    pub id: String,
    /// Its English title.
    pub title: String,
    /// The review date it gives (as written; an unreadable date counts as passed).
    pub next_review: String,
}

/// A shipped decision aid's id, English title and "about" (its review date), read from the
/// library once: the files are built in, so nothing here changes while the server runs.
struct LibraryAid {
    id: String,
    title: String,
    about: About,
}

fn library_aids() -> &'static [LibraryAid] {
    static AIDS: OnceLock<Vec<LibraryAid>> = OnceLock::new();
    AIDS.get_or_init(|| {
        chorus_core::library::SOURCES
            .iter()
            .filter_map(|(_, json)| chorus_core::aid::load(json).ok())
            .filter(|(i, _)| i.scoring == Scoring::DecisionAid)
            .map(|(i, aid)| LibraryAid {
                id: i.id,
                title: i.title.en,
                about: aid.about.unwrap_or_default(),
            })
            .collect()
    })
}

/// The aids this server serves that are past their review date on `today`.
pub fn overdue(app: &AppState, today: Date) -> Vec<Overdue> {
    overdue_among(
        library_aids()
            .iter()
            .filter(|a| app.instruments.contains_key(&a.id)),
        today,
    )
}

/// Those of `aids` past their review date on `today`.
fn overdue_among<'a>(aids: impl Iterator<Item = &'a LibraryAid>, today: Date) -> Vec<Overdue> {
    aids.filter(|a| a.about.past_review(today))
        .map(|a| Overdue {
            id: a.id.clone(),
            title: a.title.clone(),
            next_review: a.about.next_review.clone(),
        })
        .collect()
}

/// The warning for staff, or nothing when every aid is in date.
pub fn warning(overdue: &[Overdue]) -> Markup {
    html! {
        @if !overdue.is_empty() {
            div class="warning" id="aids-past-review" role="region" aria-labelledby="aids-past-review-title" {
                h2 id="aids-past-review-title" { "Decision aids past their review date" }
                p { "Check these aids against current evidence and guidance, then publish a reviewed version. Until then patients see a note that the aid is due for review." }
                ul {
                    @for o in overdue {
                        li { strong { (o.title) } " (" code { (o.id) } "): review was due " (o.next_review) }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overdue_in(today: Date) -> Vec<Overdue> {
        overdue_among(library_aids().iter(), today)
    }

    #[test]
    fn every_shipped_aid_is_in_date_now_and_listed_once_its_review_date_passes() {
        let day = |s| Date::parse(s).unwrap();
        assert_eq!(overdue_in(day("2026-12-02")), vec![]);
        let later = overdue_in(day("2030-01-01"));
        let ids: Vec<&str> = later.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["aid-blood-pressure", "aid-knee-pain", "aid-statins"]);
        // The review date itself is still in date; the day after is not.
        let knee = &later[1];
        let due = day(&knee.next_review);
        assert!(!overdue_in(due).iter().any(|o| o.id == "aid-knee-pain"));
        let html = warning(&later).into_string();
        assert!(
            html.contains("Decision aids past their review date"),
            "{html}"
        );
        assert!(html.contains(&format!("review was due {}", knee.next_review)));
        assert!(html.contains("Knee pain"), "{html}");
        assert_eq!(warning(&[]).into_string(), "");
    }
}
