//! Exports (analysts and admins), each one audited: responses as CSV (free text was redacted
//! before storage), and the NHS England FFT monthly return.

use std::sync::Arc;

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    auth::{Role, Staff},
    fft_return,
    reports::{self, FilterQuery, Report},
    templates::{self, PageError, PageResult},
};
use crate::{config::FftSetting, state::AppState};

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
        h2 id="fft-return" { "NHS England FFT monthly return" }
        p { "Counts per answer for one calendar month, one CSV per setting as NHS England asks: inpatients by ward and specialty, the other settings per site, each by mode of collection, with your organisation and site codes. Counts are not suppressed in the CSV (NHS England applies its own rules before publishing); the preview shows which cells publication would hide." }
        (return_settings(&app, &f.site, &last_month).await?)
        form class="filters" method="get" action="/dashboard/exports/fft-return" {
            input type="hidden" name="site" value=(f.site);
            div class="field" {
                label for="month" { "Month" }
                p class="hint" id="month-hint" { "For example, " (last_month) }
                input type="month" id="month" name="month" value=(last_month) aria-describedby="month-hint";
            }
            button type="submit" class="button" { "Preview the return for this month" }
        }
        p { a href={ "/dashboard/exports/fft-return.csv?site=" (reports::url_encode(&f.site)) "&month=" (last_month) } { "Every setting in one CSV (" (reports::month_label(&last_month)) ")" } }
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
    staff
        .audit(
            &app.store,
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

/// The query of the FFT return (and its preview).
#[derive(Debug, Deserialize)]
pub struct ReturnQuery {
    site: Option<String>,
    month: Option<String>,
    /// One setting's CSV (a setting code); every setting in one when absent.
    setting: Option<String>,
}

/// The return's setting for an FFT instrument variant (a service's own setting, when it has
/// one, comes first: see [`fft_return::setting_of`]).
pub fn setting(instrument: &str) -> &'static str {
    FftSetting::of_instrument(instrument).map_or("Other", FftSetting::label)
}

/// Header of the all-settings FFT return.
pub const RETURN_HEADER: [&str; 13] = {
    // The answer columns are the per-setting return's (`fft_return::ANSWERS`), not a copy.
    let mut h = [
        "Period",
        "Organisation code",
        "Site code",
        "Setting",
        "Service",
        "",
        "",
        "",
        "",
        "",
        "",
        "Total responses",
        "Mode of collection",
    ];
    let mut i = 0;
    while i < fft_return::ANSWERS.len() {
        h[5 + i] = fft_return::ANSWERS[i];
        i += 1;
    }
    h
};

/// The settings a site's return covers for a month: those with responses, and those its
/// services are configured for (so a deadline is shown before the first response).
fn settings_of(
    site: Option<&crate::config::Site>,
    rows: &[fft_return::ReturnRow],
) -> Vec<FftSetting> {
    FftSetting::ALL
        .into_iter()
        .filter(|x| {
            rows.iter().any(|r| r.setting == Some(*x))
                || site.is_some_and(|s| s.services.iter().any(|v| v.setting == Some(*x)))
        })
        .collect()
}

/// "Tue 19 Jan 2027".
fn long_date(d: time::Date) -> String {
    let day = &d.weekday().to_string()[..3];
    let month = &d.month().to_string()[..3];
    format!("{day} {} {month} {}", d.day(), d.year())
}

/// The table of a month's settings: responses, deadline, and each one's download link.
async fn return_settings(app: &AppState, site_id: &str, month: &str) -> anyhow::Result<Markup> {
    let Some((first, last)) = reports::month_days(month) else {
        return Ok(html! {});
    };
    let f = reports::Filter {
        site: site_id.to_string(),
        from: Some(first),
        to: Some(last),
        ..Default::default()
    };
    let (rows, _) = fft_return::rows(app, &f).await?;
    let site = app.site(site_id);
    let settings = settings_of(site.as_ref(), &rows);
    let other: u64 = rows
        .iter()
        .filter(|r| r.setting.is_none())
        .map(fft_return::ReturnRow::total)
        .sum();
    Ok(html! {
        @if settings.is_empty() {
            p id="no-return-settings" { "No FFT responses in " (reports::month_label(month)) ", and no service of this site has a setting. Give services their FFT setting in Site settings." }
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="FFT return by setting" {
                table id="return-settings" {
                    caption { "FFT return for " (reports::month_label(month)) ", by setting" }
                    thead { tr { th scope="col" { "Setting" } th scope="col" { "Responses" } th scope="col" { "Deadline" } th scope="col" { "Download" } } }
                    tbody {
                        @for x in &settings {
                            @let n: u64 = rows.iter().filter(|r| r.setting == Some(*x)).map(fft_return::ReturnRow::total).sum();
                            tr id={ "setting-" (x.code()) } {
                                th scope="row" { (x.label()) }
                                td { (n) }
                                td { @if let Some(d) = fft_return::deadline(month, *x) { time datetime=(format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())) { (long_date(d)) } br; span class="hint" { "through " (fft_return::submitted_through(*x)) } } }
                                td { a href={ "/dashboard/exports/fft-return.csv?site=" (reports::url_encode(site_id)) "&month=" (month) "&setting=" (x.code()) } { (x.label()) " CSV" span class="visually-hidden" { " for " (reports::month_label(month)) } } }
                            }
                        }
                    }
                }
            }
            p class="hint" { "Each deadline is the " (fft_return::WORKING_DAY) "th working day of the month after (weekends and bank holidays in England and Wales skipped). Check NHS England's collection timetable, which can move a date." }
        }
        @if other > 0 {
            p id="return-other" { (other) " responses have no setting (the general FFT on a service with no setting): they are only in the all-settings CSV. Give their services a setting in Site settings." }
        }
    })
}

/// The month of a return query, or the 400 page.
#[allow(clippy::result_large_err)] // as the other dashboard checks
fn return_filter(
    app: &AppState,
    staff: &Staff,
    q: &ReturnQuery,
) -> Result<(reports::Filter, String), PageError> {
    let mut f = reports::check_filter(
        app,
        staff,
        &FilterQuery {
            site: q.site.clone(),
            ..FilterQuery::default()
        },
        Report::Fft,
        Role::Analyst,
    )?;
    let month = q.month.as_deref().unwrap_or("").trim().to_string();
    let Some((first, last)) = reports::month_days(&month) else {
        return Err(templates::bad_request(
            staff,
            "exports",
            &[(
                "month".into(),
                "Month must be a real month, like 2026-03".into(),
            )],
        )
        .into());
    };
    f.from = Some(first);
    f.to = Some(last);
    Ok((f, month))
}

/// The setting of a return query: `None` for every setting, the 400 page for an unknown one.
#[allow(clippy::result_large_err)]
fn return_setting(staff: &Staff, q: &ReturnQuery) -> Result<Option<FftSetting>, PageError> {
    match q.setting.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(code) => FftSetting::from_code(code).map(Some).ok_or_else(|| {
            let codes: Vec<&str> = FftSetting::ALL.iter().map(|x| x.code()).collect();
            templates::bad_request(
                staff,
                "exports",
                &[(
                    "setting".into(),
                    format!("Setting must be one of: {}", codes.join(", ")),
                )],
            )
            .into()
        }),
    }
}

fn mark(n: u64, s: fft_return::Shown) -> Markup {
    html! {
        (n)
        @match s {
            fft_return::Shown::Shown => {},
            fft_return::Shown::Small => { " " strong class="suppress-small" { "→ * (fewer than 5)" } },
            fft_return::Shown::Secondary => { " " strong class="suppress-secondary" { "→ * (would give another away)" } },
        }
    }
}

/// `GET /dashboard/exports/fft-return?site=…&month=YYYY-MM`: each setting's deadline and
/// download, and a preview of its rows with the cells publication would suppress marked.
pub async fn fft_return_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<ReturnQuery>,
) -> PageResult {
    let (f, month) = return_filter(&app, &staff, &q)?;
    let (rows, _) = fft_return::rows(&app, &f).await?;
    let site = app.site(&f.site);
    let settings = settings_of(site.as_ref(), &rows);
    let label = reports::month_label(&month);
    let body = html! {
        p { a href={ "/dashboard/exports?site=" (reports::url_encode(&f.site)) } { "Exports" } }
        h1 { "FFT return: " (label) }
        (return_settings(&app, &f.site, &month).await?)
        h2 { "What publication would suppress" }
        p { "The figures below are what the CSVs hold. NHS England suppresses counts of 1 to 4 when it publishes (marked “→ * (fewer than 5)”), and then more cells, so that a hidden count cannot be worked out from a row's total or from a ward's totals over the modes (marked “→ * (would give another away)”). Check a ward with many such cells before you submit: it may be better combined with another." }
        @for x in &settings {
            @let these = fft_return::setting_rows(&rows, *x);
            @let p = fft_return::preview(&these);
            h3 id={ "preview-" (x.code()) } { (x.label()) }
            @if these.is_empty() {
                p { "No responses in " (label) "." }
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label={ (x.label()) " preview" } {
                    table class="return-preview" id={ "preview-table-" (x.code()) } {
                        caption class="visually-hidden" { (x.label()) ": counts and what publication would suppress" }
                        thead { tr {
                            @if x.by_ward() { th scope="col" { "Ward" } th scope="col" { "Specialty" } }
                            th scope="col" { "Mode" }
                            @for a in fft_return::ANSWERS { th scope="col" { (a) } }
                            th scope="col" { "Total" }
                        } }
                        tbody {
                            @for (i, r) in these.iter().enumerate() {
                                tr {
                                    @if x.by_ward() {
                                        th scope="row" { @if r.ward_code.is_empty() { "(no ward code: " (r.service) ")" } @else { (r.ward_code) } }
                                        td { (r.specialty_code) }
                                        td { (r.mode) }
                                    } @else {
                                        th scope="row" { (r.mode) }
                                    }
                                    @for a in 0..6 { td { (mark(r.counts[a], p.cells[i][a])) } }
                                    td { (mark(r.total(), p.totals[i])) }
                                }
                                @for g in p.groups.iter().filter(|g| g.after == i) {
                                    tr class="group-total" {
                                        th scope="row" colspan=(if x.by_ward() { 3 } else { 1 }) { "All modes" @if x.by_ward() { " (" (r.ward_code) ")" } }
                                        @for a in 0..6 { td { (mark(g.counts[a], g.cells[a])) } }
                                        td { (mark(g.total.0, g.total.1)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(templates::page(
        &format!("FFT return: {label}"),
        Some(&staff),
        "exports",
        body,
    )
    .into_response())
}

/// `GET /dashboard/exports/fft-return.csv?site=…&month=YYYY-MM[&setting=…]`: one setting's
/// CSV, or (with no setting) every setting in one.
pub async fn fft_return_csv(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<ReturnQuery>,
) -> PageResult {
    let (f, month) = return_filter(&app, &staff, &q)?;
    let only = return_setting(&staff, &q)?;
    let (rows, counted) = fft_return::rows(&app, &f).await?;
    let site = app.site(&f.site);
    let site = site.as_ref();
    let (bytes, n, name) = match only {
        Some(x) => {
            let these = fft_return::setting_rows(&rows, x);
            (
                fft_return::setting_csv(&month, site, x, &these)?,
                these.len(),
                format!("fft-return-{}-{}-{month}.csv", f.site, x.code()),
            )
        }
        None => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(RETURN_HEADER)?;
            for r in &rows {
                let mut rec = vec![
                    month.clone(),
                    crate::csv_out::safe_cell(site.map_or("", |s| s.org_code.as_str())),
                    crate::csv_out::safe_cell(site.map_or("", |s| s.site_code.as_str())),
                    r.setting.map_or("Other", FftSetting::label).to_string(),
                    crate::csv_out::safe_cell(&r.service),
                ];
                rec.extend(r.counts.iter().map(u64::to_string));
                rec.push(r.total().to_string());
                rec.push(r.mode.to_string());
                w.write_record(&rec)?;
            }
            (
                w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?,
                rows.len(),
                format!("fft-return-{}-{month}.csv", f.site),
            )
        }
    };
    staff
        .audit(
            &app.store,
            "export_fft_return",
            Some(&f.site),
            &format!(
                "{month} {}: {n} rows, {counted} responses",
                only.map_or("every setting", FftSetting::code)
            ),
        )
        .await?;
    Ok(csv_response(&name, bytes))
}
