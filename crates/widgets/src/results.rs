//! `<chorus-results site="…" service="…">`: what patients said about a service and what was
//! done about it, for a trust's own pages ("you said, we did").
//!
//! Everything comes from the server's public results, `GET /api/v1/results/{site}?service=…`:
//! FFT % positive by month with its 95% interval, the most mentioned themes, and the actions
//! staff recorded. The server decides what may be published: figures arrive as text, with `*`
//! where a count is too small (or would let one be worked out) and no interval then, and no
//! patient's words at all. The widget shows them exactly as sent: a table of the figures
//! (with a small chart beside it, hidden from screen readers as it repeats the table), in
//! English or Welsh, left to right or right to left.

use std::rc::Rc;

use wasm_bindgen::JsValue;
use web_sys::Element;
use yew::prelude::*;

use crate::{i18n::Locale, strings::t};

/// Properties of the results element.
#[derive(Properties, PartialEq)]
pub struct ResultsProps {
    /// Interface language.
    pub locale: Locale,
    /// The custom element, for `site`, `service` and `endpoint`.
    pub host: Element,
}

fn get(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &k.into()).unwrap_or(JsValue::NULL)
}

fn text(v: &JsValue, k: &str) -> String {
    get(v, k).as_string().unwrap_or_default()
}

fn list(v: &JsValue, k: &str) -> Vec<JsValue> {
    let a = get(v, k);
    if js_sys::Array::is_array(&a) {
        js_sys::Array::from(&a).iter().collect()
    } else {
        Vec::new()
    }
}

/// A published figure: `*` read as "suppressed" by screen readers.
fn figure(l: Locale, s: String) -> Html {
    if s == "*" {
        html! { <><span aria-hidden="true">{ "*" }</span><span class="chorus-visually-hidden">{ t!(l, suppressed) }</span></> }
    } else {
        html! { { s } }
    }
}

/// A published percentage (`{"percent": "71.4", "low": …, "high": …}` or `{"percent": "*"}`).
fn percent(l: Locale, p: &JsValue) -> Html {
    let v = text(p, "percent");
    if v == "*" || v.is_empty() {
        return figure(l, "*".into());
    }
    html! { { format!("{v}%") } }
}

fn interval(l: Locale, p: &JsValue) -> Html {
    let (lo, hi) = (text(p, "low"), text(p, "high"));
    if lo.is_empty() || hi.is_empty() {
        return figure(l, "*".into());
    }
    html! { { format!("{lo}% {} {hi}%", t!(l, to)) } }
}

/// "71.4" as tenths (714); `None` for `*`. (No float parsing: it costs the bundle kilobytes.)
fn tenths(s: &str) -> Option<u32> {
    let (int, frac) = s.split_once('.').unwrap_or((s, "0"));
    let d = |x: &str| x.parse::<u32>().ok();
    Some(d(int)? * 10 + d(frac.get(..1)?)?)
}

/// `2026-09` as "September 2026" in the widget's language.
fn month(l: Locale, ym: &str) -> String {
    match (
        ym.get(..4),
        ym.get(5..7).and_then(|m| m.parse::<u32>().ok()),
    ) {
        (Some(y), Some(m @ 1..=12)) => {
            let m = m as usize;
            format!(
                "{} {y}",
                crate::i18n::Ui::pick(l, "", EN_MONTHS[m - 1], CY_MONTHS[m - 1])
            )
        }
        _ => ym.to_string(),
    }
}

const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const CY_MONTHS: [&str; 12] = [
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
];

/// A table in a region that scrolls sideways on a narrow screen (and can be reached by
/// keyboard to do so).
fn table(label: &str, head: &[&str], rows: Html) -> Html {
    html! {
        <div class="chorus-table-wrap" role="region" aria-label={label.to_string()} tabindex="0">
            <table class="chorus-table">
                <caption>{ label }</caption>
                <thead><tr>{ for head.iter().map(|h| html! { <th scope="col">{ *h }</th> }) }</tr></thead>
                <tbody>{ rows }</tbody>
            </table>
        </div>
    }
}

/// One row of a table: its heading cell and three figures (one function for both tables: each
/// `html!` is code in the bundle).
fn row(head: String, cells: [Html; 3]) -> Html {
    html! { <tr><th scope="row">{ head }</th>{ for cells.into_iter().map(|c| html! { <td>{ c }</td> }) }</tr> }
}

/// The status of an action in the widget's language (the server's words are English).
fn status(l: Locale, s: &str) -> String {
    match s {
        "planned" => t!(l, planned).into(),
        "in progress" => t!(l, in_progress).into(),
        "done" => t!(l, done).into(),
        other => other.into(),
    }
}

/// Fetches the results once, then shows them.
#[function_component(Results)]
pub fn results(props: &ResultsProps) -> Html {
    let l = props.locale;
    let data = use_state(|| None::<Result<Rc<JsValue>, ()>>);
    {
        let (data, host) = (data.clone(), props.host.clone());
        use_effect_with((), move |_| {
            let site = crate::send::site_of(&host).unwrap_or_default();
            let enc = |s: &str| String::from(js_sys::encode_uri_component(s));
            let mut url = format!(
                "{}/api/v1/results/{}",
                host.get_attribute("endpoint")
                    .unwrap_or_default()
                    .trim_end_matches('/'),
                enc(&site)
            );
            if let Some(s) = host
                .get_attribute("service")
                .filter(|s| !s.trim().is_empty())
            {
                url = format!("{url}?service={}", enc(s.trim()));
            }
            wasm_bindgen_futures::spawn_local(async move {
                let r = crate::model::get_json(&url).await;
                if let Err(e) = &r {
                    web_sys::console::error_1(&format!("Chorus: {}", e.0).into());
                    crate::send::dispatch(
                        &host,
                        "chorus:error",
                        &[("code", "results_unavailable"), ("message", &e.0)],
                    );
                }
                data.set(Some(r.map(Rc::new).map_err(|_| ())));
            });
        });
    }
    let v = match &*data {
        None => return html! { <p class="chorus-hint" role="status">{ t!(l, loading) }</p> },
        Some(Err(())) => {
            return html! { <div class="chorus-inset" role="alert"><p>{ t!(l, results_unavailable) }</p></div> };
        }
        Some(Ok(v)) => v.clone(),
    };
    let months = list(&v, "months");
    let themes = list(&v, "themes");
    let actions = list(&v, "actions");
    let n = months.len() as u32;
    html! {
        <div class="chorus" part="results">
            <h2 class="chorus-heading">{ t!(l, friends_and_family_test) }</h2>
            <p class="chorus-body">{ t!(l, the_share_of_patients_who) }</p>
            if months.is_empty() {
                <p class="chorus-body">{ t!(l, no_responses_in_the_last) }</p>
            } else {
                // The bars and their intervals repeat the table, for sighted readers only.
                <svg class="chorus-chart" part="chart" aria-hidden="true" focusable="false" viewBox={format!("0 0 {} 1000", n.max(12) * 100)} preserveAspectRatio="none">
                    { for months.iter().enumerate().map(|(i, m)| {
                        let p = get(m, "positive");
                        let x = i as u32 * 100;
                        match tenths(&text(&p, "percent")) {
                            Some(v) => {
                                let (lo, hi) = (tenths(&text(&p, "low")).unwrap_or(v), tenths(&text(&p, "high")).unwrap_or(v));
                                html! { <g>
                                    <rect class="chorus-chart__bar" x={(x + 20).to_string()} y={(1000 - v).to_string()} width="60" height={v.to_string()} />
                                    <line class="chorus-chart__interval" x1={(x + 50).to_string()} x2={(x + 50).to_string()} y1={(1000 - lo).to_string()} y2={(1000 - hi).to_string()} />
                                </g> }
                            }
                            None => html! {},
                        }
                    }) }
                </svg>
                { table(t!(l, friends_and_family_test_by), &[t!(l, month), t!(l, responses), t!(l, good_or_very_good), t!(l, interval_95)], html! {
                    { for months.iter().map(|m| {
                        let p = get(m, "positive");
                        row(month(l, &text(m, "month")), [figure(l, text(m, "responses")), percent(l, &p), interval(l, &p)])
                    }) }
                }) }
            }
            <h2 class="chorus-heading">{ t!(l, what_comments_were_about) }</h2>
            <p class="chorus-body">{ t!(l, the_themes_patients_mentioned) }</p>
            if themes.is_empty() {
                <p class="chorus-body">{ t!(l, not_enough_comments_to_show) }</p>
            } else {
                { table(t!(l, most_mentioned_themes), &[t!(l, theme), t!(l, comments), t!(l, positive), t!(l, negative)], html! {
                    { for themes.iter().map(|th| row(text(th, "theme"),
                        [figure(l, text(th, "comments")), percent(l, &get(th, "positive")), percent(l, &get(th, "negative"))])) }
                }) }
            }
            <h2 class="chorus-heading">{ t!(l, you_said_we_did) }</h2>
            if actions.is_empty() {
                <p class="chorus-body">{ t!(l, no_actions_recorded_yet) }</p>
            } else {
                <ul class="chorus-actions-list" part="actions">
                    { for actions.iter().map(|a| {
                        let (started, done) = (text(a, "started_on"), text(a, "done_on"));
                        html! { <li class="chorus-inset">
                            <p><strong>{ t!(l, you_said) }</strong>{ " " }{ text(a, "you_said") }</p>
                            <p><strong>{ t!(l, we_did) }</strong>{ " " }{ text(a, "we_did") }</p>
                            <p class="chorus-hint">
                                { status(l, &text(a, "status")) }
                                if !started.is_empty() { { format!(" · {} {started}", t!(l, started)) } }
                                if !done.is_empty() { { format!(" · {} {done}", t!(l, done)) } }
                            </p>
                        </li> }
                    }) }
                </ul>
            }
            <p class="chorus-hint">{ t!(l, figures_from_fewer_than_5) }</p>
        </div>
    }
}
