//! The query string of a report page (and of the responses export), checked against what the
//! member of staff may see, and the filter form that writes it.

use std::collections::BTreeSet;

use chorus_core::Instrument;
use maud::{Markup, html};
use serde::Deserialize;

use super::{PageError, Report, calendar::parse_date};
use crate::{
    dashboard::{
        auth::{Role, Staff},
        templates,
    },
    state::AppState,
};

/// The query string of a report page (and of the responses export).
#[derive(Debug, Default, Deserialize)]
pub struct FilterQuery {
    /// Site id.
    pub site: Option<String>,
    /// Service id.
    pub service: Option<String>,
    /// Instrument id.
    pub instrument: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// Comments with this tag.
    pub tag: Option<String>,
    /// Comments with every one of these words.
    pub q: Option<String>,
    /// Collected this way (a mode code).
    pub mode: Option<String>,
    /// Comments older than this response id.
    pub before: Option<String>,
}

/// A checked filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Site (one the member of staff has a role on).
    pub site: String,
    /// Service, if narrowed.
    pub service: Option<String>,
    /// Instrument, if narrowed (else every instrument of the report).
    pub instrument: Option<String>,
    /// First day, `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// Comments with this tag only.
    pub tag: Option<String>,
    /// Comments with every word of this search only (`chorus_store::search`).
    pub search: Option<String>,
    /// Responses collected this way only.
    pub mode: Option<chorus_core::mode::Mode>,
    /// Comments on responses older than this id (paging).
    pub before: Option<i64>,
}

impl Filter {
    /// The query string that reproduces this filter.
    pub fn query(&self) -> String {
        let mut parts = vec![("site", self.site.clone())];
        let mode = self.mode.map(|m| m.code().to_string());
        for (k, v) in [
            ("service", &self.service),
            ("instrument", &self.instrument),
            ("from", &self.from),
            ("to", &self.to),
            ("tag", &self.tag),
            ("q", &self.search),
            ("mode", &mode),
        ] {
            if let Some(v) = v {
                parts.push((k, v.clone()));
            }
        }
        parts
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

pub use crate::util::url_encode;

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Check a query against what this member of staff may see. `Err` is the page to answer
/// with: 403 for a site they have no role on, 400 listing every bad value otherwise.
pub fn check_filter(
    app: &AppState,
    staff: &Staff,
    q: &FilterQuery,
    report: Report,
    min: Role,
) -> Result<Filter, PageError> {
    let site = staff.site_for(non_empty(&q.site), min)?;
    let mut problems = Vec::new();
    let service = non_empty(&q.service);
    if service.as_ref().is_some_and(|s| s.len() > 64) {
        problems.push((
            "service".into(),
            "Service must be 64 characters or fewer".into(),
        ));
    }
    let instrument = non_empty(&q.instrument);
    if let Some(i) = &instrument
        && !app
            .instruments
            .get(i)
            .is_some_and(|inst| report.covers(inst))
    {
        problems.push((
            "instrument".into(),
            format!("There is no instrument \"{i}\" in this report"),
        ));
    }
    let mut dates = [None, None];
    for (k, (field, v, name)) in [("from", &q.from, "From"), ("to", &q.to, "To")]
        .into_iter()
        .enumerate()
    {
        if let Some(v) = non_empty(v) {
            match parse_date(&v) {
                Some(d) => dates[k] = Some((v, d)),
                None => problems.push((
                    field.into(),
                    format!("{name} date must be a real date, like 2026-03-31"),
                )),
            }
        }
    }
    if let [Some((_, a)), Some((_, b))] = &dates
        && a > b
    {
        problems.push((
            "to".into(),
            "To date must be the same as or after the from date".into(),
        ));
    }
    let tag = non_empty(&q.tag).map(|t| t.to_lowercase());
    let search = non_empty(&q.q);
    if let Some(words) = &search {
        if words.chars().count() > 200 {
            problems.push(("q".into(), "Search for 200 characters or fewer".into()));
        } else if chorus_store::search::words(words).is_empty() {
            problems.push((
                "q".into(),
                "Enter a word to search for (letters or numbers)".into(),
            ));
        }
    }
    let mode = match non_empty(&q.mode) {
        None => None,
        Some(m) => match chorus_core::mode::Mode::from_code(&m) {
            Some(m) => Some(m),
            None => {
                problems.push((
                    "mode".into(),
                    "Choose how responses were collected from the list".into(),
                ));
                None
            }
        },
    };
    let before = match non_empty(&q.before) {
        None => None,
        Some(b) => match b.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                problems.push(("before".into(), "The page asked for does not exist".into()));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(templates::bad_request(staff, report.path(), &problems).into());
    }
    let [from, to] = dates;
    Ok(Filter {
        site,
        service,
        instrument,
        from: from.map(|d| d.0),
        to: to.map(|d| d.0),
        tag,
        search,
        mode,
        before,
    })
}

/// Most services a filter lists, or a comparison shows one by one, when a site accepts any
/// service: made-up service names (the field is free then) must not grow every page.
pub const MAX_SERVICES_SHOWN: usize = 20;

/// The services the filter offers: a site's configured services; for a site that accepts any,
/// the [`MAX_SERVICES_SHOWN`] with most responses. The one selected is always offered.
async fn services(
    app: &AppState,
    site: &str,
    selected: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let configured: Vec<String> = app.site(site).map(|s| s.service_ids()).unwrap_or_default();
    let mut set: BTreeSet<String> = if configured.is_empty() {
        app.store
            .busiest_services(site, MAX_SERVICES_SHOWN)
            .await?
            .into_iter()
            .collect()
    } else {
        configured.into_iter().collect()
    };
    set.extend(selected.map(str::to_string));
    Ok(set.into_iter().collect())
}

/// The filter form (GET, so a filtered page can be bookmarked and shared).
pub async fn filter_form(
    app: &AppState,
    staff: &Staff,
    f: &Filter,
    report: Report,
    min: Role,
) -> anyhow::Result<Markup> {
    let services = services(app, &f.site, f.service.as_deref()).await?;
    let instruments: Vec<&Instrument> = app
        .instruments
        .values()
        .filter(|i| report.covers(i))
        .collect();
    let sites = staff.sites_at_least(min);
    Ok(html! {
        form class="filters" method="get" action={ "/dashboard/" (report.path()) } {
            fieldset {
                legend { "Filter" }
                div class="filter-grid" {
                    div class="field" {
                        label for="site" { "Site" }
                        select id="site" name="site" {
                            @for s in &sites {
                                @let name = app.config.site(s).map(|c| c.name.as_str()).filter(|n| !n.is_empty()).unwrap_or(s.as_str());
                                option value=(s) selected[**s == f.site] { (name) }
                            }
                        }
                    }
                    div class="field" {
                        label for="service" { "Service" }
                        select id="service" name="service" {
                            option value="" { "All services" }
                            @for s in &services {
                                option value=(s) selected[f.service.as_deref() == Some(s.as_str())] { (s) }
                            }
                        }
                    }
                    div class="field" {
                        label for="instrument" { "Questionnaire" }
                        select id="instrument" name="instrument" {
                            option value="" { "All in this report" }
                            @for i in &instruments {
                                option value=(i.id) selected[f.instrument.as_deref() == Some(i.id.as_str())] { (i.title.en) " (" (i.id) ")" }
                            }
                        }
                    }
                    div class="field" {
                        label for="from" { "From" }
                        input type="date" id="from" name="from" value=[f.from.as_deref()];
                    }
                    div class="field" {
                        label for="to" { "To" }
                        input type="date" id="to" name="to" value=[f.to.as_deref()];
                    }
                    div class="field" {
                        label for="mode" { "Collected by" }
                        select id="mode" name="mode" {
                            option value="" { "Every way" }
                            @for m in chorus_core::mode::Mode::ALL {
                                option value=(m.code()) selected[f.mode == Some(m)] { (m.label()) }
                            }
                        }
                    }
                    @if report == Report::Comments {
                        div class="field" {
                            label for="tag" { "Tag" }
                            input type="text" id="tag" name="tag" value=[f.tag.as_deref()];
                        }
                        div class="field" {
                            label for="q" { "Words in the comment" }
                            div class="hint" id="q-hint" { "Comments with every word, and other forms of it (\"park\" finds \"parking\")." }
                            input type="search" id="q" name="q" maxlength="200" aria-describedby="q-hint" value=[f.search.as_deref()];
                        }
                    }
                }
                button type="submit" class="button" { "Apply filters" }
            }
        }
    })
}
