//! Interface language: English and Welsh, chosen per element and built in; every other
//! locale (the Arabic, Polish, Urdu and Romanian drafts) fetched on demand.
//!
//! The widget marks its own language and direction on its root (`lang`, `dir`), whatever the
//! host page says, so a screen reader picks the right voice (WCAG 3.1.2) and an English widget
//! on a right-to-left page is still laid out left to right.

use std::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

pub use chorus_core::Locale;
use chorus_core::{Instrument, Text};

thread_local! {
    /// English strings shown in a fetched locale's widget for want of a draft; the loader reads them
    /// (through [`untranslated`]) to mark that text `lang="en"`.
    static MISSED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// The locales fetched on demand that this page has loaded (see [`add`]).
    static FETCHED: RefCell<Vec<Fetched>> = const { RefCell::new(Vec::new()) };
}

/// One fetched locale's words: the interface's, by field name (`strings`), the agreement
/// answers, and instrument texts by their English (`texts`). Kept for the page's life.
struct Fetched {
    locale: Locale,
    strings: Vec<(String, &'static str)>,
    texts: Vec<(String, &'static str)>,
    agreement: Vec<&'static str>,
}

fn leak(v: JsValue) -> Option<&'static str> {
    v.as_string().map(|s| &*Box::leak(s.into_boxed_str()))
}

fn pairs(o: &JsValue, key: &str) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if let Ok(o) = js_sys::Reflect::get(o, &key.into()).and_then(|v| v.dyn_into::<js_sys::Object>())
    {
        for e in js_sys::Object::entries(&o).iter() {
            let e = js_sys::Array::from(&e);
            if let (Some(k), Some(v)) = (e.get(0).as_string(), leak(e.get(1))) {
                out.push((k, v));
            }
        }
    }
    out
}

/// Take in a locale file the loader fetched (and checked against its pinned hash): `false` if
/// it is not one of the fetched locales.
pub fn add(json: &JsValue) -> bool {
    let tag = js_sys::Reflect::get(json, &"locale".into())
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let locale = Locale::from_attribute(&tag);
    if !locale.fetched() || loaded(locale) {
        return locale.fetched();
    }
    let agreement = js_sys::Reflect::get(json, &"agreement".into())
        .ok()
        .filter(js_sys::Array::is_array)
        .map(|a| js_sys::Array::from(&a).iter().filter_map(leak).collect())
        .unwrap_or_default();
    keep(Fetched {
        locale,
        strings: pairs(json, "strings"),
        texts: pairs(json, "texts"),
        agreement,
    });
    true
}

fn keep(f: Fetched) {
    FETCHED.with(|x| x.borrow_mut().push(f));
}

fn loaded(l: Locale) -> bool {
    FETCHED.with(|x| x.borrow().iter().any(|f| f.locale == l))
}

/// A fetched locale's word: from its interface strings (`text: false`) or its instrument
/// texts (`text: true`); a missing one is recorded for the loader to mark `lang="en"`.
fn fetched(l: Locale, key: &str, text: bool, en: &str) -> Option<&'static str> {
    let found = FETCHED.with(|x| {
        x.borrow().iter().find(|f| f.locale == l).and_then(|f| {
            if text { &f.texts } else { &f.strings }
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| *v)
        })
    });
    if found.is_none() {
        missed(en);
    }
    found
}

/// The English strings a widget in a fetched locale has had to show untranslated, one per
/// line.
pub fn untranslated() -> String {
    MISSED.with(|m| m.borrow().join("\n"))
}

/// Remember an English string shown in a fetched locale's widget.
fn missed(en: &str) {
    MISSED.with(|m| {
        let mut m = m.borrow_mut();
        if !m.iter().any(|x| x == en) {
            m.push(en.to_string());
        }
    });
}

/// The widget's language: the `locale` attribute wins; otherwise the nearest `lang` on the host
/// page, so a Welsh page gets a Welsh form with no configuration, else the browser's language.
/// (All parsed by the core's [`Locale`], in any case.)
///
/// Every locale but English and Welsh is fetched on demand by the loader (`locales/` in this
/// crate), and shown only if its file arrived intact; otherwise English. Polish, Urdu and
/// Romanian may be chosen by the page's or the browser's language; the Arabic machine draft
/// only by the attribute (see ARCHITECTURE.md).
pub fn from_host(host: &Element) -> Locale {
    let l = match host.get_attribute("locale") {
        Some(a) => Locale::from_attribute(&a),
        None => {
            let page = host
                .closest("[lang]")
                .ok()
                .flatten()
                .and_then(|e| e.get_attribute("lang"))
                .filter(|l| !l.trim().is_empty())
                .or_else(|| {
                    let nav = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
                    js_sys::Reflect::get(&nav, &"language".into())
                        .ok()?
                        .as_string()
                })
                .unwrap_or_default();
            Locale::from_tag(&page)
        }
    };
    if l.fetched() && !loaded(l) {
        Locale::En
    } else {
        l
    }
}

/// Mark the widget's root (the `<div part="root">` in the host element's shadow root) with
/// this language and direction, so neither is inherited from the host page.
pub fn mark(l: Locale, host: &Element) {
    if let Some(Ok(Some(root))) = host.shadow_root().map(|s| s.query_selector("[part=root]")) {
        let _ = root.set_attribute("lang", l.tag());
        let _ = root.set_attribute("dir", l.dir());
    }
}

/// An instrument's text in the widget's language. A fetched locale's texts are looked up by the
/// English text; one with no draft yet is shown in English (and recorded so it is marked
/// `lang="en"`).
pub fn say(l: Locale, t: &Text) -> &str {
    match l {
        l if l.fetched() => fetched(l, &t.en, true, &t.en).unwrap_or(&t.en),
        _ => t.get(l),
    }
}

/// [`say`] as a method: `text.say(l)`.
pub trait Say {
    /// This text in the widget's language.
    fn say(&self, l: Locale) -> &str;
}

impl Say for Text {
    fn say(&self, l: Locale) -> &str {
        say(l, self)
    }
}

/// Can the whole instrument be shown in `l`? (Never a page half in one language.)
pub fn covers(l: Locale, i: &Instrument) -> bool {
    i.texts().into_iter().all(|t| match l {
        l if l.fetched() => FETCHED.with(|x| {
            x.borrow()
                .iter()
                .any(|f| f.locale == l && f.texts.iter().any(|(k, _)| *k == t.en))
        }),
        _ => t.has(l),
    })
}

/// Pick the interface's own words for this locale (see [`crate::strings`]).
pub trait Ui {
    /// One string: from the built-in tables, or by `name` from a fetched locale's file. A
    /// fetched locale's string with no draft yet is the English: it is shown, and recorded so
    /// the loader can mark it `lang="en"`.
    fn pick(self, name: &str, en: &'static str, cy: &'static str) -> &'static str;

    /// The six agreement answers' labels.
    fn agreement(self) -> [&'static str; 6];
}

impl Ui for Locale {
    fn pick(self, name: &str, en: &'static str, cy: &'static str) -> &'static str {
        match self {
            l if l.fetched() => fetched(l, name, false, en).unwrap_or(en),
            Locale::Cy => cy,
            _ => en,
        }
    }

    fn agreement(self) -> [&'static str; 6] {
        use crate::strings::{CY, EN};
        let mut out = EN.agreement;
        let words = FETCHED.with(|x| {
            x.borrow()
                .iter()
                .find(|f| f.locale == self)
                .map(|f| f.agreement.clone())
        });
        for (n, o) in out.iter_mut().enumerate() {
            *o = match words.as_ref().and_then(|w| w.get(n)) {
                Some(w) => w,
                None => self.pick("", EN.agreement[n], CY.agreement[n]),
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::t;

    const FILES: [(&str, &str); 4] = [
        ("ar", include_str!("../locales/ar.json")),
        ("pl", include_str!("../locales/pl.json")),
        ("ur", include_str!("../locales/ur.json")),
        ("ro", include_str!("../locales/ro.json")),
    ];

    /// Take in a locale file as [`add`] does once the loader has fetched it (the same
    /// [`Fetched`] tables, read here with serde_json instead of through the browser's JSON).
    fn load(tag: &str) {
        let file = FILES.iter().find(|(t, _)| *t == tag).unwrap().1;
        let v: serde_json::Value = serde_json::from_str(file).unwrap();
        let leak = |s: &serde_json::Value| &*Box::leak(s.as_str().unwrap().into());
        let pairs = |key: &str| {
            v[key]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, s)| (k.clone(), leak(s)))
                .collect()
        };
        let agreement = v["agreement"]
            .as_array()
            .map(|a| a.iter().map(leak).collect())
            .unwrap_or_default();
        keep(Fetched {
            locale: Locale::from_attribute(tag),
            strings: pairs("strings"),
            texts: pairs("texts"),
            agreement,
        });
    }

    fn fft_q() -> Text {
        Text {
            en: chorus_core::FFT_QUESTION_EN.into(),
            cy: Some("Yn gyffredinol".into()),
        }
    }

    #[test]
    fn arabic_is_english_until_its_file_arrives() {
        // Nothing of Arabic is in the bundle: before the file, every word is the English.
        assert_eq!(t!(Locale::Ar, sending), crate::strings::EN.sending);
        assert_eq!(say(Locale::Ar, &fft_q()), chorus_core::FFT_QUESTION_EN);
        let fft = chorus_core::Instrument::from_json(chorus_core::FFT_JSON).unwrap();
        assert!(!covers(Locale::Ar, &fft));
    }

    #[test]
    fn the_fetched_arabic_file_is_used_and_english_fills_its_gaps() {
        load("ar");
        assert_eq!(t!(Locale::Ar, sending), "جارٍ الإرسال…");
        assert_eq!(untranslated(), "");
        // No draft yet (the results widget's words): English, remembered once.
        assert_eq!(t!(Locale::Ar, month), "Month");
        t!(Locale::Ar, month);
        assert_eq!(untranslated(), "Month");
        // The agreement answers and the decision aid's summary words are drafted.
        assert_eq!(Locale::Ar.agreement()[0], "أوافق بشدة");
        assert_eq!(t!(Locale::Ar, your_summary), "ملخصك");
        assert_eq!(untranslated(), "Month");
        assert_eq!(t!(Locale::Cy, sending), "Yn anfon…");
        assert_eq!(Locale::Cy.agreement()[1], "Cytuno");
        assert!(say(Locale::Ar, &fft_q()).starts_with("بشكل"));
        assert_eq!(say(Locale::Cy, &fft_q()), "Yn gyffredinol");
        // Another fetched locale's words are not Arabic's.
        assert_eq!(t!(Locale::Ur, sending), crate::strings::EN.sending);
    }

    #[test]
    fn the_built_in_fft_is_whole_in_welsh_and_in_each_fetched_file() {
        let fft = chorus_core::Instrument::from_json(chorus_core::FFT_JSON).unwrap();
        assert!(covers(Locale::Cy, &fft));
        for (tag, _) in FILES {
            load(tag);
            let l = Locale::from_attribute(tag);
            assert!(
                covers(l, &fft),
                "a text of fft.json is missing from {tag}.json"
            );
            // An instrument with one text the file does not have is not.
            let mut other = fft.clone();
            other.items[1].text.en = "Something new".into();
            assert!(!covers(l, &other), "{tag}");
        }
    }

    #[test]
    fn the_about_you_questions_and_the_easy_read_fft_are_whole_in_welsh_and_in_each_fetched_file() {
        let about = chorus_core::library::get(chorus_core::library::ABOUT_YOU).unwrap();
        let easy = chorus_core::library::get("fft-easy-read").unwrap();
        assert!(covers(Locale::Cy, &about) && covers(Locale::Cy, &easy));
        assert!(!covers(Locale::Ro, &about), "no file loaded yet");
        assert!(!covers(Locale::Ro, &easy), "no file loaded yet");
        for (tag, _) in FILES {
            load(tag);
            let l = Locale::from_attribute(tag);
            assert!(
                covers(l, &about),
                "a text of about-you.json has no draft in locales/{tag}.json"
            );
            assert!(
                covers(l, &easy),
                "a text of fft-easy-read.json has no draft in locales/{tag}.json"
            );
            // Translated, not copied: no About you or easy-read text is its English (but
            // for names some languages write as English does).
            for t in about.texts().into_iter().chain(easy.texts()) {
                if !["Urdu", "Punjabi", "Sikh"].contains(&t.en.as_str()) {
                    assert_ne!(say(l, t), t.en, "{tag}: \"{}\" is still English", t.en);
                }
            }
        }
        assert!(say(Locale::Ar, &about.title).starts_with("عنك"));
        assert_eq!(say(Locale::Pl, &about.title), "O Tobie (opcjonalnie)");
        assert_eq!(
            say(Locale::Ur, &easy.title),
            "ہمیں بتائیں کہ آپ کیا سوچتے ہیں"
        );
    }

    #[test]
    fn each_fetched_file_states_the_fft_question_status_the_core_gives() {
        for (tag, file) in FILES {
            let v: serde_json::Value = serde_json::from_str(file).unwrap();
            let l = Locale::from_attribute(tag);
            assert_eq!(
                v["fft_question"].as_str(),
                Some(chorus_core::fft_question_status(l).as_str()),
                "{tag}"
            );
        }
    }

    #[test]
    fn the_decision_aid_summary_and_the_agreement_answers_are_in_each_fetched_file() {
        // The words `aid.rs` draws the summary with, and the knowledge check's.
        let aid = [
            "your_answers_lean_towards",
            "you_have_not_said_how",
            "your_answers_do_not_lean",
            "this_is_worked_out_from",
            "what_matters_to_you",
            "the_answer_is",
            "what_you_know",
            "you_answered",
            "questions_correctly",
            "how_sure_you_feel",
            "you_answered_yes_to_all",
            "you_answered_no_to_at",
            "you_have_not_answered_all",
            "your_summary",
            "example_content_not_clinical_advice",
            "example_content_not_clinical_advice_2",
            "out_of",
            "of",
        ];
        for (tag, file) in FILES {
            let v: serde_json::Value = serde_json::from_str(file).unwrap();
            for k in aid {
                assert!(v["strings"].get(k).is_some(), "{tag}: no {k}");
            }
            assert_eq!(
                v["strings"]["example_content_not_clinical_advice_2"],
                format!(
                    "{}\n",
                    v["strings"]["example_content_not_clinical_advice"]
                        .as_str()
                        .unwrap()
                ),
                "{tag}"
            );
            assert_eq!(v["agreement"].as_array().map(Vec::len), Some(6), "{tag}");
        }
    }

    #[test]
    fn every_fetched_locale_file_names_only_real_strings_and_texts() {
        let en = include_str!("strings/en.rs");
        let texts_of = |i: chorus_core::Instrument| -> Vec<String> {
            i.texts().into_iter().map(|t| t.en.clone()).collect()
        };
        let fft = texts_of(chorus_core::Instrument::from_json(chorus_core::FFT_JSON).unwrap());
        let about = texts_of(chorus_core::library::get(chorus_core::library::ABOUT_YOU).unwrap());
        let easy = texts_of(chorus_core::library::get("fft-easy-read").unwrap());
        for (tag, file) in FILES {
            let v: serde_json::Value = serde_json::from_str(file).unwrap();
            let l = Locale::from_attribute(tag);
            assert!(l.fetched(), "{tag}");
            assert_eq!(v["locale"], tag);
            assert_eq!(v["dir"], l.dir(), "{tag}");
            assert!(
                v["status"]
                    .as_str()
                    .unwrap()
                    .contains("awaiting review by a fluent speaker"),
                "{tag}"
            );
            for (k, s) in v["strings"].as_object().unwrap() {
                assert!(en.contains(&format!("\n    {k}: ")), "{tag}: no string {k}");
                assert!(
                    !s.as_str().unwrap().trim().is_empty(),
                    "{tag}: {k} is empty"
                );
            }
            // The agreement answers: all six, or none (then English).
            if let Some(a) = v.get("agreement") {
                assert_eq!(a.as_array().unwrap().len(), 6, "{tag}");
            }
            // The built-in FFT, the easy-read FFT and the About you questions are whole in
            // each (so a page in that language is not English, and never half translated).
            let texts = v["texts"].as_object().unwrap();
            for t in fft.iter().chain(&easy).chain(&about) {
                assert!(texts.contains_key(t), "{tag}: \"{t}\" is missing");
            }
            for (k, s) in texts {
                assert!(
                    fft.contains(k) || easy.contains(k) || about.contains(k),
                    "{tag}: \"{k}\" is not a text of fft.json, fft-easy-read.json or about-you.json"
                );
                assert!(
                    !s.as_str().unwrap().trim().is_empty(),
                    "{tag}: \"{k}\" is empty"
                );
            }
        }
    }
}
