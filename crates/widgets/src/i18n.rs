//! Interface language: English and Welsh, chosen per element.

use web_sys::Element;

/// Interface language. Welsh is a first-class locale, not an afterthought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    /// English.
    En,
    /// Welsh (Cymraeg).
    Cy,
}

impl Locale {
    /// The `locale` attribute wins; otherwise the nearest `lang` on the host page, so a Welsh
    /// page gets a Welsh form with no configuration.
    pub fn from_host(host: &Element) -> Self {
        let attr = host.get_attribute("locale").or_else(|| {
            host.closest("[lang]")
                .ok()
                .flatten()
                .and_then(|e| e.get_attribute("lang"))
        });
        match attr.as_deref().map(|s| s.get(..2).unwrap_or(s)) {
            Some("cy") => Locale::Cy,
            _ => Locale::En,
        }
    }

    pub fn core(self) -> chorus_core::Locale {
        match self {
            Locale::En => chorus_core::Locale::En,
            Locale::Cy => chorus_core::Locale::Cy,
        }
    }

    /// Pick the string for this locale.
    pub fn t(self, en: &'static str, cy: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::Cy => cy,
        }
    }
}
