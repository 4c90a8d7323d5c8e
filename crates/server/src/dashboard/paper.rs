//! Paper FFT cards keyed in by staff (issue 18), one at a time or as a tally.
//!
//! Keyboard first and no JavaScript: the answer box has the focus when the page opens, staff
//! type the card's answer as a digit 1–6, Tab to the comment, Enter saves the card and brings
//! back an empty form with the focus in the answer box again, and a running count. The last
//! card can be undone. A tally enters six counts at once for cards without comments.
//!
//! Every card goes through the API's own handler (validation, scoring, redaction of typed
//! comments, the writer's durable commit) with mode `paper`, then takes the date on the card.
//! Each form carries a one-time card id that becomes the idempotency key, so pressing Enter
//! twice or resending the form stores a card once. Every entry is audited with who keyed it.

use std::sync::Arc;

use axum::{
    Form,
    body::Body,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chorus_core::{Instrument, ItemKind, Scoring};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    audit,
    auth::{Role, Staff},
    reports::{parse_date, url_encode},
    templates::{self, PageResult},
};
use crate::AppState;

/// Most cards one tally may enter per answer (a month of a busy ward's cards is a few hundred).
const MAX_TALLY: u32 = 2000;

/// The page's query: what stays the same from card to card, and what the last save did.
#[derive(Debug, Default, Deserialize)]
pub struct PaperQuery {
    site: Option<String>,
    service: Option<String>,
    instrument: Option<String>,
    date: Option<String>,
    /// Cards keyed in this sitting.
    count: Option<u32>,
    /// The last card saved: its reference and id (for the undo button).
    saved: Option<String>,
    last: Option<i64>,
    /// What the last action did, for the status line.
    done: Option<String>,
}

/// A card as sent by the form.
#[derive(Debug, Default, Deserialize)]
pub struct CardForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    card: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    instrument: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    count: u32,
    /// Tally counts, one per answer (tally form only).
    #[serde(default)]
    n1: String,
    #[serde(default)]
    n2: String,
    #[serde(default)]
    n3: String,
    #[serde(default)]
    n4: String,
    #[serde(default)]
    n5: String,
    #[serde(default)]
    n6: String,
    /// The card to undo (undo form only).
    #[serde(default)]
    last: Option<i64>,
}

/// The FFT instruments a card can be keyed against.
fn fft_instruments<'a>(app: &'a AppState, site: &str) -> Vec<&'a Instrument> {
    let allowed = app.site(site);
    let allowed = allowed.as_ref();
    app.instruments
        .values()
        .filter(|i| i.scoring == Scoring::Fft && i.id != "fft-easy-read")
        .filter(|i| allowed.is_some_and(|s| s.allows_instrument(&i.id)))
        .collect()
}

/// The answers of the card kind `instrument`, in the card's order (none for an unknown one).
fn card_answers(app: &AppState, instrument: &str) -> Vec<(String, String)> {
    app.instruments
        .get(instrument)
        .map(fft_options)
        .unwrap_or_default()
}

/// The FFT item's answers, in the card's order (1 = the first option).
fn fft_options(inst: &Instrument) -> Vec<(String, String)> {
    inst.fft_item()
        .map(|i| {
            i.options
                .iter()
                .map(|o| (o.id.clone(), o.text.en.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Today, `YYYY-MM-DD` (UTC).
fn today() -> String {
    crate::store::iso_utc(super::now_secs())[..10].to_string()
}

fn sticky_query(site: &str, service: &str, instrument: &str, date: &str) -> String {
    format!(
        "site={}&service={}&instrument={}&date={}",
        url_encode(site),
        url_encode(service),
        url_encode(instrument),
        url_encode(date)
    )
}

/// `GET /dashboard/paper`.
pub async fn paper_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<PaperQuery>,
) -> PageResult {
    let site = staff.site_for(q.site.clone(), Role::Analyst)?;
    let form = CardForm {
        site,
        service: q.service.clone().unwrap_or_default(),
        instrument: q.instrument.clone().unwrap_or_else(|| "fft".into()),
        date: q.date.clone().unwrap_or_else(today),
        count: q.count.unwrap_or(0),
        ..CardForm::default()
    };
    let status = q.done.as_deref().map(|d| match d {
        "card" => format!(
            "Card {} saved (reference {}).",
            form.count,
            q.saved.as_deref().unwrap_or("")
        ),
        "undo" => "The last card was removed.".to_string(),
        "tally" => format!("Tally saved: {} cards.", q.saved.as_deref().unwrap_or("0")),
        _ => String::new(),
    });
    Ok(render(
        &app,
        &staff,
        &form,
        &[],
        status.as_deref(),
        q.last,
        StatusCode::OK,
    ))
}

fn render(
    app: &AppState,
    staff: &Staff,
    f: &CardForm,
    problems: &[(String, String)],
    status: Option<&str>,
    last: Option<i64>,
    code: StatusCode,
) -> Response {
    let instruments = fft_instruments(app, &f.site);
    let options = card_answers(app, &f.instrument);
    let services = app
        .site(&f.site)
        .map(|s| s.service_ids())
        .unwrap_or_default();
    let card = super::random_token();
    let common = |tally: bool| -> Markup {
        html! {
            input type="hidden" name="csrf" value=(staff.csrf);
            input type="hidden" name="card" value=(card);
            input type="hidden" name="site" value=(f.site);
            input type="hidden" name="count" value=(f.count);
            div class="filter-grid" {
                div class="field" {
                    label for={ "service" (if tally { "-t" } else { "" }) } { "Service" }
                    @if services.is_empty() {
                        input type="text" id={ "service" (if tally { "-t" } else { "" }) } name="service" value=(f.service) required;
                    } @else {
                        select id={ "service" (if tally { "-t" } else { "" }) } name="service" {
                            @for s in &services { option value=(s) selected[*s == f.service] { (s) } }
                        }
                    }
                }
                div class="field" {
                    label for={ "instrument" (if tally { "-t" } else { "" }) } { "Card" }
                    select id={ "instrument" (if tally { "-t" } else { "" }) } name="instrument" {
                        @for i in &instruments { option value=(i.id) selected[i.id == f.instrument] { (i.title.en) } }
                    }
                }
                div class="field" {
                    label for={ "date" (if tally { "-t" } else { "" }) } { "Date on the cards" }
                    input type="date" id={ "date" (if tally { "-t" } else { "" }) } name="date" value=(f.date) required;
                }
            }
        }
    };
    let body = html! {
        (templates::error_summary(problems))
        h1 { "Key in paper cards" }
        @if let Some(s) = status.filter(|s| !s.is_empty()) {
            div class="notice" role="status" { p { (s) } }
        }
        p { "Cards keyed here are stored like online responses, marked as paper, with the date on the card. Comments have personal details removed before they are stored. Every card is recorded in the audit log with your name." }
        form method="post" action="/dashboard/paper" {
            fieldset {
                legend { "One card" }
                (common(false))
                div class="field" {
                    label for="answer" { "Answer (1 to " (options.len().max(1)) ")" }
                    p class="hint" id="answer-hint" {
                        @for (i, (_, label)) in options.iter().enumerate() {
                            @if i > 0 { ", " }
                            (i + 1) " " (label)
                        }
                    }
                    input type="text" id="answer" name="answer" inputmode="numeric" maxlength="1" autocomplete="off" autofocus required aria-describedby="answer-hint" class="input--short" value=(f.answer);
                }
                div class="field" {
                    label for="comment" { "Comment on the card (optional)" }
                    input type="text" id="comment" name="comment" maxlength="1200" autocomplete="off" value=(f.comment);
                }
                button type="submit" class="button" { "Save card" }
                p { "Cards keyed in this sitting: " strong id="count" { (f.count) } }
            }
        }
        @if let Some(id) = last {
            form method="post" action="/dashboard/paper/undo" {
                input type="hidden" name="csrf" value=(staff.csrf);
                input type="hidden" name="site" value=(f.site);
                input type="hidden" name="service" value=(f.service);
                input type="hidden" name="instrument" value=(f.instrument);
                input type="hidden" name="date" value=(f.date);
                input type="hidden" name="count" value=(f.count);
                input type="hidden" name="last" value=(id);
                button type="submit" class="button button-secondary" { "Undo the last card" }
            }
        }
        h2 { "Tally of cards without comments" }
        form method="post" action="/dashboard/paper/tally" {
            fieldset {
                legend { "How many cards gave each answer" }
                (common(true))
                div class="filter-grid" {
                    @for (i, (_, label)) in options.iter().enumerate() {
                        div class="field" {
                            label for={ "n" (i + 1) } { (label) }
                            input type="text" inputmode="numeric" id={ "n" (i + 1) } name={ "n" (i + 1) } value="0" autocomplete="off" class="input--short";
                        }
                    }
                }
                button type="submit" class="button" { "Save tally" }
            }
        }
    };
    let mut r = (
        code,
        templates::page("Key in paper cards", Some(staff), "paper", body),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The form again with what is wrong, nothing stored (400).
fn refused(app: &AppState, staff: &Staff, f: &CardForm, problems: &[(String, String)]) -> Response {
    render(app, staff, f, problems, None, None, StatusCode::BAD_REQUEST)
}

/// Check what stays the same for a card or a tally: site role, service, instrument, date.
/// The problems found, and the instrument's card answers.
#[allow(clippy::type_complexity)]
fn check_common(
    app: &AppState,
    staff: &Staff,
    f: &CardForm,
) -> Result<(Vec<(String, String)>, Vec<(String, String)>), templates::PageError> {
    staff.check_csrf(f.csrf.as_deref())?;
    staff.require(&f.site, Role::Analyst)?;
    let mut problems = Vec::new();
    let site = app.site(&f.site);
    let site = site.as_ref();
    let service = f.service.trim();
    if service.is_empty() {
        problems.push((
            "service".into(),
            "Enter the service the cards are from".into(),
        ));
    } else if !site.is_some_and(|s| s.allows_service(Some(service))) {
        problems.push((
            "service".into(),
            format!("\"{service}\" is not one of this site's services"),
        ));
    }
    if !fft_instruments(app, &f.site)
        .iter()
        .any(|i| i.id == f.instrument)
    {
        problems.push(("instrument".into(), "Choose the kind of card".into()));
    }
    match parse_date(f.date.trim()) {
        None => problems.push((
            "date".into(),
            "Date on the cards must be a real date, like 2026-03-31".into(),
        )),
        Some(d) => {
            let today = super::now_secs().div_euclid(86_400);
            let keep = site.map_or(730, |s| i64::from(s.retention_days));
            if d > today {
                problems.push((
                    "date".into(),
                    "Date on the cards cannot be in the future".into(),
                ));
            } else if d < today - keep {
                problems.push((
                    "date".into(),
                    format!("Date on the cards must be within the last {keep} days (the site's retention period)"),
                ));
            }
        }
    }
    Ok((problems, card_answers(app, &f.instrument)))
}

/// Store one card through the API handler; `Ok((id, reference, already stored))`, or the
/// API's refusal. A card already stored keeps its date (it is not moved again).
async fn store_card(
    app: &Arc<AppState>,
    f: &CardForm,
    key: &str,
    answer: &str,
    comment: &str,
) -> anyhow::Result<Result<(i64, String, bool), String>> {
    let inst = app
        .instruments
        .get(&f.instrument)
        .ok_or_else(|| anyhow::anyhow!("instrument vanished"))?;
    let mut answers = serde_json::Map::new();
    let fft_item = inst
        .fft_item()
        .ok_or_else(|| anyhow::anyhow!("no FFT item"))?;
    answers.insert(fft_item.id.clone(), json!(answer));
    if !comment.trim().is_empty()
        && let Some(text_item) = inst.items.iter().find(|i| i.kind == ItemKind::FreeText)
    {
        answers.insert(text_item.id.clone(), json!(comment.trim()));
    }
    let body = json!({
        "site": f.site, "service": f.service.trim(), "mode": "paper",
        "response": {"instrument": inst.id, "version": inst.version, "locale": "en",
            "idempotency_key": key, "answers": answers},
    });
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Noon on the card's date: the card's day in any UK offset.
    let day = parse_date(f.date.trim()).unwrap_or(0);
    let entry = crate::api::StaffEntry {
        received_at: Some(crate::store::iso_utc(day * 86_400 + 12 * 3600)),
    };
    let res = match crate::api::post_response(
        State(app.clone()),
        None,
        Some(axum::Extension(entry)),
        headers,
        Body::from(body.to_string()),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status == StatusCode::CREATED || status == StatusCode::OK {
        let id = v["id"].as_i64().unwrap_or(0);
        let replayed = status == StatusCode::OK;
        Ok(Ok((
            id,
            v["reference"].as_str().unwrap_or("").to_string(),
            replayed,
        )))
    } else {
        Ok(Err(v["message"]
            .as_str()
            .unwrap_or("the card could not be stored")
            .to_string()))
    }
}

/// A one-time card id from the form, as an idempotency key.
fn card_key(f: &CardForm, suffix: &str) -> Option<String> {
    let c = f.card.trim();
    (c.len() >= 16 && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("paper-{c}{suffix}"))
}

fn back(f: &CardForm, extra: &str) -> Response {
    Redirect::to(&format!(
        "/dashboard/paper?{}&{extra}",
        sticky_query(&f.site, f.service.trim(), &f.instrument, f.date.trim())
    ))
    .into_response()
}

/// `POST /dashboard/paper`: one card.
pub async fn save_card(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Form(f): Form<CardForm>,
) -> PageResult {
    let (mut problems, options) = check_common(&app, &staff, &f)?;
    let answer = f
        .answer
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| options.get(i));
    if answer.is_none() {
        problems.push((
            "answer".into(),
            format!(
                "Enter the card's answer as a number from 1 to {}",
                options.len().max(1)
            ),
        ));
    }
    let key = card_key(&f, "");
    if key.is_none() {
        problems.push((
            "answer".into(),
            "The form has expired: open it again".into(),
        ));
    }
    let (Some((answer, _)), Some(key), true) = (answer, key, problems.is_empty()) else {
        return Ok(refused(&app, &staff, &f, &problems));
    };
    match store_card(&app, &f, &key, answer, &f.comment).await? {
        Ok((id, reference, replayed)) => {
            staff
                .audit(
                    &app.store,
                    if replayed {
                        "paper_card_resent"
                    } else {
                        "paper_card"
                    },
                    Some(&f.site),
                    &format!(
                        "response {id} ({reference}), service {}, card date {}",
                        f.service.trim(),
                        f.date.trim()
                    ),
                )
                .await?;
            Ok(back(
                &f,
                &format!(
                    "count={}&saved={}&last={id}&done=card",
                    f.count + 1,
                    url_encode(&reference)
                ),
            ))
        }
        Err(message) => Ok(render(
            &app,
            &staff,
            &f,
            &[(
                "answer".into(),
                format!("The card was not stored: {message}"),
            )],
            None,
            None,
            StatusCode::BAD_REQUEST,
        )),
    }
}

/// `POST /dashboard/paper/tally`: many cards without comments at once.
pub async fn save_tally(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Form(f): Form<CardForm>,
) -> PageResult {
    let (mut problems, options) = check_common(&app, &staff, &f)?;
    let raw = [&f.n1, &f.n2, &f.n3, &f.n4, &f.n5, &f.n6];
    let mut counts = Vec::new();
    for (i, (id, label)) in options.iter().enumerate().take(raw.len()) {
        let v = raw[i].trim();
        match (if v.is_empty() {
            Some(0)
        } else {
            v.parse::<u32>().ok()
        })
        .filter(|n| *n <= MAX_TALLY)
        {
            Some(n) => counts.push((id.clone(), n)),
            None => problems.push((
                format!("n{}", i + 1),
                format!("{label}: enter a whole number from 0 to {MAX_TALLY}"),
            )),
        }
    }
    let total: u32 = counts.iter().map(|c| c.1).sum();
    if problems.is_empty() && total == 0 {
        problems.push((
            "n1".into(),
            "Enter how many cards gave at least one answer".into(),
        ));
    }
    let Some(base) = card_key(&f, "") else {
        problems.push(("n1".into(), "The form has expired: open it again".into()));
        return Ok(refused(&app, &staff, &f, &problems));
    };
    if !problems.is_empty() {
        return Ok(refused(&app, &staff, &f, &problems));
    }
    let (mut stored, mut again) = (0u32, 0u32);
    for (answer, n) in &counts {
        for k in 0..*n {
            match store_card(&app, &f, &format!("{base}-{answer}-{k}"), answer, "").await? {
                Ok((_, _, false)) => stored += 1,
                Ok((_, _, true)) => again += 1,
                Err(message) => {
                    // Cards stored so far stay (each is a whole, valid card, audited below);
                    // the form says what stopped it, and resending it stores only the rest.
                    audit_tally(&app, &staff, &f, &counts, stored, again).await?;
                    return Ok(render(
                        &app,
                        &staff,
                        &f,
                        &[(
                            "n1".into(),
                            format!(
                                "Stopped after {stored} cards: {message}. Send the form again to store the rest."
                            ),
                        )],
                        None,
                        None,
                        StatusCode::SERVICE_UNAVAILABLE,
                    ));
                }
            }
        }
    }
    audit_tally(&app, &staff, &f, &counts, stored, again).await?;
    Ok(back(
        &f,
        &format!("count={}&saved={stored}&done=tally", f.count + stored),
    ))
}

async fn audit_tally(
    app: &AppState,
    staff: &Staff,
    f: &CardForm,
    counts: &[(String, u32)],
    stored: u32,
    again: u32,
) -> anyhow::Result<()> {
    let detail: Vec<String> = counts.iter().map(|(a, n)| format!("{a} {n}")).collect();
    staff.audit(&app.store,
        "paper_tally",
        Some(&f.site),
        &format!(
            "{stored} cards stored ({again} already stored; tally {}), service {}, card date {}",
            detail.join(", "),
            f.service.trim(),
            f.date.trim()
        ),
    )
    .await
}

/// `POST /dashboard/paper/undo`: remove the last card this member of staff keyed.
pub async fn undo_card(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Form(f): Form<CardForm>,
) -> PageResult {
    staff.check_csrf(f.csrf.as_deref())?;
    staff.require(&f.site, Role::Analyst)?;
    let Some(id) = f.last else {
        return Ok(templates::not_found().await);
    };
    // Only a paper card this person keyed, on a site they may key for, within the hour.
    let keyed = audit::keyed_paper_card(&app.store, staff.user_id, id).await?;
    let site = app.store.site_of(id).await?;
    if !keyed || site.as_deref() != Some(f.site.as_str()) {
        return Ok(templates::not_found().await);
    }
    let deleted = app.store.delete_response(id).await?;
    if deleted {
        staff
            .audit(
                &app.store,
                "paper_card_undone",
                Some(&f.site),
                &format!("response {id} ({})", crate::reference::from_id(id)),
            )
            .await?;
    }
    Ok(back(
        &f,
        &format!("count={}&done=undo", f.count.saturating_sub(1)),
    ))
}
