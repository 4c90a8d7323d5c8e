//! Interface language: English and Welsh, chosen per element, and Arabic as a machine draft.
//!
//! The widget marks its own language and direction on its root (`lang`, `dir`), whatever the
//! host page says, so a screen reader picks the right voice (WCAG 3.1.2) and an English widget
//! on a right-to-left page is still laid out left to right.

use std::cell::RefCell;

use web_sys::Element;

/// Interface language. Welsh is a first-class locale, not an afterthought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    /// English.
    En,
    /// Welsh (Cymraeg).
    Cy,
    /// Arabic (العربية): a machine draft **awaiting review** by a fluent speaker, offered so a
    /// right-to-left interface is built and tested. Only an explicit `locale="ar"` selects it
    /// (a page's `lang` does not), and any string without a draft falls back to English,
    /// marked `lang="en"` by the loader.
    Ar,
}

/// Arabic drafts, keyed by the English string. MACHINE DRAFT, AWAITING REVIEW by a fluent
/// Arabic speaker before any trust uses it with patients. New strings go at the end.
const AR: &[(&str, &str)] = &[
    (
        chorus_core::FFT_QUESTION_EN,
        "بشكل عام، كيف كانت تجربتك مع خدمتنا؟",
    ),
    ("Very good", "جيدة جدًا"),
    ("Good", "جيدة"),
    ("Neither good nor poor", "لا جيدة ولا سيئة"),
    ("Poor", "سيئة"),
    ("Very poor", "سيئة جدًا"),
    ("Don't know", "لا أعرف"),
    ("Select how your experience was", "اختر كيف كانت تجربتك"),
    ("Error: ", "خطأ: "),
    (
        "Please tell us why you gave that answer (optional)",
        "يُرجى إخبارنا بسبب اختيارك هذه الإجابة (اختياري)",
    ),
    (
        "Do not include your name or other details that could identify you.",
        "لا تذكر اسمك أو أي تفاصيل أخرى قد تكشف هويتك.",
    ),
    ("Sending…", "جارٍ الإرسال…"),
    ("Send feedback", "أرسل ملاحظاتك"),
    ("There is a problem", "توجد مشكلة"),
    (
        "We could not send your answers. Check your connection and try again; your answers are still here.",
        "تعذّر إرسال إجاباتك. تحقّق من اتصالك وحاول مرة أخرى؛ إجاباتك ما زالت هنا.",
    ),
    (
        "Sorry, something went wrong and your answers were not accepted. Please try again later.",
        "عذرًا، حدث خطأ ولم تُقبل إجاباتك. يُرجى المحاولة لاحقًا.",
    ),
    (
        "Thank you, your answers have been sent",
        "شكرًا لك، تم إرسال إجاباتك",
    ),
    ("Your reference is ", "رقمك المرجعي هو "),
    (
        "Your answers are saved on this device",
        "تم حفظ إجاباتك على هذا الجهاز",
    ),
    (
        "We could not reach our server just now. We will send your answers automatically when you are back online. You do not need to fill in the form again.",
        "تعذّر الوصول إلى خادمنا الآن. سنرسل إجاباتك تلقائيًا عند عودتك إلى الاتصال بالإنترنت. لا تحتاج إلى تعبئة النموذج مرة أخرى.",
    ),
    ("characters too many", "حرفًا زائدًا"),
    ("characters remaining", "حرفًا متبقيًا"),
    (
        "To protect your privacy, we will remove personal details before your comment is stored. It will be saved as:",
        "لحماية خصوصيتك، سنحذف التفاصيل الشخصية قبل حفظ تعليقك. سيُحفظ هكذا:",
    ),
    ("Loading…", "جارٍ التحميل…"),
];

thread_local! {
    /// English strings shown in an Arabic widget for want of a draft; the loader reads them
    /// (through [`untranslated`]) to mark that text `lang="en"`.
    static MISSED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// The English strings an Arabic widget has had to show untranslated, one per line.
pub fn untranslated() -> String {
    MISSED.with(|m| m.borrow().join("\n"))
}

fn arabic(en: &'static str) -> &'static str {
    if let Some((_, ar)) = AR.iter().find(|(e, _)| *e == en) {
        return ar;
    }
    MISSED.with(|m| {
        let mut m = m.borrow_mut();
        if !m.contains(&en) {
            m.push(en);
        }
    });
    en
}

impl Locale {
    /// The `locale` attribute wins; otherwise the nearest `lang` on the host page, so a Welsh
    /// page gets a Welsh form with no configuration. A draft locale (Arabic) needs the
    /// attribute: a page's language alone never puts an unreviewed translation in front of
    /// patients.
    pub fn from_host(host: &Element) -> Self {
        let primary = |s: &str| {
            s.split(['-', '_'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        };
        if let Some(a) = host.get_attribute("locale") {
            return match primary(&a).as_str() {
                "cy" => Locale::Cy,
                "ar" => Locale::Ar,
                _ => Locale::En,
            };
        }
        let page = host
            .closest("[lang]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("lang"))
            .unwrap_or_default();
        if primary(&page) == "cy" {
            Locale::Cy
        } else {
            Locale::En
        }
    }

    /// The language the instrument's texts and the response are recorded in: the core knows
    /// English and Welsh; the Arabic draft covers the interface only.
    pub fn core(self) -> chorus_core::Locale {
        match self {
            Locale::Cy => chorus_core::Locale::Cy,
            Locale::En | Locale::Ar => chorus_core::Locale::En,
        }
    }

    /// The BCP 47 tag for the widget's `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Cy => "cy",
            Locale::Ar => "ar",
        }
    }

    /// Writing direction for the widget's `dir` attribute.
    pub fn dir(self) -> &'static str {
        match self {
            Locale::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// Mark the widget's root (the `<div part="root">` in the host element's shadow root) with
    /// this language and direction, so neither is inherited from the host page.
    pub fn mark(self, host: &Element) {
        if let Some(Ok(Some(root))) = host.shadow_root().map(|s| s.query_selector("[part=root]")) {
            let _ = root.set_attribute("lang", self.tag());
            let _ = root.set_attribute("dir", self.dir());
        }
    }

    /// Pick the string for this locale. Arabic is looked up by the English string; a string
    /// with no draft yet is shown in English (and recorded so it can be marked `lang="en"`).
    pub fn t(self, en: &'static str, cy: &'static str) -> &'static str {
        match self {
            Locale::En => en,
            Locale::Cy => cy,
            Locale::Ar => arabic(en),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_falls_back_to_english_and_remembers_it() {
        assert_eq!(Locale::Ar.t("Good", "Da"), "جيدة");
        assert_eq!(untranslated(), "");
        let missing = "A string nobody has drafted yet";
        assert_eq!(Locale::Ar.t(missing, "Llinyn"), missing);
        Locale::Ar.t(missing, "Llinyn");
        assert_eq!(untranslated(), missing);
        assert_eq!(Locale::Cy.t("Good", "Da"), "Da");
        assert_eq!(Locale::Ar.core(), chorus_core::Locale::En);
        assert_eq!((Locale::Ar.tag(), Locale::Ar.dir()), ("ar", "rtl"));
        assert_eq!((Locale::Cy.tag(), Locale::Cy.dir()), ("cy", "ltr"));
    }
}
