//! An invited person chooses their password at `/dashboard/invite/{secret}` (the link an admin
//! made on the People page; it works once, for a few days). No session: the secret in the
//! address is the credential, and the acceptance is audited on the person's sites.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use maud::html;
use serde::Deserialize;

use super::{
    audit,
    templates::{self, PageResult},
};
use crate::{AppState, users};

/// `GET /dashboard/invite/{secret}`: choose a password.
pub async fn invite_page(
    State(app): State<Arc<AppState>>,
    Path(secret): Path<String>,
) -> PageResult {
    Ok(match users::invited(&app.store, &secret).await? {
        Some((_, email)) => invite_form(&secret, &email, None, StatusCode::OK),
        None => invite_gone(),
    })
}

fn invite_gone() -> Response {
    let body = html! {
        h1 { "This invitation has expired or been used" }
        p { "Ask the administrator who invited you for a new link." }
        p { a href="/dashboard/login" { "Go to sign in" } }
    };
    (
        StatusCode::NOT_FOUND,
        templates::page("Invitation expired", None, "", body),
    )
        .into_response()
}

fn invite_form(secret: &str, email: &str, error: Option<&str>, status: StatusCode) -> Response {
    let body = html! {
        @if let Some(e) = error {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul { li { a href="#password" { (e) } } }
            }
        }
        h1 { "Choose your password" }
        p { "For the Chorus dashboard account " strong { (email) } ". Use at least " (users::MIN_PASSWORD) " characters; three or four unrelated words work well." }
        form method="post" action={ "/dashboard/invite/" (secret) } novalidate {
            div class=(if error.is_some() { "field field-error" } else { "field" }) {
                label for="password" { "New password" }
                @if let Some(e) = error { p class="error-message" id="password-error" { span class="visually-hidden" { "Error: " } (e) } }
                input id="password" name="password" type="password" autocomplete="new-password"
                    aria-describedby=[error.map(|_| "password-error")];
            }
            div class="field" {
                label for="confirm" { "The same password again" }
                input id="confirm" name="confirm" type="password" autocomplete="new-password";
            }
            button type="submit" class="button" { "Set password" }
        }
    };
    (
        status,
        templates::page("Choose your password", None, "", body),
    )
        .into_response()
}

/// The password form.
#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /dashboard/invite/{secret}`. The secret in the address is what an attacker's page
/// cannot know, so it also protects the form against cross-site posts.
pub async fn accept_invite(
    State(app): State<Arc<AppState>>,
    Path(secret): Path<String>,
    Form(form): Form<InviteForm>,
) -> PageResult {
    let Some((id, email)) = users::invited(&app.store, &secret).await? else {
        return Ok(invite_gone());
    };
    if form.password != form.confirm {
        return Ok(invite_form(
            &secret,
            &email,
            Some("The two passwords are not the same"),
            StatusCode::BAD_REQUEST,
        ));
    }
    if form.password.chars().count() > users::MAX_PASSWORD {
        return Ok(invite_form(
            &secret,
            &email,
            Some("Passwords have at most 1024 characters"),
            StatusCode::BAD_REQUEST,
        ));
    }
    if let Err(why) = users::accept_invite(&app.store, id, &email, &form.password).await? {
        return Ok(invite_form(
            &secret,
            &email,
            Some(&why),
            StatusCode::BAD_REQUEST,
        ));
    }
    let sites = users::sites(&app.store, id).await?;
    audit::record_for_sites(
        &app.store,
        Some(id),
        &email,
        "invitation_accepted",
        &sites,
        "password chosen",
    )
    .await?;
    let body = html! {
        h1 { "Your password is set" }
        p { a href="/dashboard/login" { "Sign in" } }
    };
    Ok(templates::page("Your password is set", None, "", body).into_response())
}
