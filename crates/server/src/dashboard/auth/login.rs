//! Signing in with a password: the form and its double-submit token, the attempts reserved
//! against the account and the address before a password is checked (slowing, then locking),
//! and the session a proven member of staff is given (`start_session`, also used after the
//! identity provider).

use std::{sync::Arc, time::Duration};

use axum::{
    Form,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;
use sqlx::Row;

use super::{
    super::{audit, now_iso, now_secs, random_token, same_secret, sha256_hex, templates},
    cookie, csrf_failed, login_cookie_name, secure, session, session_cookie_name, set_cookie,
};
use crate::{AppState, store::iso_utc};

/// `GET /dashboard/login`.
pub async fn login_page(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let secure = secure(&app, &headers);
    if let Some(t) = cookie(&headers, session_cookie_name(secure))
        && matches!(session(&app, &t).await, Ok(Some(_)))
    {
        return Redirect::to("/dashboard").into_response();
    }
    login_form(&app, &headers, StatusCode::OK, None, "")
}

/// The sign-in form with a fresh double-submit token (and the cookie that carries it).
fn login_form(
    app: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
) -> Response {
    let secure = secure(app, headers);
    let token = random_token();
    let oidc = app.oidc.as_ref().map(|o| o.config.button_label.clone());
    let password = password_sign_in(app);
    let body = html! {
        @if let Some(e) = error {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul { li { a href="#email" { (e) } } }
            }
        }
        h1 { "Sign in" }
        p { "Sign in with your staff account to read patient feedback." }
        @if let Some(label) = &oidc {
            p { a class="button" id="oidc-sign-in" href="/dashboard/oidc/start" { (label) } }
            @if password { h2 { "Or sign in with a Chorus password" } }
        }
        @if password {
        form method="post" action="/dashboard/login" novalidate {
            input type="hidden" name="csrf" value=(token);
            div class=(if error.is_some() { "field field-error" } else { "field" }) {
                label for="email" { "Email address" }
                @if let Some(e) = error { p class="error-message" id="email-error" { span class="visually-hidden" { "Error: " } (e) } }
                input id="email" name="email" type="email" autocomplete="username" spellcheck="false" value=(email)
                    aria-describedby=[error.map(|_| "email-error")];
            }
            div class="field" {
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password";
            }
            button type="submit" class="button" { "Sign in" }
        }
        }
    };
    let mut res = (status, templates::page("Sign in", None, "", body)).into_response();
    if let Ok(v) = set_cookie(login_cookie_name(secure), &token, 3600, secure).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// What reserving a sign-in attempt against a key found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Attempt {
    /// Counted as attempt `n` (1-based) within the window; `n == limit` locked the key, so
    /// this is the last attempt that is checked before the lock runs out.
    Reserved(i64),
    /// The key is locked: nothing is checked.
    Locked,
}

/// Reserve one sign-in attempt against `key`, before any password is checked.
///
/// One statement counts the attempt and, when the count reaches `limit`, sets the lock: the
/// database serialises concurrent attempts on a key (SQLite's single writer, PostgreSQL's row
/// lock in `ON CONFLICT DO UPDATE`), so of any number sent at once at most `limit` are counted
/// below the limit and checked; every later one finds the lock. Attempts on a locked key that
/// race past the caller's first read are still counted (above the limit, which is how the caller tells)
/// but do not extend the lock; once it runs out, or `lock_minutes` pass without an attempt,
/// counting starts again at 1.
async fn reserve(app: &AppState, key: &str, limit: u32) -> anyhow::Result<Attempt> {
    let d = &app.config.dashboard;
    let limit = i64::from(limit.max(1));
    let now = now_secs();
    let lock_secs = i64::from(d.lock_minutes) * 60;
    let row = sqlx::query(
        "INSERT INTO login_failures (key, failures, last_failure, locked_until)
         VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 ELSE NULL END)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE
             WHEN login_failures.locked_until > $2 THEN login_failures.failures + 1
             WHEN login_failures.locked_until IS NOT NULL OR login_failures.last_failure < $3 THEN 1
             ELSE login_failures.failures + 1 END,
           locked_until = CASE
             WHEN login_failures.locked_until > $2 THEN login_failures.locked_until
             WHEN (CASE WHEN login_failures.locked_until IS NOT NULL OR login_failures.last_failure < $3 THEN 1
                        ELSE login_failures.failures + 1 END) >= $4 THEN $5
             ELSE NULL END,
           last_failure = $2
         RETURNING failures",
    )
    .bind(key)
    .bind(iso_utc(now))
    .bind(iso_utc(now - lock_secs))
    .bind(limit)
    .bind(iso_utc(now + lock_secs))
    .fetch_one(app.store.pool())
    .await?;
    let n: i64 = row.get(0);
    Ok(if n > limit {
        Attempt::Locked
    } else {
        Attempt::Reserved(n)
    })
}

/// Give back an attempt reserved against `key` that was not a failure (the password was
/// right, or the other key was locked so nothing was checked), lifting the lock it may have set.
async fn release(app: &AppState, key: &str, limit: u32) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE login_failures SET
           locked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE locked_until END,
           failures = failures - 1
         WHERE key = $1 AND failures > 0",
    )
    .bind(key)
    .bind(i64::from(limit.max(1)))
    .execute(app.store.pool())
    .await?;
    Ok(())
}

/// A name that is no account's, as it may be stored: a hash keyed with a secret made at start
/// (never written anywhere), so neither the text nor an unkeyed hash of it is stored. (What
/// was typed may be a password typed into the wrong box, and an unkeyed hash of a weak
/// password is quickly reversed.)
fn unknown_name(email: &str) -> String {
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    sha256_hex(&format!("{}\n{email}", KEY.get_or_init(random_token)))
}

/// How a name that is no account's appears in the audit log: a short keyed hash, enough to
/// see the same unknown name tried again (until the server restarts), never what was typed.
fn unknown_actor(email: &str) -> String {
    format!("unknown account #{}", &unknown_name(email)[..10])
}

/// The page for a locked account or address, with a `Retry-After`.
fn locked_page(app: &AppState, headers: &HeaderMap, status: StatusCode) -> Response {
    let minutes = app.config.dashboard.lock_minutes;
    let mut res = login_form(
        app,
        headers,
        status,
        Some(&format!(
            "Too many failed sign-ins. Try again in {minutes} minutes, or ask an administrator to help"
        )),
        "",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, (u64::from(minutes) * 60).into());
    res
}

/// `POST /dashboard/login`.
pub async fn login(
    State(app): State<Arc<AppState>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    match login_inner(&app, peer.map(|p| p.0.0.ip()), &headers, form).await {
        Ok(r) => r,
        Err(e) => templates::server_error(&e),
    }
}

async fn login_inner(
    app: &AppState,
    ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    form: LoginForm,
) -> anyhow::Result<Response> {
    let secure = secure(app, headers);
    if !password_sign_in(app) {
        let body = html! {
            h1 { "Password sign-in is turned off" }
            p { "Sign in with your organisation's account instead." }
            p { a href="/dashboard/login" { "Back to sign in" } }
        };
        return Ok((
            StatusCode::FORBIDDEN,
            templates::page("Password sign-in is turned off", None, "", body),
        )
            .into_response());
    }
    let expected = cookie(headers, login_cookie_name(secure));
    if !expected.is_some_and(|c| !c.is_empty() && same_secret(&c, &form.csrf)) {
        return Ok(csrf_failed(None));
    }
    // Sizes first: nothing longer than an address or a password can be is looked up, counted,
    // stored or echoed back.
    if form.email.trim().len() > crate::users::MAX_EMAIL
        || form.password.chars().count() > crate::users::MAX_PASSWORD
    {
        return Ok(login_form(
            app,
            headers,
            StatusCode::BAD_REQUEST,
            Some(&format!(
                "Enter an email address of at most {} characters and a password of at most {} characters",
                crate::users::MAX_EMAIL,
                crate::users::MAX_PASSWORD
            )),
            "",
        ));
    }
    let email = form.email.trim().to_lowercase();
    if email.is_empty() || form.password.is_empty() {
        return Ok(login_form(
            app,
            headers,
            StatusCode::BAD_REQUEST,
            Some("Enter your email address and password"),
            &email,
        ));
    }
    let d = &app.config.dashboard;
    let ip = crate::ratelimit::client_ip(ip, headers, app.config.limits.trust_forwarded_for);
    let ip_key = format!(
        "ip:{}",
        ip.map_or_else(|| "unknown".into(), |i| i.to_string())
    );
    // A real account's failures are counted under its id (the same on every instance and
    // across restarts); a name that is no account's under its keyed hash: what was typed is
    // never stored, even in the failure counts.
    let unknown_key = format!("unknown:{}", unknown_name(&email));
    // One read first: the account, and whether it or the address is locked. A flood against
    // a locked key is refused here, with no write, so refusing thousands of attempts does not
    // queue against patients' commits. Only refusals are decided by this read; every attempt
    // that may be checked is counted by `reserve`, which decides again, atomically.
    let now = iso_utc(now_secs());
    let row = sqlx::query(
        "SELECT (SELECT id FROM users WHERE email = $1),
                (SELECT f.locked_until FROM users u JOIN login_failures f ON f.key = 'account:' || u.id
                  WHERE u.email = $1),
                (SELECT locked_until FROM login_failures WHERE key = $2),
                (SELECT locked_until FROM login_failures WHERE key = $3)",
    )
    .bind(&email)
    .bind(&unknown_key)
    .bind(&ip_key)
    .fetch_one(app.store.pool())
    .await?;
    let known: Option<i64> = row.get(0);
    let locked = |i: usize| row.get::<Option<String>, _>(i).is_some_and(|u| u > now);
    if locked(if known.is_some() { 1 } else { 2 }) || locked(3) {
        return Ok(locked_page(app, headers, StatusCode::TOO_MANY_REQUESTS));
    }
    let account_key = match known {
        Some(id) => format!("account:{id}"),
        None => unknown_key,
    };
    // Reserve the attempt on both keys before any password is checked (see `reserve`).
    let n = match reserve(app, &account_key, d.lock_after).await? {
        Attempt::Locked => return Ok(locked_page(app, headers, StatusCode::TOO_MANY_REQUESTS)),
        Attempt::Reserved(n) => n,
    };
    let m = match reserve(app, &ip_key, d.ip_lock_after).await? {
        Attempt::Locked => {
            release(app, &account_key, d.lock_after).await?;
            return Ok(locked_page(app, headers, StatusCode::TOO_MANY_REQUESTS));
        }
        Attempt::Reserved(m) => m,
    };
    let user_id = match crate::users::check(&app.store, &email, &form.password).await {
        Ok(crate::users::Check::Ok(id)) => id,
        Ok(failed) => {
            let account_locked = n >= i64::from(d.lock_after.max(1));
            let ip_locked = m >= i64::from(d.ip_lock_after.max(1));
            // A known account's failures go to the log of each site it belongs to; an unknown
            // name's go to no site's (operators still see them in the database).
            let (user, actor, sites) = match failed {
                crate::users::Check::WrongPassword(id) => (
                    Some(id),
                    email.clone(),
                    crate::users::sites(&app.store, id).await?,
                ),
                _ => (None, unknown_actor(&email), vec![]),
            };
            audit::record_for_sites(
                &app.store,
                user,
                &actor,
                "sign_in_failed",
                &sites,
                &format!("failure {n} for this account, {m} from this address"),
            )
            .await?;
            if account_locked {
                audit::record_for_sites(
                    &app.store,
                    user,
                    &actor,
                    "account_locked",
                    &sites,
                    &format!("locked for {} minutes after {n} failures", d.lock_minutes),
                )
                .await?;
            }
            if ip_locked {
                audit::record(
                    &app.store,
                    None,
                    "system",
                    "address_locked",
                    None,
                    &format!("{ip_key} locked for {} minutes", d.lock_minutes),
                )
                .await?;
            }
            // Slower with every failure: guessing costs time, a typo costs a moment.
            let step = u32::try_from(n.max(m).clamp(1, 16) - 1).unwrap_or(15);
            let delay = d.failure_delay_ms.saturating_mul(1u64 << step).min(5000);
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let message = if account_locked || ip_locked {
                format!(
                    "Too many failed sign-ins. Try again in {} minutes, or ask an administrator to help",
                    d.lock_minutes
                )
            } else {
                "The email address or password is not right".to_string()
            };
            return Ok(login_form(
                app,
                headers,
                StatusCode::UNAUTHORIZED,
                Some(&message),
                &email,
            ));
        }
        Err(e) => {
            // Not a failure of the person signing in: give both reservations back.
            release(app, &account_key, d.lock_after).await?;
            release(app, &ip_key, d.ip_lock_after).await?;
            return Err(e);
        }
    };
    sqlx::query("DELETE FROM login_failures WHERE key = $1")
        .bind(&account_key)
        .execute(app.store.pool())
        .await?;
    release(app, &ip_key, d.ip_lock_after).await?;
    if crate::users::is_disabled(&app.store, user_id).await? {
        let sites = crate::users::sites(&app.store, user_id).await?;
        audit::record_for_sites(
            &app.store,
            Some(user_id),
            &email,
            "sign_in_failed",
            &sites,
            "the account is disabled",
        )
        .await?;
        return Ok(login_form(
            app,
            headers,
            StatusCode::FORBIDDEN,
            Some("This account has been disabled. Ask an administrator if you need it again"),
            &email,
        ));
    }
    let mut res = start_session(app, user_id, &email, secure, "password").await?;
    if let Ok(v) = set_cookie(login_cookie_name(secure), "", 0, secure).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Is password sign-in offered? Always without a provider; with one, as configured.
pub fn password_sign_in(app: &AppState) -> bool {
    app.oidc.as_ref().is_none_or(|o| o.config.password_sign_in)
}

/// A new session for a member of staff who has just proved who they are (`how`: `password` or
/// `oidc`), audited, with its cookie. After a password the answer is a redirect to the
/// dashboard; after the provider it is a page that moves on by itself, because the browser
/// arrived from the provider's site and would not send a `SameSite=Strict` cookie with a
/// redirect that continues that navigation.
pub async fn start_session(
    app: &AppState,
    user_id: i64,
    email: &str,
    secure: bool,
    how: &str,
) -> anyhow::Result<Response> {
    let d = &app.config.dashboard;
    // Old sessions and spent failure counts go whenever someone signs in: no separate
    // sweeper needed.
    let idle = i64::from(app.config.sessions.idle_minutes.max(1)) * 60;
    sqlx::query(
        "DELETE FROM sessions WHERE expires_at < $1 OR COALESCE(last_seen, created_at) < $2",
    )
    .bind(now_iso())
    .bind(iso_utc(now_secs() - idle))
    .execute(app.store.pool())
    .await?;
    sqlx::query(
        "DELETE FROM login_failures WHERE last_failure < $1 AND (locked_until IS NULL OR locked_until < $2)",
    )
    .bind(iso_utc(now_secs() - i64::from(d.lock_minutes) * 60))
    .bind(now_iso())
    .execute(app.store.pool())
    .await?;
    let token = random_token();
    let hours = i64::from(app.config.dashboard.session_hours.max(1));
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, last_seen) VALUES ($1, $2, $3, $4, $5, $4)",
    )
    .bind(sha256_hex(&token))
    .bind(user_id)
    .bind(random_token())
    .bind(now_iso())
    .bind(iso_utc(now_secs() + hours * 3600))
    .execute(app.store.pool())
    .await?;
    sqlx::query("UPDATE users SET last_sign_in = $1 WHERE id = $2")
        .bind(now_iso())
        .bind(user_id)
        .execute(app.store.pool())
        .await?;
    let sites = crate::users::sites(&app.store, user_id).await?;
    let detail = if how == "password" { "" } else { how };
    audit::record_for_sites(&app.store, Some(user_id), email, "sign_in", &sites, detail).await?;
    let mut res = if how == "password" {
        Redirect::to("/dashboard").into_response()
    } else {
        let body = html! {
            h1 { "You are signed in" }
            p { a href="/dashboard" id="continue" { "Continue to the dashboard" } }
        };
        let mut r = templates::page("You are signed in", None, "", body).into_response();
        r.headers_mut().insert(
            header::REFRESH,
            axum::http::HeaderValue::from_static("0; url=/dashboard"),
        );
        r
    };
    if let Ok(v) = set_cookie(session_cookie_name(secure), &token, hours * 3600, secure).parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}
