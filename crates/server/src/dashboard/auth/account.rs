//! Signing out (here or everywhere) and the account page: a person's roles and live sessions.

use std::sync::Arc;

use axum::{
    Form,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;
use sqlx::Row;

use super::{
    super::{audit, now_secs, templates},
    Staff, secure, session_cookie_name, set_cookie,
};
use crate::{AppState, store::iso_utc};

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: Option<String>,
}

/// A sign-out: the form's token checked, then `end` (which ends the sessions and says what
/// to log), audited as `action` on every site of this person, then to the sign-in page with
/// the browser's session cookie cleared.
async fn sign_out(
    app: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    form: &CsrfForm,
    action: &str,
    end: impl Future<Output = anyhow::Result<String>>,
) -> Response {
    if let Err(r) = staff.check_csrf(form.csrf.as_deref()) {
        return r;
    }
    let done = async {
        let detail = end.await?;
        let sites: Vec<String> = staff.roles.keys().cloned().collect();
        audit::record_for_sites(
            &app.store,
            Some(staff.user_id),
            &staff.email,
            action,
            &sites,
            &detail,
        )
        .await
    };
    if let Err(e) = done.await {
        return templates::server_error(&e);
    }
    let secure = secure(app, headers);
    let mut res = Redirect::to("/dashboard/login").into_response();
    if let Ok(v) = set_cookie(session_cookie_name(secure), "", 0, secure).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `POST /dashboard/logout`.
pub async fn logout(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let end = async {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(&staff.token_hash)
            .execute(app.store.pool())
            .await?;
        Ok(String::new())
    };
    sign_out(&app, &staff, &headers, &form, "sign_out", end).await
}

/// `GET /dashboard/account`: when this person last signed in, how many sessions they have,
/// and the button that ends them all.
pub async fn account_page(State(app): State<Arc<AppState>>, staff: Staff) -> Response {
    let found = live_sessions(&app, staff.user_id).await;
    let live = match found {
        Ok(v) => v,
        Err(e) => return templates::server_error(&e),
    };
    let s = &app.config.sessions;
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (staff.email) } "." }
        h2 { "Your roles" }
        ul { @for (site, role) in &staff.roles { li { (role.name()) " on " (site) } } }
        h2 { "Sessions" }
        p id="sessions" { "You are signed in in " (live) " " (if live == 1 { "place" } else { "places" }) " (browsers or devices)." }
        p { "A session ends after " (s.idle_minutes) " minutes without use, and "
            (app.config.dashboard.session_hours) " hours after signing in whatever happens." }
        form method="post" action="/dashboard/logout-everywhere" {
            input type="hidden" name="csrf" value=(staff.csrf);
            button type="submit" class="button" { "Sign out everywhere" }
        }
    };
    templates::page("Your account", Some(&staff), "account", body).into_response()
}

/// `POST /dashboard/logout-everywhere`: end every session of this person (this one included).
pub async fn logout_everywhere(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let end = async {
        let n = end_sessions(&app, staff.user_id).await?;
        Ok(format!("{n} sessions ended"))
    };
    sign_out(&app, &staff, &headers, &form, "sign_out_everywhere", end).await
}

/// Sessions of `user` that still work (neither expired nor idle too long).
pub async fn live_sessions(app: &AppState, user: i64) -> anyhow::Result<i64> {
    let now = now_secs();
    let idle = i64::from(app.config.sessions.idle_minutes.max(1)) * 60;
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2
           AND COALESCE(last_seen, created_at) > $3",
    )
    .bind(user)
    .bind(iso_utc(now))
    .bind(iso_utc(now - idle))
    .fetch_one(app.store.pool())
    .await?
    .get(0))
}

/// End every session of `user`; returns how many there were.
pub async fn end_sessions(app: &AppState, user: i64) -> anyhow::Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user)
        .execute(app.store.pool())
        .await?
        .rows_affected())
}
