//! Localised text. English is required everywhere; Welsh sits beside it.

use serde::{Deserialize, Serialize};

/// An interface language, the one type the core, the widgets and the server share. Welsh is
/// first-class (NHS Wales bodies must offer it): every shipped text has a Welsh form. Arabic is
/// an interface draft only (see [`Locale::Ar`]): never a response's language on the wire.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// English.
    #[default]
    En,
    /// Welsh (Cymraeg).
    Cy,
    /// Arabic (العربية): the widgets' machine draft **awaiting review** by a fluent speaker,
    /// offered so a right-to-left interface is built and tested; fetched on demand like
    /// [`Locale::Pl`], and chosen only by a widget's `locale` ([`Locale::from_attribute`]).
    /// Instruments have no Arabic texts and a response is recorded in English
    /// ([`Locale::recorded`]), so this variant is neither written nor accepted in JSON.
    #[serde(skip)]
    Ar,
    /// Polish (polski), Urdu (اردو, right to left) and Romanian (română): the widgets' drafts
    /// **awaiting review** by fluent speakers, not in the bundle but fetched by the pages that
    /// ask for them. Interface languages only, recorded in English, like [`Locale::Ar`].
    #[serde(skip)]
    Pl,
    /// Urdu: see [`Locale::Pl`].
    #[serde(skip)]
    Ur,
    /// Romanian: see [`Locale::Pl`].
    #[serde(skip)]
    Ro,
}

impl Locale {
    /// Every locale an instrument's texts come in, so checks that each text has each form
    /// cannot miss one (the Arabic interface draft is not one of them).
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Cy];

    /// The BCP 47 tag, for `lang` attributes (screen readers pick their voice from it).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Cy => "cy",
            Locale::Ar => "ar",
            Locale::Pl => "pl",
            Locale::Ur => "ur",
            Locale::Ro => "ro",
        }
    }

    /// Parse a tag such as `cy`, `CY`, `cy-GB` or `en_GB` (the primary subtag, any case);
    /// anything else is English, the default, because a page or browser language is a hint,
    /// never an error. Never the Arabic draft: see [`Locale::from_attribute`].
    pub fn from_tag(tag: &str) -> Locale {
        match Locale::from_attribute(tag) {
            Locale::Ar => Locale::En,
            l => l,
        }
    }

    /// Parse an explicit choice (a widget's `locale` attribute), which alone may select the
    /// Arabic draft: a page's language never puts an unreviewed translation before patients.
    pub fn from_attribute(tag: &str) -> Locale {
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        [Locale::Cy, Locale::Ar, Locale::Pl, Locale::Ur, Locale::Ro]
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.tag()))
            .unwrap_or(Locale::En)
    }

    /// A locale whose interface words are fetched on demand, not built into the bundle.
    pub fn fetched(self) -> bool {
        matches!(self, Locale::Ar | Locale::Pl | Locale::Ur | Locale::Ro)
    }

    /// The language a response is recorded in: instruments have English and Welsh texts, so
    /// an answer given in the Arabic draft interface is recorded as English.
    pub fn recorded(self) -> Locale {
        match self {
            Locale::Cy => Locale::Cy,
            _ => Locale::En,
        }
    }

    /// Writing direction for an HTML `dir` attribute.
    pub fn dir(self) -> &'static str {
        match self {
            Locale::Ar | Locale::Ur => "rtl",
            _ => "ltr",
        }
    }
}

/// A text in English with an optional Welsh form. Missing Welsh falls back to English at
/// display time, but definition validation reports it, so a form is never half-translated
/// by accident.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// English.
    pub en: String,
    /// Welsh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cy: Option<String>,
}

impl Text {
    /// The text in `locale`, falling back to English, so a patient always sees a question.
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::Cy => self
                .cy
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or(&self.en),
            _ => &self.en,
        }
    }

    /// Is there a non-empty form for `locale`? Validation uses it to report untranslated text.
    pub fn has(&self, locale: Locale) -> bool {
        match locale {
            Locale::En => !self.en.trim().is_empty(),
            Locale::Cy => self.cy.as_deref().is_some_and(|s| !s.trim().is_empty()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_match_in_any_case_and_only_an_attribute_selects_the_draft() {
        for t in ["cy", "CY", "Cy-GB", "cy_gb"] {
            assert_eq!(Locale::from_tag(t), Locale::Cy, "{t}");
            assert_eq!(Locale::from_attribute(t), Locale::Cy, "{t}");
        }
        assert_eq!(Locale::from_tag("AR"), Locale::En);
        assert_eq!(Locale::from_attribute("AR-eg"), Locale::Ar);
        assert_eq!(Locale::from_tag("fr"), Locale::En);
        assert_eq!(Locale::Ar.recorded(), Locale::En);
        assert_eq!((Locale::Ar.tag(), Locale::Ar.dir()), ("ar", "rtl"));
        assert_eq!((Locale::Cy.tag(), Locale::Cy.dir()), ("cy", "ltr"));
        // The fetched drafts: a page's language may choose them (the widget falls back to
        // English if their file cannot be had); recorded in English.
        assert_eq!(Locale::from_tag("ur-PK"), Locale::Ur);
        assert_eq!(Locale::from_attribute("PL"), Locale::Pl);
        assert_eq!(Locale::from_tag("ro_RO"), Locale::Ro);
        assert_eq!((Locale::Ur.dir(), Locale::Pl.dir()), ("rtl", "ltr"));
        assert!(Locale::Ro.fetched() && Locale::Ar.fetched());
        assert!(!Locale::Cy.fetched() && !Locale::En.fetched());
        assert_eq!(Locale::Ur.recorded(), Locale::En);
        assert!(serde_json::from_str::<Locale>("\"pl\"").is_err());
    }

    #[test]
    fn the_arabic_draft_is_never_on_the_wire() {
        assert!(serde_json::to_string(&Locale::Ar).is_err());
        assert!(serde_json::from_str::<Locale>("\"ar\"").is_err());
        assert_eq!(
            serde_json::from_str::<Locale>("\"cy\"").unwrap(),
            Locale::Cy
        );
    }
}
