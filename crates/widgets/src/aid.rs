//! The decision aid's summary page: what matters to the patient, the option their answers lean
//! towards (computed by the core, the same number the server would compute), what they got
//! right in the knowledge check and why the rest matter, and how sure they feel (SURE).
//!
//! The summary is built once as plain sections and then drawn twice: as HTML on the page (and
//! so in print, through the print stylesheet) and as the text file the patient can save.
//!
//! Here too: outcomes as natural frequencies (the core's sentences in both framings, with an
//! icon array beside them that assistive technology skips, since the words say it all), and
//! "About this aid" (who wrote it, when, from what evidence, and when it is due for review).

use std::fmt::Write as _;

use chorus_core::{
    Answer, Instrument, Item, ItemKind, Response, ScoreReport,
    aid::{About, Date, Framing, Outcome, Rate, framing},
};
use yew::prelude::*;

use crate::{
    i18n::{Locale, Say},
    model::Aid,
    strings::t,
};

/// A titled part of the summary: a lead paragraph and a list.
pub struct Section {
    /// Heading.
    pub title: &'static str,
    /// The main sentence.
    pub lead: String,
    /// Details, one per line.
    pub points: Vec<String>,
    /// A closing remark (how the figure was made).
    pub note: Option<&'static str>,
}

fn option_text(i: &Instrument, id: &str, l: Locale) -> String {
    i.options
        .iter()
        .find(|o| o.id == id)
        .map(|o| o.text.say(l).to_string())
        .unwrap_or_else(|| id.to_string())
}

/// The summary's sections for a scored response.
pub fn sections(i: &Instrument, rep: &ScoreReport, r: &Response, l: Locale) -> Vec<Section> {
    let mut out = Vec::new();
    let rated: Vec<String> = i
        .items
        .iter()
        .filter(|it| it.kind == ItemKind::Importance)
        .filter_map(|it| match r.answers.get(&it.id) {
            Some(Answer::Number(n)) => Some(format!(
                "{}: {n} {} {}",
                it.text.say(l),
                t!(l, out_of),
                it.range().1
            )),
            _ => None,
        })
        .collect();
    if let Some(lean) = &rep.lean {
        let lead = match &lean.towards {
            Some(o) => format!(
                "{} {}.",
                t!(l, your_answers_lean_towards),
                option_text(i, o, l)
            ),
            None if rated.is_empty() => t!(l, you_have_not_said_how).into(),
            None => t!(l, your_answers_do_not_lean).into(),
        };
        let points = rated;
        let note = Some(t!(l, this_is_worked_out_from));
        out.push(Section {
            title: t!(l, what_matters_to_you),
            lead,
            points,
            note,
        });
    }
    if let Some(k) = &rep.knowledge
        && k.questions > 0
    {
        let points = k
            .wrong
            .iter()
            .filter_map(|id| i.item(id))
            .map(|it| {
                let right = it
                    .answer
                    .as_deref()
                    .and_then(|a| it.options.iter().find(|o| o.id == a))
                    .map(|o| o.text.say(l))
                    .unwrap_or_default();
                format!(
                    "{} {} {right}. {}",
                    it.text.say(l),
                    t!(l, the_answer_is),
                    it.explanation.as_ref().map(|e| e.say(l)).unwrap_or("")
                )
                .trim_end()
                .to_string()
            })
            .collect();
        out.push(Section {
            title: t!(l, what_you_know),
            lead: format!(
                "{} {} {} {} {}.",
                t!(l, you_answered),
                k.correct,
                t!(l, of),
                k.questions,
                t!(l, questions_correctly)
            ),
            points,
            note: None,
        });
    }
    if let Some(s) = &rep.sure {
        out.push(Section {
            title: t!(l, how_sure_you_feel),
            lead: match s.total {
                Some(4) => t!(l, you_answered_yes_to_all),
                Some(_) => t!(l, you_answered_no_to_at),
                None => t!(l, you_have_not_answered_all),
            }
            .into(),
            points: Vec::new(),
            note: None,
        });
    }
    out
}

/// The summary on the page; its heading takes focus when the page opens.
#[allow(clippy::too_many_arguments)]
pub fn summary(
    i: &Instrument,
    aid: &Aid,
    rep: &ScoreReport,
    r: &Response,
    l: Locale,
    heading: &NodeRef,
    past: bool,
    questions: Html,
) -> Html {
    html! {
        <div part="summary">
            <h2 class="chorus-heading" tabindex="-1" ref={heading.clone()}>
                <span class="chorus-caption">{ i.title.say(l) }</span>
                { t!(l, your_summary) }
            </h2>
            if i.example {
                <p class="chorus-inset">{ t!(l, example_content_not_clinical_advice) }</p>
            }
            { for sections(i, rep, r, l).into_iter().map(|s| html! { <>
                <h3 class="chorus-subheading">{ s.title }</h3>
                <p class="chorus-body" part="summary-lead">{ s.lead }</p>
                if !s.points.is_empty() {
                    <ul class="chorus-list">{ for s.points.into_iter().map(|p| html! { <li>{ p }</li> }) }</ul>
                }
                if let Some(n) = s.note {
                    <p class="chorus-hint">{ n }</p>
                }
            </> }) }
            { for i.items.iter().map(|it| outcome_view(i, aid, it, l)) }
            { questions }
            if let Some(a) = &aid.about {
                <section part="about-aid">
                    <h3 class="chorus-subheading">{ t!(l, about_this_aid) }</h3>
                    { about_view(a, l, past) }
                </section>
            }
        </div>
    }
}

/// The same summary as plain text, for the saved file.
pub fn summary_text(
    i: &Instrument,
    aid: &Aid,
    rep: &ScoreReport,
    r: &Response,
    l: Locale,
    past: bool,
    questions: &str,
) -> String {
    let mut o = format!("{}\n{}\n", i.title.say(l), t!(l, your_summary));
    if i.example {
        o.push_str(t!(l, example_content_not_clinical_advice_2));
    }
    for s in sections(i, rep, r, l) {
        o.push_str(&format!("\n{}\n{}\n", s.title, s.lead));
        for p in s.points {
            o.push_str(&format!("- {p}\n"));
        }
        if let Some(n) = s.note {
            o.push_str(&format!("{n}\n"));
        }
    }
    if !aid.outcomes.is_empty() {
        let _ = write!(o, "\n{}\n", t!(l, your_chances));
        outcomes_text(i, aid, l, &mut o);
    }
    if !questions.trim().is_empty() {
        let _ = write!(o, "\n{}\n{questions}\n", t!(l, questions_i_want_to_ask));
    }
    if let Some(a) = &aid.about {
        about_text(a, l, past, &mut o);
    }
    o
}

/// The answers key of the "questions I want to ask" box when the aid has no item for it (role
/// `questions`): kept with the draft on this device, and never sent (see
/// [`crate::survey`]'s `response`).
pub const LOCAL_QUESTIONS: &str = "_questions";

/// The aid's own free-text item for the patient's questions (role `questions`), if it has one:
/// then what the patient writes is that item's answer, sent (and redacted by the collector
/// like every free text) only if they send their answers.
pub fn questions_item(i: &Instrument) -> Option<&Item> {
    i.items
        .iter()
        .find(|it| it.kind == ItemKind::FreeText && it.role.as_deref() == Some("questions"))
}

/// Where the patient's questions are kept in the answers.
pub fn questions_key(i: &Instrument) -> String {
    questions_item(i)
        .map_or(LOCAL_QUESTIONS, |it| &it.id)
        .to_string()
}

/// Today, from the browser's clock (the core has none).
pub fn today() -> Date {
    Date::from_unix_days((js_sys::Date::now() / 86_400_000.0) as i64)
}

/// A `YYYY-MM-DD` date in words ("20 November 2027"); as written if it is not a date.
pub fn date_words(s: &str, l: Locale) -> String {
    match Date::parse(s) {
        Some(d) => format!(
            "{} {} {}",
            d.day,
            nth_word(t!(l, months), usize::from(d.month) - 1),
            d.year
        ),
        None => s.to_string(),
    }
}

/// The `n`th of the space-separated words of `s` (a plain loop: `split` is an iterator type
/// the bundle would carry for this alone).
fn nth_word(s: &str, n: usize) -> &str {
    let b = s.as_bytes();
    let (mut k, mut start) = (0, 0);
    for j in 0..=b.len() {
        if j == b.len() || b[j] == b' ' {
            if k == n {
                return s.get(start..j).unwrap_or_default();
            }
            k += 1;
            start = j + 1;
        }
    }
    ""
}

/// Columns and rows of an icon array of `per` people: a row of 10, 10 × 10, or 40 × 25.
pub fn layout(per: u32) -> (u32, u32) {
    let cols = if per > 100 { 40 } else { 10 };
    (cols, per.div_ceil(cols))
}

/// SVG path data for an icon array: the first `events` squares (the people who have the
/// event), then the rest, row by row. Two paths, however many people: a few DOM nodes, not a
/// thousand.
pub fn icon_paths(events: u32, per: u32) -> (String, String) {
    let (cols, _) = layout(per);
    let (mut on, mut off) = (String::new(), String::new());
    for k in 0..per {
        let d = if k < events { &mut on } else { &mut off };
        let _ = write!(d, "M{} {}h8v8h-8z", k % cols * 10 + 1, k / cols * 10 + 1);
    }
    (on, off)
}

/// An icon array: filled squares for the people who have the event, outlined ones for those
/// who do not. Decorative to assistive technology (the sentences beside it are the text).
fn icons(events: u32, per: u32) -> Html {
    let (cols, rows) = layout(per);
    let (on, off) = icon_paths(events.min(per), per);
    let view = format!("0 0 {} {}", cols * 10, rows * 10);
    let paths = html! { <>
        <path class="chorus-icons__on" d={on} />
        <path class="chorus-icons__off" d={off} />
    </> };
    // Literal classes only: a computed `class` brings Yew's class set into the bundle.
    if per > 100 {
        html! { <svg class="chorus-icons chorus-icons--1000" part="icon-array" viewBox={view} aria-hidden="true" focusable="false">{ paths }</svg> }
    } else {
        html! { <svg class="chorus-icons" part="icon-array" viewBox={view} aria-hidden="true" focusable="false">{ paths }</svg> }
    }
}

/// The core's sentences for a rate, without a "range" that is only the rate itself ("anywhere
/// from 0 to 0").
fn words(o: &Outcome, r: &Rate, l: Locale) -> Framing {
    let mut f = framing(o, r, l);
    if r.low == r.high {
        f.range = None;
    }
    f
}

fn citation<'a>(a: &'a Aid, id: &Option<String>) -> Option<&'a str> {
    let id = id.as_deref()?;
    a.about
        .as_ref()?
        .references
        .iter()
        .find(|r| r.id == id)
        .map(|r| r.citation.as_str())
}

/// An outcome: who the numbers are for, then for each option its rate in words (both
/// framings, and the range if given) beside its icon array.
pub fn outcome_view(i: &Instrument, aid: &Aid, it: &Item, l: Locale) -> Html {
    let Some(o) = aid.outcome(&it.id) else {
        return html! {};
    };
    html! {
        <section class="chorus-outcome" part="outcome">
            <h3 class="chorus-subheading">{ it.text.say(l) }</h3>
            <p class="chorus-hint">{ format!("{} {}", t!(l, the_numbers_are_for), o.population.say(l)) }</p>
            <div class="chorus-outcome__options">
                { for i.options.iter().filter_map(|opt| {
                    let r = o.rates.iter().find(|r| r.option == opt.id)?;
                    let f = words(o, r, l);
                    Some(html! {
                        <div class="chorus-outcome__option" part="outcome-option">
                            <p class="chorus-label">{ opt.text.say(l) }</p>
                            { icons(r.events, r.per) }
                            // Each sentence keyed by a filled or an empty square (drawn by the
                            // stylesheet with borders, so forced colours and print keep it).
                            <p class="chorus-body chorus-keyed chorus-keyed--on">{ f.with_event }</p>
                            <p class="chorus-body chorus-keyed chorus-keyed--off">{ f.without_event }</p>
                            if let Some(range) = f.range { <p class="chorus-hint">{ range }</p> }
                        </div>
                    })
                }) }
            </div>
            if let Some(c) = citation(aid, &o.source) {
                <p class="chorus-hint">{ format!("{} {c}", t!(l, numbers_from)) }</p>
            }
        </section>
    }
}

/// The outcomes, for the summary text: the item, then each option's sentences.
fn outcomes_text(i: &Instrument, aid: &Aid, l: Locale, o: &mut String) {
    for it in &i.items {
        let Some(out) = aid.outcome(&it.id) else {
            continue;
        };
        let _ = write!(
            o,
            "\n{}\n{} {}\n",
            it.text.say(l),
            t!(l, the_numbers_are_for),
            out.population.say(l)
        );
        for opt in &i.options {
            if let Some(r) = out.rates.iter().find(|r| r.option == opt.id) {
                let f = words(out, r, l);
                let _ = writeln!(
                    o,
                    "- {}: {} {} {}",
                    opt.text.say(l),
                    f.with_event,
                    f.without_event,
                    f.range.unwrap_or_default()
                );
            }
        }
    }
}

/// The patient's note when the aid is past its review date.
pub fn review_note(a: &About, l: Locale) -> String {
    format!(
        "{} {}. {}",
        t!(l, review_overdue),
        date_words(&a.next_review, l),
        t!(l, may_be_out_of_date)
    )
}

/// "About this aid" as (label, value) rows, then the references.
fn about_rows(a: &About, l: Locale) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        (t!(l, written_by), a.authors.join(", ")),
        (t!(l, date_produced), date_words(&a.produced, l)),
        (t!(l, next_review_due), date_words(&a.next_review, l)),
    ];
    for (k, v) in [
        (t!(l, how_it_is_updated), &a.update_policy),
        (t!(l, who_paid_for_it), &a.funding),
        (t!(l, conflicts_of_interest), &a.conflicts),
        (t!(l, what_this_aid_is_not), &a.not_for),
    ] {
        if let Some(v) = v {
            rows.push((k, v.say(l).to_string()));
        }
    }
    rows.retain(|(_, v)| !v.is_empty());
    rows
}

/// The body of "About this aid" (the caller gives the heading). A link is drawn only for an
/// `http(s)` address; an identifier is shown as written.
pub fn about_view(a: &About, l: Locale, past: bool) -> Html {
    html! { <>
        if past { <p class="chorus-inset" part="review-note">{ review_note(a, l) }</p> }
        <dl class="chorus-summary-list">
            { for about_rows(a, l).into_iter().map(|(k, v)| html! {
                <div class="chorus-summary-list__row">
                    <dt class="chorus-summary-list__key">{ k }</dt>
                    <dd class="chorus-summary-list__value">{ v }</dd>
                </div>
            }) }
        </dl>
        if !a.references.is_empty() {
            <p class="chorus-label">{ t!(l, evidence_used) }</p>
            <ol class="chorus-list chorus-references">
                { for a.references.iter().map(|r| {
                    let url = r.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://"));
                    html! { <li>
                        { &r.citation }
                        if let Some(u) = url { { " " }<a class="chorus-link" href={u.to_string()}>{ u }</a> }
                        if let Some(id) = &r.identifier { { format!(" ({id})") } }
                    </li> }
                }) }
            </ol>
        }
    </> }
}

fn about_text(a: &About, l: Locale, past: bool, o: &mut String) {
    let _ = write!(o, "\n{}\n", t!(l, about_this_aid));
    if past {
        let _ = writeln!(o, "{}", review_note(a, l));
    }
    for (k, v) in about_rows(a, l) {
        let _ = writeln!(o, "{k}: {v}");
    }
    if !a.references.is_empty() {
        let _ = writeln!(o, "{}:", t!(l, evidence_used));
    }
    for r in &a.references {
        let _ = writeln!(
            o,
            "- {} {} {}",
            r.citation,
            r.url.as_deref().unwrap_or_default(),
            r.identifier.as_deref().unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icon_arrays_fill_row_by_row_from_the_first_square() {
        assert_eq!(layout(10), (10, 1));
        assert_eq!(layout(100), (10, 10));
        assert_eq!(layout(1000), (40, 25));
        let (on, off) = icon_paths(12, 100);
        assert_eq!(
            (on.matches('M').count(), off.matches('M').count()),
            (12, 88)
        );
        // The 1st, 10th and 11th squares: along the top row, then the start of the second.
        assert!(on.starts_with("M1 1h8v8h-8zM11 1h8v8h-8z"), "{on}");
        assert!(on.contains("M91 1h8v8h-8zM1 11h8v8h-8z"), "{on}");
        assert!(off.starts_with("M21 11h8v8h-8z"), "{off}");
        let (on, off) = icon_paths(0, 1000);
        assert_eq!((on.len(), off.matches('M').count()), (0, 1000));
        assert!(off.ends_with("M391 241h8v8h-8z"), "the last of 40 × 25");
        let (on, off) = icon_paths(10, 10);
        assert_eq!((on.matches('M').count(), off.len()), (10, 0));
    }

    #[test]
    fn dates_read_in_words_in_english_and_welsh() {
        assert_eq!(date_words("2027-11-20", Locale::En), "20 November 2027");
        assert_eq!(date_words("2026-01-05", Locale::Cy), "5 Ionawr 2026");
        assert_eq!(date_words("2027-12-31", Locale::En), "31 December 2027");
        assert_eq!(date_words("next year", Locale::En), "next year");
        assert_eq!(date_words("2026-01-31", Locale::En), "31 January 2026");
        assert_eq!(nth_word("a bc d", 2), "d");
        assert_eq!(nth_word("a bc d", 3), "");
    }

    #[test]
    fn the_saved_summary_has_the_chances_the_questions_and_about_this_aid() {
        let (i, core) =
            chorus_core::aid::load(include_str!("../../core/instruments/aid-statins.json"))
                .unwrap();
        let aid = Aid {
            about: core.about.clone(),
            outcomes: core.outcomes.clone().into_iter().collect(),
        };
        let r = Response {
            instrument: i.id.clone(),
            version: i.version,
            locale: chorus_core::Locale::En,
            idempotency_key: "k".into(),
            answers: Default::default(),
            client_scores: None,
        };
        let rep = chorus_core::score(&i, &r);
        let text = summary_text(
            &i,
            &aid,
            &rep,
            &r,
            Locale::En,
            false,
            "Can I take it at night?",
        );
        for want in [
            "The chances with each option",
            "Heart attack or stroke in the next 10 years",
            "- Take a statin: Over 10 years, 7 out of 100 people have a heart attack or stroke. 93 out of 100 people do not have a heart attack or stroke. The true number could be anywhere from 5 to 9 out of 100.",
            "- No statin for now: Over 10 years, 10 out of 100 people",
            "Over 1 year, 20 out of 1000 people get aching muscles that make them stop. 980 out of 1000 people do not.",
            "Questions I want to ask\nCan I take it at night?",
            "About this aid\nWritten by: Chorus project team (example content)",
            "Next review due: 20 November 2027",
            "- National Institute for Health and Care Excellence. Shared decision making (NG197). 2021. https://www.nice.org.uk/guidance/ng197",
        ] {
            assert!(text.contains(want), "{want}\n---\n{text}");
        }
        assert!(!text.contains("was due to be checked"));
        let past = summary_text(&i, &aid, &rep, &r, Locale::En, true, "");
        assert!(past.contains("This aid was due to be checked and updated by 20 November 2027. Some of it may be out of date"), "{past}");
        assert!(!past.contains("Questions I want to ask"));
        let cy = summary_text(&i, &aid, &rep, &r, Locale::Cy, false, "");
        assert!(cy.contains("Dros 10 o flynyddoedd, mae 7 o bob 100 o bobl yn cael trawiad ar y galon neu strôc."), "{cy}");
        assert!(cy.contains("Am y cymorth hwn"), "{cy}");
    }

    #[test]
    fn the_questions_box_is_the_aid_s_own_item_where_it_has_one() {
        let i = chorus_core::library::get("aid-statins").unwrap();
        assert_eq!(questions_key(&i), "my-questions");
        let k = chorus_core::library::get("aid-knee-pain").unwrap();
        assert_eq!(questions_key(&k), LOCAL_QUESTIONS);
    }
}
