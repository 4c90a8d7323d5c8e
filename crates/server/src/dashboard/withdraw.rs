//! A patient's request to withdraw their feedback, answered by staff: find the response by the
//! reference on the patient's receipt, see it (free text as stored: already redacted), and
//! delete it with a reason. Admins of the response's site only; audited (who, when, which
//! reference, why); CSRF-protected; no JavaScript.
//!
//! Reports and exports read the stored rows, so a deleted response is gone from every figure
//! and file at once; its tags go with it. Ids are never reused, so the reference can never
//! come to mean another response.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use maud::html;
use serde::Deserialize;
use sqlx::Row;

use super::{
    audit,
    auth::{Role, Staff},
    templates,
};
use crate::AppState;

/// Longest reason kept.
const MAX_REASON: usize = 300;

/// The look-up.
#[derive(Deserialize)]
pub struct Find {
    #[serde(default)]
    reference: Option<String>,
}

struct Found {
    id: i64,
    reference: String,
    site: String,
    service: Option<String>,
    instrument: String,
    received_at: String,
    answers: Vec<(String, String)>,
}

/// The response a reference stands for, if it is on a site `staff` administers (otherwise
/// "not found", whether or not it exists: references of other trusts' sites tell nothing).
async fn find(app: &AppState, staff: &Staff, reference: &str) -> anyhow::Result<Option<Found>> {
    let Some(id) = crate::reference::to_id(reference) else {
        return Ok(None);
    };
    let Some(row) = sqlx::query(
        "SELECT site, service, instrument, received_at, answers FROM responses WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(app.store.pool())
    .await?
    else {
        return Ok(None);
    };
    let site: String = row.get(0);
    if staff.role_on(&site) != Some(Role::Admin) {
        return Ok(None);
    }
    let answers: serde_json::Value =
        serde_json::from_str(&row.get::<String, _>(4)).unwrap_or_default();
    let answers = match answers {
        serde_json::Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                let shown = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                // Stored free text is redacted already; redacting again changes nothing and
                // guards rows written before redaction existed.
                (k, chorus_core::redact::redact(&shown).text)
            })
            .collect(),
        _ => vec![],
    };
    Ok(Some(Found {
        id,
        reference: crate::reference::from_id(id),
        site,
        service: row.get(1),
        instrument: row.get(2),
        received_at: row.get(3),
        answers,
    }))
}

/// `GET /dashboard/withdraw[?reference=…]`.
pub async fn withdraw_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<Find>,
) -> Response {
    if let Err(r) = staff.require_any(Role::Admin) {
        return r;
    }
    let reference = q.reference.unwrap_or_default();
    let reference = reference.trim();
    if reference.is_empty() {
        return page(&staff, "", None, None, StatusCode::OK, None);
    }
    if reference.len() > 40 {
        return page(
            &staff,
            "",
            None,
            Some("Enter a reference like CH-7K3Q-9D4M"),
            StatusCode::BAD_REQUEST,
            None,
        );
    }
    match find(&app, &staff, reference).await {
        Ok(Some(f)) => page(&staff, reference, Some(&f), None, StatusCode::OK, None),
        Ok(None) => page(
            &staff,
            reference,
            None,
            Some(
                "No response with this reference on the sites you administer. Check it with the patient: it is on their receipt, like CH-7K3Q-9D4M",
            ),
            StatusCode::NOT_FOUND,
            None,
        ),
        Err(e) => templates::server_error(&e),
    }
}

fn page(
    staff: &Staff,
    reference: &str,
    found: Option<&Found>,
    error: Option<&str>,
    status: StatusCode,
    done: Option<&str>,
) -> Response {
    let body = html! {
        @if let Some(e) = error {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul { li { a href=(if found.is_some() { "#reason" } else { "#reference" }) { (e) } } }
            }
        }
        h1 { "Withdraw a response" }
        @if let Some(d) = done {
            div class="warning" id="withdrawn" role="status" { p { "Response " strong { (d) } " was deleted. It is no longer in any report or export." } }
        }
        p { "When a patient asks for their feedback to be withdrawn, find it by the reference on their receipt and delete it. The deletion and your reason are recorded in the audit log." }
        form method="get" action="/dashboard/withdraw" class="inline-form" {
            div class=(if error.is_some() && found.is_none() { "field field-error" } else { "field" }) {
                label for="reference" { "Receipt reference" }
                input id="reference" name="reference" type="text" spellcheck="false" autocomplete="off" value=(reference);
            }
            div class="field" { button type="submit" class="button button-secondary" { "Find" } }
        }
        @if let Some(f) = found {
            h2 { "Response " (f.reference) }
            div class="table-wrap" tabindex="0" role="region" aria-label="The response" {
                table {
                    caption class="visually-hidden" { "The response (free text redacted)" }
                    tbody {
                        tr { th scope="row" { "Site" } td { (f.site) } }
                        tr { th scope="row" { "Service" } td { (f.service.as_deref().unwrap_or("–")) } }
                        tr { th scope="row" { "Questionnaire" } td { (f.instrument) } }
                        tr { th scope="row" { "Received (UTC)" } td { (f.received_at.replace('T', " ").trim_end_matches('Z')) } }
                        @for (q, a) in &f.answers { tr { th scope="row" { (q) } td class="break" { (a) } } }
                    }
                }
            }
            form method="post" action="/dashboard/withdraw" {
                input type="hidden" name="csrf" value=(staff.csrf);
                input type="hidden" name="reference" value=(f.reference);
                div class=(if error.is_some() { "field field-error" } else { "field" }) {
                    label for="reason" { "Why it is being withdrawn" }
                    p class="hint" id="reason-hint" { "For the audit log, e.g. \"patient asked by phone\". Do not write the patient's name or details." }
                    input id="reason" name="reason" type="text" maxlength=(MAX_REASON) aria-describedby="reason-hint";
                }
                button type="submit" class="button" { "Delete this response" }
            }
        }
    };
    (
        status,
        templates::page("Withdraw a response", Some(staff), "withdraw", body),
    )
        .into_response()
}

/// The deletion form.
#[derive(Deserialize)]
pub struct WithdrawForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
}

/// `POST /dashboard/withdraw`.
pub async fn withdraw(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Form(form): Form<WithdrawForm>,
) -> Response {
    if let Err(r) = staff.check_csrf(form.csrf.as_deref()) {
        return r;
    }
    if let Err(r) = staff.require_any(Role::Admin) {
        return r;
    }
    let run = async {
        let Some(f) = find(&app, &staff, form.reference.trim()).await? else {
            return Ok(page(
                &staff,
                form.reference.trim(),
                None,
                Some("No response with this reference on the sites you administer (it may have been deleted already)"),
                StatusCode::NOT_FOUND,
                None,
            ));
        };
        let reason = form.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Ok(page(
                &staff,
                &f.reference,
                Some(&f),
                Some(&format!("Enter why it is being withdrawn (at most {MAX_REASON} characters)")),
                StatusCode::BAD_REQUEST,
                None,
            ));
        }
        // Whatever staff type, no NHS number, phone number, address or date goes in the log.
        let reason = chorus_core::redact::redact(reason).text;
        delete_response(
            &app,
            f.id,
            &f.site,
            Some(staff.user_id),
            &staff.email,
            &format!("{} ({}, received {}): {reason}", f.reference, f.instrument, f.received_at),
        )
        .await?;
        anyhow::Ok(page(&staff, "", None, None, StatusCode::OK, Some(&f.reference)))
    }
    .await;
    run.unwrap_or_else(|e| templates::server_error(&e))
}

/// Delete response `id` of `site` and record it in the audit log as `response_withdrawn` by
/// `actor` with `detail`: the one deletion for staff (above) and for patients withdrawing
/// with their receipt's code (`crate::withdraw_self`), through the store's one deletion
/// (`Store::delete_response`): its tags and its search entry go in the same transaction;
/// themes, flags and reviews go with it by the foreign keys' cascade. `Ok(false)` when it was
/// already gone (nothing recorded).
pub(crate) async fn delete_response(
    app: &AppState,
    id: i64,
    site: &str,
    user_id: Option<i64>,
    actor: &str,
    detail: &str,
) -> anyhow::Result<bool> {
    let gone = app.store.delete_response(id).await?;
    if gone {
        audit::record(
            &app.store,
            user_id,
            actor,
            "response_withdrawn",
            Some(site),
            detail,
        )
        .await?;
    }
    Ok(gone)
}
