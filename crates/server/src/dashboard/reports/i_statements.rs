//! `GET /dashboard/i-statements`: theme scores and the statements that most need attention.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    response::IntoResponse,
};
use chorus_core::{
    Instrument,
    aggregate::{Pub, PublishedPercent},
};
use maud::html;

use super::{
    FilterQuery, PageResult, Report,
    format::{count, mean, mean_bar, pct},
    prepare,
};
use crate::{
    dashboard::{auth::Staff, charts, templates},
    state::AppState,
};

/// `GET /dashboard/i-statements`.
pub async fn i_statements_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let (f, form, a) = prepare(&app, &staff, &q, Report::IStatements).await?;
    let summary = a.total.summary();
    // Titles and statement wording from the instruments in the report.
    let insts: Vec<&Instrument> = app
        .instruments
        .values()
        .filter(|i| Report::IStatements.covers(i))
        .filter(|i| f.instrument.as_ref().is_none_or(|x| *x == i.id))
        .collect();
    let theme_title = |id: &str| {
        insts
            .iter()
            .flat_map(|i| &i.themes)
            .find(|t| t.id == id)
            .map_or_else(|| id.to_string(), |t| t.title.en.clone())
    };
    let statement = |id: &str| {
        insts.iter().find_map(|i| i.item(id)).map_or_else(
            || (id.to_string(), String::new()),
            |it| (it.text.en.clone(), it.theme.clone().unwrap_or_default()),
        )
    };
    let ist = summary.i_statements.clone();
    let themes: Vec<(String, chorus_core::aggregate::ThemeSummary)> = ist
        .as_ref()
        .map(|s| {
            s.themes
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let bars: Vec<charts::IntervalBar> = themes
        .iter()
        .map(|(k, t)| (theme_title(k), mean_bar(&t.score)))
        .collect();
    let desc = format!(
        "Mean theme score out of 100 with 95% intervals. {}",
        themes
            .iter()
            .map(|(k, t)| match &t.score {
                Pub::Value(m) => format!(
                    "{}: {} ({} to {}).",
                    theme_title(k),
                    m.mean.display,
                    m.low,
                    m.high
                ),
                Pub::Suppressed => format!("{}: suppressed.", theme_title(k)),
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    let statements: Vec<(String, String, String, u64, Pub<PublishedPercent>)> = ist
        .as_ref()
        .map(|s| {
            s.statements
                .iter()
                .map(|(id, p)| {
                    let (text, theme) = statement(id);
                    let n = a.total.statements.get(id).map_or(0, |x| x.n);
                    (id.clone(), text, theme_title(&theme), n, p.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut attention: Vec<&(String, String, String, u64, Pub<PublishedPercent>)> = statements
        .iter()
        .filter(|s| s.4.value().is_some())
        .collect();
    attention.sort_by(|x, y| {
        let v = |s: &&(String, String, String, u64, Pub<PublishedPercent>)| {
            s.4.value().map_or(0.0, |p| p.percent.value)
        };
        v(x).total_cmp(&v(y))
    });
    attention.truncate(5);
    let body = html! {
        h1 { "I Statements" }
        (form)
        @if a.total.responses == 0 {
            p { "No responses match this filter." }
        } @else {
            div class="cards" {
                div class="card" { span class="big-number" { (count(&summary.responses)) } "responses" }
                div class="card" { span class="big-number" id="overall-score" { (ist.as_ref().map_or_else(templates::suppressed, |s| mean(&s.overall))) } "overall score out of 100" }
            }
            p class="hint" { "Scores are out of 100 (strongly agree 100, agree 75, neither 50, disagree 25, strongly disagree 0; \"does not apply\" is not scored). A theme counts for a person when they answered at least half of its statements. Ranges in brackets are 95% intervals." }
            h2 { "Themes" }
            div class="chart-pair" {
                (charts::interval_bars("theme-scores", "Theme scores with 95% intervals", &desc, &bars))
                div class="table-wrap" tabindex="0" role="region" aria-label="Theme scores" {
                    table id="themes" {
                        caption { "Theme scores" }
                        thead { tr { th scope="col" { "Theme" } th scope="col" { "Score (out of 100)" } th scope="col" { "% agreeing" } } }
                        tbody {
                            @for (k, t) in &themes {
                                tr { th scope="row" { (theme_title(k)) } td { (mean(&t.score)) } td { (pct(&t.agree)) } }
                            }
                        }
                    }
                }
            }
            h2 { "Statements that most need attention" }
            @if attention.is_empty() {
                p { "Not enough answers yet to rank statements." }
            } @else {
                p { "The statements fewest people agreed with (of those that can be shown)." }
                ol id="attention" {
                    @for s in &attention {
                        li { (s.1) " – " strong { (pct(&s.4)) } " agreeing " span class="hint" { "(" (s.2) ")" } }
                    }
                }
            }
            h2 { "Every statement" }
            div class="table-wrap" tabindex="0" role="region" aria-label="Agreement with each statement" {
                table id="statements" {
                    caption class="visually-hidden" { "Agreement with each statement" }
                    thead { tr { th scope="col" { "Statement" } th scope="col" { "Theme" } th scope="col" class="num" { "Answered" } th scope="col" { "% agreeing" } } }
                    tbody {
                        @for s in &statements {
                            tr { th scope="row" { (s.1) } td { (s.2) } td class="num" { (count(&Pub::count(s.3))) } td { (pct(&s.4)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page("I Statements", Some(&staff), "i-statements", body).into_response())
}
