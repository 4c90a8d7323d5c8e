//! Site settings, for admins: a site's services (with their NHS England FFT setting, ward and
//! specialty codes) and its retention, changed at run time (`crate::config::runtime`). The
//! configuration file stays the only source of origins, ODS codes and secrets.
//!
//! An admin sees and changes only the sites they administer. Every form carries the session's
//! CSRF token and works without JavaScript; a mistake (an unknown setting, a bad code, a
//! retention out of range) answers the page again with an error summary and stores nothing;
//! every change is audited on its site.

use std::sync::Arc;

use axum::{
    Form,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::{
    auth::{Role, Staff},
    reports::url_encode,
    templates,
};
use crate::{
    AppState,
    config::{
        FftSetting, Service, Site,
        runtime::{self, RETENTION_RANGE},
    },
};

/// `GET /dashboard/sites`: the sites this admin administers (straight to the one, if one).
pub async fn sites_page(State(app): State<Arc<AppState>>, staff: Staff) -> Response {
    let mine: Vec<Site> = app
        .sites()
        .into_iter()
        .filter(|s| staff.role_on(&s.id) == Some(Role::Admin))
        .collect();
    match mine.as_slice() {
        [] => staff.forbidden_anywhere(Role::Admin),
        [one] => Redirect::to(&format!("/dashboard/sites/{}", url_encode(&one.id))).into_response(),
        many => {
            let body = html! {
                h1 { "Site settings" }
                p { "Choose a site you administer." }
                ul {
                    @for s in many {
                        li { a href={ "/dashboard/sites/" (url_encode(&s.id)) } { (s.id) @if !s.name.is_empty() { " – " (s.name) } } }
                    }
                }
            };
            templates::page("Site settings", Some(&staff), "sites", body).into_response()
        }
    }
}

/// The page's query: which service to edit, and what was just saved.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    edit: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// What the service form shows: a service being added or edited, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ServiceFields {
    /// The id the service had before this edit (empty: a new service).
    #[serde(default)]
    original: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    setting: String,
    #[serde(default)]
    ward_code: String,
    #[serde(default)]
    specialty_code: String,
}

impl ServiceFields {
    fn of(s: &Service) -> ServiceFields {
        ServiceFields {
            original: s.id.clone(),
            id: s.id.clone(),
            name: s.name.clone(),
            setting: s.setting.map(|x| x.code().to_string()).unwrap_or_default(),
            ward_code: s.ward_code.clone(),
            specialty_code: s.specialty_code.clone(),
        }
    }
}

/// The form's field ids, by [`Service::problems`]'s field names.
fn field_id(field: &str) -> &'static str {
    match field {
        "id" => "service-id",
        "name" => "service-name",
        "setting" => "service-setting",
        "ward_code" => "ward-code",
        "specialty_code" => "specialty-code",
        "retention_days" => "retention-days",
        _ => "main",
    }
}

/// The site, if `staff` administers it (else the 403 or 404 page).
async fn administered(app: &AppState, staff: &Staff, site: &str) -> Result<Site, Response> {
    staff.require(site, Role::Admin)?;
    match app.site(site) {
        Some(s) => Ok(s),
        None => Err(templates::not_found().await),
    }
}

/// `GET /dashboard/sites/{site}`.
pub async fn site_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(site): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let s = match administered(&app, &staff, &site).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let editing = q
        .edit
        .as_deref()
        .and_then(|id| s.service(id))
        .map(ServiceFields::of);
    view(
        &app,
        &staff,
        &s,
        View {
            editing,
            retention: s.retention_days.to_string(),
            problems: vec![],
            saved: q.saved.as_deref().and_then(saved_message),
        },
        StatusCode::OK,
    )
}

fn saved_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "service" => "The service is saved. It applies to new responses now.",
        "removed" => "The service is removed. Its responses are kept.",
        "retention" => "Retention is saved. The next hourly run applies it.",
        "reset" => "The configuration file's services and retention are in force again.",
        _ => return None,
    })
}

struct View {
    editing: Option<ServiceFields>,
    retention: String,
    problems: Vec<(String, String)>,
    saved: Option<&'static str>,
}

fn setting_name(s: &Service) -> &'static str {
    s.setting.map_or("from the instrument", FftSetting::label)
}

fn field(
    id: &str,
    label: &str,
    hint: Option<&str>,
    problems: &[(String, String)],
    input: Markup,
) -> Markup {
    let err: Vec<&String> = problems
        .iter()
        .filter(|(f, _)| f == id)
        .map(|(_, m)| m)
        .collect();
    html! {
        div class=(if err.is_empty() { "field" } else { "field field-error" }) {
            label for=(id) { (label) }
            @if let Some(h) = hint { p class="hint" id={ (id) "-hint" } { (h) } }
            @for m in &err { p class="error-message" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (m) } }
            (input)
        }
    }
}

fn described_by(id: &str, hint: bool, problems: &[(String, String)]) -> Option<String> {
    let mut parts = Vec::new();
    if hint {
        parts.push(format!("{id}-hint"));
    }
    if problems.iter().any(|(f, _)| f == id) {
        parts.push(format!("{id}-error"));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn view(app: &AppState, staff: &Staff, s: &Site, v: View, status: StatusCode) -> Response {
    let saved = app
        .site_settings
        .get()
        .get(&s.id)
        .cloned()
        .unwrap_or_default();
    let here = format!("/dashboard/sites/{}", url_encode(&s.id));
    let p = &v.problems;
    let f = v.editing.clone().unwrap_or_default();
    let editing = !f.original.is_empty();
    let from = |overridden: bool| -> Markup {
        html! {
            @if overridden {
                @if let Some((at, by)) = &saved.updated { "saved in the dashboard by " (by) " on " (at.replace('T', " ").trim_end_matches('Z').chars().take(16).collect::<String>()) " UTC" }
            } @else { "from the configuration file" }
        }
    };
    let body = html! {
        (templates::error_summary(p))
        @if let Some(m) = v.saved { div class="notice" role="status" { p { (m) } } }
        p { a href="/dashboard/sites" { "All sites" } }
        h1 class="break" { "Site settings: " (s.id) }
        p { "Services and retention can be changed here and apply at once. Origins, organisation codes and secrets are set in the configuration file only." }
        h2 id="services" { "Services" }
        p class="hint" id="services-source" { "Services: " (from(saved.services.is_some())) "." }
        @if s.services.is_empty() {
            p id="no-services" { "This site accepts any service id. Add a service to accept only those listed." }
        } @else {
            div class="table-wrap" tabindex="0" role="region" aria-label="Services" {
                table id="services-table" {
                    caption class="visually-hidden" { "Services of " (s.id) }
                    thead { tr {
                        th scope="col" { "Service" } th scope="col" { "FFT setting" } th scope="col" { "Ward code" } th scope="col" { "Specialty code" }
                        th scope="col" { span class="visually-hidden" { "Change" } }
                    } }
                    tbody {
                        @for x in &s.services {
                            tr {
                                td { (x.id) @if !x.name.is_empty() { br; span class="hint" { (x.name) } } }
                                td { (setting_name(x)) }
                                td { (x.ward_code) }
                                td { (x.specialty_code) }
                                td {
                                    a href={ (here) "?edit=" (url_encode(&x.id)) "#service-form" } { "Edit" span class="visually-hidden" { " " (x.id) } }
                                    form method="post" action=(here) {
                                        input type="hidden" name="csrf" value=(staff.csrf);
                                        input type="hidden" name="action" value="remove_service";
                                        input type="hidden" name="original" value=(x.id);
                                        button type="submit" class="button button-secondary" { "Remove" span class="visually-hidden" { " " (x.id) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h3 id="service-form" { @if editing { "Change " (f.original) } @else { "Add a service" } }
        form method="post" action=(here) novalidate {
            input type="hidden" name="csrf" value=(staff.csrf);
            input type="hidden" name="action" value="save_service";
            input type="hidden" name="original" value=(f.original);
            (field("service-id", "Service id", Some("What the widget's service attribute and the hosted page's address use: letters, digits, '-', '_' or '.'"), p,
                html! { input id="service-id" name="id" type="text" value=(f.id) autocomplete="off" spellcheck="false" aria-describedby=[described_by("service-id", true, p)]; }))
            (field("service-name", "Name for staff (optional)", None, p,
                html! { input id="service-name" name="name" type="text" value=(f.name) autocomplete="off" aria-describedby=[described_by("service-name", false, p)]; }))
            (field("service-setting", "FFT setting", Some("The NHS England FFT return it is counted in. Without one, the instrument decides (fft-ae is A&E)."), p,
                html! {
                    select id="service-setting" name="setting" aria-describedby=[described_by("service-setting", true, p)] {
                        option value="" selected[f.setting.is_empty()] { "None: from the instrument" }
                        @for x in FftSetting::ALL { option value=(x.code()) selected[f.setting == x.code()] { (x.label()) } }
                    }
                }))
            (field("ward-code", "Ward code (inpatient services)", Some("The trust's code for the ward, as in your FFT return: 1 to 20 letters, digits, '-' or '_'"), p,
                html! { input id="ward-code" name="ward_code" type="text" value=(f.ward_code) autocomplete="off" spellcheck="false" aria-describedby=[described_by("ward-code", true, p)]; }))
            (field("specialty-code", "Specialty code (inpatient services)", Some("The ward's treatment function code: three digits, such as 300 for general medicine"), p,
                html! { input id="specialty-code" name="specialty_code" type="text" inputmode="numeric" value=(f.specialty_code) autocomplete="off" aria-describedby=[described_by("specialty-code", true, p)]; }))
            button type="submit" class="button" { @if editing { "Save the service" } @else { "Add the service" } }
            @if editing { " " a href=(here) { "Cancel" } }
        }
        h2 id="retention" { "Retention" }
        p class="hint" id="retention-source" { "Retention: " (from(saved.retention_days.is_some())) "." }
        form method="post" action=(here) novalidate {
            input type="hidden" name="csrf" value=(staff.csrf);
            input type="hidden" name="action" value="retention";
            (field("retention-days", "Days responses are kept", Some("1 to 3650. Responses older than this are deleted at the next hourly run, so a shorter period deletes responses soon."), p,
                html! { input id="retention-days" name="retention_days" type="text" inputmode="numeric" value=(v.retention) autocomplete="off" aria-describedby=[described_by("retention-days", true, p)]; }))
            button type="submit" class="button" { "Save retention" }
        }
        @if saved.services.is_some() || saved.retention_days.is_some() {
            h2 { "Use the configuration file's settings" }
            form method="post" action=(here) {
                input type="hidden" name="csrf" value=(staff.csrf);
                input type="hidden" name="action" value="reset";
                button type="submit" class="button button-secondary" { "Use the file's settings again" }
            }
        }
    };
    (
        status,
        templates::page(
            &format!("Site settings: {}", s.id),
            Some(staff),
            "sites",
            body,
        ),
    )
        .into_response()
}

/// A change to a site's settings.
#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    retention_days: String,
    #[serde(flatten)]
    service: ServiceFields,
}

/// `POST /dashboard/sites/{site}`.
pub async fn change(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(site): Path<String>,
    Form(form): Form<ChangeForm>,
) -> Response {
    if let Err(r) = staff.check_csrf(form.csrf.as_deref()) {
        return r;
    }
    let s = match administered(&app, &staff, &site).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let run = async {
        let mut saved = app.site_settings.get().get(&site).cloned().unwrap_or_default();
        saved.updated = Some((crate::util::now_iso(), staff.email.clone()));
        let refuse = |problems: Vec<(String, String)>, editing: Option<ServiceFields>, retention: String| {
            view(
                &app,
                &staff,
                &s,
                View {
                    editing,
                    retention,
                    problems,
                    saved: None,
                },
                StatusCode::BAD_REQUEST,
            )
        };
        let (action, detail, done) = match form.action.as_str() {
            "save_service" => {
                let f = &form.service;
                let mut problems: Vec<(String, String)> = Vec::new();
                let setting = match f.setting.trim() {
                    "" => None,
                    code => match FftSetting::from_code(code) {
                        Some(x) => Some(x),
                        None => {
                            problems.push((
                                "service-setting".into(),
                                format!(
                                    "\"{}\" is not an FFT setting: choose one from the list",
                                    code.chars().take(40).collect::<String>()
                                ),
                            ));
                            None
                        }
                    },
                };
                let new = Service {
                    id: f.id.trim().to_string(),
                    name: f.name.trim().to_string(),
                    setting,
                    ward_code: f.ward_code.trim().to_string(),
                    specialty_code: f.specialty_code.trim().to_string(),
                };
                if problems.is_empty() {
                    problems.extend(
                        new.problems()
                            .into_iter()
                            .map(|(field, m)| (field_id(field).to_string(), m)),
                    );
                }
                let original = f.original.trim();
                let mut list = s.services.clone();
                let at = list.iter().position(|x| x.id == original);
                if !original.is_empty() && at.is_none() {
                    problems.push((
                        "service-id".into(),
                        format!("There is no service \"{original}\" to change (it may have been removed)"),
                    ));
                }
                if list
                    .iter()
                    .any(|x| x.id == new.id && x.id != original)
                {
                    problems.push((
                        "service-id".into(),
                        format!("This site already has a service \"{}\"", new.id),
                    ));
                }
                if !problems.is_empty() {
                    return Ok(refuse(problems, Some(f.clone()), s.retention_days.to_string()));
                }
                let describe = describe_service(&new);
                let (action, detail) = match at {
                    Some(i) => {
                        let was = describe_service(&list[i]);
                        list[i] = new;
                        ("site_service_changed", format!("{was} → {describe}"))
                    }
                    None => {
                        list.push(new);
                        ("site_service_added", describe)
                    }
                };
                saved.services = Some(list);
                (action, detail, "service")
            }
            "remove_service" => {
                let original = form.service.original.trim();
                let mut list = s.services.clone();
                let Some(i) = list.iter().position(|x| x.id == original) else {
                    return Ok(Redirect::to(&format!("/dashboard/sites/{}#services", url_encode(&site))).into_response());
                };
                if list.len() == 1 {
                    return Ok(refuse(
                        vec![("main".into(), "A site with no services listed accepts any service id: add the new service before removing the last one".into())],
                        None,
                        s.retention_days.to_string(),
                    ));
                }
                let gone = list.remove(i);
                saved.services = Some(list);
                ("site_service_removed", describe_service(&gone), "removed")
            }
            "retention" => {
                let typed = form.retention_days.trim();
                let Some(days) = typed
                    .parse::<u32>()
                    .ok()
                    .filter(|d| RETENTION_RANGE.contains(d))
                else {
                    return Ok(refuse(
                        vec![(
                            "retention-days".into(),
                            format!(
                                "Days responses are kept must be a whole number from {} to {}",
                                RETENTION_RANGE.start(),
                                RETENTION_RANGE.end()
                            ),
                        )],
                        None,
                        typed.chars().take(20).collect(),
                    ));
                };
                let was = s.retention_days;
                saved.retention_days = Some(days);
                (
                    "site_retention_set",
                    format!("retention {was} → {days} days"),
                    "retention",
                )
            }
            "reset" => {
                runtime::reset(&app.store, &site).await?;
                app.site_settings.put(&site, None);
                staff.audit(&app.store,
                    "site_settings_reset",
                    Some(&site),
                    "services and retention from the configuration file again",
                )
                .await?;
                return Ok(Redirect::to(&format!("/dashboard/sites/{}?saved=reset", url_encode(&site))).into_response());
            }
            _ => {
                return Ok(refuse(
                    vec![("main".into(), "Choose what to change".into())],
                    None,
                    s.retention_days.to_string(),
                ));
            }
        };
        runtime::save(&app.store, &site, &saved, &staff.email).await?;
        app.site_settings.put(&site, Some(saved));
        staff.audit(&app.store,
            action,
            Some(&site),
            &detail,
        )
        .await?;
        anyhow::Ok(Redirect::to(&format!("/dashboard/sites/{}?saved={done}", url_encode(&site))).into_response())
    }
    .await;
    run.unwrap_or_else(|e| templates::server_error(&e))
}

/// A service in an audit entry.
fn describe_service(s: &Service) -> String {
    let mut out = format!("service {} ({}", s.id, setting_name(s));
    if !s.ward_code.is_empty() {
        out.push_str(&format!(", ward {}", s.ward_code));
    }
    if !s.specialty_code.is_empty() {
        out.push_str(&format!(", specialty {}", s.specialty_code));
    }
    out.push(')');
    out
}
