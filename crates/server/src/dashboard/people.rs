//! People and their roles, for admins: add or invite a person, give or remove a role on a
//! site, disable an account, end someone's sessions, see when they last signed in.
//!
//! An admin sees and changes only what concerns the sites they administer: the people with a
//! role there, and roles there. Disabling an account affects every site, so it needs admin on
//! every site the person has a role on. Nobody can disable themselves or take away their own
//! admin role (the last admin could lock everyone out). Every change is audited, on the sites
//! it concerns; every form carries the session's CSRF token; no JavaScript is needed.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    audit,
    auth::{self, Role, Staff},
    templates::{self, PageResult},
};
use crate::{AppState, users};

/// How long an invitation link works.
const INVITE_DAYS: i64 = 7;

/// The sites `staff` administers, or the forbidden page (the People and audit pages').
#[allow(clippy::result_large_err)] // as the other dashboard checks
pub(super) fn administered(staff: &Staff) -> Result<Vec<String>, Response> {
    let sites = staff.sites_at_least(Role::Admin);
    if sites.is_empty() {
        return Err(staff.forbidden_anywhere(Role::Admin));
    }
    Ok(sites)
}

fn when(at: &Option<String>) -> String {
    at.as_deref().map_or("never".into(), |a| {
        a.replace('T', " ")
            .trim_end_matches('Z')
            .chars()
            .take(16)
            .collect::<String>()
            + " UTC"
    })
}

fn signs_in_with(app: &AppState, p: &users::Person) -> &'static str {
    match (p.linked, p.has_password) {
        (true, true) => "organisation account or password",
        (true, false) => "organisation account",
        (false, true) => "password",
        (false, false) if p.invited => "invited (no password yet)",
        (false, false) if app.oidc.is_some() => "organisation account (not yet signed in)",
        (false, false) => "nothing yet (make an invitation link)",
    }
}

fn role_select(id: &str) -> Markup {
    html! {
        label for=(id) { "Role" }
        select id=(id) name="role" {
            option value="viewer" { "viewer (reads the reports)" }
            option value="analyst" { "analyst (also comments and exports)" }
            option value="admin" { "admin (also people, audit log, retention)" }
        }
    }
}

fn site_select(id: &str, sites: &[String], app: &AppState) -> Markup {
    html! {
        label for=(id) { "Site" }
        select id=(id) name="site" {
            @for s in sites {
                option value=(s) {
                    (s)
                    @if let Some(name) = app.config.site(s).map(|c| c.name.as_str()).filter(|n| !n.is_empty()) { " – " (name) }
                }
            }
        }
    }
}

/// `GET /dashboard/people`.
pub async fn people_page(State(app): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let sites = administered(&staff)?;
    let all = users::people(&app.store).await?;
    Ok(list(&app, &staff, &sites, &all, StatusCode::OK, &[]))
}

fn list(
    app: &AppState,
    staff: &Staff,
    sites: &[String],
    all: &[users::Person],
    status: StatusCode,
    problems: &[(String, String)],
) -> Response {
    let mine: Vec<&users::Person> = all
        .iter()
        .filter(|p| p.roles.iter().any(|(s, _, _)| sites.contains(s)))
        .collect();
    let body = html! {
        (templates::error_summary(problems))
        h1 { "People" }
        p { "Staff with a role on the sites you administer (" (sites.join(", ")) "). Roles on other sites are not shown." }
        div class="table-wrap" tabindex="0" role="region" aria-label="People" {
            table {
                caption class="visually-hidden" { "People and their roles" }
                thead { tr {
                    th scope="col" { "Person" } th scope="col" { "Roles" } th scope="col" { "Signs in with" }
                    th scope="col" { "Last signed in" } th scope="col" { "Account" }
                } }
                tbody {
                    @for p in &mine {
                        tr {
                            td { a href={ "/dashboard/people/" (p.id) } { (p.email) } }
                            td { @for (s, r, _) in p.roles.iter().filter(|(s, _, _)| sites.contains(s)) { (r) " on " (s) br; } }
                            td { (signs_in_with(app, p)) }
                            td { (when(&p.last_sign_in)) }
                            td { @if p.disabled_at.is_some() { strong { "disabled" } } @else { "active" } }
                        }
                    }
                }
            }
        }
        h2 id="add" { "Add a person" }
        p {
            @if app.oidc.is_some() { "They sign in with their organisation's account; their Chorus account is matched by e-mail address. " }
            @if auth::password_sign_in(app) { "You will get an invitation link to send them, with which they choose a password (it works once, for " (INVITE_DAYS) " days)." }
        }
        form method="post" action="/dashboard/people" novalidate {
            input type="hidden" name="csrf" value=(staff.csrf);
            div class=(if problems.is_empty() { "field" } else { "field field-error" }) {
                label for="email" { "Email address" }
                @for (_, m) in problems { p class="error-message" id="email-error" { span class="visually-hidden" { "Error: " } (m) } }
                input id="email" name="email" type="email" autocomplete="off" spellcheck="false"
                    aria-describedby=[(!problems.is_empty()).then_some("email-error")];
            }
            div class="field" { (site_select("site", sites, app)) }
            div class="field" { (role_select("role")) }
            button type="submit" class="button" { "Add person" }
        }
    };
    (
        status,
        templates::page("People", Some(staff), "people", body),
    )
        .into_response()
}

/// The add form.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    role: String,
}

/// `POST /dashboard/people`: add a person (or, for an existing account, the role).
pub async fn add_person(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<AddForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    let sites = administered(&staff)?;
    if !sites.contains(&form.site) {
        return Ok(auth::forbidden(&staff, Role::Admin, &form.site));
    }
    if Role::parse(&form.role).is_none() {
        return Ok(templates::bad_request(
            &staff,
            "people",
            &[("role".into(), "Choose viewer, analyst or admin".into())],
        ));
    }
    let email = match users::check_email(&form.email) {
        Ok(e) => e,
        Err(why) => {
            let all = users::people(&app.store).await?;
            let shown = if form.email.trim().is_empty() {
                "Enter their email address".to_string()
            } else {
                let mut w = why;
                w.truncate(300);
                w
            };
            return Ok(list(
                &app,
                &staff,
                &sites,
                &all,
                StatusCode::BAD_REQUEST,
                &[("email".into(), shown)],
            ));
        }
    };
    let (id, created) = users::find_or_create(&app.store, &email).await?;
    users::give_role(&app.store, id, &form.site, &form.role).await?;
    staff
        .audit(
            &app.store,
            if created {
                "person_added"
            } else {
                "role_given"
            },
            Some(&form.site),
            &format!("{email}: {} on {}", form.role, form.site),
        )
        .await?;
    let has_password = users::person(&app.store, id)
        .await?
        .is_some_and(|p| p.has_password);
    let link = if created && auth::password_sign_in(&app) && !has_password {
        Some(invitation(&app, &staff, &headers, id, &email, &form.site).await?)
    } else {
        None
    };
    match users::person(&app.store, id).await? {
        Some(p) => person_view(&app, &staff, &sites, &p, link.as_deref()).await,
        None => Ok(templates::not_found().await),
    }
}

/// Make an invitation and its link (audited on `site`).
async fn invitation(
    app: &AppState,
    staff: &Staff,
    headers: &HeaderMap,
    id: i64,
    email: &str,
    site: &str,
) -> anyhow::Result<String> {
    let secret = users::invite(&app.store, id, INVITE_DAYS).await?;
    staff
        .audit(
            &app.store,
            "invitation_made",
            Some(site),
            &format!("{email}: a link to choose a password, for {INVITE_DAYS} days"),
        )
        .await?;
    let scheme = if auth::secure(app, headers) {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("this-server");
    Ok(format!("{scheme}://{host}/dashboard/invite/{secret}"))
}

/// `GET /dashboard/people/{id}`.
pub async fn person_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
) -> PageResult {
    let sites = administered(&staff)?;
    match visible(&app, &sites, id).await? {
        Some(p) => person_view(&app, &staff, &sites, &p, None).await,
        None => Ok(templates::not_found().await),
    }
}

/// The person, if they have a role on one of `sites` (anyone else is "not found": the answer
/// does not tell which accounts exist on other trusts' sites).
async fn visible(
    app: &AppState,
    sites: &[String],
    id: i64,
) -> anyhow::Result<Option<users::Person>> {
    Ok(users::person(&app.store, id)
        .await?
        .filter(|p| p.roles.iter().any(|(s, _, _)| sites.contains(s))))
}

async fn person_view(
    app: &AppState,
    staff: &Staff,
    sites: &[String],
    p: &users::Person,
    invite_link: Option<&str>,
) -> PageResult {
    let live = auth::live_sessions(app, p.id).await?;
    let here = format!("/dashboard/people/{}", p.id);
    let me = p.id == staff.user_id;
    let body = html! {
        p { a href="/dashboard/people" { "All people" } }
        h1 class="break" { (p.email) }
        @if let Some(link) = invite_link {
            div class="warning" id="invitation" {
                h2 { "Send them this invitation link" }
                p { "With it they choose their password. It works once, for " (INVITE_DAYS) " days, and is shown only now." }
                p { code class="break" { (link) } }
            }
        }
        div class="table-wrap" tabindex="0" role="region" aria-label="Account" {
            table {
                caption class="visually-hidden" { "Account" }
                tbody {
                    tr { th scope="row" { "Account" } td id="status" { @if let Some(d) = &p.disabled_at { "disabled since " (when(&Some(d.clone()))) } @else { "active" } } }
                    tr { th scope="row" { "Signs in with" } td { (signs_in_with(app, p)) } }
                    tr { th scope="row" { "Last signed in" } td id="last-sign-in" { (when(&p.last_sign_in)) } }
                    tr { th scope="row" { "Sessions" } td id="sessions" { (live) " signed in now" } }
                }
            }
        }
        h2 { "Roles" }
        div class="table-wrap" tabindex="0" role="region" aria-label="Roles" {
            table {
                caption class="visually-hidden" { "Roles on your sites" }
                thead { tr { th scope="col" { "Site" } th scope="col" { "Role" } th scope="col" { "Given" } th scope="col" { span class="visually-hidden" { "Change" } } } }
                tbody {
                    @for (s, r, source) in p.roles.iter().filter(|(s, _, _)| sites.contains(s)) {
                        tr {
                            td { (s) } td { (r) }
                            td { @if source == "oidc" { "by their organisation's groups" } @else { "here" } }
                            td {
                                @if !(me && r == "admin") {
                                    form method="post" action=(here) {
                                        input type="hidden" name="csrf" value=(staff.csrf);
                                        input type="hidden" name="action" value="remove_role";
                                        input type="hidden" name="site" value=(s);
                                        button type="submit" class="button button-secondary" { "Remove" span class="visually-hidden" { " " (r) " on " (s) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if app.oidc.as_ref().is_some_and(|o| !o.config.roles.is_empty()) {
            p class="hint" { "Roles from groups are set again at each sign-in; a role given here replaces the group's on that site." }
        }
        h3 { "Give a role" }
        form method="post" action=(here) class="inline-form" {
            input type="hidden" name="csrf" value=(staff.csrf);
            input type="hidden" name="action" value="give_role";
            div class="field" { (site_select("give-site", sites, app)) }
            div class="field" { (role_select("give-role")) }
            div class="field" { button type="submit" class="button" { "Give role" } }
        }
        h2 { "Sessions and account" }
        form method="post" action=(here) {
            input type="hidden" name="csrf" value=(staff.csrf);
            input type="hidden" name="action" value="end_sessions";
            button type="submit" class="button button-secondary" { "End their sessions" }
        }
        @if !me {
            form method="post" action=(here) {
                input type="hidden" name="csrf" value=(staff.csrf);
                @if p.disabled_at.is_some() {
                    input type="hidden" name="action" value="enable";
                    button type="submit" class="button" { "Enable the account" }
                } @else {
                    input type="hidden" name="action" value="disable";
                    button type="submit" class="button button-secondary" { "Disable the account" }
                }
            }
        }
        @if auth::password_sign_in(app) && !p.has_password && p.disabled_at.is_none() {
            form method="post" action=(here) {
                input type="hidden" name="csrf" value=(staff.csrf);
                input type="hidden" name="action" value="invite";
                button type="submit" class="button button-secondary" { "Make a new invitation link" }
            }
        }
    };
    Ok(templates::page(&p.email, Some(staff), "people", body).into_response())
}

/// A change to one person.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    site: String,
    #[serde(default)]
    role: String,
}

/// `POST /dashboard/people/{id}`.
pub async fn person_action(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    let sites = administered(&staff)?;
    let Some(p) = visible(&app, &sites, id).await? else {
        return Ok(templates::not_found().await);
    };
    let back = Redirect::to(&format!("/dashboard/people/{id}")).into_response();
    let theirs: Vec<String> = p.roles.iter().map(|(s, _, _)| s.clone()).collect();
    let shared: Vec<String> = theirs
        .iter()
        .filter(|s| sites.contains(s))
        .cloned()
        .collect();
    let refuse =
        |why: &str| templates::bad_request(&staff, "people", &[("main".into(), why.to_string())]);
    match form.action.as_str() {
        "give_role" | "remove_role" => {
            if !sites.contains(&form.site) {
                return Ok(auth::forbidden(&staff, Role::Admin, &form.site));
            }
            if id == staff.user_id && staff.role_on(&form.site) == Some(Role::Admin) {
                return Ok(refuse(
                    "You cannot change your own admin role: ask another admin",
                ));
            }
            let detail = if form.action == "give_role" {
                if Role::parse(&form.role).is_none() {
                    return Ok(refuse("Choose viewer, analyst or admin"));
                }
                users::give_role(&app.store, id, &form.site, &form.role).await?;
                format!("{}: {} on {}", p.email, form.role, form.site)
            } else {
                if !users::remove_role(&app.store, id, &form.site).await? {
                    return Ok(back);
                }
                format!("{}: no role on {}", p.email, form.site)
            };
            staff
                .audit(
                    &app.store,
                    if form.action == "give_role" {
                        "role_given"
                    } else {
                        "role_removed"
                    },
                    Some(&form.site),
                    &detail,
                )
                .await?;
            Ok(back)
        }
        "end_sessions" => {
            let n = auth::end_sessions(&app, id).await?;
            audit::record_for_sites(
                &app.store,
                Some(staff.user_id),
                &staff.email,
                "sessions_ended",
                &shared,
                &format!("{}: {n} sessions ended", p.email),
            )
            .await?;
            if id == staff.user_id {
                return Ok(Redirect::to("/dashboard/login").into_response());
            }
            Ok(back)
        }
        "disable" | "enable" => {
            if id == staff.user_id {
                return Ok(refuse("You cannot disable your own account"));
            }
            if let Some(other) = theirs.iter().find(|s| !sites.contains(s)) {
                return Ok(auth::forbidden(&staff, Role::Admin, other));
            }
            let disable = form.action == "disable";
            users::set_disabled(&app.store, id, disable).await?;
            let n = if disable {
                auth::end_sessions(&app, id).await?
            } else {
                0
            };
            audit::record_for_sites(
                &app.store,
                Some(staff.user_id),
                &staff.email,
                if disable {
                    "account_disabled"
                } else {
                    "account_enabled"
                },
                &theirs,
                &if disable {
                    format!("{}: disabled, {n} sessions ended", p.email)
                } else {
                    format!("{}: enabled", p.email)
                },
            )
            .await?;
            Ok(back)
        }
        "invite" if auth::password_sign_in(&app) && !p.has_password => {
            let site = shared.first().cloned().unwrap_or_default();
            let link = invitation(&app, &staff, &headers, id, &p.email, &site).await?;
            person_view(&app, &staff, &sites, &p, Some(&link)).await
        }
        _ => Ok(refuse("Choose one of the buttons on the page")),
    }
}
