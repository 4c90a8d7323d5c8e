//! Exports (analysts and admins), each one audited: responses as CSV (free text was redacted
//! before storage), and the NHS England FFT monthly return.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use chorus_core::{Scoring, aggregate::InstrumentAggregate};
use maud::html;
use serde::Deserialize;

use super::{
    audit,
    auth::{Role, Staff},
    reports::{self, FilterQuery, Report},
    templates::{self, PageResult},
};
use crate::state::AppState;

/// `GET /dashboard/exports`.
pub async fn exports_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let f = reports::check_filter(&app, &staff, &q, Report::All, Role::Analyst)?;
    let form = reports::filter_form(&app, &staff, &f, Report::All, Role::Analyst).await?;
    let last_month = reports::month_before(super::now_secs());
    let body = html! {
        h1 { "Exports" }
        p { "Every export is recorded in the audit log with your name." }
        h2 { "Responses" }
        p { "One row per response: when, where, the answers (free text with personal details already removed) and the scores. Choose the responses with the filter, then download." }
        (form)
        p { a class="button" id="download-responses" href={ "/dashboard/exports/responses.csv?" (f.query()) } { "Download responses (CSV)" } }
        h2 { "NHS England FFT monthly return" }
        p { "Counts per answer for one calendar month, one row per setting and service, with your organisation and site codes, ready for the monthly FFT data collection. Counts are not suppressed: NHS England applies its own rules before publishing." }
        form class="filters" method="get" action="/dashboard/exports/fft-return.csv" {
            input type="hidden" name="site" value=(f.site);
            div class="field" {
                label for="month" { "Month" }
                p class="hint" id="month-hint" { "For example, " (last_month) }
                input type="month" id="month" name="month" value=(last_month) aria-describedby="month-hint";
            }
            button type="submit" class="button" { "Download the FFT return (CSV)" }
        }
    };
    Ok(templates::page("Exports", Some(&staff), "exports", body).into_response())
}

fn csv_response(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /dashboard/exports/responses.csv`: streamed a page at a time, so an export of years
/// of responses needs no more memory than one page. The export is audited (with its row
/// count) before the first byte goes out. If the database fails part-way, the response is
/// aborted rather than ended, so the browser reports a failed download instead of saving a
/// short file that looks complete.
pub async fn responses_csv(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let f = reports::check_filter(&app, &staff, &q, Report::All, Role::Analyst)?;
    let query = reports::RowQuery::new(
        &reports::selection(&f, &reports::report_instruments(&app, Report::All)),
        true,
    );
    let total = usize::try_from(query.count(&app.store).await?).unwrap_or(0);
    audit::record(
        &app.store,
        Some(staff.user_id),
        &staff.email,
        "export_responses",
        Some(&f.site),
        &format!("{total} responses; filter {}", f.query()),
    )
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    tokio::spawn(async move {
        let mut head = csv::Writer::from_writer(Vec::new());
        let _ = head.write_record(crate::csv_out::RESPONSES_HEADER);
        if tx
            .send(Ok(head.into_inner().unwrap_or_default()))
            .await
            .is_err()
        {
            return;
        }
        let mut last = 0;
        let mut sent = 0usize;
        // Stop at the audited count: rows stored while the export runs wait for the next one.
        while sent < total {
            let rows = match query.page(&app.store, last).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "responses export failed part-way; aborting the download");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            let Some(end) = rows.last().map(|r| r.id) else {
                break;
            };
            let take = rows.len().min(total - sent);
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            for r in &rows[..take] {
                let _ = w.write_record(crate::csv_out::response_record(r));
            }
            if tx
                .send(Ok(w.into_inner().unwrap_or_default()))
                .await
                .is_err()
            {
                return;
            }
            sent += take;
            last = end;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"chorus-responses-{}.csv\"", f.site),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// The query of the FFT return.
#[derive(Debug, Deserialize)]
pub struct ReturnQuery {
    site: Option<String>,
    month: Option<String>,
}

/// The return's setting for an FFT instrument variant.
pub fn setting(instrument: &str) -> &'static str {
    match instrument {
        "fft-ae" => "A&E",
        "fft-inpatient" => "Inpatient",
        "fft-outpatient" => "Outpatient",
        "fft-gp" => "GP practice",
        "fft-maternity" => "Maternity",
        "fft-mental-health" => "Mental health",
        "fft-community" => "Community",
        _ => "Other",
    }
}

/// Header of the FFT return.
pub const RETURN_HEADER: [&str; 13] = [
    "Period",
    "Organisation code",
    "Site code",
    "Setting",
    "Service",
    "Very good",
    "Good",
    "Neither good nor poor",
    "Poor",
    "Very poor",
    "Don't know",
    "Total responses",
    "Mode of collection",
];

/// `GET /dashboard/exports/fft-return.csv?site=…&month=YYYY-MM`.
pub async fn fft_return_csv(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<ReturnQuery>,
) -> PageResult {
    let fq = FilterQuery::default();
    let mut f = reports::check_filter(
        &app,
        &staff,
        &FilterQuery {
            site: q.site.clone(),
            ..fq
        },
        Report::Fft,
        Role::Analyst,
    )?;
    let month = q.month.as_deref().unwrap_or("").trim().to_string();
    let Some((first, last)) = reports::month_days(&month) else {
        return Ok(templates::bad_request(
            &staff,
            "exports",
            &[(
                "month".into(),
                "Month must be a real month, like 2026-03".into(),
            )],
        ));
    };
    f.from = Some(first);
    f.to = Some(last);
    {
        let rows = reports::load(&app, &f, &reports::report_instruments(&app, Report::Fft)).await?;
        // (setting, service, mode column) → counts, straight from the core's aggregate.
        let mut groups: BTreeMap<(&'static str, String, &'static str), InstrumentAggregate> =
            BTreeMap::new();
        for r in &rows {
            if !app
                .instruments
                .get(&r.instrument)
                .is_some_and(|i| i.scoring == Scoring::Fft)
            {
                continue;
            }
            let Ok(report) = serde_json::from_str(&r.scores) else {
                continue;
            };
            groups
                .entry((
                    setting(&r.instrument),
                    r.service.clone().unwrap_or_default(),
                    chorus_core::mode::Mode::from_code(&r.mode)
                        .unwrap_or(chorus_core::mode::Mode::Other)
                        .return_column(),
                ))
                .or_default()
                .add(&report);
        }
        let site = app.site(&f.site);
        let site = site.as_ref();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(RETURN_HEADER)?;
        for ((setting, service, mode), a) in &groups {
            let mut rec = vec![
                month.clone(),
                crate::csv_out::safe_cell(site.map_or("", |s| s.org_code.as_str())),
                crate::csv_out::safe_cell(site.map_or("", |s| s.site_code.as_str())),
                (*setting).to_string(),
                crate::csv_out::safe_cell(service),
            ];
            rec.extend(a.fft.iter().map(|n| n.to_string()));
            rec.push(a.fft_total().to_string());
            rec.push((*mode).to_string());
            w.write_record(&rec)?;
        }
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        audit::record(
            &app.store,
            Some(staff.user_id),
            &staff.email,
            "export_fft_return",
            Some(&f.site),
            &format!("{month}: {} rows, {} responses", groups.len(), rows.len()),
        )
        .await?;
        Ok(csv_response(
            &format!("fft-return-{}-{month}.csv", f.site),
            bytes,
        ))
    }
}
