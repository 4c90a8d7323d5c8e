//! The Friends and Family Test widget (`<chorus-fft>`): the mandated question, its six
//! answers, a free-text follow-up, an error summary that takes focus, the redaction preview,
//! and a confirmation panel with the receipt's reference.

use std::collections::BTreeMap;

use chorus_core::{Answer, Response};
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use crate::{
    send::{self, Outcome, SendError},
    ui,
};

pub use crate::i18n::Locale;

/// Properties of the FFT widget.
#[derive(Properties, PartialEq)]
pub struct FftProps {
    /// Interface language.
    pub locale: Locale,
    /// The custom element, for attributes and events.
    pub host: Element,
}

/// The six mandated answers, in the mandated order. English wording is the NHS England
/// standard; the Welsh is ours, awaiting review by a fluent speaker.
const ANSWERS: [(&str, &str, &str); 6] = [
    ("very_good", "Very good", "Da iawn"),
    ("good", "Good", "Da"),
    (
        "neither",
        "Neither good nor poor",
        "Ddim yn dda nac yn wael",
    ),
    ("poor", "Poor", "Gwael"),
    ("very_poor", "Very poor", "Gwael iawn"),
    ("dont_know", "Don't know", "Ddim yn gwybod"),
];

/// Longest follow-up text (the library's FFT allows 1200 characters).
const MAX_TEXT: usize = 1200;

#[derive(Clone, PartialEq)]
enum Phase {
    Editing {
        error: bool,
    },
    Sending,
    Sent(String),
    /// Kept on this device; will be sent when the connection is back.
    Queued,
    Failed(SendError),
}

/// The FFT form.
#[function_component(Fft)]
pub fn fft(props: &FftProps) -> Html {
    let l = props.locale;
    // Answers typed before the element was last removed from the page (see `send::draft`).
    let kept = |id: &str| match send::draft::load(&props.host, 1)?.0.remove(id) {
        Some(Answer::Text(t)) => Some(t),
        _ => None,
    };
    let choice = use_state(|| {
        let t = kept("fft")?;
        ANSWERS.iter().find(|a| a.0 == t).map(|a| a.0)
    });
    let text = use_state(|| kept("why").unwrap_or_default());
    let phase = use_state(|| Phase::Editing { error: false });
    let key = use_memo((), |_| send::new_key());
    let summary = use_node_ref();
    let panel = use_node_ref();
    let configured = send::site_of(&props.host).is_some();
    {
        let host = props.host.clone();
        use_effect_with((), move |_| {
            if !configured {
                send::report_not_configured(&host);
            }
        });
    }

    // Move focus to what changed: the error summary, or the confirmation panel.
    {
        let (summary, panel) = (summary.clone(), panel.clone());
        use_effect_with((*phase).clone(), move |p| {
            let target = match p {
                Phase::Editing { error: true } | Phase::Failed(_) => summary.cast::<HtmlElement>(),
                Phase::Sent(_) | Phase::Queued => panel.cast::<HtmlElement>(),
                _ => None,
            };
            if let Some(el) = target {
                let _ = el.focus();
            }
        });
    }

    let on_submit = {
        let (choice, text, phase, key, host) = (
            choice.clone(),
            text.clone(),
            phase.clone(),
            key.clone(),
            props.host.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // The button stays focusable while sending (so focus does not fall to the page),
            // so a second press must do nothing.
            if matches!(*phase, Phase::Sending) {
                return;
            }
            let Some(answer) = *choice else {
                phase.set(Phase::Editing { error: true });
                return;
            };
            let response = Response {
                instrument: host
                    .get_attribute("instrument")
                    .unwrap_or_else(|| "fft".into()),
                version: 1,
                locale: l.core(),
                idempotency_key: (*key).clone(),
                answers: answers(Some(answer), &text),
                client_scores: send::fft_scores(answer),
            };
            let prepared = send::prepare(&host, &response);
            phase.set(Phase::Sending);
            let phase = phase.clone();
            send::submit(
                host.clone(),
                prepared,
                (*key).clone(),
                Callback::from(move |o| {
                    phase.set(match o {
                        Outcome::Sent(r) => Phase::Sent(r),
                        Outcome::Queued => Phase::Queued,
                        Outcome::Failed(e) => Phase::Failed(e),
                    })
                }),
            );
        })
    };

    if !configured {
        return ui::unavailable(l, &props.host);
    }
    match &*phase {
        Phase::Sent(r) => {
            if let Some(p) = ui::outcome_panel(l, &Outcome::Sent(r.clone()), &panel) {
                return p;
            }
        }
        Phase::Queued => {
            if let Some(p) = ui::outcome_panel(l, &Outcome::Queued, &panel) {
                return p;
            }
        }
        _ => {}
    }

    let error = matches!(*phase, Phase::Editing { error: true });
    let sending = matches!(*phase, Phase::Sending);
    let failed = match &*phase {
        Phase::Failed(e) => Some(ui::failure(l, e, &props.host)),
        _ => None,
    };
    let missing = l.t(
        "Select how your experience was",
        "Dewiswch sut oedd eich profiad",
    );
    let entries = if error {
        vec![("fft-very_good".to_string(), missing.to_string())]
    } else {
        Vec::new()
    };
    let has_failure = failed.is_some();

    html! {
        <form class="chorus" part="form" novalidate=true onsubmit={on_submit}>
            if error || has_failure {
                { ui::error_summary(l, &entries, failed, &summary) }
            }
            <div class={classes!("chorus-form-group", error.then_some("chorus-form-group--error"))}>
                <fieldset class="chorus-fieldset" aria-describedby={error.then_some("fft-error")}>
                    <legend class="chorus-legend" part="legend">
                        { l.t(chorus_core::FFT_QUESTION_EN, "Yn gyffredinol, sut oedd eich profiad o'n gwasanaeth?") }
                    </legend>
                    if error {
                        <p class="chorus-error-message" id="fft-error">
                            <span class="chorus-visually-hidden">{ l.t("Error: ", "Gwall: ") }</span>{ missing }
                        </p>
                    }
                    <div class="chorus-radios">
                        { for ANSWERS.iter().map(|a| {
                            let id = format!("fft-{}", a.0);
                            let value: &'static str = a.0;
                            let onchange = {
                                let (choice, text, host) = (choice.clone(), text.clone(), props.host.clone());
                                Callback::from(move |_| {
                                    choice.set(Some(value));
                                    // Kept for a re-mount; sending clears it.
                                    send::draft::save(&host, 1, &answers(Some(value), &text), 0);
                                })
                            };
                            html! {
                                <div class="chorus-radio">
                                    <input class="chorus-radio__input" type="radio" id={id.clone()} name="fft" value={a.0}
                                        checked={*choice == Some(a.0)} {onchange} />
                                    <label class="chorus-radio__label" for={id}>{ l.t(a.1, a.2) }</label>
                                </div>
                            }
                        }) }
                    </div>
                </fieldset>
            </div>
            { ui::free_text(
                l,
                "fft-why",
                html! { { l.t("Please tell us why you gave that answer (optional)", "Dywedwch wrthym pam y rhoesoch yr ateb hwnnw (dewisol)") } },
                Some(l.t(
                    "Do not include your name or other details that could identify you.",
                    "Peidiwch â chynnwys eich enw na manylion eraill a allai ddangos pwy ydych chi.")),
                None,
                &text,
                MAX_TEXT,
                {
                    let (choice, text, host) = (choice.clone(), text.clone(), props.host.clone());
                    Callback::from(move |v: String| {
                        send::draft::save(&host, 1, &answers(*choice, &v), 0);
                        text.set(v);
                    })
                },
            ) }
            // Not `disabled` while sending: a disabled button drops focus to the page.
            <button class="chorus-button" part="button" type="submit" aria-disabled={sending.then_some("true")}>
                { if sending { l.t("Sending…", "Yn anfon…") } else { l.t("Send feedback", "Anfon adborth") } }
            </button>
        </form>
    }
}

/// The response's answers: the FFT answer and, when given, the reason.
fn answers(choice: Option<&'static str>, text: &str) -> BTreeMap<String, Answer> {
    let mut a = BTreeMap::new();
    if let Some(c) = choice {
        a.insert("fft".to_string(), Answer::Text(c.to_string()));
    }
    if !text.trim().is_empty() {
        a.insert("why".to_string(), Answer::Text(text.to_string()));
    }
    a
}
