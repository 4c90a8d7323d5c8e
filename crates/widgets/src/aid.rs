//! The decision aid's summary page: what matters to the patient, the option their answers lean
//! towards (computed by the core, the same number the server would compute), what they got
//! right in the knowledge check and why the rest matter, and how sure they feel (SURE).
//!
//! The summary is built once as plain sections and then drawn twice: as HTML on the page (and
//! so in print, through the print stylesheet) and as the text file the patient can save.

use chorus_core::{Answer, Instrument, ItemKind, Response, ScoreReport};
use yew::prelude::*;

use crate::i18n::Locale;

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
        .map(|o| o.text.get(l.core()).to_string())
        .unwrap_or_else(|| id.to_string())
}

/// The summary's sections for a scored response.
pub fn sections(i: &Instrument, rep: &ScoreReport, r: &Response, l: Locale) -> Vec<Section> {
    let cl = l.core();
    let mut out = Vec::new();
    let rated: Vec<String> = i
        .items
        .iter()
        .filter(|it| it.kind == ItemKind::Importance)
        .filter_map(|it| match r.answers.get(&it.id) {
            Some(Answer::Number(n)) => Some(format!(
                "{}: {n} {} {}",
                it.text.get(cl),
                l.t("out of", "allan o"),
                it.range().1
            )),
            _ => None,
        })
        .collect();
    if let Some(lean) = &rep.lean {
        let lead = match &lean.towards {
            Some(o) => format!(
                "{} {}.",
                l.t(
                    "Your answers lean towards:",
                    "Mae eich atebion yn pwyso tuag at:"
                ),
                option_text(i, o, l)
            ),
            None if rated.is_empty() => l
                .t(
                    "You have not said how much each thing matters to you yet.",
                    "Nid ydych wedi dweud eto pa mor bwysig yw pob peth i chi.",
                )
                .into(),
            None => l
                .t(
                    "Your answers do not lean clearly towards one option.",
                    "Nid yw eich atebion yn pwyso'n glir tuag at un opsiwn.",
                )
                .into(),
        };
        let points = rated;
        let note = Some(l.t(
            "This is worked out from how much each thing matters to you and how each option affects it. It is not a recommendation: talk it through with your clinician.",
            "Caiff hyn ei gyfrifo o ba mor bwysig yw pob peth i chi a sut mae pob opsiwn yn effeithio arno. Nid yw'n argymhelliad: trafodwch ef gyda'ch clinigwr.",
        ));
        out.push(Section {
            title: l.t("What matters to you", "Beth sy'n bwysig i chi"),
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
                    .map(|o| o.text.get(cl))
                    .unwrap_or_default();
                format!(
                    "{} {} {right}. {}",
                    it.text.get(cl),
                    l.t("The answer is:", "Yr ateb yw:"),
                    it.explanation.as_ref().map(|e| e.get(cl)).unwrap_or("")
                )
                .trim_end()
                .to_string()
            })
            .collect();
        out.push(Section {
            title: l.t("What you know", "Beth rydych chi'n ei wybod"),
            lead: format!(
                "{} {} {} {} {}.",
                l.t("You answered", "Fe wnaethoch ateb"),
                k.correct,
                l.t("of", "o"),
                k.questions,
                l.t("questions correctly", "cwestiwn yn gywir")
            ),
            points,
            note: None,
        });
    }
    if let Some(s) = &rep.sure {
        out.push(Section {
            title: l.t("How sure you feel", "Pa mor sicr rydych chi'n teimlo"),
            lead: match s.total {
                Some(4) => l.t(
                    "You answered yes to all four questions: you feel ready to make this decision.",
                    "Fe wnaethoch ateb ie i'r pedwar cwestiwn: rydych yn teimlo'n barod i wneud y penderfyniad hwn.",
                ),
                Some(_) => l.t(
                    "You answered no to at least one question. It may help to talk with your clinician before you decide.",
                    "Fe wnaethoch ateb na i o leiaf un cwestiwn. Efallai y bydd yn help siarad â'ch clinigwr cyn i chi benderfynu.",
                ),
                None => l.t(
                    "You have not answered all four questions.",
                    "Nid ydych wedi ateb y pedwar cwestiwn i gyd.",
                ),
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
                <span class="chorus-caption">{ i.title.get(l.core()) }</span>
                { l.t("Your summary", "Eich crynodeb") }
            </h2>
            if i.example {
                <p class="chorus-inset">{ l.t("Example content, not clinical advice.", "Cynnwys enghreifftiol, nid cyngor clinigol.") }</p>
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
    let mut o = format!(
        "{}\n{}\n",
        i.title.get(l.core()),
        l.t("Your summary", "Eich crynodeb")
    );
    if i.example {
        o.push_str(l.t(
            "Example content, not clinical advice.\n",
            "Cynnwys enghreifftiol, nid cyngor clinigol.\n",
        ));
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
