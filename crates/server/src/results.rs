//! A site's public results page, `GET /results/{site}`: what patients said and what was done
//! about it, for anyone to read. Friends and Family Test % positive by month with its 95%
//! interval (the core's figures, with primary and secondary suppression), the most mentioned
//! themes in comments over the last 12 months (themes mentioned fewer than 5 times are left
//! out; a percentage of fewer than 5 is suppressed), and the "you said, we did" actions.
//!
//! No patient's words are published: only counts, percentages and the actions staff wrote.
//! No JavaScript; the chart is SVG with a title, a description in words and the table beside
//! it; the page is served under the same strict policy as the dashboard.
//!
//! The same figures, for one service or the whole site, are `GET /api/v1/results/{site}`
//! (`?service=…`) as JSON for the `<chorus-results>` element a trust embeds: every figure as
//! the text this page shows (`*` where suppressed), under the API's CORS and policy.

use std::sync::Arc;

use axum::{
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chorus_core::aggregate::{Proportion, Pub, publish_percent};
use maud::{DOCTYPE, Markup, html};

use crate::{
    AppState,
    dashboard::{
        charts,
        reports::{self, Report, month_label},
    },
};

/// The policy the page is served under: styles from this origin, nothing else.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

fn layout(title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/dashboard/assets/dashboard.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="header" { div class="width" { span class="logo" { "Chorus" } span class="service-name" { "Patient feedback results" } } }
                main id="main" class="width main" { (main) }
                footer class="footer" { div class="width" { p { "Figures from fewer than 5 responses are shown as * (suppressed), and other figures are hidden where they would let a suppressed one be worked out." } } }
            }
        }
    }
}

fn respond(status: StatusCode, m: Markup) -> Response {
    crate::channels::page_response(
        status,
        m,
        &[
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
    )
}

/// `GET /results/{site}`.
pub async fn results_page(State(app): State<Arc<AppState>>, Path(site): Path<String>) -> Response {
    let Some(s) = app.config.site(&site) else {
        return respond(
            StatusCode::NOT_FOUND,
            layout(
                "Page not found",
                html! { h1 { "Page not found" } p { "There are no results for that address." } },
            ),
        );
    };
    match inner(&app, s).await {
        Ok(m) => respond(StatusCode::OK, m),
        Err(e) => {
            tracing::error!(error = %e, "results page failed");
            respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                layout(
                    "Sorry, there is a problem",
                    html! { h1 { "Sorry, there is a problem with the service" } p { "Try again later." } },
                ),
            )
        }
    }
}

fn pct_words(p: &Pub<chorus_core::aggregate::PublishedPercent>) -> String {
    match p {
        Pub::Value(v) => format!(
            "{}% (95% interval {} to {})",
            v.percent.display, v.low, v.high
        ),
        Pub::Suppressed => "suppressed".into(),
    }
}

/// What a site (or one of its services) publishes: FFT by month, the most mentioned themes
/// (comments, positive, negative), and the actions.
struct Figures {
    months: Vec<(String, chorus_core::aggregate::FftSummary)>,
    top: Vec<(String, (u64, u64, u64))>,
    actions: Vec<crate::dashboard::actions::Action>,
}

async fn figures(
    app: &AppState,
    site: &crate::config::Site,
    service: Option<&str>,
) -> anyhow::Result<Figures> {
    let now = crate::dashboard::now_secs();
    let from = crate::store::iso_utc(now - 365 * 86_400)[..10].to_string();
    let f = reports::Filter {
        site: site.id.clone(),
        service: service.map(str::to_string),
        from: Some(from.clone()),
        ..Default::default()
    };
    let a = reports::aggregate(app, &f, &reports::report_instruments(app, Report::Fft)).await?;
    let months: Vec<(String, chorus_core::aggregate::FftSummary)> = a
        .by_month
        .iter()
        .map(|(m, agg)| (m.clone(), agg.fft_summary()))
        .filter(|(_, s)| !matches!(s.total, Pub::Value(0)))
        .collect();
    // From the theme rollups (exact, kept with every tag write): a public page costs days ×
    // services × themes, not comments.
    let counts = app
        .store
        .theme_counts(&site.id, service, Some(&from), None)
        .await?;
    let mut themes: std::collections::BTreeMap<String, (u64, u64, u64)> = Default::default();
    for ((theme, sentiment), n) in counts.tags.values().flatten() {
        let e = themes.entry(theme.clone()).or_default();
        let n = (*n).max(0) as u64;
        e.0 += n;
        match sentiment.as_str() {
            "positive" => e.1 += n,
            "negative" => e.2 += n,
            _ => {}
        }
    }
    let mut top: Vec<(String, (u64, u64, u64))> = themes
        .into_iter()
        .filter(|(_, (n, _, _))| *n >= chorus_core::aggregate::SUPPRESS_BELOW)
        .collect();
    top.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    top.truncate(5);
    let mut actions = crate::dashboard::actions::list(app, &site.id).await?;
    if service.is_some() {
        actions.retain(|a| a.service.as_deref() == service);
    }
    Ok(Figures {
        months,
        top,
        actions,
    })
}

async fn inner(app: &AppState, site: &crate::config::Site) -> anyhow::Result<Markup> {
    let Figures {
        months,
        top,
        actions,
    } = figures(app, site, None).await?;
    let name = if site.name.is_empty() {
        site.id.as_str()
    } else {
        site.name.as_str()
    };
    let labels: Vec<String> = months.iter().map(|(m, _)| month_label(m)).collect();
    let values: Vec<Option<f64>> = months
        .iter()
        .map(|(_, s)| s.positive.value().map(|v| v.percent.value))
        .collect();
    let desc = format!(
        "Percentage of patients who rated their experience good or very good, by month: {}.",
        months
            .iter()
            .map(|(m, s)| format!("{} {}", month_label(m), pct_words(&s.positive)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(layout(
        &format!("{name}: what patients told us"),
        html! {
            h1 { (name) ": what patients told us, and what we did" }
            h2 { "Friends and Family Test" }
            p { "The share of patients who said their experience was good or very good, each month over the last 12 months, with the range the true figure is likely to lie in (95% interval)." }
            @if months.is_empty() {
                p { "No responses in the last 12 months." }
            } @else {
                (charts::line_chart("results-fft", "Patients who rated their experience good or very good, by month", &desc, &labels,
                    &[charts::Series { name: "% good or very good".into(), values }]))
                div class="table-wrap" tabindex="0" role="region" aria-label="Friends and Family Test table" {
                    table {
                        caption { "Friends and Family Test by month" }
                        thead { tr { th scope="col" { "Month" } th scope="col" { "Responses" } th scope="col" { "Good or very good" } } }
                        tbody {
                            @for (m, s) in &months {
                                tr { th scope="row" { (month_label(m)) } td { (reports::count(&s.total)) } td { (reports::pct(&s.positive)) } }
                            }
                        }
                    }
                }
            }
            h2 { "What comments were about" }
            p { "The themes patients mentioned most in their comments over the last 12 months. Comments are read on our own server; none are published here." }
            @if top.is_empty() {
                p { "Not enough comments to show." }
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Themes table" {
                    table {
                        caption { "Most mentioned themes" }
                        thead { tr { th scope="col" { "Theme" } th scope="col" { "Comments" } th scope="col" { "Positive" } th scope="col" { "Negative" } } }
                        tbody {
                            @for (t, (n, p, q)) in &top {
                                tr {
                                    th scope="row" { (t) }
                                    td { (n) }
                                    td { (reports::pct(&publish_percent(&Proportion { k: *p, n: *n }))) }
                                    td { (reports::pct(&publish_percent(&Proportion { k: *q, n: *n }))) }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "You said, we did" }
            @if actions.is_empty() { p { "No actions recorded yet." } }
            @for a in &actions {
                article class="comment" {
                    p { strong { "You said: " } (a.you_said) }
                    p { strong { "We did: " } (a.we_did) }
                    p class="meta" {
                        "Status: " (a.status)
                        @if let Some(s) = &a.service { " · Service: " (s) }
                        @if let Some(t) = &a.theme { " · Theme: " (t) }
                        @if let Some(d) = &a.started_on { " · Started " (d) }
                        @if let Some(d) = &a.done_on { " · Done " (d) }
                    }
                }
            }
        },
    ))
}

/// `?service=` of the JSON results.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ResultsQuery {
    service: Option<String>,
}

/// A published percentage as the page shows it: (percent, low, high), or `*` alone.
fn pct_json(p: &Pub<chorus_core::aggregate::PublishedPercent>) -> serde_json::Value {
    match p {
        Pub::Value(v) => {
            serde_json::json!({"percent": v.percent.display, "low": v.low, "high": v.high})
        }
        Pub::Suppressed => serde_json::json!({"percent": "*"}),
    }
}

/// `GET /api/v1/results/{site}?service=…`: the public results as JSON, for `<chorus-results>`.
#[utoipa::path(get, path = "/api/v1/results/{site}", tag = "results",
    params(
        ("site" = String, Path, description = "Site id"),
        ("service" = Option<String>, Query, description = "One service of the site; the whole site if left out"),
    ),
    responses(
        (status = 200, description = "FFT by month (`responses`, `positive` with `percent`, `low`, `high`), the most mentioned `themes` and the `actions`; every figure as published text, `*` where suppressed; never a comment"),
        (status = 404, description = "No such site (`unknown_site`), or a service the site does not list (`unknown_service`)", body = crate::api::ErrorBody),
        (status = 422, description = "`service` is not an id (`invalid_service`)", body = crate::api::ErrorBody),
    ))]
pub async fn results_json(
    State(app): State<Arc<AppState>>,
    Path(site): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ResultsQuery>,
) -> Result<Response, crate::api::ApiError> {
    use crate::api::{ApiError, Code};
    let Some(s) = app.config.site(&site) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            Code::UnknownSite,
            "no site has that id",
        ));
    };
    let service = q.service.as_deref().filter(|v| !v.is_empty());
    if let Some(v) = service {
        if v.len() > 64
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Code::InvalidService,
                "service must be an id: letters, digits, '-', '_' or '.', at most 64 characters",
            ));
        }
        if !s.allows_service(Some(v)) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                Code::UnknownService,
                "the site does not list that service",
            ));
        }
    }
    let f = figures(&app, s, service).await.map_err(|e| {
        tracing::error!(error = %e, "results failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::InternalError,
            "something went wrong on the server; try again later",
        )
    })?;
    let count = |c: &Pub<u64>| match c {
        Pub::Value(v) => v.to_string(),
        Pub::Suppressed => "*".into(),
    };
    let body = serde_json::json!({
        "site": s.id,
        "service": service,
        "name": if s.name.is_empty() { &s.id } else { &s.name },
        "months": f.months.iter().map(|(m, x)| serde_json::json!({
            "month": m, "responses": count(&x.total), "positive": pct_json(&x.positive),
        })).collect::<Vec<_>>(),
        "themes": f.top.iter().map(|(t, (n, p, q))| serde_json::json!({
            "theme": t, "comments": n.to_string(),
            "positive": pct_json(&publish_percent(&Proportion { k: *p, n: *n })),
            "negative": pct_json(&publish_percent(&Proportion { k: *q, n: *n })),
        })).collect::<Vec<_>>(),
        "actions": f.actions.iter().map(|a| serde_json::json!({
            "you_said": a.you_said, "we_did": a.we_did, "status": a.status, "theme": a.theme,
            "started_on": a.started_on, "done_on": a.done_on,
        })).collect::<Vec<_>>(),
    });
    let mut res = axum::Json(body).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(res)
}
