//! Localised text. English is required everywhere; Welsh sits beside it.

use serde::{Deserialize, Serialize};

/// An interface language. Welsh is first-class (NHS Wales bodies must offer it): every
/// shipped text has a Welsh form.
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
}

impl Locale {
    /// Every locale Chorus supports, so checks that each text has each form cannot miss one.
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Cy];

    /// The BCP 47 tag, for `lang` attributes (screen readers pick their voice from it).
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Cy => "cy",
        }
    }

    /// Parse a tag such as `cy`, `cy-GB` or `en-GB`; anything else is English, the default,
    /// because a page or browser language is a hint, never an error.
    pub fn from_tag(tag: &str) -> Locale {
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("cy") {
            Locale::Cy
        } else {
            Locale::En
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
            Locale::En => &self.en,
        }
    }

    /// Is there a non-empty form for `locale`? Validation uses it to report untranslated text.
    pub fn has(&self, locale: Locale) -> bool {
        match locale {
            Locale::En => !self.en.trim().is_empty(),
            Locale::Cy => self.cy.as_deref().is_some_and(|s| !s.trim().is_empty()),
        }
    }
}
