//! Themes and sentiment found in comments (see `crate::classify`): counts and a monthly trend
//! per theme, the words behind each tag on the comments page, and staff corrections.
//!
//! A correction is kept three ways: the tag itself changes (a removed tag stays, marked
//! removed), `theme_corrections` records who changed what, and the audit log has an entry.
//! A correction that gives a phrase is also an example for the site from then on: a phrase
//! staff added for a theme is a cue for it in later comments, and a phrase staff removed a
//! theme for no longer names it (`chorus_classify::SiteRules`, consulted before the cues).
//!
//! This module is the themes page; `on_comments` is the themes block of each comment on the
//! comments page and the corrections made there.
//!
//! Counts from 1 to 4 are shown as `*`, and percentages of fewer than 5 mentions are not
//! drawn, as everywhere on the dashboard.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    auth::{Role, Staff},
    charts,
    reports::{self, FilterQuery, Report, month_label, url_encode},
    templates::{self, PageResult},
};
use crate::AppState;

mod on_comments;

pub use on_comments::{CorrectForm, correct, normalise_phrase, panels};

/// Fewest mentions a percentage is drawn from.
const MIN: i64 = 5;

fn count(n: i64) -> Markup {
    if n > 0 && n < MIN {
        templates::suppressed()
    } else {
        html! { (n) }
    }
}

/// The query string of the themes page.
#[derive(Debug, Default, Deserialize)]
pub struct ThemesQuery {
    site: Option<String>,
    service: Option<String>,
    from: Option<String>,
    to: Option<String>,
    theme: Option<String>,
}

/// `GET /dashboard/themes` (analysts and admins).
pub async fn themes_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<ThemesQuery>,
) -> PageResult {
    let fq = FilterQuery {
        site: q.site.clone(),
        service: q.service.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        ..Default::default()
    };
    let f = reports::check_filter(&app, &staff, &fq, Report::Comments, Role::Analyst)?;
    Ok(themes_inner(&app, &staff, &f, q.theme.as_deref()).await?)
}

#[derive(Default, Clone, Copy)]
struct Tally {
    positive: i64,
    negative: i64,
    neutral: i64,
}

impl Tally {
    fn total(&self) -> i64 {
        self.positive + self.negative + self.neutral
    }
    fn add(&mut self, s: &str, n: i64) {
        match s {
            "positive" => self.positive += n,
            "negative" => self.negative += n,
            _ => self.neutral += n,
        }
    }
}

async fn themes_inner(
    app: &AppState,
    staff: &Staff,
    f: &reports::Filter,
    chosen: Option<&str>,
) -> anyhow::Result<Response> {
    let names: Vec<String> = app.text.for_site(&f.site).theme_names().to_vec();
    // From the theme rollups (`chorus_store::theme_rollup`): days × services × themes rows,
    // whatever the number of comments.
    let counts = app
        .store
        .theme_counts(
            &f.site,
            f.service.as_deref(),
            f.from.as_deref(),
            f.to.as_deref(),
        )
        .await?;
    let mut by_month: BTreeMap<String, BTreeMap<String, Tally>> = BTreeMap::new();
    let mut totals: BTreeMap<String, Tally> = BTreeMap::new();
    for (month, tags) in counts.tags {
        for ((theme, sentiment), n) in tags {
            by_month
                .entry(month.clone())
                .or_default()
                .entry(theme.clone())
                .or_default()
                .add(&sentiment, n);
            totals.entry(theme).or_default().add(&sentiment, n);
        }
    }
    let with_text = counts.with_text;
    for m in with_text.keys() {
        by_month.entry(m.clone()).or_default();
    }
    let comments: i64 = with_text.values().sum();
    // Every configured theme, then any still in the data (a theme a site dropped later).
    let mut order: Vec<String> = names.clone();
    for t in totals.keys() {
        if !order.contains(t) {
            order.push(t.clone());
        }
    }
    let chosen = chosen
        .filter(|c| order.iter().any(|t| t == c))
        .map(str::to_string)
        .or_else(|| {
            totals
                .iter()
                .max_by_key(|(_, t)| t.total())
                .map(|(k, _)| k.clone())
        });
    let sites = staff.sites_at_least(Role::Analyst);
    let bars: Vec<(String, Option<u64>)> = order
        .iter()
        .map(|t| {
            let n = totals.get(t).map_or(0, Tally::total);
            (t.clone(), (n == 0 || n >= MIN).then_some(n as u64))
        })
        .collect();
    let pct = |n: i64, d: i64| (d >= MIN).then(|| 100.0 * n as f64 / d as f64);
    let months: Vec<String> = by_month.keys().cloned().collect();
    let trend: Vec<(String, i64, Tally)> = chosen
        .as_ref()
        .map(|c| {
            by_month
                .iter()
                .map(|(m, t)| {
                    (
                        m.clone(),
                        with_text.get(m).copied().unwrap_or(0),
                        t.get(c).copied().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let body = html! {
        h1 { "Themes in comments" }
        p { "What patients' comments are about, and whether they praise or criticise it. Each comment is read on this server against word lists in English and Welsh that you can read (and your trust can change); no comment leaves the server. "
            "On the " a href={ "/dashboard/comments?site=" (url_encode(&f.site)) } { "comments page" } " each tag shows the words that led to it, and you can correct it." }
        form method="get" action="/dashboard/themes" class="filters" {
            div class="field" {
                label for="site" { "Site" }
                select id="site" name="site" {
                    @for s in &sites { option value=(s) selected[**s == f.site] { (s) } }
                }
            }
            div class="field" {
                label for="service" { "Service (optional)" }
                input id="service" name="service" type="text" value=(f.service.as_deref().unwrap_or(""));
            }
            div class="field" {
                label for="from" { "From (YYYY-MM-DD)" }
                input id="from" name="from" type="text" value=(f.from.as_deref().unwrap_or(""));
            }
            div class="field" {
                label for="to" { "To (YYYY-MM-DD)" }
                input id="to" name="to" type="text" value=(f.to.as_deref().unwrap_or(""));
            }
            div class="field" {
                label for="theme" { "Trend for theme" }
                select id="theme" name="theme" {
                    @for t in &order { option value=(t) selected[chosen.as_deref() == Some(t.as_str())] { (t) } }
                }
            }
            button type="submit" class="button" { "Show" }
        }
        h2 { "Themes" }
        p { (comments) " comments with free text in this period." }
        (charts::count_bars("themes-chart", "Comments mentioning each theme",
            &format!("Comments mentioning each theme: {}.", bars.iter().map(|(t, n)| format!("{t} {}", n.map_or("suppressed".to_string(), |n| n.to_string()))).collect::<Vec<_>>().join(", ")),
            &bars))
        div class="table-wrap" tabindex="0" role="region" aria-label="Themes table" {
            table {
                caption { "Comments mentioning each theme, by what they said" }
                thead { tr { th scope="col" { "Theme" } th scope="col" { "Comments" } th scope="col" { "Positive" } th scope="col" { "Negative" } th scope="col" { "Neither" } th scope="col" { "Share of comments" } } }
                tbody {
                    @for t in &order {
                        @let x = totals.get(t).copied().unwrap_or_default();
                        tr {
                            th scope="row" { a href={ "/dashboard/themes?" (query(f, t)) } { (t) } }
                            td { (count(x.total())) }
                            td { (count(x.positive)) }
                            td { (count(x.negative)) }
                            td { (count(x.neutral)) }
                            td { @match (x.total() >= MIN).then(|| pct(x.total(), comments)).flatten() { Some(p) => { (format!("{p:.1}%")) }, None => { (templates::suppressed()) } } }
                        }
                    }
                }
            }
        }
        @if let Some(c) = &chosen {
            h2 { "Trend: " (c) }
            @let labels: Vec<String> = months.iter().map(|m| month_label(m)).collect();
            @let pos: Vec<Option<f64>> = trend.iter().map(|(_, _, t)| pct(t.positive, t.total())).collect();
            @let neg: Vec<Option<f64>> = trend.iter().map(|(_, _, t)| pct(t.negative, t.total())).collect();
            (charts::line_chart("theme-trend", &format!("{c}: share of its mentions that were positive and negative, by month"),
                &format!("{c} by month: {}.", trend.iter().map(|(m, _, t)| match (pct(t.positive, t.total()), pct(t.negative, t.total())) {
                    (Some(p), Some(n)) => format!("{} {} mentions, {p:.0}% positive, {n:.0}% negative", month_label(m), t.total()),
                    _ => format!("{} too few mentions to show", month_label(m)),
                }).collect::<Vec<_>>().join("; ")),
                &labels,
                &[charts::Series { name: "% positive".into(), values: pos }, charts::Series { name: "% negative".into(), values: neg }]))
            div class="table-wrap" tabindex="0" role="region" aria-label="Trend table" {
                table {
                    caption { (c) " by month" }
                    thead { tr { th scope="col" { "Month" } th scope="col" { "Comments" } th scope="col" { "Mentioning " (c) } th scope="col" { "Positive" } th scope="col" { "Negative" } th scope="col" { "% positive" } th scope="col" { "% negative" } } }
                    tbody {
                        @for (m, n, t) in &trend {
                            tr {
                                th scope="row" { (month_label(m)) }
                                td { (count(*n)) }
                                td { (count(t.total())) }
                                td { (count(t.positive)) }
                                td { (count(t.negative)) }
                                td { @match pct(t.positive, t.total()) { Some(p) => { (format!("{p:.1}%")) }, None => { (templates::suppressed()) } } }
                                td { @match pct(t.negative, t.total()) { Some(p) => { (format!("{p:.1}%")) }, None => { (templates::suppressed()) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page("Themes", Some(staff), "themes", body).into_response())
}

fn query(f: &reports::Filter, theme: &str) -> String {
    let mut q = format!("site={}", url_encode(&f.site));
    for (k, v) in [("service", &f.service), ("from", &f.from), ("to", &f.to)] {
        if let Some(v) = v {
            q += &format!("&{k}={}", url_encode(v));
        }
    }
    q + "&theme=" + &url_encode(theme)
}
