//! `<chorus-form>` and `<chorus-decision-aid>`: any instrument, drawn from the core's model.
//!
//! One renderer serves both: an instrument's items are grouped into pages by theme (one theme
//! per page, with progress shown); each page is checked with the core's own
//! [`validate_response`] before moving on, so the messages a patient sees are exactly the
//! rules the server applies. A form ends with "check your answers" and sending; a decision aid
//! ends with a summary page (the lean the core computes, the knowledge check, SURE), which can
//! be printed, saved as a file and, if the trust wants it, sent anonymously.

use std::{collections::BTreeMap, rc::Rc};

use chorus_core::{
    Answer, ErrorCode, Instrument, Item, ItemKind, Response, instrument::AGREEMENT_ANSWERS, score,
    validate_response,
};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use crate::{
    i18n::{Locale, Say, Ui},
    model::Aid,
    send::{self, Outcome, SendError},
    strings::t,
    ui,
};

/// Which ending the instrument gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Check your answers, then send (`<chorus-form>`).
    Form,
    /// A summary to keep, print or save; sending is optional (`<chorus-decision-aid>`).
    Aid,
    /// Sent straight from its (single) page, like the FFT: `<chorus-fft instrument="…">`
    /// for the setting variants and the easy-read version.
    Quick,
}

/// Properties shared by both elements.
#[derive(Properties, PartialEq)]
pub struct SurveyProps {
    /// Interface language.
    pub locale: Locale,
    /// The custom element, for attributes, the inline instrument and events.
    pub host: Element,
    /// Form or decision aid.
    pub mode: Mode,
}

/// Loads the instrument (inline or from the server), then shows it.
#[function_component(Survey)]
pub fn survey(props: &SurveyProps) -> Html {
    let l = props.locale;
    // The standard FFT is built in: drawn on the first render, with no request.
    let loaded = use_state(|| {
        crate::model::builtin(&props.host).map(|i| Ok((Rc::new(i), Rc::new(Aid::default()))))
    });
    // Without a site nothing can be sent: a form says so instead of being filled in for
    // nothing; a decision aid still works, but offers no sending.
    let configured = send::site_of(&props.host).is_some();
    // Each kiosk reset draws a new Runner (a new key): nothing of one patient's DOM, state or
    // idempotency key reaches the next.
    let round = use_state(|| 0u32);
    let form = props.mode != Mode::Aid;
    let sends = form || props.host.has_attribute("send");
    {
        let (loaded, host) = (loaded.clone(), props.host.clone());
        use_effect_with((), move |_| {
            if !configured && sends {
                send::report_not_configured(&host);
            }
            if (!configured && form) || loaded.is_some() {
                return;
            }
            wasm_bindgen_futures::spawn_local(async move {
                let r = crate::model::load(&host).await;
                if let Err(e) = &r {
                    // For the web team: exactly what is wrong with the instrument.
                    web_sys::console::error_1(&format!("Chorus: {}", e.0).into());
                    send::dispatch(
                        &host,
                        "chorus:error",
                        &[("code", "instrument_unavailable"), ("message", &e.0)],
                    );
                }
                loaded.set(Some(
                    r.map(|(i, a)| (Rc::new(i), Rc::new(a))).map_err(|_| ()),
                ));
            });
        });
    }
    if !configured && form {
        return ui::unavailable(l, &props.host);
    }
    match &*loaded {
        None => {
            html! { <p class="chorus-hint" role="status">{ t!(l, loading) }</p> }
        }
        Some(Err(())) => html! {
            <div class="chorus-inset" role="alert">
                <p>{ t!(l, sorry_this_form_is_not) }</p>
            </div>
        },
        Some(Ok((i, aid))) => {
            let restart = {
                let (round, n) = (round.clone(), *round);
                Callback::from(move |_: ()| round.set(n + 1))
            };
            html! {
                <Runner key={*round} instrument={i.clone()} aid={aid.clone()} locale={crate::model::shown_locale(&props.host, l, i)} host={props.host.clone()} mode={props.mode} again={*round > 0} {restart} />
            }
        }
    }
}

/// Properties of a loaded survey.
#[derive(Properties)]
pub struct RunnerProps {
    /// The checked instrument.
    pub instrument: Rc<Instrument>,
    /// Its decision-aid parts (outcomes, about), checked too.
    pub aid: Rc<Aid>,
    /// Interface language.
    pub locale: Locale,
    /// The custom element.
    pub host: Element,
    /// Form or decision aid.
    pub mode: Mode,
    /// A kiosk's next patient: focus starts on the heading.
    pub again: bool,
    /// Start afresh for the next patient (kiosk).
    pub restart: Callback<()>,
}

/// The same loaded instrument is the same `Rc` (comparing two instruments field by field is
/// code the bundle need not carry).
impl PartialEq for RunnerProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.instrument, &o.instrument)
            && Rc::ptr_eq(&self.aid, &o.aid)
            && (self.locale, self.mode, self.again) == (o.locale, o.mode, o.again)
            && self.host == o.host
            && self.restart == o.restart
    }
}

/// A page: the items of one theme (or a run of items with none), in instrument order.
#[derive(Debug, PartialEq)]
pub struct Page {
    /// The theme, if the items have one.
    pub theme: Option<String>,
    /// Indices into the instrument's items.
    pub items: Vec<usize>,
}

/// Group items into pages: one per theme, in order of first appearance; items with no theme
/// make a page of their own wherever they fall.
pub fn pages(i: &Instrument) -> Vec<Page> {
    let mut pages: Vec<Page> = Vec::new();
    for (n, it) in i.items.iter().enumerate() {
        // A decision aid's "questions I want to ask" box is on its summary, not a page.
        if it.role.as_deref() == Some("questions") {
            continue;
        }
        let found = match &it.theme {
            Some(_) => pages.iter_mut().find(|p| p.theme == it.theme),
            None => pages.last_mut().filter(|p| p.theme.is_none()),
        };
        match found {
            Some(p) => p.items.push(n),
            None => pages.push(Page {
                theme: it.theme.clone(),
                items: vec![n],
            }),
        }
    }
    pages
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Page(usize),
    /// Check your answers (form) or the summary (decision aid).
    End,
    /// The optional "About you" questions, before sending (see [`crate::about`]).
    About,
    /// The form was sent or queued.
    Done(Outcome),
}

/// Field id of an item's first control (what labels, hints and error links point at).
fn field(it: &Item) -> String {
    format!("q-{}", it.id)
}

/// The patient's sentence for an error code.
fn message(l: Locale, code: ErrorCode, it: &Item) -> String {
    match code {
        ErrorCode::RequiredMissing if it.kind == ItemKind::FreeText => {
            t!(l, enter_an_answer).into()
        }
        ErrorCode::RequiredMissing => t!(l, select_an_answer).into(),
        ErrorCode::TextTooLong => format!(
            "{} {} {}",
            t!(l, your_answer_must_be),
            it.max_length.unwrap_or(0),
            t!(l, characters_or_fewer)
        ),
        _ => t!(l, check_this_answer).into(),
    }
}

/// Every answer an item offers as a radio or checkbox: (label, answer).
fn choices(i: &Instrument, it: &Item, l: Locale) -> Vec<(String, Answer)> {
    match it.kind {
        ItemKind::Agreement => AGREEMENT_ANSWERS
            .iter()
            .zip(l.agreement())
            .map(|((id, _), label)| (label.to_string(), Answer::Text(id.to_string())))
            .collect(),
        ItemKind::YesNo => vec![
            (t!(l, yes).into(), Answer::Bool(true)),
            (t!(l, no).into(), Answer::Bool(false)),
        ],
        ItemKind::Scale | ItemKind::Importance => {
            let (lo, hi) = it.range();
            (lo..=hi)
                .map(|n| (n.to_string(), Answer::Number(n)))
                .collect()
        }
        ItemKind::OptionGrid => i
            .options
            .iter()
            .map(|o| (o.text.say(l).to_string(), Answer::Text(o.id.clone())))
            .collect(),
        _ => it
            .options
            .iter()
            .map(|o| (o.text.say(l).to_string(), Answer::Text(o.id.clone())))
            .collect(),
    }
}

/// How an answer reads back on "check your answers" and in the summary (free text as it will
/// be stored, after redaction).
fn answer_label(i: &Instrument, it: &Item, a: Option<&Answer>, l: Locale) -> String {
    let not = t!(l, not_answered);
    let Some(a) = a else { return not.into() };
    if it.kind == ItemKind::FreeText
        && let Answer::Text(t) = chorus_core::redact::redact_answer(i, &it.id, a)
    {
        return t;
    }
    let all = choices(i, it, l);
    let label = |x: &Answer| {
        all.iter()
            .find(|(_, v)| v == x)
            .map(|(t, _)| t.clone())
            .unwrap_or_default()
    };
    match a {
        Answer::List(ids) if ids.is_empty() => not.into(),
        Answer::List(ids) => ids
            .iter()
            .map(|id| label(&Answer::Text(id.clone())))
            .collect::<Vec<_>>()
            .join(", "),
        Answer::Number(n) if it.kind != ItemKind::SingleChoice => {
            format!("{n} {} {}", t!(l, out_of), it.range().1)
        }
        other => label(other),
    }
}

type Set = Callback<(String, Option<Answer>)>;

/// One item, drawn by its kind.
pub(crate) fn item_view(
    i: &Instrument,
    it: &Item,
    l: Locale,
    value: Option<&Answer>,
    error: Option<&str>,
    set: &Set,
) -> Html {
    let text = it.text.say(l).to_string();
    let hint = it.hint.as_ref().map(|h| h.say(l).to_string());
    match it.kind {
        ItemKind::Info => html! { <p class="chorus-body" part="info">{ text }</p> },
        ItemKind::OptionGrid => grid_view(i, it, l),
        ItemKind::FreeText => {
            let (set, id) = (set.clone(), it.id.clone());
            let v = match value {
                Some(Answer::Text(t)) => t.as_str(),
                _ => "",
            };
            ui::free_text(
                l,
                &field(it),
                html! { { text } },
                hint.as_deref(),
                error,
                v,
                it.max_length.unwrap_or(1200) as usize,
                true,
                Callback::from(move |s: String| {
                    let a = (!s.is_empty()).then_some(Answer::Text(s));
                    set.emit((id.clone(), a))
                }),
            )
        }
        _ => choice_view(i, it, l, text, hint, value, error, set),
    }
}

#[allow(clippy::too_many_arguments)]
fn choice_view(
    i: &Instrument,
    it: &Item,
    l: Locale,
    text: String,
    hint: Option<String>,
    value: Option<&Answer>,
    error: Option<&str>,
    set: &Set,
) -> Html {
    let multiple = it.kind == ItemKind::MultipleChoice;
    let inline = matches!(it.kind, ItemKind::Scale | ItemKind::Importance);
    // Scales say what their ends mean.
    let hint = hint.or_else(|| {
        if !inline {
            return None;
        }
        let (lo, hi) = it.range();
        let end = |t: &Option<chorus_core::Text>, n: i64| {
            t.as_ref()
                .map(|t| format!("{n} = {}", t.say(l)))
                .unwrap_or_else(|| n.to_string())
        };
        Some(format!(
            "{}, {}",
            end(&it.min_label, lo),
            end(&it.max_label, hi)
        ))
    });
    let id = field(it);
    let described = [
        hint.as_ref().map(|_| format!("{id}-hint")),
        error.map(|_| format!("{id}-error")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let chosen: Vec<String> = match value {
        Some(Answer::List(l)) => l.clone(),
        _ => Vec::new(),
    };
    let options = choices(i, it, l);
    let kind = if multiple { "checkbox" } else { "radio" };
    let knowledge = it.kind == ItemKind::Knowledge;
    let feedback = knowledge
        .then(|| value.and_then(|v| knowledge_feedback(it, v, l)))
        .flatten();
    ui::group(
        error.is_some(),
        html! {
                <fieldset class="chorus-fieldset" aria-describedby={(!described.is_empty()).then_some(described)}>
                    // The FFT's mandated question is the page's own question: the large legend.
                    if it.role.as_deref() == Some(chorus_core::instrument::FFT_ROLE) {
                        <legend class="chorus-legend" part="legend">{ text }</legend>
                    } else {
                        <legend class="chorus-legend chorus-legend--s">{ text }</legend>
                    }
                    if let Some(h) = hint {
                        <p class="chorus-hint" id={format!("{id}-hint")}>{ h }</p>
                    }
                    if let Some(e) = error {
                        <p class="chorus-error-message" id={format!("{id}-error")}>
                            <span class="chorus-visually-hidden">{ t!(l, error) }</span>{ e }
                        </p>
                    }
                    { ui::radios(inline, html! { <>
                        { for options.into_iter().enumerate().map(|(n, (label, ans))| {
                            let input_id = if n == 0 { id.clone() } else { format!("{id}-{n}") };
                            let checked = if multiple {
                                matches!(&ans, Answer::Text(t) if chosen.contains(t))
                            } else {
                                value == Some(&ans)
                            };
                            let onchange = {
                                let (set, item, chosen, ans) = (set.clone(), it.id.clone(), chosen.clone(), ans.clone());
                                Callback::from(move |_: Event| {
                                    let next = match (&ans, multiple) {
                                        (Answer::Text(t), true) => {
                                            let mut c = chosen.clone();
                                            if let Some(p) = c.iter().position(|x| x == t) { c.remove(p); } else { c.push(t.clone()); }
                                            (!c.is_empty()).then_some(Answer::List(c))
                                        }
                                        _ => Some(ans.clone()),
                                    };
                                    set.emit((item.clone(), next))
                                })
                            };
                            let divider = matches!(&ans, Answer::Text(t) if t == "does_not_apply");
                            html! { <>
                                if divider { <p class="chorus-radios__divider">{ t!(l, or) }</p> }
                                { ui::radio(multiple, html! { <>
                                    <input class="chorus-radio__input" type={kind} id={input_id.clone()} name={id.clone()} {checked} {onchange} />
                                    <label class="chorus-radio__label" for={input_id}>
                                        // Easy-read symbols help reading; the words carry the meaning.
                                        if let Some(sym) = it.options.get(n).and_then(|o| o.symbol.as_deref()).filter(|_| !inline && it.kind != ItemKind::Agreement) {
                                            <span class="chorus-symbol" aria-hidden="true">{ sym }</span>
                                        }
                                        { label }
                                    </label>
                                </> }) }
                            </> }
                        }) }
                    </> }) }
                    // The live region is drawn with the question, empty, so that the feedback
                    // inserted into it later is announced (a region added with its text often is not).
                    if knowledge {
                        <div aria-live="polite" part="feedback-region">
                            if let Some(f) = feedback {
                                <div class="chorus-inset" part="feedback">{ f }</div>
                            }
                        </div>
                    }
                </fieldset>
        },
    )
}

/// Right or not, and why: shown as soon as a knowledge question is answered.
fn knowledge_feedback(it: &Item, v: &Answer, l: Locale) -> Option<Html> {
    let right = it.answer.as_deref()?;
    let correct = matches!(v, Answer::Text(t) if t == right);
    let right_text = it
        .options
        .iter()
        .find(|o| o.id == right)
        .map(|o| o.text.say(l))
        .unwrap_or_default();
    Some(html! { <>
        <p class="chorus-label">{ if correct { t!(l, thats_right).to_string() } else {
            format!("{} {right_text}", t!(l, not_quite_the_answer_is)) } }</p>
        if let Some(e) = &it.explanation { <p>{ e.say(l) }</p> }
    </> })
}

/// The option grid: a table on wide screens; on narrow ones each cell stacks under its
/// option's name (CSS, from `data-label`).
fn grid_view(i: &Instrument, it: &Item, l: Locale) -> Html {
    html! {
        <div class="chorus-grid-wrap" part="option-grid">
            <table class="chorus-grid">
                <caption class="chorus-legend chorus-legend--s">{ it.text.say(l) }</caption>
                <thead><tr>
                    <td></td>
                    { for i.options.iter().map(|o| html! { <th scope="col">{ o.text.say(l) }</th> }) }
                </tr></thead>
                <tbody>
                    { for it.rows.iter().map(|r| html! { <tr>
                        <th scope="row">{ r.question.say(l) }</th>
                        { for r.cells.iter().zip(&i.options).map(|(c, o)| html! {
                            <td data-label={o.text.say(l).to_string()}>{ c.say(l) }</td>
                        }) }
                    </tr> }) }
                </tbody>
            </table>
        </div>
    }
}

/// The response as it stands (blank free text left out).
fn response(i: &Instrument, l: Locale, key: &str, answers: &BTreeMap<String, Answer>) -> Response {
    let mut answers = answers.clone();
    answers.retain(|k, a| {
        k != crate::aid::LOCAL_QUESTIONS && !matches!(a, Answer::Text(t) if t.trim().is_empty())
    });
    send::scored(
        i,
        Response {
            instrument: i.id.clone(),
            version: i.version,
            locale: l.recorded(),
            idempotency_key: key.to_string(),
            answers,
            client_scores: None,
        },
    )
}

/// The core's verdict on the items of one page, as (item id, the patient's sentence). Run when
/// the patient asks to move on, not on every render.
fn page_errors(i: &Instrument, l: Locale, page: &Page, r: &Response) -> Vec<(String, String)> {
    match validate_response(i, r) {
        Ok(()) => Vec::new(),
        Err(es) => es
            .iter()
            .filter_map(|e| {
                let it = page
                    .items
                    .iter()
                    .map(|&k| &i.items[k])
                    .find(|it| Some(&it.id) == e.item.as_ref())?;
                // One sentence, the same next to the question and in the error summary.
                Some((
                    it.id.clone(),
                    format!("{}: {}", message(l, e.code, it), it.text.say(l)),
                ))
            })
            .collect(),
    }
}

/// Everything a running survey remembers: one reducer, not seven `use_state`s (each hook type
/// is code in the bundle).
#[derive(Clone, PartialEq)]
struct State {
    answers: BTreeMap<String, Answer>,
    step: Step,
    errors: Vec<(String, String)>,
    /// "Change" from the end: moving on returns there.
    back_to_end: bool,
    failed: Option<SendError>,
    sending: bool,
    /// What to focus after the next render: `Some("")` = the page heading (or the error
    /// summary if there are errors); `Some(id)` = that field. Never on first load.
    focus: Option<String>,
    /// Kiosk: idle for long enough that the form is about to be cleared.
    warn: bool,
}

enum Act {
    /// To a step (errors cleared), focusing the target; `Some(b)` also sets `back_to_end`.
    Go(Step, String, Option<bool>),
    Answers(BTreeMap<String, Answer>),
    /// This page's errors, with focus to the summary.
    Errors(Vec<(String, String)>),
    Sending,
    Done(Outcome),
    /// Kiosk: show or hide the "still there?" warning.
    Warn(bool),
}

impl Reducible for State {
    type Action = Act;

    fn reduce(self: Rc<Self>, a: Act) -> Rc<Self> {
        let mut s = Rc::unwrap_or_clone(self);
        match a {
            Act::Go(step, target, back) => {
                s.errors.clear();
                s.step = step;
                s.focus = Some(target);
                if let Some(b) = back {
                    s.back_to_end = b;
                }
            }
            Act::Answers(a) => s.answers = a,
            Act::Errors(e) => {
                s.errors = e;
                s.focus = Some(String::new());
            }
            Act::Sending => {
                s.sending = true;
                s.failed = None;
            }
            Act::Warn(w) => s.warn = w,
            Act::Done(o) => {
                s.sending = false;
                s.focus = Some(String::new());
                match o {
                    Outcome::Failed(e) => s.failed = Some(e),
                    o => s.step = Step::Done(o),
                }
            }
        }
        Rc::new(s)
    }
}

/// The loaded survey: pages, then the ending.
#[function_component(Runner)]
pub fn runner(props: &RunnerProps) -> Html {
    // The FFT module knows one mode: a constant there, so the rest is compiled out of it.
    let mode = if crate::SUITE {
        props.mode
    } else {
        Mode::Quick
    };
    let (l, i, aid) = (props.locale, props.instrument.clone(), props.aid.clone());
    // Past its review date: the patient is told in a plain note (the web team in the console,
    // by `model::load`).
    let past = crate::SUITE
        && aid
            .about
            .as_ref()
            .is_some_and(|a| a.past_review(crate::aid::today()));
    let pages = use_memo(Rc::as_ptr(&i) as usize, {
        let i = i.clone();
        move |_| pages(&i)
    });
    // A kiosk is shared by one patient after another: nothing of theirs is kept anywhere.
    let kiosk = crate::SUITE && mode != Mode::Aid && props.host.has_attribute("kiosk");
    // Answers typed before the element was last removed from the page (see `send::draft`),
    // for this version of the instrument.
    let kept = || {
        (!kiosk)
            .then(|| send::draft::load(&props.host, i.version))
            .flatten()
    };
    let st = use_reducer(|| {
        let kept = kept();
        State {
            step: match &kept {
                Some((_, p)) if *p >= pages.len() => Step::End,
                Some((_, p)) => Step::Page(*p),
                None => Step::Page(0),
            },
            answers: kept.map(|k| k.0).unwrap_or_default(),
            errors: Vec::new(),
            back_to_end: false,
            failed: None,
            sending: false,
            focus: props.again.then(String::new),
            warn: false,
        }
    });
    let key = use_memo((), |_| send::new_key());
    let (heading, summary, panel) = (use_node_ref(), use_node_ref(), use_node_ref());
    {
        let (heading, summary, panel) = (heading.clone(), summary.clone(), panel.clone());
        let deps = (
            st.focus.clone(),
            st.step.clone(),
            st.errors.len(),
            st.failed.is_some(),
        );
        use_effect_with(deps, move |(f, step, errs, failed)| {
            let Some(f) = f else { return };
            let el = if *errs > 0 || *failed {
                summary.cast::<HtmlElement>()
            } else if matches!(step, Step::Done(_)) {
                panel.cast::<HtmlElement>()
            } else if !f.is_empty() {
                if let Some(h) = heading.cast::<Element>() {
                    ui::focus_in_widget(&h, f);
                }
                None
            } else {
                heading.cast::<HtmlElement>()
            };
            if let Some(el) = el {
                let _ = el.focus();
            }
        });
    }
    // The kiosk clock reads where the patient is from each render.
    let phase = use_memo((), |_| std::cell::Cell::new(crate::kiosk::EMPTY));
    phase.set(match st.step {
        _ if st.sending => crate::kiosk::SENDING,
        Step::Done(_) => crate::kiosk::DONE,
        Step::Page(0) if st.answers.is_empty() => crate::kiosk::EMPTY,
        _ => crate::kiosk::BUSY,
    });
    {
        let (host, phase, st, restart) = (
            props.host.clone(),
            phase.clone(),
            st.clone(),
            props.restart.clone(),
        );
        use_effect_with((), move |_| {
            let on = kiosk.then(|| {
                let warn = Callback::from(move |w| st.dispatch(Act::Warn(w)));
                crate::kiosk::clock(&host, phase, warn, restart)
            });
            move || {
                if let Some(on) = on {
                    on.set(false)
                }
            }
        });
    }
    // A polite question before an idle kiosk clears the form, in a region drawn empty so that
    // what appears in it is announced.
    let warning = kiosk.then(|| {
        let st = st.clone();
        html! {
            <div aria-live="assertive" part="kiosk-warning">
                if st.warn {
                    <div class="chorus-inset chorus-kiosk-warning">
                        <p class="chorus-body">{ t!(l, are_you_still_there) }</p>
                        <button type="button" class="chorus-button chorus-button--secondary"
                            onclick={Callback::from(move |_: MouseEvent| st.dispatch(Act::Warn(false)))}>{ t!(l, i_am_still_here) }</button>
                    </div>
                }
            </div>
        }
    });
    // What is typed, and the page, are kept for a re-mount; sending clears them.
    let keep = {
        let (host, version, n) = (props.host.clone(), i.version, pages.len());
        move |a: &BTreeMap<String, Answer>, s: &Step| {
            let page = match s {
                Step::Page(p) => *p,
                _ => n,
            };
            // Nothing is kept once sent (the patient may still add questions to print).
            if !kiosk && !matches!(s, Step::Done(_)) {
                send::draft::save(&host, version, a, page);
            }
        }
    };
    // Go to a step (errors cleared), focusing `target` ("" = the heading); `back` also sets
    // whether "continue" returns to the end.
    let go = {
        let st = st.clone();
        let keep = keep.clone();
        move |s: Step, target: &str, back: Option<bool>| {
            keep(&st.answers, &s);
            st.dispatch(Act::Go(s, target.to_string(), back));
        }
    };
    let set: Set = {
        let st = st.clone();
        Callback::from(move |(id, a): (String, Option<Answer>)| {
            let mut next = st.answers.clone();
            match a {
                Some(a) => next.insert(id, a),
                None => next.remove(&id),
            };
            keep(&next, &st.step);
            st.dispatch(Act::Answers(next));
        })
    };

    // A form ends with the panel alone; a decision aid keeps its summary under it, so it can
    // still be printed and saved after sending.
    let done_panel = match &st.step {
        Step::Done(o) => ui::outcome_panel(l, o, &panel),
        _ => None,
    };
    if mode != Mode::Aid
        && let Some(p) = done_panel.clone()
    {
        if kiosk {
            return html! { <>{ p }<p class="chorus-body" part="kiosk-next">{ t!(l, kiosk_next) }</p></> };
        }
        return p;
    }

    let n = pages.len();
    let title = i.title.say(l).to_string();
    // The element asks the "About you" questions before it sends.
    let about = crate::SUITE && crate::about::asked(&props.host);
    // Send a response (check-your-answers page, the aid's summary, or a quick form's page),
    // with the "About you" answers once they have been asked (`None`: not yet).
    let send_with = {
        let (host, st) = (props.host.clone(), st.clone());
        Rc::new(
            move |r: Response, answers: Option<BTreeMap<String, Answer>>| {
                // The button stays focusable while sending (so focus does not fall to the page),
                // so a second press must do nothing.
                if st.sending {
                    return;
                }
                let Some(answers) = answers.or_else(|| (!about).then(BTreeMap::new)) else {
                    // Not kept in the draft: a re-mount comes back to the feedback.
                    st.dispatch(Act::Go(Step::About, String::new(), None));
                    return;
                };
                let prepared = send::prepare(&host, &r);
                st.dispatch(Act::Sending);
                let st = st.clone();
                crate::about::submit(
                    host.clone(),
                    prepared,
                    answers,
                    r.idempotency_key.clone(),
                    Callback::from(move |o: Outcome| st.dispatch(Act::Done(o))),
                );
            },
        )
    };
    let send_now = {
        let send_with = send_with.clone();
        Rc::new(move |r: Response| send_with(r, None))
    };

    match &st.step {
        Step::Page(p) => {
            let p = (*p).min(n.saturating_sub(1));
            let page = &pages[p];
            let onsubmit = {
                let (st, back_to_end) = (st.clone(), st.back_to_end);
                let (i, pages, key) = (i.clone(), pages.clone(), key.clone());
                let (go, send_now) = (go.clone(), send_now.clone());
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let r = response(&i, l, &key, &st.answers);
                    let found = page_errors(&i, l, &pages[p], &r);
                    if !found.is_empty() {
                        st.dispatch(Act::Errors(found));
                    } else if mode == Mode::Quick && p + 1 >= n {
                        send_now(r);
                    } else {
                        let next = if back_to_end || p + 1 >= n {
                            Step::End
                        } else {
                            Step::Page(p + 1)
                        };
                        go(next, "", None);
                    }
                })
            };
            let back = (p > 0).then(|| {
                let go = go.clone();
                Callback::from(move |_: MouseEvent| go(Step::Page(p - 1), "", None))
            });
            let heading_text = page
                .theme
                .as_ref()
                .and_then(|t| i.themes.iter().find(|x| &x.id == t))
                .map(|t| t.title.say(l).to_string())
                .unwrap_or_else(|| title.clone());
            let entries: Vec<(String, String)> = st
                .errors
                .iter()
                .map(|(id, m)| (format!("q-{id}"), m.clone()))
                .collect();
            html! {
                <form class="chorus" part="form" novalidate=true {onsubmit}>
                    if let Some(w) = warning { { w } }
                    if let Some(onclick) = back {
                        <button type="button" class="chorus-back-link" aria-label={t!(l, back)} {onclick}>{ t!(l, back) }</button>
                    }
                    if !entries.is_empty() || st.failed.is_some() {
                        { ui::error_summary(l, &entries, st.failed.as_ref().map(|e| ui::failure(l, e, &props.host)), &summary) }
                    }
                    <h2 class="chorus-heading" tabindex="-1" ref={heading}>
                        if n > 1 {
                            <span class="chorus-caption" part="progress">
                                { format!("{title} – {} {} {} {n}", t!(l, page), p + 1, t!(l, of)) }
                            </span>
                        }
                        { heading_text }
                    </h2>
                    if p == 0 {
                        if let Some(a) = aid.about.as_ref().filter(|_| past) {
                            <p class="chorus-inset" part="review-note">{ crate::aid::review_note(a, l) }</p>
                        }
                        if let Some(intro) = &i.intro { <p class="chorus-body">{ intro.say(l) }</p> }
                    }
                    { for page.items.iter().map(|&k| {
                        let it = &i.items[k];
                        if crate::SUITE && it.kind == ItemKind::Outcome {
                            return crate::aid::outcome_view(&i, &aid, it, l);
                        }
                        let err = st.errors.iter().find(|(id, _)| id == &it.id).map(|(_, m)| m.as_str());
                        item_view(&i, it, l, st.answers.get(&it.id), err, &set)
                    }) }
                    <button class="chorus-button" part="button" type="submit" aria-disabled={st.sending.then_some("true")}>{
                        if st.sending { t!(l, sending) }
                        else if mode == Mode::Quick && p + 1 >= n && !about { t!(l, send_feedback) }
                        else if mode == Mode::Quick && p + 1 >= n { t!(l, continue_on) }
                        else if st.back_to_end { t!(l, save_and_go_back) }
                        else if p + 1 < n { t!(l, continue_on) }
                        else if mode == Mode::Aid { t!(l, see_your_summary) }
                        else { t!(l, check_your_answers) }
                    }</button>
                    if p == 0 && crate::SUITE {
                        if let Some(a) = &aid.about {
                            <details class="chorus-details" part="about-aid">
                                <summary class="chorus-link">{ t!(l, about_this_aid) }</summary>
                                { crate::aid::about_view(a, l, false) }
                            </details>
                        }
                    }
                </form>
            }
        }
        // Only the suite has these pages: an FFT on its own sends from its one page.
        Step::About | Step::End | Step::Done(_) if !crate::SUITE => html! {},
        Step::About => {
            let send = {
                let (st, i, key) = (st.clone(), i.clone(), key.clone());
                Callback::from(move |a: BTreeMap<String, Answer>| {
                    send_with(response(&i, l, &key, &st.answers), Some(a))
                })
            };
            let back = {
                let go = go.clone();
                let to = if mode == Mode::Quick {
                    Step::Page(n.saturating_sub(1))
                } else {
                    Step::End
                };
                Callback::from(move |_: MouseEvent| go(to.clone(), "", None))
            };
            let top = st
                .failed
                .as_ref()
                .map(|e| ui::error_summary(l, &[], Some(ui::failure(l, e, &props.host)), &summary))
                .unwrap_or_default();
            html! {
                <crate::about::AboutYou locale={l} host={props.host.clone()} {heading} sending={st.sending} {mode} {top} {back} {send} />
            }
        }
        _ => {
            let r = response(&i, l, &key, &st.answers);
            let on_send = {
                // Built when pressed, from the state this render saw (no copy of the response
                // kept in the callback: cloning a response is code the bundle need not carry).
                let (send_now, st, i, key) = (send_now.clone(), st.clone(), i.clone(), key.clone());
                Callback::from(move |_: MouseEvent| send_now(response(&i, l, &key, &st.answers)))
            };
            let back_to = {
                let go = go.clone();
                move |p: usize, target: String, keep: bool| {
                    let go = go.clone();
                    Callback::from(move |_: MouseEvent| go(Step::Page(p), &target, Some(keep)))
                }
            };
            let failure = st.failed.as_ref().map(|e| ui::failure(l, e, &props.host));
            let sendable = props.host.has_attribute("send") && send::site_of(&props.host).is_some();
            let send_label = if st.sending {
                t!(l, sending)
            } else if mode == Mode::Aid {
                t!(l, send_my_answers_anonymously)
            } else if about {
                t!(l, continue_on)
            } else {
                t!(l, send_answers)
            };
            let send_button = html! {
                // Not `disabled` while sending: a disabled button drops focus to the page.
                <button class="chorus-button" part="button" type="button" aria-disabled={st.sending.then_some("true")} onclick={on_send}>{ send_label }</button>
            };
            html! {
                <div class="chorus" part="form">
                    if let Some(w) = warning { { w } }
                    if done_panel.is_none() {
                        // Named "Back" (the chevron the stylesheet draws is not part of the name).
                        <button type="button" class="chorus-back-link" aria-label={t!(l, back)} onclick={back_to(n.saturating_sub(1), String::new(), false)}>{ t!(l, back) }</button>
                    }
                    if let Some(p) = done_panel.clone() { { p } }
                    if let Some(f) = failure {
                        { ui::error_summary(l, &[], Some(f), &summary) }
                    }
                    if mode == Mode::Form {
                        <h2 class="chorus-heading" tabindex="-1" ref={heading}>{ t!(l, check_your_answers_before_sending) }</h2>
                        { for pages.iter().enumerate().map(|(p, page)| {
                            let rows: Vec<&Item> = page.items.iter().map(|&k| &i.items[k]).filter(|it| it.kind.answerable()).collect();
                            if rows.is_empty() { return html! {}; }
                            let theme = page.theme.as_ref().and_then(|t| i.themes.iter().find(|x| &x.id == t)).map(|t| t.title.say(l).to_string());
                            html! { <>
                                if let Some(t) = theme { <h3 class="chorus-subheading">{ t }</h3> }
                                <dl class="chorus-summary-list">
                                    { for rows.into_iter().map(|it| { let q = it.text.say(l); html! {
                                        <div class="chorus-summary-list__row">
                                            <dt class="chorus-summary-list__key">{ q }</dt>
                                            <dd class="chorus-summary-list__value">{ answer_label(&i, it, r.answers.get(&it.id), l) }</dd>
                                            <dd class="chorus-summary-list__actions">
                                                <button type="button" class="chorus-link" onclick={back_to(p, field(it), true)}>
                                                    { t!(l, change) }<span class="chorus-visually-hidden">{ format!(" {q}") }</span>
                                                </button>
                                            </dd>
                                        </div>
                                    } }) }
                                </dl>
                            </> }
                        }) }
                        { send_button }
                    } else {
                        { crate::aid::summary(&i, &aid, &score(&i, &r), &r, l, &heading, past, questions_box(&i, l, &st.answers, &set, sendable && done_panel.is_none())) }
                        <div class="chorus-actions chorus-no-print">
                            <button class="chorus-button chorus-button--secondary" type="button" onclick={Callback::from(|_: MouseEvent| {
                                if let Some(w) = web_sys::window() { let _ = w.print(); }
                            })}>{ t!(l, print_your_summary) }</button>
                            <button class="chorus-button chorus-button--secondary" type="button" onclick={{
                                // Written when asked for, not on every render.
                                let (i, aid, st, key) = (i.clone(), aid.clone(), st.clone(), key.clone());
                                Callback::from(move |_: MouseEvent| {
                                    let r = response(&i, l, &key, &st.answers);
                                    let q = match st.answers.get(&crate::aid::questions_key(&i)) {
                                        Some(Answer::Text(q)) => q.as_str(),
                                        _ => "",
                                    };
                                    save(&crate::aid::summary_text(&i, &aid, &score(&i, &r), &r, l, past, q))
                                })
                            }}>{ t!(l, save_your_summary) }</button>
                            if done_panel.is_none() {
                                <button type="button" class="chorus-link" onclick={back_to(0, String::new(), false)}>{ t!(l, change_your_answers) }</button>
                            }
                        </div>
                        if sendable && done_panel.is_none() {
                            <div class="chorus-inset chorus-no-print">
                                <p>{ t!(l, you_can_send_your_answers) }</p>
                                { send_button }
                            </div>
                        }
                    }
                </div>
            }
        }
    }
}

/// Offer the summary as a plain-text file (a `data:` link with `download`: no server, no
/// cookie, nothing kept).
fn save(text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(a) = doc.create_element("a") {
        let href = format!(
            "data:text/plain;charset=utf-8,{}",
            String::from(js_sys::encode_uri_component(text))
        );
        let _ = a.set_attribute("href", &href);
        let _ = a.set_attribute("download", "decision-summary.txt");
        if let Ok(a) = a.dyn_into::<HtmlElement>() {
            a.click();
        }
    }
}

/// "Questions I want to ask" on a decision aid's summary: what the patient types is kept with
/// their answers on this device. It is sent only where the aid has an item for it (role
/// `questions`) and the patient sends their answers (`sent`: that is still possible), and then
/// the collector redacts it like any free text, so only then is the redaction preview shown.
/// Printed as text, since a text box prints cut short.
fn questions_box(
    i: &Instrument,
    l: Locale,
    answers: &BTreeMap<String, Answer>,
    set: &Set,
    sent: bool,
) -> Html {
    let item = crate::aid::questions_item(i);
    let key = crate::aid::questions_key(i);
    let sent = sent && item.is_some();
    let v = match answers.get(&key) {
        Some(Answer::Text(t)) => t.as_str(),
        _ => "",
    };
    let hint = format!(
        "{} {}",
        t!(l, questions_hint),
        if sent {
            t!(l, questions_sent_if)
        } else {
            t!(l, questions_stay_here)
        }
    );
    let set = set.clone();
    html! {
        <section class="chorus-questions" part="questions">
            <div class="chorus-no-print">
                { ui::free_text(
                    l,
                    "q-questions",
                    html! { { t!(l, questions_i_want_to_ask) } },
                    Some(&hint),
                    None,
                    v,
                    item.and_then(|it| it.max_length).unwrap_or(1200) as usize,
                    sent,
                    Callback::from(move |s: String| {
                        let a = (!s.is_empty()).then_some(Answer::Text(s));
                        set.emit((key.clone(), a))
                    }),
                ) }
            </div>
            if !v.trim().is_empty() {
                <div class="chorus-print-only">
                    <h3 class="chorus-subheading">{ t!(l, questions_i_want_to_ask) }</h3>
                    <p class="chorus-body chorus-pre">{ v }</p>
                </div>
            }
        </section>
    }
}
