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
    strings::t,
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
    extra: Option<Html>,
    node: &NodeRef,
) -> Html {
    html! {
        <div class="chorus-error-summary" part="error-summary" role="alert" tabindex="-1" ref={node.clone()} aria-labelledby="chorus-error-title">
            <h2 class="chorus-error-summary__title" id="chorus-error-title">{ t!(l, there_is_a_problem) }</h2>
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

/// What to tell the patient when sending failed. Unreachable (only when the device could not
/// keep a copy either): their answers are still on screen, try again. Refused: plainly, it
/// could not be sent and nothing was kept, and what the trust offers instead.
pub fn failure(l: Locale, e: &SendError, host: &Element) -> Html {
    match e {
        SendError::Unreachable => html! { t!(l, we_could_not_send_your) },
        SendError::Rejected(..) => html! { <>
            <p class="chorus-body">{ t!(l, your_answers_could_not_be) }</p>
            { fallback(l, host) }
        </> },
    }
}

/// What to show instead of a form that cannot send at all (no `site`): no patient should fill
/// in a form whose answers will go nowhere.
pub fn unavailable(l: Locale, host: &Element) -> Html {
    html! {
        <div class="chorus-inset" part="unavailable">
            <p class="chorus-body">{ t!(l, sorry_this_feedback_form_is) }</p>
            { fallback(l, host) }
        </div>
    }
}

/// Another way to give feedback, as the trust configured it on the element:
/// `fallback-phone="0300 123 4567"` (a `tel:` link) and/or `fallback-href="https://…"` (a link
/// to, say, a paper form). Without either, the patient is pointed to the staff.
pub fn fallback(l: Locale, host: &Element) -> Html {
    let phone = host.get_attribute("fallback-phone").and_then(|p| {
        let dial: String = p
            .split(|c: char| !(c.is_ascii_digit() || c == '+'))
            .collect();
        (dial.len() >= 3).then(|| (p.trim().to_string(), dial))
    });
    // Only web links: a `javascript:` URL from a careless CMS must not become a link.
    let href = host.get_attribute("fallback-href").filter(|h| {
        let h = h.trim_start().to_ascii_lowercase();
        h.starts_with("https://")
            || h.starts_with("http://")
            || h.starts_with("mailto:")
            || (h.starts_with('/') && !h.starts_with("//"))
    });
    let neither = phone.is_none() && href.is_none();
    html! { <p class="chorus-body" part="fallback">
        if let Some((shown, dial)) = phone {
            { t!(l, you_can_give_your_feedback) }
            <a class="chorus-link" href={format!("tel:{dial}")}>{ shown }</a>{ ". " }
        }
        if let Some(h) = href {
            <a class="chorus-link" href={h}>{ t!(l, give_your_feedback_another_way) }</a>
        }
        if neither {
            { t!(l, you_can_give_your_feedback_2) }
        }
    </p> }
}

/// The confirmation panel (sent, with the receipt's reference) or the inset saying the
/// answers are kept on this device; `None` for a failure (shown in the error summary).
pub fn outcome_panel(l: Locale, o: &Outcome, node: &NodeRef) -> Option<Html> {
    match o {
        Outcome::Sent(reference) => Some(html! { <>
            <div class="chorus-panel" part="confirmation" tabindex="-1" ref={node.clone()} role="status">
                <h2 class="chorus-panel__title">{ t!(l, thank_you_your_answers_have) }</h2>
                <p class="chorus-panel__body">
                    { t!(l, your_reference_is) }<strong>{ reference.clone() }</strong>
                </p>
            </div>
            if let Some((code, days, href)) = crate::send::withdraw::shown(reference) {
                <p class="chorus-body" part="withdraw">
                    { t!(l, your_withdrawal_code_is) }<strong>{ chorus_core::withdraw::grouped(&code) }</strong>{ ". " }
                    { t!(l, you_can) }
                    <a class="chorus-link" href={if l == Locale::Cy { format!("{href}&lang=cy") } else { href }}>{ t!(l, withdraw_your_feedback) }</a>
                    { t!(l, with_it_and_your_reference) }{ days }{ t!(l, days_it_is_shown_only) }
                </p>
            }
        </> }),
        Outcome::Queued => Some(html! {
            <div class="chorus-inset" part="queued" tabindex="-1" ref={node.clone()} role="status">
                <h2 class="chorus-panel__title chorus-queued__title">{ t!(l, your_answers_are_saved_on) }</h2>
                <p>{ t!(l, we_could_not_reach_our) }</p>
            </div>
        }),
        Outcome::Failed(_) => None,
    }
}

/// How long typing must pause before the character count is read out (as GOV.UK's and
/// NHS.UK's character count do).
const COUNT_DEBOUNCE_MS: u64 = 1000;

thread_local! {
    /// Keystrokes in any free-text answer on the page (one is typed into at a time).
    static TYPED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn count_text(l: Locale, used: usize, max: usize) -> String {
    if used > max {
        format!("{} {}", used - max, t!(l, characters_too_many))
    } else {
        format!("{} {}", max - used, t!(l, characters_remaining))
    }
}

/// A free-text answer: label, hint, textarea, a character count, and — as soon as the text
/// holds something that looks personal, if it is to be sent (`preview`) — a preview of how it
/// will be stored once the core has redacted it, and why.
///
/// The visible count changes with every keystroke but is hidden from screen readers; they get
/// the limit in the textarea's description and a separate status that speaks the count once
/// typing pauses, so a screen reader is not interrupted on every character.
#[allow(clippy::too_many_arguments)]
pub fn free_text(
    l: Locale,
    id: &str,
    label: Html,
    hint: Option<&str>,
    error: Option<&str>,
    value: &str,
    max: usize,
    preview: bool,
    on_input: Callback<String>,
) -> Html {
    let used = value.chars().count();
    let redacted = redact(value);
    let hint_id = format!("{id}-hint");
    let info_id = format!("{id}-info");
    let err_id = format!("{id}-error");
    let mut described = info_id.clone();
    if hint.is_some() {
        described = format!("{hint_id} {described}");
    }
    if error.is_some() {
        described = format!("{described} {err_id}");
    }
    let oninput = Callback::from(move |e: InputEvent| {
        let Some(t) = e.target_dyn_into::<HtmlTextAreaElement>() else {
            return;
        };
        let v = t.value();
        // The status is written straight into its (otherwise empty) element after the pause:
        // no component state, and only the last keystroke of a burst speaks.
        let n = TYPED.with(|c| {
            c.set(c.get().wrapping_add(1));
            c.get()
        });
        let said = count_text(l, v.chars().count(), max);
        let status = t.parent_element().and_then(|g| {
            g.query_selector("[part=character-count-status]")
                .ok()
                .flatten()
        });
        wasm_bindgen_futures::spawn_local(async move {
            yew::platform::time::sleep(std::time::Duration::from_millis(COUNT_DEBOUNCE_MS)).await;
            if TYPED.with(|c| c.get()) == n
                && let Some(s) = status
            {
                s.set_text_content(Some(&said));
            }
        });
        on_input.emit(v);
    });
    let over = used > max;
    group(
        error.is_some(),
        html! { <>
                <label class="chorus-label" for={id.to_string()}>{ label }</label>
                if let Some(h) = hint {
                    <p class="chorus-hint" id={hint_id}>{ h }</p>
                }
                if let Some(e) = error {
                    <p class="chorus-error-message" id={err_id}>
                        <span class="chorus-visually-hidden">{ t!(l, error) }</span>{ e }
                    </p>
                }
                <textarea class="chorus-textarea" part="textarea" id={id.to_string()} rows="5"
                    aria-describedby={described} value={value.to_string()} {oninput} />
                <p class="chorus-visually-hidden" id={info_id}>{ format!("{} {max} {}",
                    t!(l, you_can_enter_up_to), t!(l, characters)) }</p>
                if over {
                    <p class="chorus-error-message" part="character-count" aria-hidden="true">{ count_text(l, used, max) }</p>
                } else {
                    <p class="chorus-hint" part="character-count" aria-hidden="true">{ count_text(l, used, max) }</p>
                }
                <div class="chorus-visually-hidden" part="character-count-status" aria-live="polite"></div>
                if preview && !redacted.spans.is_empty() {
                    <div class="chorus-inset" part="redaction-preview">
                        <p>{ t!(l, to_protect_your_privacy_we) }</p>
                        <p class="chorus-redacted">{ redacted.text }</p>
                    </div>
                }
        </> },
    )
}

// The wrappers below take one of two fixed class lists, written out as literals: a computed
// `class` brings Yew's class-set machinery (a hashed index set) into the bundle. Each pair is
// the same element, so Yew patches its class rather than replacing it (focus stays put).

/// A form group, marked in error or not.
pub fn group(error: bool, body: Html) -> Html {
    if error {
        html! { <div class="chorus-form-group chorus-form-group--error">{ body }</div> }
    } else {
        html! { <div class="chorus-form-group">{ body }</div> }
    }
}

/// The list of radios or checkboxes, inline (scales) or stacked.
pub fn radios(inline: bool, body: Html) -> Html {
    if inline {
        html! { <div class="chorus-radios chorus-radios--inline">{ body }</div> }
    } else {
        html! { <div class="chorus-radios">{ body }</div> }
    }
}

/// One radio, or one checkbox, with its label.
pub fn radio(checkbox: bool, body: Html) -> Html {
    if checkbox {
        html! { <div class="chorus-radio chorus-checkbox">{ body }</div> }
    } else {
        html! { <div class="chorus-radio">{ body }</div> }
    }
}
