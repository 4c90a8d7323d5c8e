//! Interface language: English and Welsh, chosen per element, and Arabic as a machine draft.
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
    /// English strings shown in an Arabic widget for want of a draft; the loader reads them
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
    let f = Fetched {
        locale,
        strings: pairs(json, "strings"),
        texts: pairs(json, "texts"),
        agreement,
    };
    FETCHED.with(|x| x.borrow_mut().push(f));
    true
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

/// The English strings an Arabic widget has had to show untranslated, one per line.
pub fn untranslated() -> String {
    MISSED.with(|m| m.borrow().join("\n"))
}

fn draft(en: &str) -> Option<&'static str> {
    crate::strings::TEXTS
        .iter()
        .chain(crate::strings::ABOUT_TEXTS)
        .find(|(e, _)| *e == en)
        .map(|(_, ar)| *ar)
}

/// Remember an English string shown in an Arabic widget.
fn missed(en: &str) {
    MISSED.with(|m| {
        let mut m = m.borrow_mut();
        if !m.iter().any(|x| x == en) {
            m.push(en.to_string());
        }
    });
}

fn arabic(en: &str) -> Option<&'static str> {
    let found = draft(en);
    if found.is_none() {
        missed(en);
    }
    found
}

/// The widget's language: the `locale` attribute wins; otherwise the nearest `lang` on the host
/// page, so a Welsh page gets a Welsh form with no configuration. A draft locale (Arabic) needs
/// the attribute: a page's language alone never puts an unreviewed translation in front of
/// patients. (Both parsed by the core's [`Locale`], in any case.)
///
/// Polish, Urdu and Romanian are fetched on demand by the loader (`locales/` in this crate):
/// chosen by the attribute, else the page's `lang`, else the browser's language, and only if
/// their file arrived intact; otherwise English.
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

/// An instrument's text in the widget's language. Arabic drafts are looked up by the English
/// text; one with no draft yet is shown in English (and recorded so it is marked `lang="en"`).
pub fn say(l: Locale, t: &Text) -> &str {
    match l {
        Locale::Ar => arabic(&t.en).unwrap_or(&t.en),
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
        Locale::Ar => draft(&t.en).is_some(),
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
    /// One string from the three tables. An Arabic field with no draft yet holds the English
    /// (`..EN`): it is shown, and recorded so the loader can mark it `lang="en"`.
    fn pick(self, name: &str, en: &'static str, cy: &'static str, ar: &'static str)
    -> &'static str;

    /// The six agreement answers' labels.
    fn agreement(self) -> [&'static str; 6];
}

impl Ui for Locale {
    fn pick(
        self,
        name: &str,
        en: &'static str,
        cy: &'static str,
        ar: &'static str,
    ) -> &'static str {
        match self {
            l if l.fetched() => fetched(l, name, false, en).unwrap_or(en),
            Locale::Cy => cy,
            Locale::Ar => {
                if ar == en {
                    missed(en);
                }
                ar
            }
            _ => en,
        }
    }

    fn agreement(self) -> [&'static str; 6] {
        use crate::strings::{AR, CY, EN};
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
                None => self.pick("", EN.agreement[n], CY.agreement[n], AR.agreement[n]),
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::t;

    #[test]
    fn arabic_falls_back_to_english_and_remembers_it() {
        assert_eq!(t!(Locale::Ar, sending), "جارٍ الإرسال…");
        assert_eq!(untranslated(), "");
        // No draft yet: English, remembered once.
        assert_eq!(t!(Locale::Ar, print_your_summary), "Print your summary");
        t!(Locale::Ar, print_your_summary);
        assert_eq!(untranslated(), "Print your summary");
        assert_eq!(t!(Locale::Cy, sending), "Yn anfon…");
        assert_eq!(Locale::Cy.agreement()[1], "Cytuno");
        let q = Text {
            en: chorus_core::FFT_QUESTION_EN.into(),
            cy: Some("Yn gyffredinol".into()),
        };
        assert!(say(Locale::Ar, &q).starts_with("بشكل"));
        assert_eq!(say(Locale::Cy, &q), "Yn gyffredinol");
    }

    #[test]
    fn the_built_in_fft_is_whole_in_welsh_and_in_the_arabic_draft() {
        let fft = chorus_core::Instrument::from_json(chorus_core::FFT_JSON).unwrap();
        assert!(covers(Locale::Cy, &fft));
        assert!(
            covers(Locale::Ar, &fft),
            "a text of fft.json has no Arabic draft"
        );
        // An instrument with one text the drafts do not have is not.
        let mut other = fft.clone();
        other.items[1].text.en = "Something new".into();
        assert!(!covers(Locale::Ar, &other));
    }

    #[test]
    fn every_fetched_locale_file_names_only_real_strings_and_fft_texts() {
        let en = include_str!("strings/en.rs");
        let fft = chorus_core::Instrument::from_json(chorus_core::FFT_JSON).unwrap();
        let fft_texts: Vec<String> = fft.texts().into_iter().map(|t| t.en.clone()).collect();
        for (tag, file) in [
            ("pl", include_str!("../locales/pl.json")),
            ("ur", include_str!("../locales/ur.json")),
            ("ro", include_str!("../locales/ro.json")),
        ] {
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
            assert_eq!(v["agreement"].as_array().unwrap().len(), 6, "{tag}");
            // The built-in FFT is whole in each (so a page in that language is not English).
            let texts = v["texts"].as_object().unwrap();
            for t in &fft_texts {
                assert!(texts.contains_key(t), "{tag}: the FFT's \"{t}\" is missing");
            }
            for k in texts.keys() {
                assert!(
                    fft_texts.contains(k),
                    "{tag}: \"{k}\" is not a text of fft.json"
                );
            }
        }
    }

    #[test]
    fn the_about_you_questions_are_whole_in_welsh_and_in_the_arabic_draft() {
        let about = chorus_core::library::get(chorus_core::library::ABOUT_YOU).unwrap();
        assert!(covers(Locale::Cy, &about));
        assert!(
            covers(Locale::Ar, &about),
            "a text of about-you.json has no Arabic draft in ABOUT_TEXTS"
        );
    }
}
