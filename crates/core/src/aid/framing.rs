//! Framing an outcome in words: rates, spans and their frequencies.

use super::*;

/// A rate in words, both framings: what a patient reads beside (and instead of) an icon
/// array, so it is also the array's text alternative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Framing {
    /// "Over 10 years, 12 out of 100 people have a stroke."
    pub with_event: String,
    /// "88 out of 100 people do not have a stroke."
    pub without_event: String,
    /// "The true number could be anywhere from 9 to 15 out of 100." (when a range is given)
    pub range: Option<String>,
}

/// The time frame in words: "10 years", "1 month"; Welsh "10 o flynyddoedd", "1 mis" (the
/// "o + plural" form after a numeral, which needs no number-specific mutation).
pub fn span_words(span: Span, locale: Locale) -> String {
    let n = span.amount();
    let one = n == 1;
    let unit = match (locale, span) {
        (Locale::Cy, Span::Days(_)) => {
            if one {
                "diwrnod"
            } else {
                "o ddiwrnodau"
            }
        }
        (Locale::Cy, Span::Weeks(_)) => {
            if one {
                "wythnos"
            } else {
                "o wythnosau"
            }
        }
        (Locale::Cy, Span::Months(_)) => {
            if one {
                "mis"
            } else {
                "o fisoedd"
            }
        }
        (Locale::Cy, Span::Years(_)) => {
            if one {
                "flwyddyn"
            } else {
                "o flynyddoedd"
            }
        }
        (_, Span::Days(_)) => {
            if one {
                "day"
            } else {
                "days"
            }
        }
        (_, Span::Weeks(_)) => {
            if one {
                "week"
            } else {
                "weeks"
            }
        }
        (_, Span::Months(_)) => {
            if one {
                "month"
            } else {
                "months"
            }
        }
        (_, Span::Years(_)) => {
            if one {
                "year"
            } else {
                "years"
            }
        }
    };
    format!("{n} {unit}")
}

/// A rate of `o` in words, in both framings (balanced framing: the chance of the event and
/// of not having it, with the same denominator). English: "Over 10 years, 12 out of 100
/// people have a stroke." / "88 out of 100 people do not have a stroke."; Welsh (draft
/// awaiting review): "Dros 10 o flynyddoedd, mae 12 o bob 100 o bobl yn cael strôc." /
/// "Mae 88 o bob 100 o bobl heb gael strôc." The plural verb is kept for 1 ("1 out of 100
/// people have"), as NHS writing does. A rate above its denominator (refused by
/// [`load`]) is clamped rather than underflowing.
pub fn framing(o: &Outcome, r: &Rate, locale: Locale) -> Framing {
    let (n, d) = (r.events.min(r.per), r.per);
    let rest = d - n;
    let over = span_words(r.over, locale);
    let (event, no_event) = (o.event.get(locale), o.no_event.get(locale));
    match locale {
        Locale::Cy => Framing {
            with_event: format!("Dros {over}, mae {n} o bob {d} o bobl {event}."),
            without_event: format!("Mae {rest} o bob {d} o bobl {no_event}."),
            range: r
                .low
                .zip(r.high)
                .map(|(l, h)| format!("Gallai'r gwir nifer fod unrhyw le o {l} i {h} o bob {d}.")),
        },
        // Other languages: English until a translator writes these sentences.
        Locale::En | Locale::Ar | Locale::Pl | Locale::Ur | Locale::Ro => Framing {
            with_event: format!("Over {over}, {n} out of {d} people {event}."),
            without_event: format!("{rest} out of {d} people {no_event}."),
            range: r.low.zip(r.high).map(|(l, h)| {
                format!("The true number could be anywhere from {l} to {h} out of {d}.")
            }),
        },
    }
}
