//! The Friends and Family Test widget (`<chorus-fft>`).

use web_sys::Element;
use yew::prelude::*;

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
}

/// Properties of the FFT widget.
#[derive(Properties, PartialEq)]
pub struct FftProps {
    /// Interface language.
    pub locale: Locale,
}

/// The six mandated answers, in the mandated order. English wording is the NHS England
/// standard; the Welsh is ours, awaiting review by a fluent speaker.
const ANSWERS: [(&str, &str, &str); 6] = [
    ("very_good", "Very good", "Da iawn"),
    ("good", "Good", "Da"),
    (
        "neither",
        "Neither good nor poor",
        "Ddim yn dda nac yn wael",
    ),
    ("poor", "Poor", "Gwael"),
    ("very_poor", "Very poor", "Gwael iawn"),
    ("dont_know", "Don't know", "Ddim yn gwybod"),
];

/// The FFT question as a radio group.
#[function_component(Fft)]
pub fn fft(props: &FftProps) -> Html {
    let (question, pick) = match props.locale {
        Locale::En => (chorus_core::FFT_QUESTION_EN, 1),
        Locale::Cy => ("Yn gyffredinol, sut oedd eich profiad o'n gwasanaeth?", 2),
    };
    html! {
        <form class="chorus" part="form" novalidate=true>
            <fieldset class="chorus-fieldset">
                <legend class="chorus-legend" part="legend">{ question }</legend>
                <div class="chorus-radios">
                    { for ANSWERS.iter().map(|a| {
                        let id = format!("fft-{}", a.0);
                        let label = if pick == 1 { a.1 } else { a.2 };
                        html! {
                            <div class="chorus-radio">
                                <input class="chorus-radio__input" type="radio" id={id.clone()} name="fft" value={a.0} />
                                <label class="chorus-radio__label" for={id}>{ label }</label>
                            </div>
                        }
                    }) }
                </div>
            </fieldset>
        </form>
    }
}
