//! Signing in and out, sessions, CSRF and the slowing and locking of repeated failures.
//!
//! - A session is a random 256-bit token in an `HttpOnly; SameSite=Strict` cookie (`Secure`
//!   with the `__Host-` prefix behind TLS). The database keeps only its SHA-256, with an expiry.
//! - Every session has its own CSRF token, put in every form it renders and checked on every
//!   `POST`. The sign-in form, before there is a session, uses a double-submit token: a random
//!   value in a short-lived cookie that the form must echo.
//! - Failed sign-ins are counted per account and per client address. Each failure is answered
//!   more slowly than the last (doubling, capped at five seconds); after `lock_after` failures
//!   the account is locked for `lock_minutes` (even the right password is refused), and an
//!   address is locked after `ip_lock_after` failures across any accounts.
//! - Each attempt is *reserved* (counted, in one statement) before its password is checked,
//!   and given back if the password was right: guesses sent all at once meet the lock exactly
//!   as guesses sent one after another do (see `reserve`). The check itself runs on the
//!   bounded hashing pool in `users`, never on the async workers.
//! - Nothing typed as a sign-in name is stored: failures are counted under the account's id,
//!   or, for a name that is no account's, under a hash keyed with a secret held in memory only;
//!   the audit log names an unknown name only by a short prefix of that hash.
//!
//! This module is who is signed in (`Staff`, read from the session cookie) and what they may
//! do; `login` signs people in, `account` signs them out.

mod account;
mod login;

pub use account::{CsrfForm, account_page, end_sessions, live_sessions, logout, logout_everywhere};
pub use login::{LoginForm, login, login_page, password_sign_in, start_session};

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use sqlx::Row;

use super::{now_secs, same_secret, sha256_hex, templates};
use crate::{AppState, store::iso_utc};

/// A role on a site, weakest first so `>=` reads as "at least".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads the reports.
    Viewer,
    /// Also reads and tags free text, and exports.
    Analyst,
    /// Also reads the audit log and runs retention.
    Admin,
}

impl Role {
    /// From the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

/// The signed-in member of staff.
#[derive(Clone, Debug)]
pub struct Staff {
    /// User id.
    pub user_id: i64,
    /// E-mail address.
    pub email: String,
    /// Role per site.
    pub roles: BTreeMap<String, Role>,
    /// This session's CSRF token.
    pub csrf: String,
    token_hash: String,
}

impl Staff {
    /// The role on `site`, if any.
    pub fn role_on(&self, site: &str) -> Option<Role> {
        self.roles.get(site).copied()
    }

    /// Is this person at least `min` on some site?
    pub fn is_any(&self, min: Role) -> bool {
        self.roles.values().any(|r| *r >= min)
    }

    /// The sites on which this person is at least `min`, in order.
    pub fn sites_at_least(&self, min: Role) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, r)| **r >= min)
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// `site` (a stored row's) if this person is at least `min` there.
    pub fn at_least_on(&self, site: Option<String>, min: Role) -> Option<String> {
        site.filter(|s| self.role_on(s).is_some_and(|r| r >= min))
    }

    /// The site of the row `sql` (one column; `$1` is `id`) finds, if this person is at least
    /// `min` there; `None` for no such row and for a row on a site they may not touch alike.
    pub async fn site_of_row(
        &self,
        store: &crate::store::Store,
        sql: &'static str,
        id: i64,
        min: Role,
    ) -> anyhow::Result<Option<String>> {
        let site: Option<String> = sqlx::query(sql)
            .bind(id)
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get(0));
        Ok(self.at_least_on(site, min))
    }

    /// The site a page is about: the one asked for (if not empty), else the first on which
    /// this person is at least `min`; the 403 page unless they are at least `min` on it.
    // The error is the page to answer with, built once per refused request: its size does not matter.
    #[allow(clippy::result_large_err)]
    pub fn site_for(&self, asked: Option<String>, min: Role) -> Result<String, Response> {
        let site = asked.filter(|s| !s.is_empty()).or_else(|| {
            self.roles
                .iter()
                .find(|(_, r)| **r >= min)
                .map(|(s, _)| s.clone())
        });
        let Some(site) = site else {
            return Err(self.forbidden_anywhere(min));
        };
        self.require(&site, min)?;
        Ok(site)
    }

    /// The 403 page for someone who is not at least `min` on any site (it names the first site
    /// they have a role on).
    pub fn forbidden_anywhere(&self, min: Role) -> Response {
        let any = self.roles.keys().next().cloned().unwrap_or_default();
        forbidden(self, min, &any)
    }

    /// `Ok` if at least `min` on some site, else the 403 page.
    // The error is the page to answer with, built once per refused request: its size does not matter.
    #[allow(clippy::result_large_err)]
    pub fn require_any(&self, min: Role) -> Result<(), Response> {
        if self.is_any(min) {
            Ok(())
        } else {
            Err(self.forbidden_anywhere(min))
        }
    }

    /// One audit entry, by this person, about `site`.
    pub async fn audit(
        &self,
        store: &crate::store::Store,
        action: &str,
        site: Option<&str>,
        detail: &str,
    ) -> anyhow::Result<()> {
        super::audit::record(store, Some(self.user_id), &self.email, action, site, detail).await
    }

    /// `Ok` if at least `min` on `site`, else the 403 page.
    // The error is the page to answer with, built once per refused request: its size does not matter.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, site: &str, min: Role) -> Result<(), Response> {
        if self.role_on(site).is_some_and(|r| r >= min) {
            Ok(())
        } else {
            Err(forbidden(self, min, site))
        }
    }

    /// `Ok` if the form's token is this session's, else the 403 page.
    // The error is the page to answer with, built once per refused request: its size does not matter.
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, form_token: Option<&str>) -> Result<(), Response> {
        match form_token {
            Some(t) if same_secret(t, &self.csrf) => Ok(()),
            _ => Err(csrf_failed(Some(self))),
        }
    }
}

/// The page a member of staff sees when their role does not allow something.
pub fn forbidden(staff: &Staff, min: Role, site: &str) -> Response {
    let body = html! {
        h1 { "You do not have access to this" }
        p { "This needs the " strong { (min.name()) } " role on site " strong { (site) } ". "
            "Ask an administrator for your trust if you need it." }
        p { a href="/dashboard" { "Back to the dashboard" } }
    };
    (
        StatusCode::FORBIDDEN,
        templates::page("You do not have access", Some(staff), "", body),
    )
        .into_response()
}

fn csrf_failed(staff: Option<&Staff>) -> Response {
    let body = html! {
        h1 { "This form has expired" }
        p { "The form was not sent from a page of this dashboard, or it is too old. Nothing was changed." }
        p { "Go back, reload the page and try again." }
    };
    (
        StatusCode::FORBIDDEN,
        templates::page("This form has expired", staff, "", body),
    )
        .into_response()
}

/// Cookie names: `__Host-` needs `Secure`, `Path=/` and no domain, which only holds behind TLS.
fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-chorus_session"
    } else {
        "chorus_session"
    }
}

fn login_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-chorus_login"
    } else {
        "chorus_login"
    }
}

/// Should cookies be `Secure` for this request?
pub fn secure(app: &AppState, headers: &HeaderMap) -> bool {
    app.config.dashboard.secure_cookies.unwrap_or_else(|| {
        app.config.limits.trust_forwarded_for
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    })
}

fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    // `Path=/` for both: `__Host-` requires it, and the cookies are useless elsewhere anyway
    // (SameSite=Strict, HttpOnly, and only /dashboard reads them).
    let flags = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{flags}")
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Why there is no signed-in member of staff.
pub enum NotSignedIn {
    /// Go to the sign-in page.
    Redirect,
    /// The database failed.
    Error(anyhow::Error),
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        match self {
            NotSignedIn::Redirect => Redirect::to("/dashboard/login").into_response(),
            NotSignedIn::Error(e) => templates::server_error(&e),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Staff {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Staff, NotSignedIn> {
        let secure = secure(app, &parts.headers);
        let Some(token) = cookie(&parts.headers, session_cookie_name(secure)) else {
            return Err(NotSignedIn::Redirect);
        };
        session(app, &token)
            .await
            .map_err(NotSignedIn::Error)?
            .ok_or(NotSignedIn::Redirect)
    }
}

/// The member of staff a session token belongs to, if it is live.
pub async fn session(app: &AppState, token: &str) -> anyhow::Result<Option<Staff>> {
    let hash = sha256_hex(token);
    let now = now_secs();
    let idle = i64::from(app.config.sessions.idle_minutes.max(1)) * 60;
    // Live: before its absolute expiry, used within the idle timeout, and its account not
    // disabled.
    let row = sqlx::query(
        "SELECT s.user_id, u.email, s.csrf, COALESCE(s.last_seen, s.created_at)
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL
           AND COALESCE(s.last_seen, s.created_at) > $3",
    )
    .bind(&hash)
    .bind(iso_utc(now))
    .bind(iso_utc(now - idle))
    .fetch_optional(app.store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user_id: i64 = row.get(0);
    // At most one write a minute per session, not one per page.
    if row.get::<String, _>(3) < iso_utc(now - 60.min(idle / 2)) {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(iso_utc(now))
            .bind(&hash)
            .execute(app.store.pool())
            .await?;
    }
    let roles = sqlx::query("SELECT site, role FROM user_roles WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(app.store.pool())
        .await?
        .iter()
        .filter_map(|r| Some((r.get::<String, _>(0), Role::parse(&r.get::<String, _>(1))?)))
        .collect();
    Ok(Some(Staff {
        user_id,
        email: row.get(1),
        roles,
        csrf: row.get(2),
        token_hash: hash,
    }))
}
