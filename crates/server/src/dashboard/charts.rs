//! Accessible SVG charts, drawn on the server. Each is a `<figure>` whose `<svg role="img">`
//! is labelled by its own `<title>` and `<desc>` (the description states the figures in
//! words), and every page puts the same figures in a data table beside the chart. Series are
//! told apart by line style and marker shape as well as colour. Suppressed figures are gaps
//! with a note, never zero.

use maud::{Markup, html};

const W: f64 = 640.0;
const BLUE: &str = "#005eb8";
const RED: &str = "#d5281b";
const TEXT: &str = "#212b32";
const GRID: &str = "#d8dde0";

/// One line of a [`line_chart`].
pub struct Series {
    /// Name in the legend.
    pub name: String,
    /// One value (0–100) per x label; `None` is a gap (suppressed or no data).
    pub values: Vec<Option<f64>>,
}

fn fmt(x: f64) -> String {
    format!("{x:.1}")
}

/// Percentages over time, 0–100 on the y axis. The first series is a solid blue line with
/// round markers, the second a dashed red line with square markers.
pub fn line_chart(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    series: &[Series],
) -> Markup {
    let (left, right, top, bottom) = (56.0, W - 44.0, 16.0, 250.0);
    let h = 300.0;
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            (left + right) / 2.0
        } else {
            left + (right - left) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| bottom - (bottom - top) * v.clamp(0.0, 100.0) / 100.0;
    // Runs of consecutive values: a gap breaks the line.
    let runs = |values: &[Option<f64>]| -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = Vec::new();
        for (i, v) in values.iter().enumerate() {
            match v {
                Some(v) => cur.push(format!("{},{}", fmt(x(i)), fmt(y(*v)))),
                None => {
                    if cur.len() > 1 {
                        out.push(cur.join(" "));
                    }
                    cur.clear();
                }
            }
        }
        if cur.len() > 1 {
            out.push(cur.join(" "));
        }
        out
    };
    let every = n.div_ceil(8);
    frame(
        id,
        title,
        desc,
        h,
        html! {
            @for t in [0.0, 25.0, 50.0, 75.0, 100.0] {
                line x1=(left) x2=(right) y1=(fmt(y(t))) y2=(fmt(y(t))) stroke=(GRID) stroke-width="1" {}
                text x=(left - 8.0) y=(fmt(y(t) + 5.0)) text-anchor="end" font-size="14" fill=(TEXT) { (t) "%" }
            }
            @for (i, l) in labels.iter().enumerate() {
                @if i % every == 0 || i + 1 == n {
                    text x=(fmt(x(i))) y=(bottom + 24.0) text-anchor="middle" font-size="14" fill=(TEXT) { (l) }
                }
            }
            @for (k, s) in series.iter().enumerate() {
                @let colour = if k == 0 { BLUE } else { RED };
                @for pts in runs(&s.values) {
                    polyline points=(pts) fill="none" stroke=(colour) stroke-width="3"
                        stroke-dasharray=[(k > 0).then_some("8 5")] {}
                }
                @for (i, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        @if k == 0 {
                            circle cx=(fmt(x(i))) cy=(fmt(y(*v))) r="5" fill=(colour) {}
                        } @else {
                            rect x=(fmt(x(i) - 5.0)) y=(fmt(y(*v) - 5.0)) width="10" height="10" fill=(colour) {}
                        }
                    }
                }
            }
        },
        html! {
            ul class="legend" aria-hidden="true" {
                @for (k, s) in series.iter().enumerate() {
                    li { span class=(if k > 0 { "swatch swatch-dashed" } else { "swatch" }) {} (s.name) }
                }
            }
        },
    )
}

/// One bar of an [`interval_bars`] chart: label and (value, low, high) on 0–100, or `None`
/// when suppressed.
pub type IntervalBar = (String, Option<(f64, f64, f64)>);

/// Horizontal bars on a 0–100 scale, each with its 95% interval drawn as a whisker.
pub fn interval_bars(id: &str, title: &str, desc: &str, bars: &[IntervalBar]) -> Markup {
    let (left, right) = (16.0, W - 24.0);
    let row = 52.0;
    let h = 40.0 + row * bars.len() as f64;
    let x = |v: f64| left + (right - left) * v.clamp(0.0, 100.0) / 100.0;
    frame(
        id,
        title,
        desc,
        h,
        html! {
            @for t in [0.0, 25.0, 50.0, 75.0, 100.0] {
                line x1=(fmt(x(t))) x2=(fmt(x(t))) y1="8" y2=(fmt(h - 28.0)) stroke=(GRID) stroke-width="1" {}
                text x=(fmt(x(t))) y=(fmt(h - 8.0)) text-anchor="middle" font-size="14" fill=(TEXT) { (t) }
            }
            @for (i, (label, v)) in bars.iter().enumerate() {
                @let top = 8.0 + row * i as f64;
                text x=(left) y=(fmt(top + 16.0)) font-size="15" fill=(TEXT) { (label) }
                @match v {
                    Some((v, lo, hi)) => {
                        rect x=(left) y=(fmt(top + 22.0)) width=(fmt(x(*v) - left)) height="18" fill=(BLUE) {}
                        line x1=(fmt(x(*lo))) x2=(fmt(x(*hi))) y1=(fmt(top + 31.0)) y2=(fmt(top + 31.0)) stroke=(TEXT) stroke-width="2" {}
                        line x1=(fmt(x(*lo))) x2=(fmt(x(*lo))) y1=(fmt(top + 24.0)) y2=(fmt(top + 38.0)) stroke=(TEXT) stroke-width="2" {}
                        line x1=(fmt(x(*hi))) x2=(fmt(x(*hi))) y1=(fmt(top + 24.0)) y2=(fmt(top + 38.0)) stroke=(TEXT) stroke-width="2" {}
                    }
                    None => {
                        text x=(left) y=(fmt(top + 36.0)) font-size="14" fill=(TEXT) { "* suppressed: fewer than 5" }
                    }
                }
            }
        },
        html! {},
    )
}

/// Horizontal bars of counts, scaled to the largest. `None` is suppressed.
pub fn count_bars(id: &str, title: &str, desc: &str, bars: &[(String, Option<u64>)]) -> Markup {
    let (left, right) = (16.0, W - 80.0);
    let row = 52.0;
    let h = 16.0 + row * bars.len() as f64;
    let max = bars.iter().filter_map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let w = |n: u64| (right - left) * n as f64 / max;
    frame(
        id,
        title,
        desc,
        h,
        html! {
            @for (i, (label, v)) in bars.iter().enumerate() {
                @let top = 8.0 + row * i as f64;
                text x=(left) y=(fmt(top + 16.0)) font-size="15" fill=(TEXT) { (label) }
                @match v {
                    Some(n) => {
                        rect x=(left) y=(fmt(top + 22.0)) width=(fmt(w(*n).max(1.0))) height="18" fill=(BLUE) {}
                        text x=(fmt(left + w(*n) + 8.0)) y=(fmt(top + 36.0)) font-size="14" fill=(TEXT) { (n) }
                    }
                    None => {
                        text x=(left) y=(fmt(top + 36.0)) font-size="14" fill=(TEXT) { "* suppressed: fewer than 5" }
                    }
                }
            }
        },
        html! {},
    )
}

/// The frame every chart shares: a figure with its (visual) caption, an SVG that is one image
/// to assistive technology (named by its title, described by `desc`), then `after` (a legend).
fn frame(id: &str, title: &str, desc: &str, h: f64, body: Markup, after: Markup) -> Markup {
    html! {
        figure class="chart" {
            figcaption aria-hidden="true" { (title) }
            svg id=(id) viewBox={ "0 0 " (W) " " (h) } role="img" aria-labelledby={ (id) "-title " (id) "-desc" } {
                title id={ (id) "-title" } { (title) }
                desc id={ (id) "-desc" } { (desc) }
                (body)
            }
            (after)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppressed_month_breaks_the_line_and_is_not_drawn_as_zero() {
        let labels: Vec<String> = ["Jan", "Feb", "Mar", "Apr"].map(String::from).to_vec();
        let series = [Series {
            name: "% positive".into(),
            values: vec![Some(80.0), Some(82.0), None, Some(90.0)],
        }];
        let svg = line_chart("t", "Title", "Described", &labels, &series).into_string();
        // One run of two points; the lone point after the gap is a marker only.
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("role=\"img\"") && svg.contains("aria-labelledby=\"t-title t-desc\""));
        assert!(svg.contains("<title id=\"t-title\">Title</title>"));
        assert!(svg.contains("<desc id=\"t-desc\">Described</desc>"));
    }

    #[test]
    fn interval_bars_draw_whiskers_and_say_when_suppressed() {
        let svg = interval_bars(
            "b",
            "T",
            "D <&>",
            &[
                ("A & B".into(), Some((50.0, 40.0, 60.0))),
                ("C".into(), None),
            ],
        )
        .into_string();
        assert_eq!(svg.matches("<rect").count(), 1);
        // Grid lines (5) plus three whisker strokes for the one bar.
        assert_eq!(svg.matches("<line").count(), 8);
        assert!(svg.contains("* suppressed: fewer than 5"));
        assert!(svg.contains("A &amp; B") && svg.contains("D &lt;&amp;&gt;"));
    }
}
