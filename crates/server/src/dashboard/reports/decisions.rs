//! `GET /dashboard/decisions`: decision aids (completions, where answers leaned) and the shared
//! decision measures (SURE, CollaboRATE, SDM-Q-9, knowledge).

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    response::IntoResponse,
};
use chorus_core::{
    Scoring,
    aggregate::{InstrumentAggregate, Pub},
};
use maud::html;

use super::{
    FilterQuery, PageResult, Report,
    format::{count, mean, pct},
    prepare,
};
use crate::{
    dashboard::{auth::Staff, charts, templates},
    state::AppState,
};

/// `GET /dashboard/decisions`.
pub async fn decisions_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let (_, form, a) = prepare(&app, &staff, &q, Report::Decisions).await?;
    let s = a.total.summary();
    let title = |id: &str| {
        app.instruments
            .get(id)
            .map_or_else(|| id.to_string(), |i| i.title.en.clone())
    };
    let completions: Vec<(String, Option<u64>)> = a
        .by_instrument
        .iter()
        .map(|(k, x)| (title(k), Pub::count(x.responses).value().copied()))
        .collect();
    let completions_desc = format!(
        "Completed questionnaires by decision aid or measure. {}",
        completions
            .iter()
            .map(|(k, n)| format!("{k}: {}.", n.map_or("suppressed".into(), |n| n.to_string())))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let sure_bars: Vec<(String, Option<u64>)> = s
        .sure
        .as_ref()
        .map(|x| {
            x.totals
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("{i} of 4 yes"), n.value().copied()))
                .collect()
        })
        .unwrap_or_default();
    let sure_desc = format!(
        "How many people scored each SURE total. {}",
        sure_bars
            .iter()
            .map(|(k, n)| format!("{k}: {}.", n.map_or("suppressed".into(), |n| n.to_string())))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let aids: Vec<(&String, &InstrumentAggregate)> = a
        .by_instrument
        .iter()
        .filter(|(k, _)| {
            app.instruments
                .get(*k)
                .is_some_and(|i| i.scoring == Scoring::DecisionAid)
        })
        .collect();
    let overdue = crate::dashboard::aid_review::overdue(&app, crate::util::today());
    let body = html! {
        h1 { "Decision aids and shared decisions" }
        (crate::dashboard::aid_review::warning(&overdue))
        (form)
        @if a.total.responses == 0 {
            p { "No responses match this filter." }
        } @else {
            h2 { "Completions" }
            div class="chart-pair" {
                (charts::count_bars("completions", "Completed questionnaires", &completions_desc, &completions))
                div class="table-wrap" tabindex="0" role="region" aria-label="Completed questionnaires" {
                    table id="completions-table" {
                        caption { "Completed questionnaires" }
                        thead { tr { th scope="col" { "Decision aid or measure" } th scope="col" class="num" { "Completed" } } }
                        tbody {
                            @for (k, x) in &a.by_instrument {
                                tr { th scope="row" { (title(k)) } td class="num" { (count(&Pub::count(x.responses))) } }
                            }
                        }
                    }
                }
            }
            h2 { "SURE test" }
            @if let Some(sure) = &s.sure {
                p { "People screening positive for decisional conflict (fewer than 4 yes answers): " strong id="sure-conflict" { (pct(&sure.conflict)) } " of " (count(&sure.scored)) "." }
                div class="chart-pair" {
                    (charts::count_bars("sure-totals", "SURE totals", &sure_desc, &sure_bars))
                    div class="table-wrap" tabindex="0" role="region" aria-label="SURE totals" {
                        table id="sure-table" {
                            caption { "SURE totals" }
                            thead { tr { th scope="col" { "SURE total" } th scope="col" class="num" { "People" } } }
                            tbody {
                                @for (i, n) in sure.totals.iter().enumerate() {
                                    tr { th scope="row" { (i) " of 4 yes" } td class="num" { (count(n)) } }
                                }
                            }
                        }
                    }
                }
            } @else {
                p { "No SURE answers match this filter." }
            }
            h2 { "Shared decision measures" }
            div class="table-wrap" tabindex="0" role="region" aria-label="Shared decision measures" {
                table id="measures" {
                    caption class="visually-hidden" { "Shared decision measures" }
                    thead { tr { th scope="col" { "Measure" } th scope="col" { "Result (95% interval)" } } }
                    tbody {
                        tr { th scope="row" { "CollaboRATE: people giving the top score" } td id="collaborate-top" { (s.collaborate.as_ref().map_or_else(|| html! { "no answers" }, |c| pct(&c.top_score))) } }
                        tr { th scope="row" { "CollaboRATE: mean score (out of 100)" } td { (s.collaborate.as_ref().map_or_else(|| html! { "no answers" }, |c| mean(&c.mean_score))) } }
                        tr { th scope="row" { "SDM-Q-9: mean score (out of 100)" } td id="sdm-mean" { (s.sdm_q_9.as_ref().map_or_else(|| html! { "no answers" }, mean)) } }
                        tr { th scope="row" { "Knowledge check: answers right" } td { (s.knowledge.as_ref().map_or_else(|| html! { "no answers" }, pct)) } }
                    }
                }
            }
            @for (id, x) in &aids {
                @let inst = app.instruments.get(*id);
                h3 { "Where answers leaned: " (title(id)) }
                div class="table-wrap" tabindex="0" role="region" aria-label={ "Where answers leaned: " (title(id)) } {
                    table {
                        caption class="visually-hidden" { "Where answers leaned" }
                        thead { tr { th scope="col" { "Option" } th scope="col" class="num" { "People" } } }
                        tbody {
                            @for (opt, n) in &x.lean {
                                @let label = if opt.is_empty() { "No clear lean".to_string() } else { inst.and_then(|i| i.options.iter().find(|o| o.id == *opt)).map_or_else(|| opt.clone(), |o| o.text.en.clone()) };
                                tr { th scope="row" { (label) } td class="num" { (count(&Pub::count(*n))) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page("Decisions", Some(&staff), "decisions", body).into_response())
}
