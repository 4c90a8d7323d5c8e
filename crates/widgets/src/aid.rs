//! The decision aid's summary page: what matters to the patient, the option their answers lean
//! towards (computed by the core, the same number the server would compute), what they got
//! right in the knowledge check and why the rest matter, and how sure they feel (SURE).
//!
//! The summary is built once as plain sections and then drawn twice: as HTML on the page (and
//! so in print, through the print stylesheet) and as the text file the patient can save.

use chorus_core::{Answer, Instrument, ItemKind, Response, ScoreReport};
use yew::prelude::*;

use crate::{
    i18n::{Locale, Say},
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
pub fn summary(
    i: &Instrument,
    rep: &ScoreReport,
    r: &Response,
    l: Locale,
    heading: &NodeRef,
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
        </div>
    }
}

/// The same summary as plain text, for the saved file.
pub fn summary_text(i: &Instrument, rep: &ScoreReport, r: &Response, l: Locale) -> String {
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
    o
}
