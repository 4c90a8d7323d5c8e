//! The optional "About you" questions (equality monitoring), asked after the feedback when
//! the element has the `about-you` attribute (and the server lists the site in `[equality]`).
//!
//! Asked *before* the one send, as an extra step: the server stores `about` with its response
//! and never on its own, so there is no second send to lose. Every question may be left out,
//! each offers "prefer not to say", and one button skips them all and sends the feedback
//! alone. The questions are the core's `about-you` instrument (fetched from the collector
//! like any other: no bytes in the bundle for pages that do not ask them), drawn by the
//! survey's own item renderer.
//!
//! The feedback never fails because of this part: if the server refuses the `about` answers
//! (`about_not_enabled`: the site is not in `[equality]`; `invalid_about`: not its questions),
//! the web team is told (console and `chorus:error`, as for every configuration problem) and
//! the feedback is sent again without them, with the same idempotency key. That holds for a
//! copy queued offline too ([`strip`], used by the queue's flush).
//!
//! Nothing the patient answers here is kept anywhere but the submission being sent (and, for
//! the offline queue, its copy in `localStorage`): not in the draft, not on the receipt, not
//! in any event.

use std::{collections::BTreeMap, rc::Rc};

use chorus_core::{Answer, Instrument};
use wasm_bindgen::JsCast;
use web_sys::Element;
use yew::prelude::*;

use crate::{
    i18n::{Locale, Say},
    send::{self, Outcome, Prepared, SendError},
    strings::t,
    survey::Mode,
};

/// The questions' id in the core's library (`chorus_core::library::ABOUT_YOU`; the widget is
/// built without the library).
const ID: &str = "about-you";

/// Does this element ask the "About you" questions?
pub fn asked(host: &Element) -> bool {
    host.has_attribute("about-you")
}

/// Was this refusal about the `about` answers (so the feedback can go without them)?
fn about_refused(code: &str) -> bool {
    matches!(code, "about_not_enabled" | "invalid_about")
}

/// [`about_refused`] on a Chorus error body (`{"error":{"code":…}}`).
pub fn refused(json: &wasm_bindgen::JsValue) -> bool {
    let code = js_sys::Reflect::get(json, &"error".into())
        .and_then(|e| js_sys::Reflect::get(&e, &"code".into()))
        .ok()
        .and_then(|c| c.as_string());
    code.as_deref().is_some_and(about_refused)
}

/// For the web team, when a submission from the offline queue had its `about` refused (no
/// element to raise `chorus:error` on by then: the console only).
pub fn report_queued(json: &wasm_bindgen::JsValue) {
    let err = js_sys::Reflect::get(json, &"error".into()).unwrap_or_default();
    let field = |k: &str| {
        js_sys::Reflect::get(&err, &k.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    web_sys::console::error_1(
        &format!(
            "Chorus: {}: {} (a queued response is sent without its About you answers)",
            field("code"),
            field("message")
        )
        .into(),
    );
}

/// The submission body with `about` added (question id → answer id).
fn attach(body: &str, about: &BTreeMap<String, Answer>) -> Option<String> {
    let o = js_sys::JSON::parse(body).ok()?;
    let a = js_sys::Object::new();
    for (q, v) in about {
        if let Answer::Text(v) = v {
            js_sys::Reflect::set(&a, &q.into(), &v.into()).ok()?;
        }
    }
    js_sys::Reflect::set(&o, &"about".into(), &a).ok()?;
    js_sys::JSON::stringify(&o).ok().map(String::from)
}

/// The submission body without `about`, or `None` if it had none.
pub fn strip(body: &str) -> Option<String> {
    let o = js_sys::JSON::parse(body).ok()?;
    if js_sys::Reflect::get(&o, &"about".into())
        .ok()?
        .is_undefined()
    {
        return None;
    }
    js_sys::Reflect::delete_property(o.unchecked_ref::<js_sys::Object>(), &"about".into()).ok()?;
    js_sys::JSON::stringify(&o).ok().map(String::from)
}

/// Send the feedback with these answers (none: the feedback alone). A refusal of the answers
/// sends the feedback again without them; `done` hears only the feedback's fate.
pub fn submit(
    host: Element,
    prepared: Prepared,
    about: BTreeMap<String, Answer>,
    key: String,
    done: Callback<Outcome>,
) {
    let with = (!about.is_empty())
        .then(|| attach(&prepared.body, &about))
        .flatten();
    let Some(body) = with else {
        return send::submit(host, prepared, key, done);
    };
    let plain = prepared.clone();
    let fallback = {
        let host = host.clone();
        let key = key.clone();
        Callback::from(move |o: Outcome| match o {
            // Already reported to the web team (console, `chorus:error`) by `send::submit`.
            Outcome::Failed(SendError::Rejected(code, _)) if about_refused(&code) => {
                send::submit(host.clone(), plain.clone(), key.clone(), done.clone())
            }
            o => done.emit(o),
        })
    };
    send::submit(
        host,
        Prepared {
            url: prepared.url,
            body,
        },
        key,
        fallback,
    );
}

/// Properties of the "About you" step.
#[derive(Properties, PartialEq)]
pub struct AboutProps {
    /// The widget's language.
    pub locale: Locale,
    /// The custom element (for `endpoint`).
    pub host: Element,
    /// The page heading (focused when the step opens).
    pub heading: NodeRef,
    /// A send is under way.
    pub sending: bool,
    /// Which widget: the send button says what the widget's own would.
    pub mode: Mode,
    /// Shown above the questions (a failed send's error summary), or nothing.
    pub top: Html,
    /// Back to the feedback.
    pub back: Callback<MouseEvent>,
    /// Send, with these answers (empty: skipped).
    pub send: Callback<BTreeMap<String, Answer>>,
}

/// The questions, loaded from the collector, then drawn with the survey's item renderer. If
/// they cannot be loaded, the feedback is sent at once without them.
#[function_component(AboutYou)]
pub fn about_you(p: &AboutProps) -> Html {
    // The same state type as the survey's own instrument (one copy of the hook's code).
    let loaded = use_state(|| None::<Result<Rc<Instrument>, ()>>);
    let answers = use_state(BTreeMap::<String, Answer>::new);
    {
        let (loaded, host, send) = (loaded.clone(), p.host.clone(), p.send.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match crate::model::fetch(&host, ID).await {
                    Ok(i) => loaded.set(Some(Ok(Rc::new(i)))),
                    Err(e) => {
                        web_sys::console::warn_1(
                            &format!("Chorus: the About you questions could not be loaded ({}), so the feedback is sent without them", e.0).into(),
                        );
                        send.emit(BTreeMap::new());
                    }
                }
            });
        });
    }
    {
        let heading = p.heading.clone();
        use_effect_with(loaded.is_some(), move |ready| {
            if let Some(h) = heading.cast::<web_sys::HtmlElement>().filter(|_| *ready) {
                let _ = h.focus();
            }
        });
    }
    let Some(Ok(i)) = (*loaded).clone() else {
        return html! { <p class="chorus-hint" role="status">{ t!(p.locale, loading) }</p> };
    };
    // Never half in one language: the questions in English if they lack the widget's.
    let l = if crate::i18n::covers(p.locale, &i) {
        p.locale
    } else {
        Locale::En
    };
    let set = {
        let answers = answers.clone();
        Callback::from(move |(id, a): (String, Option<Answer>)| {
            let mut next = (*answers).clone();
            match a {
                Some(a) => next.insert(id, a),
                None => next.remove(&id),
            };
            answers.set(next);
        })
    };
    let onsubmit = {
        let (answers, send, sending) = (answers.clone(), p.send.clone(), p.sending);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if sending {
                return;
            }
            send.emit((*answers).clone())
        })
    };
    let skip = {
        let (send, sending) = (p.send.clone(), p.sending);
        Callback::from(move |_: MouseEvent| {
            if !sending {
                send.emit(BTreeMap::new())
            }
        })
    };
    let busy = p.sending.then_some("true");
    let skip_button = html! {
        <button class="chorus-button chorus-button--secondary" part="button" type="button" aria-disabled={busy} onclick={skip}>{ t!(l, skip_these_questions_and_send) }</button>
    };
    html! {
        <form class="chorus" part="form about-you" lang={l.tag()} dir={l.dir()} novalidate=true {onsubmit}>
            <button type="button" class="chorus-back-link" aria-label={t!(l, back)} onclick={p.back.clone()}>{ t!(l, back) }</button>
            { p.top.clone() }
            <h2 class="chorus-heading" tabindex="-1" ref={p.heading.clone()}>{ i.title.say(l) }</h2>
            if let Some(intro) = &i.intro { <p class="chorus-body">{ intro.say(l) }</p> }
            <p class="chorus-body">{ t!(l, your_feedback_is_sent_either_way) }</p>
            <div class="chorus-actions">{ skip_button.clone() }</div>
            { for i.items.iter().map(|it| crate::survey::item_view(&i, it, l, answers.get(&it.id), None, &set)) }
            <div class="chorus-actions">
                <button class="chorus-button" part="button" type="submit" aria-disabled={busy}>{
                    if p.sending { t!(l, sending) } else { match p.mode {
                        Mode::Quick => t!(l, send_feedback),
                        Mode::Form => t!(l, send_answers),
                        Mode::Aid => t!(l, send_my_answers_anonymously),
                    } }
                }</button>
                { skip_button }
            </div>
        </form>
    }
}
