//! The Friends and Family Test widget (`<chorus-fft>`): the mandated question, its six
//! answers, a free-text follow-up, an error summary that takes focus, the redaction preview,
//! and a confirmation panel with the receipt's reference.

use std::collections::BTreeMap;

use chorus_core::{Answer, Response, redact::redact};
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::send::{self, SendError};

/// Interface language. Welsh is a first-class locale, not an afterthought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    /// English.
    En,
    /// Welsh (Cymraeg).
    Cy,
}

impl Locale {
    /// The `locale` attribute wins; otherwise the nearest `lang` on the host page, so a Welsh
    /// page gets a Welsh form with no configuration.
    pub fn from_host(host: &Element) -> Self {
        let attr = host.get_attribute("locale").or_else(|| {
            host.closest("[lang]")
                .ok()
                .flatten()
                .and_then(|e| e.get_attribute("lang"))
        });
        match attr.as_deref().map(|s| s.get(..2).unwrap_or(s)) {
            Some("cy") => Locale::Cy,
            _ => Locale::En,
        }
    }

    fn core(self) -> chorus_core::Locale {
        match self {
            Locale::En => chorus_core::Locale::En,
            Locale::Cy => chorus_core::Locale::Cy,
        }
    }

    /// Pick the string for this locale.
    fn t(self, en: &'static str, cy: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::Cy => cy,
        }
    }
}

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
    let choice = use_state(|| None::<&'static str>);
    let text = use_state(String::new);
    let phase = use_state(|| Phase::Editing { error: false });
    let key = use_memo((), |_| send::new_key());
    let summary = use_node_ref();
    let panel = use_node_ref();

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
            let Some(answer) = *choice else {
                phase.set(Phase::Editing { error: true });
                return;
            };
            let mut answers = BTreeMap::new();
            answers.insert("fft".to_string(), Answer::Text(answer.to_string()));
            if !text.trim().is_empty() {
                answers.insert("why".to_string(), Answer::Text((*text).clone()));
            }
            let response = Response {
                instrument: host
                    .get_attribute("instrument")
                    .unwrap_or_else(|| "fft".into()),
                version: 1,
                locale: l.core(),
                idempotency_key: (*key).clone(),
                answers,
                client_scores: None,
            };
            let endpoint = host.get_attribute("endpoint").unwrap_or_default();
            let site = host
                .get_attribute("site")
                .unwrap_or_else(|| "default".into());
            let service = host.get_attribute("service");
            let prepared = send::prepare(&endpoint, &site, service.as_deref(), &response);
            let (phase, host, key) = (phase.clone(), host.clone(), (*key).clone());
            phase.set(Phase::Sending);
            wasm_bindgen_futures::spawn_local(async move {
                match send::send(&prepared).await {
                    Ok(reference) => {
                        send::dispatch(&host, "chorus:submitted", &[("reference", &reference)]);
                        phase.set(Phase::Sent(reference));
                    }
                    // Offline or server down: keep it on the device and send it when the
                    // connection returns (here, or on the next page that loads Chorus).
                    Err(SendError::Unreachable)
                        if send::queue::push(&key, &prepared.url, &prepared.body) =>
                    {
                        send::dispatch(&host, "chorus:queued", &[("key", &key)]);
                        phase.set(Phase::Queued);
                        let phase = phase.clone();
                        crate::on_online(move || {
                            let (phase, host, key) = (phase.clone(), host.clone(), key.clone());
                            wasm_bindgen_futures::spawn_local(async move {
                                for (k, reference) in send::queue::flush().await {
                                    if k == key {
                                        send::dispatch(
                                            &host,
                                            "chorus:submitted",
                                            &[("reference", &reference)],
                                        );
                                        phase.set(Phase::Sent(reference));
                                    }
                                }
                            });
                        });
                    }
                    Err(err) => {
                        let code = match &err {
                            SendError::Unreachable => "unreachable".to_string(),
                            SendError::Rejected(c) => c.clone(),
                        };
                        send::dispatch(&host, "chorus:error", &[("code", &code)]);
                        phase.set(Phase::Failed(err));
                    }
                }
            });
        })
    };

    if let Phase::Sent(reference) = &*phase {
        return html! {
            <div class="chorus-panel" part="confirmation" tabindex="-1" ref={panel} role="status">
                <h2 class="chorus-panel__title">{ l.t("Thank you, your feedback has been sent", "Diolch, mae eich adborth wedi'i anfon") }</h2>
                <p class="chorus-panel__body">
                    { l.t("Your reference is ", "Eich cyfeirnod yw ") }<strong>{ reference.clone() }</strong>
                </p>
            </div>
        };
    }

    if let Phase::Queued = &*phase {
        return html! {
            <div class="chorus-inset" part="queued" tabindex="-1" ref={panel} role="status">
                <h2 class="chorus-panel__title chorus-queued__title">{ l.t("Your feedback is saved on this device", "Mae eich adborth wedi'i gadw ar y ddyfais hon") }</h2>
                <p>{ l.t(
                    "We could not reach our server just now. We will send your feedback automatically when you are back online. You do not need to fill in the form again.",
                    "Nid oeddem yn gallu cyrraedd ein gweinydd ar hyn o bryd. Byddwn yn anfon eich adborth yn awtomatig pan fyddwch ar-lein eto. Nid oes angen i chi lenwi'r ffurflen eto.") }</p>
            </div>
        };
    }

    let error = matches!(*phase, Phase::Editing { error: true });
    let failed = match &*phase {
        Phase::Failed(SendError::Unreachable) => Some(l.t(
            "We could not send your feedback. Check your connection and try again; your answers are still here.",
            "Nid oeddem yn gallu anfon eich adborth. Gwiriwch eich cysylltiad a rhowch gynnig arall arni; mae eich atebion yma o hyd.",
        )),
        Phase::Failed(SendError::Rejected(_)) => Some(l.t(
            "Sorry, something went wrong and your feedback was not accepted. Please try again later.",
            "Mae'n ddrwg gennym, aeth rhywbeth o'i le ac ni dderbyniwyd eich adborth. Rhowch gynnig arall arni yn nes ymlaen.",
        )),
        _ => None,
    };
    let missing = l.t(
        "Select how your experience was",
        "Dewiswch sut oedd eich profiad",
    );
    let redacted = redact(&text);
    let over = text.chars().count().saturating_sub(MAX_TEXT);
    let remaining = MAX_TEXT.saturating_sub(text.chars().count());

    html! {
        <form class="chorus" part="form" novalidate=true onsubmit={on_submit}>
            if error || failed.is_some() {
                <div class="chorus-error-summary" part="error-summary" role="alert" tabindex="-1" ref={summary} aria-labelledby="chorus-error-title">
                    <h2 class="chorus-error-summary__title" id="chorus-error-title">{ l.t("There is a problem", "Mae problem") }</h2>
                    <ul class="chorus-error-summary__list">
                        if error {
                            <li><a href="#fft-very_good">{ missing }</a></li>
                        }
                        if let Some(f) = failed {
                            <li>{ f }</li>
                        }
                    </ul>
                </div>
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
                            let onchange = { let choice = choice.clone(); Callback::from(move |_| choice.set(Some(value))) };
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
            <div class="chorus-form-group">
                <label class="chorus-label" for="fft-why">{ l.t("Please tell us why you gave that answer (optional)", "Dywedwch wrthym pam y rhoesoch yr ateb hwnnw (dewisol)") }</label>
                <p class="chorus-hint" id="fft-why-hint">{ l.t(
                    "Do not include your name or other details that could identify you.",
                    "Peidiwch â chynnwys eich enw na manylion eraill a allai ddangos pwy ydych chi.") }</p>
                <textarea class="chorus-textarea" part="textarea" id="fft-why" name="why" rows="5"
                    aria-describedby="fft-why-hint fft-why-count" value={(*text).clone()}
                    oninput={ let text = text.clone(); Callback::from(move |e: InputEvent| {
                        if let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() { text.set(t.value()); }
                    }) } />
                <p class="chorus-hint" id="fft-why-count" aria-live="polite">
                    if over > 0 {
                        { format!("{over} {}", l.t("characters too many", "nod yn ormod")) }
                    } else {
                        { format!("{remaining} {}", l.t("characters remaining", "nod ar ôl")) }
                    }
                </p>
                if !redacted.spans.is_empty() {
                    <div class="chorus-inset" part="redaction-preview">
                        <p>{ l.t(
                            "To protect your privacy, we will remove personal details before your comment is stored. It will be saved as:",
                            "Er mwyn diogelu eich preifatrwydd, byddwn yn dileu manylion personol cyn i'ch sylw gael ei gadw. Bydd yn cael ei gadw fel:") }</p>
                        <p class="chorus-redacted">{ redacted.text.clone() }</p>
                    </div>
                }
            </div>
            <button class="chorus-button" part="button" type="submit" disabled={matches!(*phase, Phase::Sending)}>
                { if matches!(*phase, Phase::Sending) { l.t("Sending…", "Yn anfon…") } else { l.t("Send feedback", "Anfon adborth") } }
            </button>
        </form>
    }
}
