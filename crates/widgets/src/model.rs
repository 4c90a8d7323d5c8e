//! Getting an instrument into the widget: from an inline `<script type="application/json">`
//! child of the element, or from the collector's `GET /api/v1/instruments/{id}`.
//!
//! Why not `serde_json`: the browser already has a fast, well-tested JSON parser
//! (`JSON.parse`, or `Response.json()`), and serde's generated deserialisers plus serde_json's
//! parser would cost more bytes than the rest of a widget. So the text is parsed by the browser
//! and this module walks the resulting object into the core's [`Instrument`], then runs the
//! core's own definition checks, so a web team's inline instrument gets the same scrutiny as
//! one loaded on the server.

use std::collections::BTreeMap;

use chorus_core::{
    Instrument, Item, ItemKind, Scoring, Text,
    aid::{About, DENOMINATORS, Outcome, Rate, Reference, Span},
    instrument::{Choice, GridRow, Theme},
};
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, RequestCredentials, RequestInit, RequestMode};

use crate::i18n::Locale;

/// Why an instrument could not be used. Shown to the web team in the console and, briefly,
/// to the patient ("this form is not available").
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError(pub String);

type R<T> = Result<T, LoadError>;

/// Where a value sits in the instrument's JSON (`$.items[2].text`), written out only when it
/// is wrong: a reader that formatted every field's path as it went would pay for it on every
/// load, and in bundle bytes at every call.
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, u32),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root => f.write_str("$"),
            At::Key(up, k) => write!(f, "{up}.{k}"),
            At::Index(up, i) => write!(f, "{up}[{i}]"),
        }
    }
}

fn bad(at: &At, what: &str) -> LoadError {
    LoadError(format!("{at}: {what}"))
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

fn string(v: &JsValue, key: &str, at: &At) -> R<String> {
    get(v, key)
        .as_string()
        .ok_or_else(|| bad(&At::Key(at, key), "expected a string"))
}

fn opt_string(v: &JsValue, key: &str, at: &At) -> R<Option<String>> {
    let x = get(v, key);
    if absent(&x) {
        return Ok(None);
    }
    x.as_string()
        .map(Some)
        .ok_or_else(|| bad(&At::Key(at, key), "expected a string"))
}

/// A whole number within `lo..=hi` (JSON numbers are doubles in the browser).
fn int(x: &JsValue, at: &At, lo: i64, hi: i64) -> R<i64> {
    match x.as_f64() {
        Some(f) if f.fract() == 0.0 && f >= lo as f64 && f <= hi as f64 => Ok(f as i64),
        _ => Err(bad(at, "expected a whole number in range")),
    }
}

fn opt_int(v: &JsValue, key: &str, at: &At, lo: i64, hi: i64) -> R<Option<i64>> {
    let x = get(v, key);
    if absent(&x) {
        return Ok(None);
    }
    int(&x, &At::Key(at, key), lo, hi).map(Some)
}

fn flag(v: &JsValue, key: &str, at: &At) -> R<bool> {
    let x = get(v, key);
    if absent(&x) {
        return Ok(false);
    }
    x.as_bool()
        .ok_or_else(|| bad(&At::Key(at, key), "expected true or false"))
}

/// The text object at `key`.
fn text(v: &JsValue, key: &str, at: &At) -> R<Text> {
    text_in(&get(v, key), &At::Key(at, key))
}

fn text_in(x: &JsValue, at: &At) -> R<Text> {
    if !x.is_object() {
        return Err(bad(at, "expected a text object {\"en\": …, \"cy\": …}"));
    }
    Ok(Text {
        en: string(x, "en", at)?,
        cy: opt_string(x, "cy", at)?,
    })
}

fn opt_text(v: &JsValue, key: &str, at: &At) -> R<Option<Text>> {
    let x = get(v, key);
    if absent(&x) {
        return Ok(None);
    }
    text_in(&x, &At::Key(at, key)).map(Some)
}

/// Each element of an optional array, through `f`.
fn list<T>(v: &JsValue, key: &str, at: &At, f: impl Fn(&JsValue, &At) -> R<T>) -> R<Vec<T>> {
    let x = get(v, key);
    if absent(&x) {
        return Ok(Vec::new());
    }
    let at = At::Key(at, key);
    let a = x
        .dyn_into::<Array>()
        .map_err(|_| bad(&at, "expected a list"))?;
    // A plain loop: `collect::<Result<…>>` costs kilobytes of bundle per element type.
    let mut out = Vec::with_capacity(a.length() as usize);
    for i in 0..a.length() {
        out.push(f(&a.get(i), &At::Index(&at, i))?);
    }
    Ok(out)
}

/// Each own property of an optional object, through `f`.
fn map<T>(
    v: &JsValue,
    key: &str,
    at: &At,
    f: impl Fn(&JsValue, &At) -> R<T>,
) -> R<BTreeMap<String, T>> {
    let x = get(v, key);
    if absent(&x) {
        return Ok(BTreeMap::new());
    }
    let at = At::Key(at, key);
    let o = x
        .dyn_into::<js_sys::Object>()
        .map_err(|_| bad(&at, "expected an object"))?;
    let mut out = BTreeMap::new();
    for e in js_sys::Object::entries(&o).iter() {
        let pair: Array = e.unchecked_into();
        let k = pair.get(0).as_string().unwrap_or_default();
        let value = f(&pair.get(1), &At::Key(&at, &k))?;
        out.insert(k, value);
    }
    Ok(out)
}

/// A snake_case name through a table (the same names the core's serde derive accepts).
fn name<T: Copy>(v: &JsValue, key: &str, at: &At, table: &[(&str, T)]) -> R<T> {
    let s = string(v, key, at)?;
    table
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, t)| *t)
        .ok_or_else(|| bad(&At::Key(at, key), &format!("unknown value \"{s}\"")))
}

const SCORINGS: [(&str, Scoring); 7] = [
    ("fft", Scoring::Fft),
    ("i_statements", Scoring::IStatements),
    ("sure", Scoring::Sure),
    ("collaborate", Scoring::Collaborate),
    ("sdm_q_9", Scoring::SdmQ9),
    ("decision_aid", Scoring::DecisionAid),
    ("none", Scoring::None),
];

const KINDS: [(&str, ItemKind); 11] = [
    ("single_choice", ItemKind::SingleChoice),
    ("multiple_choice", ItemKind::MultipleChoice),
    ("agreement", ItemKind::Agreement),
    ("scale", ItemKind::Scale),
    ("yes_no", ItemKind::YesNo),
    ("free_text", ItemKind::FreeText),
    ("option_grid", ItemKind::OptionGrid),
    ("importance", ItemKind::Importance),
    ("knowledge", ItemKind::Knowledge),
    ("info", ItemKind::Info),
    ("outcome", ItemKind::Outcome),
];

fn choice(v: &JsValue, at: &At) -> R<Choice> {
    Ok(Choice {
        id: string(v, "id", at)?,
        text: text(v, "text", at)?,
        symbol: opt_string(v, "symbol", at)?,
    })
}

fn item(v: &JsValue, at: &At) -> R<Item> {
    Ok(Item {
        id: string(v, "id", at)?,
        kind: name(v, "kind", at, &KINDS)?,
        text: text(v, "text", at)?,
        hint: opt_text(v, "hint", at)?,
        theme: opt_string(v, "theme", at)?,
        required: flag(v, "required", at)?,
        role: opt_string(v, "role", at)?,
        options: list(v, "options", at, choice)?,
        min: opt_int(v, "min", at, i64::MIN >> 11, i64::MAX >> 11)?,
        max: opt_int(v, "max", at, i64::MIN >> 11, i64::MAX >> 11)?,
        min_label: opt_text(v, "min_label", at)?,
        max_label: opt_text(v, "max_label", at)?,
        max_length: opt_int(v, "max_length", at, 0, u32::MAX.into())?.map(|n| n as u32),
        rows: list(v, "rows", at, |r, at| {
            Ok(GridRow {
                id: string(r, "id", at)?,
                question: text(r, "question", at)?,
                cells: list(r, "cells", at, text_in)?,
            })
        })?,
        stances: map(v, "stances", at, |x, at| {
            int(x, at, i8::MIN.into(), i8::MAX.into()).map(|n| n as i8)
        })?,
        answer: opt_string(v, "answer", at)?,
        explanation: opt_text(v, "explanation", at)?,
    })
}

/// Walk a parsed JSON value into an [`Instrument`] and check it with the core's definition
/// rules. Every shape error names its JSON path; definition problems are listed together.
pub fn instrument_from_js(v: &JsValue) -> Result<Instrument, LoadError> {
    let at = &At::Root;
    if !v.is_object() {
        return Err(bad(at, "expected an instrument object"));
    }
    let instrument = Instrument {
        id: string(v, "id", at)?,
        version: int(
            &get(v, "version"),
            &At::Key(at, "version"),
            0,
            u32::MAX.into(),
        )? as u32,
        scoring: name(v, "scoring", at, &SCORINGS)?,
        title: text(v, "title", at)?,
        intro: opt_text(v, "intro", at)?,
        example: flag(v, "example", at)?,
        translation_status: map(v, "translation_status", at, |x, at| {
            x.as_string().ok_or_else(|| bad(at, "expected a string"))
        })?,
        themes: list(v, "themes", at, |t, at| {
            Ok(Theme {
                id: string(t, "id", at)?,
                title: text(t, "title", at)?,
            })
        })?,
        options: list(v, "options", at, choice)?,
        items: list(v, "items", at, item)?,
    };
    refuse(instrument.validate())?;
    Ok(instrument)
}

/// Definition problems as one error (none: `Ok`). An inline instrument may be English only:
/// missing Welsh is shown in English (see [`shown_locale`]), not refused. Every other
/// definition rule still applies.
fn refuse(problems: Vec<chorus_core::DefinitionProblem>) -> R<()> {
    let problems: Vec<_> = problems
        .into_iter()
        .filter(|d| d.code != "missing_translation" || d.path.ends_with(".en"))
        .collect();
    if problems.is_empty() {
        return Ok(());
    }
    Err(LoadError(
        problems
            .iter()
            .map(|d| format!("{}: {}", d.path, d.message))
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

// The aid parts are read leniently, through `Option`s (a shape error's path and words cost
// bundle bytes that `chorus check` already spends for the author): `about` is shown as far as
// it goes; an outcome is whole or refused.

fn s(v: &JsValue, key: &str) -> Option<String> {
    get(v, key).as_string()
}

fn t(v: &JsValue, key: &str) -> Option<Text> {
    let x = get(v, key);
    Some(Text {
        en: s(&x, "en")?,
        cy: s(&x, "cy"),
    })
}

fn n(v: &JsValue, key: &str) -> Option<u32> {
    get(v, key)
        .as_f64()
        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
        .map(|f| f as u32)
}

/// The list at `key` (empty if it is not one), read in place by index.
fn each(v: &JsValue, key: &str) -> Array {
    get(v, key).dyn_into::<Array>().unwrap_or_default()
}

fn outcome(v: &JsValue) -> Option<Outcome> {
    let mut rates = Vec::new();
    for r in each(v, "rates").iter() {
        let over = get(&r, "over");
        type Unit = (&'static str, fn(u32) -> Span);
        let units: [Unit; 4] = [
            ("days", Span::Days),
            ("weeks", Span::Weeks),
            ("months", Span::Months),
            ("years", Span::Years),
        ];
        let over = units.into_iter().find_map(|(k, f)| n(&over, k).map(f))?;
        rates.push(Rate {
            option: s(&r, "option")?,
            events: n(&r, "events")?,
            per: n(&r, "per")?,
            over,
            low: n(&r, "low"),
            high: n(&r, "high"),
        });
    }
    Some(Outcome {
        population: t(v, "population")?,
        event: t(v, "event")?,
        no_event: t(v, "no_event")?,
        source: s(v, "source"),
        rates,
    })
}

fn about(v: &JsValue) -> About {
    let mut a = About {
        produced: s(v, "produced").unwrap_or_default(),
        next_review: s(v, "next_review").unwrap_or_default(),
        update_policy: t(v, "update_policy"),
        funding: t(v, "funding"),
        conflicts: t(v, "conflicts"),
        not_for: t(v, "not_for"),
        ..About::default()
    };
    for x in each(v, "authors").iter() {
        a.authors.extend(x.as_string());
    }
    for r in each(v, "references").iter() {
        if let (Some(id), Some(citation)) = (s(&r, "id"), s(&r, "citation")) {
            a.references.push(Reference {
                id,
                citation,
                url: s(&r, "url"),
                identifier: s(&r, "identifier"),
            });
        }
    }
    a
}

/// A decision aid's parts the widget draws (see [`chorus_core::aid`]): `about`, and each
/// outcome item's outcome by item id, in item order. The core's `Aid` also carries what only
/// its authoring lints read, in a map this bundle need not carry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aid {
    /// The required information about the aid.
    pub about: Option<About>,
    /// (item id, outcome) of every outcome item.
    pub outcomes: Vec<(String, Outcome)>,
}

impl Aid {
    /// The outcome of the item with this id.
    pub fn outcome(&self, item: &str) -> Option<&Outcome> {
        self.outcomes
            .iter()
            .find(|(k, _)| k == item)
            .map(|(_, o)| o)
    }
}

/// Would the core accept this outcome's numbers? One rate per option, out of 10, 100 or 1000
/// people, within the denominator and its range, with one denominator and time frame across
/// the options (so an icon array is never drawn from numbers the core refuses; the core's
/// `chorus check` names each problem, which this bundle need not carry the words for).
fn rates_ok(o: &Outcome, i: &Instrument) -> bool {
    let Some(f) = o.rates.first() else {
        return false;
    };
    o.rates.len() == i.options.len()
        && i.options
            .iter()
            .all(|x| o.rates.iter().filter(|r| r.option == x.id).count() == 1)
        && o.rates.iter().all(|r| {
            DENOMINATORS.contains(&r.per)
                && (r.per, r.over) == (f.per, f.over)
                && r.over.amount() > 0
                && r.events <= r.per
                && match (r.low, r.high) {
                    (None, None) => true,
                    (Some(lo), Some(hi)) => lo <= r.events && r.events <= hi && hi <= r.per,
                    _ => false,
                }
        })
}

/// A decision aid's `about` and each outcome item's `outcome`. An outcome item without its
/// outcome, or with numbers the core refuses, is refused; `about` is shown as far as it goes
/// (`chorus check` holds an author to the rest).
pub fn aid_from_js(v: &JsValue, i: &Instrument) -> R<Aid> {
    let x = get(v, "about");
    let mut aid = Aid {
        about: (!absent(&x)).then(|| about(&x)),
        outcomes: Vec::new(),
    };
    let items = each(v, "items");
    for (k, it) in i.items.iter().enumerate() {
        if it.kind != ItemKind::Outcome {
            continue;
        }
        match outcome(&get(&items.get(k as u32), "outcome")).filter(|o| rates_ok(o, i)) {
            Some(o) => aid.outcomes.push((it.id.clone(), o)),
            None => {
                return Err(bad(
                    &At::Key(
                        &At::Index(&At::Key(&At::Root, "items"), k as u32),
                        "outcome",
                    ),
                    "missing, or rates the core's definition rules refuse (run `chorus check` for each problem)",
                ));
            }
        }
    }
    Ok(aid)
}

/// The language a loaded instrument is shown in: the widget's own when every text of the
/// instrument has it (for a fetched locale: its file has every text), otherwise English for the
/// whole widget (never a page half in one language), with the root's `lang`/`dir` saying so.
pub fn shown_locale(host: &Element, l: Locale, i: &Instrument) -> Locale {
    let shown = if crate::i18n::covers(l, i) {
        l
    } else {
        Locale::En
    };
    if shown != l {
        web_sys::console::info_1(
            &format!(
                "Chorus: \"{}\" has no {} text for every question, so it is shown in English",
                i.id,
                l.tag()
            )
            .into(),
        );
    }
    crate::i18n::mark(shown, host);
    shown
}

/// The standard FFT, built in: a `<chorus-fft>` with no inline instrument and no
/// `instrument` attribute other than `fft` is drawn from the core's `fft.json` at once, with
/// no request, through the same code as every other instrument.
pub fn builtin(host: &Element) -> Option<Instrument> {
    let standard = host.local_name() == "chorus-fft"
        && host.get_attribute("instrument").is_none_or(|i| i == "fft")
        && inline(host).is_none();
    if !standard {
        return None;
    }
    let json = js_sys::JSON::parse(chorus_core::FFT_JSON).ok()?;
    instrument_from_js(&json).ok()
}

fn inline(host: &Element) -> Option<Element> {
    host.query_selector(":scope > script[type='application/json']")
        .ok()
        .flatten()
}

/// The instrument for a widget, with its aid parts: an inline `<script type="application/json">`
/// child wins (so a decision aid works with no server at all); otherwise `instrument` is
/// fetched from `endpoint`.
pub async fn load(host: &Element) -> Result<(Instrument, Aid), LoadError> {
    let json = if let Some(script) = inline(host) {
        js_sys::JSON::parse(&script.text_content().unwrap_or_default())
            .map_err(|_| LoadError("the inline instrument is not valid JSON".into()))?
    } else {
        let id = host
            .get_attribute("instrument")
            .ok_or_else(|| LoadError("no instrument attribute and no inline instrument".into()))?;
        fetch_json(host, &id).await?
    };
    let i = instrument_from_js(&json)?;
    // The FFT module draws no decision aid (the loader sends aids to the suite's module).
    let aid = if crate::SUITE {
        aid_from_js(&json, &i)?
    } else {
        Aid::default()
    };
    if let Some(a) = aid
        .about
        .as_ref()
        .filter(|a| crate::SUITE && a.past_review(crate::aid::today()))
    {
        web_sys::console::warn_1(
            &format!(
                "Chorus: the decision aid \"{}\" was due for review on {}; patients are told it may be out of date",
                i.id, a.next_review
            )
            .into(),
        );
    }
    Ok((i, aid))
}

/// The instrument `id` from the collector at the element's `endpoint`.
pub async fn fetch(host: &Element, id: &str) -> Result<Instrument, LoadError> {
    instrument_from_js(&fetch_json(host, id).await?)
}

async fn fetch_json(host: &Element, id: &str) -> Result<JsValue, LoadError> {
    let endpoint = host.get_attribute("endpoint").unwrap_or_default();
    let url = format!(
        "{}/api/v1/instruments/{}",
        endpoint.trim_end_matches('/'),
        String::from(js_sys::encode_uri_component(id))
    );
    get_json(&url).await
}

/// `GET` JSON from a Chorus server with CORS and no cookies; a failure says what happened in
/// words for the web team.
pub async fn get_json(url: &str) -> Result<JsValue, LoadError> {
    let fetched = async {
        let init = RequestInit::new();
        init.set_mode(RequestMode::Cors);
        init.set_credentials(RequestCredentials::Omit);
        let window = web_sys::window().ok_or(JsValue::NULL)?;
        let res: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
            .await?
            .dyn_into()?;
        if !res.ok() {
            return Err(JsValue::from_f64(res.status().into()));
        }
        JsFuture::from(res.json()?).await
    };
    fetched.await.map_err(|e| {
        // The status as an integer: float formatting would cost the bundle kilobytes.
        LoadError(match e.as_f64() {
            Some(status) => format!("{url} answered {}", status as u16),
            None => format!("{url} could not be reached"),
        })
    })
}
