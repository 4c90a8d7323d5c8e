//! Published figures (the core's, suppression included) as HTML and as words.

use chorus_core::aggregate::{Pub, PublishedMean, PublishedPercent};
use maud::{Markup, html};

use crate::dashboard::templates;

/// A published percentage as text: `82.4% (80.1 to 84.5)`, or `*`.
pub fn pct(p: &Pub<PublishedPercent>) -> Markup {
    match p {
        Pub::Value(v) => {
            html! { (v.percent.display) "% " span class="hint" { "(" (v.low) " to " (v.high) ")" } }
        }
        Pub::Suppressed => templates::suppressed(),
    }
}

/// A published mean as text: `71.3 (69.0 to 73.6)`, or `*`.
pub fn mean(m: &Pub<PublishedMean>) -> Markup {
    match m {
        Pub::Value(v) => {
            html! { (v.mean.display) " " span class="hint" { "(" (v.low) " to " (v.high) ")" } }
        }
        Pub::Suppressed => templates::suppressed(),
    }
}

/// A published count, or `*`.
pub fn count(c: &Pub<u64>) -> Markup {
    match c {
        Pub::Value(v) => html! { (v) },
        Pub::Suppressed => templates::suppressed(),
    }
}

pub(super) fn pct_bar(p: &Pub<PublishedPercent>) -> Option<(f64, f64, f64)> {
    p.value().map(|v| {
        (
            v.percent.value,
            v.low.parse().unwrap_or(v.percent.value),
            v.high.parse().unwrap_or(v.percent.value),
        )
    })
}

pub(super) fn mean_bar(m: &Pub<PublishedMean>) -> Option<(f64, f64, f64)> {
    m.value().map(|v| {
        (
            v.mean.value,
            v.low.parse().unwrap_or(v.mean.value),
            v.high.parse().unwrap_or(v.mean.value),
        )
    })
}

/// Words for a percentage in a chart description.
pub(super) fn pct_words(p: &Pub<PublishedPercent>) -> String {
    match p {
        Pub::Value(v) => format!(
            "{}% (95% interval {} to {})",
            v.percent.display, v.low, v.high
        ),
        Pub::Suppressed => "suppressed".into(),
    }
}
