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
    extra: Option<Html>,
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

/// What to tell the patient when sending failed. Unreachable (only when the device could not
/// keep a copy either): their answers are still on screen, try again. Refused: plainly, it
/// could not be sent and nothing was kept, and what the trust offers instead.
pub fn failure(l: Locale, e: &SendError, host: &Element) -> Html {
    match e {
        SendError::Unreachable => html! { l.t(
            "We could not send your answers. Check your connection and try again; your answers are still here.",
            "Nid oeddem yn gallu anfon eich atebion. Gwiriwch eich cysylltiad a rhowch gynnig arall arni; mae eich atebion yma o hyd.",
        ) },
        SendError::Rejected(..) => html! { <>
            <p class="chorus-body">{ l.t(
                "Your answers could not be sent and have not been saved. This is a problem with this website, not with your answers.",
                "Nid oedd modd anfon eich atebion ac nid ydynt wedi'u cadw. Problem gyda'r wefan hon yw hon, nid gyda'ch atebion.") }</p>
            { fallback(l, host) }
        </> },
    }
}

/// What to show instead of a form that cannot send at all (no `site`): no patient should fill
/// in a form whose answers will go nowhere.
pub fn unavailable(l: Locale, host: &Element) -> Html {
    html! {
        <div class="chorus-inset" part="unavailable">
            <p class="chorus-body">{ l.t(
                "Sorry, this feedback form is not working at the moment.",
                "Mae'n ddrwg gennym, nid yw'r ffurflen adborth hon yn gweithio ar hyn o bryd.") }</p>
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
            { l.t("You can give your feedback by phone instead: ", "Gallwch roi eich adborth dros y ffôn yn lle hynny: ") }
            <a class="chorus-link" href={format!("tel:{dial}")}>{ shown }</a>{ ". " }
        }
        if let Some(h) = href {
            <a class="chorus-link" href={h}>{ l.t("Give your feedback another way", "Rhowch eich adborth mewn ffordd arall") }</a>
        }
        if neither {
            { l.t("You can give your feedback to a member of staff instead.", "Gallwch roi eich adborth i aelod o staff yn lle hynny.") }
        }
    </p> }
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

/// How long typing must pause before the character count is read out (as GOV.UK's and
/// NHS.UK's character count do).
const COUNT_DEBOUNCE_MS: u64 = 1000;

thread_local! {
    /// Keystrokes in any free-text answer on the page (one is typed into at a time).
    static TYPED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn count_text(l: Locale, used: usize, max: usize) -> String {
    if used > max {
        format!(
            "{} {}",
            used - max,
            l.t("characters too many", "nod yn ormod")
        )
    } else {
        format!(
            "{} {}",
            max - used,
            l.t("characters remaining", "nod ar ôl")
        )
    }
}

/// A free-text answer: label, hint, textarea, a character count, and — as soon as the text
/// holds something that looks personal — a preview of how it will be stored once the core has
/// redacted it, and why.
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
                aria-describedby={described} value={value.to_string()} {oninput} />
            <p class="chorus-visually-hidden" id={info_id}>{ format!("{} {max} {}",
                l.t("You can enter up to", "Gallwch roi hyd at"), l.t("characters", "nod")) }</p>
            <p class={if over { "chorus-error-message" } else { "chorus-hint" }} part="character-count" aria-hidden="true">
                { count_text(l, used, max) }
            </p>
            <div class="chorus-visually-hidden" part="character-count-status" aria-live="polite"></div>
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
