//! Reports: filters, the FFT, I Statement and decision reports, and free text with tags.
//!
//! Every figure is read from `chorus_core::aggregate` (`InstrumentAggregate::add`, then
//! `summary()` / `fft_summary()` / `theme_summaries()`), the same code that the core's shared
//! vectors check, so a number here is the core's number, suppression included.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use chorus_core::{
    Instrument, ItemKind, ScoreReport, Scoring,
    aggregate::{InstrumentAggregate, Pub, PublishedMean, PublishedPercent},
};
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row as _;

use super::{
    audit,
    auth::{Role, Staff},
    charts, now_iso, templates,
};
use crate::AppState;

/// Which report a page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// Friends and Family Test.
    Fft,
    /// I Statements.
    IStatements,
    /// Decision aids and shared-decision measures.
    Decisions,
    /// Free text (any instrument with free-text items).
    Comments,
    /// Every instrument (exports).
    All,
}

impl Report {
    /// Does this report cover instruments scored this way?
    pub fn covers(self, i: &Instrument) -> bool {
        match self {
            Report::Fft => i.scoring == Scoring::Fft,
            Report::IStatements => i.scoring == Scoring::IStatements,
            Report::Decisions => matches!(
                i.scoring,
                Scoring::Sure | Scoring::Collaborate | Scoring::SdmQ9 | Scoring::DecisionAid
            ),
            Report::Comments => i.items.iter().any(|it| it.kind == ItemKind::FreeText),
            Report::All => true,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Report::Fft => "fft",
            Report::IStatements => "i-statements",
            Report::Decisions => "decisions",
            Report::Comments => "comments",
            Report::All => "exports",
        }
    }
}

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
    /// Comments on responses older than this id (paging).
    pub before: Option<i64>,
}

impl Filter {
    /// The query string that reproduces this filter.
    pub fn query(&self) -> String {
        let mut parts = vec![("site", self.site.clone())];
        for (k, v) in [
            ("service", &self.service),
            ("instrument", &self.instrument),
            ("from", &self.from),
            ("to", &self.to),
            ("tag", &self.tag),
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

pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` as days since the epoch, if it is a real date.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // A date like 2026-02-30 does not come back as itself.
    (crate::store::iso_utc(days * 86_400)[..10] == *s).then_some(days)
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Check a query against what this member of staff may see. `Err` is the page to answer
/// with: 403 for a site they have no role on, 400 listing every bad value otherwise.
// The error is the page to answer with (see `Staff::require`).
#[allow(clippy::result_large_err)]
pub fn check_filter(
    app: &AppState,
    staff: &Staff,
    q: &FilterQuery,
    report: Report,
    min: Role,
) -> Result<Filter, Response> {
    let site = match non_empty(&q.site) {
        Some(s) => s,
        None => match staff
            .roles
            .iter()
            .find(|(_, r)| **r >= min)
            .map(|(s, _)| s.clone())
        {
            Some(s) => s,
            None => {
                let any = staff.roles.keys().next().cloned().unwrap_or_default();
                return Err(super::auth::forbidden(staff, min, &any));
            }
        },
    };
    staff.require(&site, min)?;
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
        return Err(templates::bad_request(staff, report.path(), &problems));
    }
    let [from, to] = dates;
    Ok(Filter {
        site,
        service,
        instrument,
        from: from.map(|d| d.0),
        to: to.map(|d| d.0),
        tag,
        before,
    })
}

/// One stored response, as reports read it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Row id.
    pub id: i64,
    /// Service.
    pub service: Option<String>,
    /// Instrument id.
    pub instrument: String,
    /// Received (UTC, ISO).
    pub received_at: String,
    /// Version answered.
    pub version: i64,
    /// Locale.
    pub locale: String,
    /// Answers JSON (free text redacted).
    pub answers: String,
    /// Scores JSON.
    pub scores: String,
}

/// Rows read per query: memory stays bounded per page, and no read holds the writer back.
pub const PAGE: i64 = 2000;

/// `WHERE` clause and its values (`$1`, `$2`, … in order) for a filter over `instruments`;
/// callers number their own placeholders after these.
fn where_clause(f: &Filter, instruments: &[String]) -> (String, Vec<String>) {
    /// Add a value; its placeholder.
    fn next(binds: &mut Vec<String>, v: String) -> String {
        binds.push(v);
        format!("${}", binds.len())
    }
    let mut sql = String::from("site = $1");
    let mut binds = vec![f.site.clone()];
    if let Some(s) = &f.service {
        let p = next(&mut binds, s.clone());
        sql.push_str(&format!(" AND service = {p}"));
    }
    let list: Vec<String> = match &f.instrument {
        Some(i) => vec![i.clone()],
        None => instruments.to_vec(),
    };
    if list.is_empty() {
        sql.push_str(" AND 1 = 0");
    } else {
        let ps: Vec<String> = list.into_iter().map(|i| next(&mut binds, i)).collect();
        sql.push_str(&format!(" AND instrument IN ({})", ps.join(", ")));
    }
    if let Some(d) = &f.from {
        let p = next(&mut binds, format!("{d}T00:00:00.000Z"));
        sql.push_str(&format!(" AND received_at >= {p}"));
    }
    if let Some(d) = f.to.as_deref().and_then(parse_date) {
        let p = next(&mut binds, crate::store::iso_utc((d + 1) * 86_400));
        sql.push_str(&format!(" AND received_at < {p}"));
    }
    (sql, binds)
}

/// A filtered read of responses, page by page in id order (keyset paging): memory stays
/// bounded whatever the number of responses, and no long read holds back the writer.
#[derive(Debug, Clone)]
pub struct RowQuery {
    sql: String,
    count_sql: String,
    binds: Vec<String>,
}

impl RowQuery {
    /// Responses matching `f` among `instruments`; the answers column only when asked for
    /// (reports need the scores alone).
    pub fn new(f: &Filter, instruments: &[String], with_answers: bool) -> RowQuery {
        let (clause, binds) = where_clause(f, instruments);
        let after = binds.len() + 1;
        let answers = if with_answers { "answers" } else { "''" };
        RowQuery {
            sql: format!(
                "SELECT id, service, instrument, received_at, version, locale, {answers}, scores FROM responses
                 WHERE {clause} AND id > ${after} ORDER BY id LIMIT {PAGE}"
            ),
            count_sql: format!("SELECT COUNT(*) FROM responses WHERE {clause}"),
            binds,
        }
    }

    /// How many responses match now.
    pub async fn count(&self, app: &AppState) -> anyhow::Result<i64> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.count_sql.clone()));
        for b in &self.binds {
            q = q.bind(b.clone());
        }
        Ok(q.fetch_one(app.store.pool()).await?.get(0))
    }

    /// The next page: up to [`PAGE`] rows with ids above `after`. A page shorter than
    /// [`PAGE`] is the last.
    pub async fn page(&self, app: &AppState, after: i64) -> anyhow::Result<Vec<Row>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.sql.clone()));
        for b in &self.binds {
            q = q.bind(b.clone());
        }
        Ok(q.bind(after)
            .fetch_all(app.store.pool())
            .await?
            .iter()
            .map(|r| Row {
                id: r.get(0),
                service: r.get(1),
                instrument: r.get(2),
                received_at: r.get(3),
                version: r.get(4),
                locale: r.get(5),
                answers: r.get(6),
                scores: r.get(7),
            })
            .collect())
    }
}

/// Every response matching `f` among `instruments`, oldest first, scores only.
pub async fn load(app: &AppState, f: &Filter, instruments: &[String]) -> anyhow::Result<Vec<Row>> {
    let q = RowQuery::new(f, instruments, false);
    let mut out = Vec::new();
    loop {
        let rows = q.page(app, out.last().map_or(0, |r: &Row| r.id)).await?;
        let last_page = (rows.len() as i64) < PAGE;
        out.extend(rows);
        if last_page {
            return Ok(out);
        }
    }
}

/// Aggregate every response matching `f` among `instruments`, a page at a time (no rows are
/// kept, so a report over years of responses needs no more memory than one over a week).
pub async fn aggregate(
    app: &AppState,
    f: &Filter,
    instruments: &[String],
) -> anyhow::Result<Aggregates> {
    let q = RowQuery::new(f, instruments, false);
    let mut a = Aggregates::default();
    let mut last = 0;
    loop {
        let rows = q.page(app, last).await?;
        a.add(&rows);
        match rows.last() {
            Some(r) if (rows.len() as i64) == PAGE => last = r.id,
            _ => return Ok(a),
        }
    }
}

/// Aggregates of a set of responses: in all, per month, per service and per instrument.
#[derive(Debug, Default)]
pub struct Aggregates {
    /// Everything.
    pub total: InstrumentAggregate,
    /// By `YYYY-MM`.
    pub by_month: BTreeMap<String, InstrumentAggregate>,
    /// By service (`""`: none given).
    pub by_service: BTreeMap<String, InstrumentAggregate>,
    /// By instrument id.
    pub by_instrument: BTreeMap<String, InstrumentAggregate>,
}

impl Aggregates {
    /// Add each row's stored score report (the server's own). A report that does not parse
    /// (only possible if the database was edited by hand) is logged and left out.
    pub fn of(rows: &[Row]) -> Aggregates {
        let mut a = Aggregates::default();
        a.add(rows);
        a
    }

    /// Add more rows.
    pub fn add(&mut self, rows: &[Row]) {
        let a = self;
        for r in rows {
            let report: ScoreReport = match serde_json::from_str(&r.scores) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(id = r.id, error = %e, "stored score report does not parse; left out of reports");
                    continue;
                }
            };
            a.total.add(&report);
            a.by_month
                .entry(r.received_at.get(..7).unwrap_or("").to_string())
                .or_default()
                .add(&report);
            a.by_service
                .entry(r.service.clone().unwrap_or_default())
                .or_default()
                .add(&report);
            a.by_instrument
                .entry(r.instrument.clone())
                .or_default()
                .add(&report);
        }
    }
}

/// "2026-06" → "Jun 2026".
pub fn month_label(ym: &str) -> String {
    const M: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match (
        ym.get(..4),
        ym.get(5..7).and_then(|m| m.parse::<usize>().ok()),
    ) {
        (Some(y), Some(m)) if (1..=12).contains(&m) => format!("{} {y}", M[m - 1]),
        _ => ym.to_string(),
    }
}

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

fn pct_bar(p: &Pub<PublishedPercent>) -> Option<(f64, f64, f64)> {
    p.value().map(|v| {
        (
            v.percent.value,
            v.low.parse().unwrap_or(v.percent.value),
            v.high.parse().unwrap_or(v.percent.value),
        )
    })
}

fn mean_bar(m: &Pub<PublishedMean>) -> Option<(f64, f64, f64)> {
    m.value().map(|v| {
        (
            v.mean.value,
            v.low.parse().unwrap_or(v.mean.value),
            v.high.parse().unwrap_or(v.mean.value),
        )
    })
}

/// Words for a percentage in a chart description.
fn pct_words(p: &Pub<PublishedPercent>) -> String {
    match p {
        Pub::Value(v) => format!(
            "{}% (95% interval {} to {})",
            v.percent.display, v.low, v.high
        ),
        Pub::Suppressed => "suppressed".into(),
    }
}

/// The instruments a report covers, by id.
pub fn report_instruments(app: &AppState, report: Report) -> Vec<String> {
    app.instruments
        .values()
        .filter(|i| report.covers(i))
        .map(|i| i.id.clone())
        .collect()
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
    let configured: Vec<String> = app
        .config
        .site(site)
        .map(|s| s.services.clone())
        .unwrap_or_default();
    let mut set: BTreeSet<String> = if configured.is_empty() {
        sqlx::query(
            "SELECT service FROM responses WHERE site = $1 AND service IS NOT NULL
             GROUP BY service ORDER BY COUNT(*) DESC, service LIMIT $2",
        )
        .bind(site)
        .bind(MAX_SERVICES_SHOWN as i64)
        .fetch_all(app.store.pool())
        .await?
        .iter()
        .map(|r| r.get(0))
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
    let sites: Vec<&String> = staff
        .roles
        .iter()
        .filter(|(_, r)| **r >= min)
        .map(|(s, _)| s)
        .collect();
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
                    @if report == Report::Comments {
                        div class="field" {
                            label for="tag" { "Tag" }
                            input type="text" id="tag" name="tag" value=[f.tag.as_deref()];
                        }
                    }
                }
                button type="submit" class="button" { "Apply filters" }
            }
        }
    })
}

/// `GET /dashboard`: what there is, and where to go.
pub async fn overview(State(app): State<Arc<AppState>>, staff: Staff) -> Response {
    let run = async {
        let mut per_site = Vec::new();
        for (site, role) in &staff.roles {
            let rows = sqlx::query(
                "SELECT instrument, COUNT(*) FROM responses WHERE site = $1 GROUP BY instrument",
            )
            .bind(site)
            .fetch_all(app.store.pool())
            .await?;
            let mut counts = [0i64; 3];
            for r in rows {
                let id: String = r.get(0);
                let n: i64 = r.get(1);
                if let Some(inst) = app.instruments.get(&id) {
                    for (k, rep) in [Report::Fft, Report::IStatements, Report::Decisions]
                        .into_iter()
                        .enumerate()
                    {
                        if rep.covers(inst) {
                            counts[k] += n;
                        }
                    }
                }
            }
            per_site.push((site.clone(), *role, counts));
        }
        anyhow::Ok(per_site)
    };
    let per_site = match run.await {
        Ok(p) => p,
        Err(e) => return templates::server_error(&e),
    };
    let body = html! {
        h1 { "Patient feedback" }
        @if per_site.is_empty() {
            p { "Your account has no role on any site yet. Ask an administrator for your trust." }
        }
        @for (site, role, counts) in &per_site {
            @let name = app.config.site(site).map(|c| c.name.as_str()).filter(|n| !n.is_empty()).unwrap_or(site.as_str());
            h2 { (name) " " span class="hint" { "(" (site) ", you are " (role.name()) ")" } }
            div class="cards" {
                div class="card" {
                    h3 { a href={ "/dashboard/fft?site=" (url_encode(site)) } { "Friends and Family Test" } }
                    p { span class="big-number" { (counts[0]) } "responses" }
                }
                div class="card" {
                    h3 { a href={ "/dashboard/i-statements?site=" (url_encode(site)) } { "I Statements" } }
                    p { span class="big-number" { (counts[1]) } "responses" }
                }
                div class="card" {
                    h3 { a href={ "/dashboard/decisions?site=" (url_encode(site)) } { "Decision aids and shared decisions" } }
                    p { span class="big-number" { (counts[2]) } "responses" }
                }
            }
            @if *role >= Role::Analyst {
                p { a href={ "/dashboard/comments?site=" (url_encode(site)) } { "Read and tag comments" } " · " a href={ "/dashboard/exports?site=" (url_encode(site)) } { "Exports" } }
            }
        }
    };
    templates::page("Overview", Some(&staff), "overview", body).into_response()
}

fn fft_answer_labels(app: &AppState) -> Vec<String> {
    let fft = app.instruments.get("fft");
    chorus_core::aggregate::FFT_ANSWER_IDS
        .iter()
        .map(|id| {
            fft.and_then(|i| i.items.iter().find(|it| it.role.as_deref() == Some("fft")))
                .and_then(|it| it.options.iter().find(|o| o.id == *id))
                .map_or_else(|| id.replace('_', " "), |o| o.text.en.clone())
        })
        .collect()
}

/// Load and aggregate for a report page; the common part of the three report handlers.
async fn prepare(
    app: &AppState,
    staff: &Staff,
    q: &FilterQuery,
    report: Report,
) -> Result<(Filter, Markup, Aggregates), Response> {
    let f = check_filter(app, staff, q, report, Role::Viewer)?;
    let form = filter_form(app, staff, &f, report, Role::Viewer)
        .await
        .map_err(|e| templates::server_error(&e))?;
    let a = aggregate(app, &f, &report_instruments(app, report))
        .await
        .map_err(|e| templates::server_error(&e))?;
    Ok((f, form, a))
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
) -> Response {
    let (_, form, a) = match prepare(&app, &staff, &q, Report::Fft).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let s = a.total.fft_summary();
    let labels = fft_answer_labels(&app);
    let months: Vec<(&String, chorus_core::aggregate::FftSummary)> = a
        .by_month
        .iter()
        .map(|(m, x)| (m, x.fft_summary()))
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
    let services: Vec<(String, chorus_core::aggregate::FftSummary)> =
        compared_services(&a.by_service)
            .into_iter()
            .map(|(k, x)| (k, x.fft_summary()))
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
    templates::page("Friends and Family Test", Some(&staff), "fft", body).into_response()
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

/// `GET /dashboard/i-statements`.
pub async fn i_statements_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> Response {
    let (f, form, a) = match prepare(&app, &staff, &q, Report::IStatements).await {
        Ok(x) => x,
        Err(r) => return r,
    };
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
    templates::page("I Statements", Some(&staff), "i-statements", body).into_response()
}

/// `GET /dashboard/decisions`.
pub async fn decisions_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> Response {
    let (_, form, a) = match prepare(&app, &staff, &q, Report::Decisions).await {
        Ok(x) => x,
        Err(r) => return r,
    };
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
    let body = html! {
        h1 { "Decision aids and shared decisions" }
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
    templates::page("Decisions", Some(&staff), "decisions", body).into_response()
}

/// Comments shown per page.
const COMMENTS_PER_PAGE: usize = 50;

/// A response with free text, for the comments page.
struct Comment {
    row: Row,
    texts: Vec<(String, String)>,
    fft_answer: Option<String>,
}

/// `GET /dashboard/comments` (analysts and admins): free text, newest first, with tags.
pub async fn comments_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> Response {
    let f = match check_filter(&app, &staff, &q, Report::Comments, Role::Analyst) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match comments_inner(&app, &staff, &f).await {
        Ok(r) => r,
        Err(e) => templates::server_error(&e),
    }
}

async fn comments_inner(app: &AppState, staff: &Staff, f: &Filter) -> anyhow::Result<Response> {
    let form = filter_form(app, staff, f, Report::Comments, Role::Analyst).await?;
    let (mut clause, mut binds) = where_clause(f, &report_instruments(app, Report::Comments));
    if let Some(t) = &f.tag {
        binds.push(t.clone());
        clause.push_str(&format!(
            " AND id IN (SELECT response_id FROM comment_tags WHERE tag = ${})",
            binds.len()
        ));
    }
    let before_p = binds.len() + 1;
    let sql = format!(
        "SELECT id, service, instrument, received_at, version, locale, answers, scores FROM responses
         WHERE {clause} AND id < ${before_p} ORDER BY id DESC LIMIT 200"
    );
    let mut before = f.before.unwrap_or(i64::MAX);
    let mut comments = Vec::new();
    let mut more = false;
    'pages: loop {
        let mut qy = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for b in &binds {
            qy = qy.bind(b.clone());
        }
        let rows = qy.bind(before).fetch_all(app.store.pool()).await?;
        let n = rows.len();
        for r in rows {
            let row = Row {
                id: r.get(0),
                service: r.get(1),
                instrument: r.get(2),
                received_at: r.get(3),
                version: r.get(4),
                locale: r.get(5),
                answers: r.get(6),
                scores: r.get(7),
            };
            before = row.id;
            let Some(inst) = app.instruments.get(&row.instrument) else {
                continue;
            };
            let answers: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&row.answers).unwrap_or_default();
            let texts: Vec<(String, String)> = inst
                .items
                .iter()
                .filter(|it| it.kind == ItemKind::FreeText)
                .filter_map(|it| {
                    let t = answers.get(&it.id)?.as_str()?.trim();
                    (!t.is_empty()).then(|| (it.text.en.clone(), t.to_string()))
                })
                .collect();
            if texts.is_empty() {
                continue;
            }
            if comments.len() == COMMENTS_PER_PAGE {
                more = true;
                break 'pages;
            }
            let fft_answer = inst
                .items
                .iter()
                .find(|it| it.role.as_deref() == Some("fft"))
                .and_then(|it| {
                    let a = answers.get(&it.id)?.as_str()?;
                    it.options
                        .iter()
                        .find(|o| o.id == a)
                        .map(|o| o.text.en.clone())
                });
            comments.push(Comment {
                row,
                texts,
                fft_answer,
            });
        }
        if (n as i64) < 200 {
            break;
        }
    }
    let ids: Vec<i64> = comments.iter().map(|c| c.row.id).collect();
    let mut tags: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for chunk in ids.chunks(100) {
        let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT response_id, tag FROM comment_tags WHERE response_id IN ({}) ORDER BY tag",
            ps.join(", ")
        )));
        for id in chunk {
            qy = qy.bind(*id);
        }
        for r in qy.fetch_all(app.store.pool()).await? {
            tags.entry(r.get(0)).or_default().push(r.get(1));
        }
    }
    let themes = super::themes::panels(app, staff, &f.site, &ids).await?;
    let next_page = comments
        .last()
        .filter(|_| more)
        .map(|c| format!("/dashboard/comments?{}&before={}", f.query(), c.row.id));
    let body = html! {
        h1 { "Comments" }
        p { "What patients wrote, newest first. Personal details (NHS numbers, phone numbers, email addresses, postcodes and dates) were removed before the comments were stored." }
        (form)
        @if comments.is_empty() {
            p { "No comments match this filter." }
        }
        @for c in &comments {
            article class="comment" id={ "c" (c.row.id) } aria-labelledby={ "c" (c.row.id) "-h" } {
                h2 class="visually-hidden" id={ "c" (c.row.id) "-h" } { "Comment " (crate::reference::from_id(c.row.id)) }
                @for (q, t) in &c.texts {
                    p class="hint" { (q) }
                    blockquote lang=(if c.row.locale == "cy" { "cy" } else { "en-GB" }) { (t) }
                }
                p class="meta" {
                    (c.row.received_at.get(..10).unwrap_or("")) " · "
                    (c.row.service.as_deref().unwrap_or("no service")) " · "
                    (app.instruments.get(&c.row.instrument).map_or(c.row.instrument.as_str(), |i| i.title.en.as_str()))
                    @if let Some(a) = &c.fft_answer { " · answered: " strong { (a) } }
                    " · " (crate::reference::from_id(c.row.id))
                }
                @if let Some(t) = themes.get(&c.row.id) { (t) }
                @let these = tags.get(&c.row.id).cloned().unwrap_or_default();
                @if !these.is_empty() {
                    ul class="tags" aria-label="Tags" {
                        @for t in &these {
                            li class="tag" {
                                a href={ "/dashboard/comments?site=" (url_encode(&f.site)) "&tag=" (url_encode(t)) } { (t) }
                                form method="post" action={ "/dashboard/comments/" (c.row.id) "/tags" } {
                                    input type="hidden" name="csrf" value=(staff.csrf);
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="tag" value=(t);
                                    button type="submit" { "Remove" span class="visually-hidden" { " tag " (t) } }
                                }
                            }
                        }
                    }
                }
                form class="inline-form" method="post" action={ "/dashboard/comments/" (c.row.id) "/tags" } {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    input type="hidden" name="action" value="add";
                    div class="field" {
                        label for={ "tag-" (c.row.id) } { "Add a tag" }
                        input type="text" id={ "tag-" (c.row.id) } name="tag" maxlength="40" list="known-tags";
                    }
                    button type="submit" class="button button-secondary" { "Add tag" span class="visually-hidden" { " to comment " (crate::reference::from_id(c.row.id)) } }
                }
            }
        }
        datalist id="known-tags" {
            @for t in ["staff attitude", "waiting time", "communication", "environment", "praise", "follow up"] { option value=(t) {} }
        }
        @if let Some(href) = &next_page {
            p { a href=(href) { "Older comments" } }
        }
    };
    Ok(templates::page("Comments", Some(staff), "comments", body).into_response())
}

/// The tag form.
#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    tag: String,
}

/// A tag as stored: trimmed, lower case, 1–40 letters, digits, spaces or hyphens.
pub fn normalise_tag(t: &str) -> Option<String> {
    let t = t
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!t.is_empty()
        && t.chars().count() <= 40
        && t.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-'))
    .then_some(t)
}

/// `POST /dashboard/comments/{id}/tags` (analysts and admins of the response's site).
pub async fn tag_comment(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<TagForm>,
) -> Response {
    if let Err(r) = staff.check_csrf(form.csrf.as_deref()) {
        return r;
    }
    // Someone who may tag nowhere is refused before any look-up. For anyone else, a response
    // that does not exist and one on a site they may not tag get the same 404: the answer
    // must not tell which ids exist on other trusts' sites.
    if !staff.is_any(Role::Analyst) {
        let any = staff.roles.keys().next().cloned().unwrap_or_default();
        return super::auth::forbidden(&staff, Role::Analyst, &any);
    }
    let run = async {
        let site: Option<String> = sqlx::query("SELECT site FROM responses WHERE id = $1")
            .bind(id)
            .fetch_optional(app.store.pool())
            .await?
            .map(|r| r.get(0));
        let Some(site) = site.filter(|s| staff.role_on(s).is_some_and(|r| r >= Role::Analyst))
        else {
            return Ok(templates::not_found().await);
        };
        let Some(tag) = normalise_tag(&form.tag) else {
            return Ok(templates::bad_request(
                &staff,
                "comments",
                &[(
                    format!("tag-{id}"),
                    "Enter a tag of 1 to 40 letters, numbers, spaces or hyphens".into(),
                )],
            ));
        };
        match form.action.as_str() {
            "add" => {
                sqlx::query(
                    "INSERT INTO comment_tags (response_id, tag, added_by, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT (response_id, tag) DO NOTHING",
                )
                .bind(id)
                .bind(&tag)
                .bind(staff.user_id)
                .bind(now_iso())
                .execute(app.store.pool())
                .await?;
            }
            "remove" => {
                sqlx::query("DELETE FROM comment_tags WHERE response_id = $1 AND tag = $2")
                    .bind(id)
                    .bind(&tag)
                    .execute(app.store.pool())
                    .await?;
            }
            _ => {
                return Ok(templates::bad_request(
                    &staff,
                    "comments",
                    &[("main".into(), "Choose to add or remove a tag".into())],
                ));
            }
        }
        audit::record(
            &app.store,
            Some(staff.user_id),
            &staff.email,
            if form.action == "add" {
                "tag_added"
            } else {
                "tag_removed"
            },
            Some(&site),
            &format!("{} on {}", tag, crate::reference::from_id(id)),
        )
        .await?;
        anyhow::Ok(
            Redirect::to(&format!(
                "/dashboard/comments?site={}#c{id}",
                url_encode(&site)
            ))
            .into_response(),
        )
    };
    match run.await {
        Ok(r) => r,
        Err(e) => templates::server_error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-2-3"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn tags_are_normalised() {
        assert_eq!(
            normalise_tag("  Waiting   Time "),
            Some("waiting time".into())
        );
        assert_eq!(normalise_tag(""), None);
        assert_eq!(normalise_tag("<script>"), None);
        assert_eq!(normalise_tag(&"a".repeat(41)), None);
    }

    #[test]
    fn month_labels() {
        assert_eq!(month_label("2026-06"), "Jun 2026");
        assert_eq!(month_label("bad"), "bad");
    }
}
