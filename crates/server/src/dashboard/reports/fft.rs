//! `GET /dashboard/fft`: the Friends and Family Test, by month (with its process chart) and
//! by service.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::{Query, State},
    response::IntoResponse,
};
use chorus_core::aggregate::InstrumentAggregate;
use maud::{Markup, html};

use super::{
    FilterQuery, MAX_SERVICES_SHOWN, PageResult, Report,
    calendar::month_label,
    format::{count, pct, pct_bar, pct_words},
    prepare,
};
use crate::{
    dashboard::{auth::Staff, charts, templates},
    state::AppState,
};

fn fft_answer_labels(app: &AppState) -> Vec<String> {
    let fft = app.instruments.get("fft");
    chorus_core::aggregate::FFT_ANSWER_IDS
        .iter()
        .map(|id| {
            fft.and_then(|i| i.fft_item())
                .and_then(|it| it.options.iter().find(|o| o.id == *id))
                .map_or_else(|| id.replace('_', " "), |o| o.text.en.clone())
        })
        .collect()
}

/// Statistical process control of monthly % positive, as boards read it ("Making Data Count"):
/// the core's XmR chart over the months with a published figure (suppressed months are left
/// out, and said so), its limits drawn with the values, every point's special-cause rules in a
/// table, and the variation verdict in words. Higher is better.
fn spc_section(months: &[(&String, chorus_core::aggregate::FftSummary)]) -> Markup {
    use chorus_core::spc::{Direction, Options, xmr};
    let shown: Vec<(&String, f64)> = months
        .iter()
        .filter_map(|(m, x)| x.positive.value().map(|v| (*m, v.percent.value)))
        .collect();
    let left_out = months.len() - shown.len();
    let values: Vec<f64> = shown.iter().map(|(_, v)| *v).collect();
    let opts = Options {
        direction: Some(Direction::Higher),
        ..Options::default()
    };
    let one = chorus_core::num::f64_display_1dp;
    html! {
        h2 id="spc" { "Statistical process control: % positive by month" }
        @match xmr(&values, &opts) {
            None => p { "At least two months with a published figure are needed for a process chart." }
            Some(c) => {
                @let labels: Vec<String> = shown.iter().map(|(m, _)| month_label(m)).collect();
                @let flat = |y: f64| -> Vec<Option<f64>> { vec![Some(y.clamp(0.0, 100.0)); values.len()] };
                @let series = vec![
                    charts::Series { name: "% positive".into(), values: values.iter().map(|v| Some(*v)).collect() },
                    charts::Series { name: "Mean".into(), values: flat(c.mean) },
                    charts::Series { name: "Upper process limit".into(), values: flat(c.upper) },
                    charts::Series { name: "Lower process limit".into(), values: flat(c.lower) },
                ];
                p id="spc-variation" class="verdict" { strong { "Variation: " } (c.variation.words(opts.direction)) }
                p class="hint" {
                    "Mean " (one(c.mean)) "%, process limits " (one(c.lower)) "% to " (one(c.upper)) "%, from "
                    (c.baseline) " months."
                    @if c.few_points { " Fewer than 15 months: the limits may move as more months arrive." }
                    @if left_out > 0 { " " (left_out) " month(s) with too few responses to publish are left out." }
                }
                div class="chart-pair" {
                    (charts::line_chart("fft-spc", "% positive by month with its mean and process limits",
                        &format!("Mean {}%, upper limit {}%, lower limit {}%. {}", one(c.mean), one(c.upper), one(c.lower), c.variation.words(opts.direction)),
                        &labels, &series))
                    div class="table-wrap" tabindex="0" role="region" aria-label="Process chart points" {
                        table id="fft-spc-table" {
                            caption { "Process chart points" }
                            thead { tr { th scope="col" { "Month" } th scope="col" class="num" { "% positive" } th scope="col" { "Special cause" } } }
                            tbody {
                                @for (((_, v), f), label) in shown.iter().zip(&c.points).zip(&labels) {
                                    tr {
                                        th scope="row" { (label) }
                                        td class="num" { (one(*v)) }
                                        td { (spc_flags_words(f)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The rules a point breaks, in words ("—" for none).
fn spc_flags_words(f: &chorus_core::spc::Flags) -> String {
    let mut w = Vec::new();
    if f.astronomical {
        w.push("beyond a process limit");
    }
    if f.shift {
        w.push("part of a run on one side of the mean");
    }
    if f.trend {
        w.push("part of a trend");
    }
    if f.two_of_three {
        w.push("two of three near a limit");
    }
    match (w.is_empty(), f.high) {
        (true, _) => "—".into(),
        (false, Some(true)) => format!("{} (high)", w.join("; ")),
        (false, _) => format!("{} (low)", w.join("; ")),
    }
}

/// `GET /dashboard/fft`.
pub async fn fft_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let (_, form, a) = prepare(&app, &staff, &q, Report::Fft).await?;
    let s = a.total.fft_summary();
    let labels = fft_answer_labels(&app);
    // Rows of a table whose total is on the page: protected across the rows too, so a
    // suppressed month or service cannot be had from the total minus the others.
    let months: Vec<(&String, chorus_core::aggregate::FftSummary)> = a
        .by_month
        .keys()
        .zip(chorus_core::suppress::fft_rows(
            &a.by_month.values().collect::<Vec<_>>(),
        ))
        .collect();
    let month_labels: Vec<String> = months.iter().map(|(m, _)| month_label(m)).collect();
    let series = vec![
        charts::Series {
            name: "% positive (very good or good)".into(),
            values: months
                .iter()
                .map(|(_, x)| x.positive.value().map(|v| v.percent.value))
                .collect(),
        },
        charts::Series {
            name: "% negative (poor or very poor)".into(),
            values: months
                .iter()
                .map(|(_, x)| x.negative.value().map(|v| v.percent.value))
                .collect(),
        },
    ];
    let trend_desc = format!(
        "Percentage of responses positive and negative in each month. {}",
        months
            .iter()
            .map(|(m, x)| format!(
                "{}: positive {}, negative {}.",
                month_label(m),
                pct_words(&x.positive),
                pct_words(&x.negative)
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let compared = compared_services(&a.by_service);
    let services: Vec<(String, chorus_core::aggregate::FftSummary)> = compared
        .iter()
        .map(|(k, _)| k.clone())
        .zip(chorus_core::suppress::fft_rows(
            &compared.iter().map(|(_, x)| x).collect::<Vec<_>>(),
        ))
        .collect();
    let service_bars: Vec<charts::IntervalBar> = services
        .iter()
        .map(|(k, x)| (k.clone(), pct_bar(&x.positive)))
        .collect();
    let service_desc = format!(
        "Percentage positive by service, with 95% intervals. {}",
        services
            .iter()
            .map(|(k, x)| format!("{k}: {}.", pct_words(&x.positive)))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let body = html! {
        h1 { "Friends and Family Test" }
        (form)
        @if a.total.responses == 0 {
            p { "No responses match this filter." }
        } @else {
            div class="cards" {
                div class="card" { h2 class="visually-hidden" { "Responses" } span class="big-number" { (count(&s.total)) } "responses" }
                div class="card" { span class="big-number" id="fft-positive" { (pct(&s.positive)) } "positive (very good or good)" }
                div class="card" { span class="big-number" id="fft-negative" { (pct(&s.negative)) } "negative (poor or very poor)" }
            }
            p class="hint" { "Percentages are of all responses, \"don't know\" included. Ranges in brackets are 95% intervals." }
            h2 { "Answers" }
            div class="table-wrap" tabindex="0" role="region" aria-label="Responses per answer" {
                table id="fft-counts" {
                    caption class="visually-hidden" { "Responses per answer" }
                    thead { tr { th scope="col" { "Answer" } th scope="col" class="num" { "Responses" } } }
                    tbody {
                        @for (label, (_, c)) in labels.iter().zip(&s.counts) {
                            tr { th scope="row" { (label) } td class="num" { (count(c)) } }
                        }
                        tr { th scope="row" { "All responses" } td class="num" { (count(&s.total)) } }
                    }
                }
            }
            h2 { "Trend by month" }
            div class="chart-pair" {
                (charts::line_chart("fft-trend", "Positive and negative by month", &trend_desc, &month_labels, &series))
                div class="table-wrap" tabindex="0" role="region" aria-label="Positive and negative by month" {
                    table id="fft-months" {
                        caption { "Positive and negative by month" }
                        thead { tr { th scope="col" { "Month" } th scope="col" class="num" { "Responses" } th scope="col" { "% positive" } th scope="col" { "% negative" } } }
                        tbody {
                            @for (m, x) in &months {
                                tr { th scope="row" { (month_label(m)) } td class="num" { (count(&x.total)) } td { (pct(&x.positive)) } td { (pct(&x.negative)) } }
                            }
                        }
                    }
                }
            }
            (spc_section(&months))
            h2 { "Services compared" }
            div class="chart-pair" {
                (charts::interval_bars("fft-services", "Percentage positive by service", &service_desc, &service_bars))
                div class="table-wrap" tabindex="0" role="region" aria-label="Services compared" {
                    table id="fft-services-table" {
                        caption { "Services compared" }
                        thead { tr { th scope="col" { "Service" } th scope="col" class="num" { "Responses" } th scope="col" { "% positive" } th scope="col" { "% negative" } } }
                        tbody {
                            @for (k, x) in &services {
                                tr { th scope="row" { (k) } td class="num" { (count(&x.total)) } td { (pct(&x.positive)) } td { (pct(&x.negative)) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page("Friends and Family Test", Some(&staff), "fft", body).into_response())
}

/// Services side by side: the [`MAX_SERVICES_SHOWN`] with most responses by name (in name
/// order), and every other service merged into one "other services" row, so the comparison
/// stays readable (and the page small) however many service names were sent.
pub fn compared_services(
    by_service: &BTreeMap<String, InstrumentAggregate>,
) -> Vec<(String, InstrumentAggregate)> {
    let mut ranked: Vec<(&String, &InstrumentAggregate)> = by_service.iter().collect();
    ranked.sort_by(|a, b| b.1.responses.cmp(&a.1.responses).then(a.0.cmp(b.0)));
    let rest = ranked.split_off(ranked.len().min(MAX_SERVICES_SHOWN));
    ranked.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(String, InstrumentAggregate)> = ranked
        .into_iter()
        .map(|(k, x)| {
            (
                if k.is_empty() {
                    "(no service)".into()
                } else {
                    k.clone()
                },
                x.clone(),
            )
        })
        .collect();
    if !rest.is_empty() {
        let mut other = InstrumentAggregate::default();
        for (_, x) in &rest {
            other.merge(x);
        }
        out.push((format!("(other services: {})", rest.len()), other));
    }
    out
}
