//! Pieces every widget draws the same way: the error summary, the confirmation and "saved on
//! this device" panels, the sending failure message, and free text with its character count
//! and redaction preview. One implementation each keeps the widgets consistent and the bundle
//! small.

use chorus_core::redact::redact;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::{
    i18n::Locale,
    send::{Outcome, SendError},
};

/// Focus the element with `id` inside the same widget as `from` (ids are scoped to the shadow
/// root, so a plain `#id` link would not reach it).
pub fn focus_in_widget(from: &Element, id: &str) {
    if let Ok(Some(root)) = from.closest("[part=root]")
        && let Ok(Some(el)) = root.query_selector(&format!("[id='{id}']"))
        && let Ok(el) = el.dyn_into::<HtmlElement>()
    {
        let _ = el.focus();
    }
}

/// The GOV.UK/NHS.UK error summary: a titled box that takes focus, with a link to each field
/// in error. `entries` are (field id, message); `extra` is a message with no field.
pub fn error_summary(
    l: Locale,
    entries: &[(String, String)],
    extra: Option<&str>,
    node: &NodeRef,
) -> Html {
    html! {
        <div class="chorus-error-summary" part="error-summary" role="alert" tabindex="-1" ref={node.clone()} aria-labelledby="chorus-error-title">
            <h2 class="chorus-error-summary__title" id="chorus-error-title">{ l.t("There is a problem", "Mae problem") }</h2>
            <ul class="chorus-error-summary__list">
                { for entries.iter().map(|(id, msg)| {
                    let target = id.clone();
                    let onclick = Callback::from(move |e: MouseEvent| {
                        e.prevent_default();
                        if let Some(a) = e.target_dyn_into::<Element>() {
                            focus_in_widget(&a, &target);
                        }
                    });
                    html! { <li><a href={format!("#{id}")} {onclick}>{ msg.clone() }</a></li> }
                }) }
                if let Some(x) = extra {
                    <li>{ x }</li>
                }
            </ul>
        </div>
    }
}

/// What to tell the patient when sending failed (their answers are still on screen).
pub fn failure_message(l: Locale, e: &SendError) -> &'static str {
    match e {
        SendError::Unreachable => l.t(
            "We could not send your answers. Check your connection and try again; your answers are still here.",
            "Nid oeddem yn gallu anfon eich atebion. Gwiriwch eich cysylltiad a rhowch gynnig arall arni; mae eich atebion yma o hyd.",
        ),
        SendError::Rejected(_) => l.t(
            "Sorry, something went wrong and your answers were not accepted. Please try again later.",
            "Mae'n ddrwg gennym, aeth rhywbeth o'i le ac ni dderbyniwyd eich atebion. Rhowch gynnig arall arni yn nes ymlaen.",
        ),
    }
}

/// The confirmation panel (sent, with the receipt's reference) or the inset saying the
/// answers are kept on this device; `None` for a failure (shown in the error summary).
pub fn outcome_panel(l: Locale, o: &Outcome, node: &NodeRef) -> Option<Html> {
    match o {
        Outcome::Sent(reference) => Some(html! {
            <div class="chorus-panel" part="confirmation" tabindex="-1" ref={node.clone()} role="status">
                <h2 class="chorus-panel__title">{ l.t("Thank you, your answers have been sent", "Diolch, mae eich atebion wedi'u hanfon") }</h2>
                <p class="chorus-panel__body">
                    { l.t("Your reference is ", "Eich cyfeirnod yw ") }<strong>{ reference.clone() }</strong>
                </p>
            </div>
        }),
        Outcome::Queued => Some(html! {
            <div class="chorus-inset" part="queued" tabindex="-1" ref={node.clone()} role="status">
                <h2 class="chorus-panel__title chorus-queued__title">{ l.t("Your answers are saved on this device", "Mae eich atebion wedi'u cadw ar y ddyfais hon") }</h2>
                <p>{ l.t(
                    "We could not reach our server just now. We will send your answers automatically when you are back online. You do not need to fill in the form again.",
                    "Nid oeddem yn gallu cyrraedd ein gweinydd ar hyn o bryd. Byddwn yn anfon eich atebion yn awtomatig pan fyddwch ar-lein eto. Nid oes angen i chi lenwi'r ffurflen eto.") }</p>
            </div>
        }),
        Outcome::Failed(_) => None,
    }
}

/// A free-text answer: label, hint, textarea, a live character count, and — as soon as the
/// text holds something that looks personal — a preview of how it will be stored once the
/// core has redacted it, and why.
#[allow(clippy::too_many_arguments)]
pub fn free_text(
    l: Locale,
    id: &str,
    label: Html,
    hint: Option<&str>,
    error: Option<&str>,
    value: &str,
    max: usize,
    on_input: Callback<String>,
) -> Html {
    let used = value.chars().count();
    let redacted = redact(value);
    let hint_id = format!("{id}-hint");
    let count_id = format!("{id}-count");
    let err_id = format!("{id}-error");
    let described = format!(
        "{}{count_id}{}",
        if hint.is_some() {
            format!("{hint_id} ")
        } else {
            String::new()
        },
        if error.is_some() {
            format!(" {err_id}")
        } else {
            String::new()
        }
    );
    html! {
        <div class={classes!("chorus-form-group", error.map(|_| "chorus-form-group--error"))}>
            <label class="chorus-label" for={id.to_string()}>{ label }</label>
            if let Some(h) = hint {
                <p class="chorus-hint" id={hint_id}>{ h }</p>
            }
            if let Some(e) = error {
                <p class="chorus-error-message" id={err_id}>
                    <span class="chorus-visually-hidden">{ l.t("Error: ", "Gwall: ") }</span>{ e }
                </p>
            }
            <textarea class="chorus-textarea" part="textarea" id={id.to_string()} rows="5"
                aria-describedby={described} value={value.to_string()}
                oninput={Callback::from(move |e: InputEvent| {
                    if let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() { on_input.emit(t.value()); }
                })} />
            <p class="chorus-hint" id={count_id} aria-live="polite">
                if used > max {
                    { format!("{} {}", used - max, l.t("characters too many", "nod yn ormod")) }
                } else {
                    { format!("{} {}", max - used, l.t("characters remaining", "nod ar ôl")) }
                }
            </p>
            if !redacted.spans.is_empty() {
                <div class="chorus-inset" part="redaction-preview">
                    <p>{ l.t(
                        "To protect your privacy, we will remove personal details before your comment is stored. It will be saved as:",
                        "Er mwyn diogelu eich preifatrwydd, byddwn yn dileu manylion personol cyn i'ch sylw gael ei gadw. Bydd yn cael ei gadw fel:") }</p>
                    <p class="chorus-redacted">{ redacted.text }</p>
                </div>
            }
        </div>
    }
}
