//! Who is not being heard (issue 24): FFT % positive for each group of each "About you"
//! question, against everyone else, with the core's gap arithmetic and suppression.
//!
//! Only aggregates, and only the core's published ones: a group below the threshold shows
//! `*` and nothing made from it, secondary suppression keeps it from being had from the total,
//! characteristics are never shown beside a comment or crossed with each other, and the
//! rows are read without their answers (no free text travels with a characteristic).

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    response::IntoResponse,
};
use chorus_core::{
    aggregate::{Proportion, Pub},
    gap::{GapTable, Group, Representation, Verdict, proportion_gaps},
};
use maud::{Markup, html};

use super::{
    auth::{Role, Staff},
    reports::{self, FilterQuery, Report, count, pct},
    templates::{self, PageResult},
};
use crate::AppState;

/// `GET /dashboard/equality` (analysts and admins).
pub async fn equality_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let f = reports::check_filter(&app, &staff, &q, Report::Equality, Role::Analyst)?;
    let form = reports::filter_form(&app, &staff, &f, Report::Equality, Role::Analyst).await?;
    let instruments = reports::report_instruments(&app, Report::Equality);
    let mut groups = chorus_store::rollup::AboutGroups::default();
    for (_, r) in reports::rolled(&app, &f, &instruments, chorus_store::rollup::Part::About).await?
    {
        groups.merge(&r.about);
    }
    let about = app
        .instruments
        .get(chorus_core::library::ABOUT_YOU)
        .ok_or_else(|| anyhow::anyhow!("the about-you instrument is missing"))?;
    let reference = app.config.equality.reference.get(&f.site);
    let prop = |c: [u64; 2]| Proportion { k: c[0], n: c[1] };
    let all = prop(groups.all);
    let enabled = app.config.equality.enabled(&f.site);
    let tables: Vec<(String, String, GapTable<_>)> = about
        .items
        .iter()
        .map(|item| {
            let mut groups_of_item: Vec<Group<Proportion>> = item
                .options
                .iter()
                .map(|o| Group {
                    label: o.text.en.clone(),
                    stated: o.id != "prefer_not_to_say",
                    reference_tenths: reference
                        .and_then(|r| r.get(&item.id))
                        .and_then(|r| r.get(&o.id))
                        .copied(),
                    acc: Proportion::default(),
                })
                .collect();
            // Those who gave none of this question's answers (or one it no longer has).
            let answers = groups.by.get(&item.id);
            for (g, o) in groups_of_item.iter_mut().zip(&item.options) {
                g.acc = prop(
                    answers
                        .and_then(|a| a.get(&o.id))
                        .copied()
                        .unwrap_or_default(),
                );
            }
            let answered = groups_of_item
                .iter()
                .fold([0, 0], |s, g| [s[0] + g.acc.k, s[1] + g.acc.n]);
            let unanswered = prop([
                all.k - answered[0].min(all.k),
                all.n - answered[1].min(all.n),
            ]);
            let mut groups = groups_of_item;
            groups.push(Group {
                label: "Not answered".into(),
                stated: false,
                reference_tenths: None,
                acc: unanswered,
            });
            (
                item.id.clone(),
                item.text.en.clone(),
                proportion_gaps(&groups, &all),
            )
        })
        .collect();
    let body = html! {
        h1 { "Who is not being heard" }
        (form)
        @if !enabled {
            p { "This site does not ask the optional About you questions. To ask them, list the site under " code { "[equality] sites" } " in the server's configuration." }
        }
        p { "Friends and Family Test % positive for each group of patients who answered the optional About you questions, compared with everyone else in the same period and services. A difference is named only where its 95% interval leaves out no difference at all, so a small group does not raise a false alarm. Groups of fewer than 5 are shown as *, and so is anything that would let them be worked out." }
        p class="hint" { (count(&Pub::count(all.n))) " Friends and Family Test responses in this filter." }
        @for (id, question, t) in &tables {
            h2 id={ "gap-" (id) } { (question) }
            div class="table-wrap" tabindex="0" role="region" aria-labelledby={ "gap-" (id) } {
                table id={ "gap-table-" (id) } {
                    thead { tr {
                        th scope="col" { "Group" }
                        th scope="col" class="num" { "Responses" }
                        th scope="col" { "% positive" }
                        th scope="col" { "Difference from everyone else (points)" }
                        th scope="col" { "What it says" }
                        th scope="col" class="num" { "Share of those who said" }
                        th scope="col" { "Against the expected mix" }
                    } }
                    tbody {
                        @for r in &t.rows {
                            tr {
                                th scope="row" { (r.label) }
                                td class="num" { (count(&r.n)) }
                                td { (pct(&r.figure)) }
                                td { (difference(&r.difference)) }
                                td { (verdict(r.verdict)) }
                                td class="num" { @match &r.share { Pub::Value(s) => { (s) "%" } Pub::Suppressed => { (templates::suppressed()) } } }
                                td { (representation(r.representation)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page("Who is not being heard", Some(&staff), "equality", body).into_response())
}

fn difference(d: &Pub<chorus_core::gap::PublishedDifference>) -> Markup {
    match d {
        Pub::Value(d) => {
            html! { (d.points) " " span class="hint" { "(" (d.low) " to " (d.high) ")" } }
        }
        Pub::Suppressed => templates::suppressed(),
    }
}

fn verdict(v: Verdict) -> Markup {
    let class = match v {
        Verdict::Higher => "verdict verdict--better",
        Verdict::Lower => "verdict verdict--worse",
        _ => "verdict",
    };
    html! { span class=(class) { (v.words()) } }
}

fn representation(r: Option<Representation>) -> Markup {
    match r {
        Some(r) => html! { (r.words()) },
        None => html! { span class="hint" { "no expected mix entered" } },
    }
}
