//! `GET /dashboard`: responses per report for each site the member of staff has a role on.

use std::sync::Arc;

use axum::{extract::State, response::IntoResponse};
use maud::html;

use super::{PageResult, Report, url_encode};
use crate::{
    dashboard::{
        auth::{Role, Staff},
        templates,
    },
    state::AppState,
};

/// `GET /dashboard`: what there is, and where to go.
pub async fn overview(State(app): State<Arc<AppState>>, staff: Staff) -> PageResult {
    let mut per_site = Vec::new();
    {
        for (site, role) in &staff.roles {
            let mut counts = [0i64; 3];
            for (id, n) in app.store.counts_by_instrument(site).await? {
                if let Some(inst) = app.instruments.get(&id) {
                    for (k, rep) in [Report::Fft, Report::IStatements, Report::Decisions]
                        .into_iter()
                        .enumerate()
                    {
                        if rep.covers(inst) {
                            counts[k] += n;
                        }
                    }
                }
            }
            per_site.push((site.clone(), *role, counts));
        }
    }
    let overdue = crate::dashboard::aid_review::overdue(&app, crate::util::today());
    let body = html! {
        h1 { "Patient feedback" }
        (crate::dashboard::aid_review::warning(&overdue))
        @if per_site.is_empty() {
            p { "Your account has no role on any site yet. Ask an administrator for your trust." }
        }
        @for (site, role, counts) in &per_site {
            @let name = app.config.site(site).map(|c| c.name.as_str()).filter(|n| !n.is_empty()).unwrap_or(site.as_str());
            h2 { (name) " " span class="hint" { "(" (site) ", you are " (role.name()) ")" } }
            div class="cards" {
                div class="card" {
                    h3 { a href={ "/dashboard/fft?site=" (url_encode(site)) } { "Friends and Family Test" } }
                    p { span class="big-number" { (counts[0]) } "responses" }
                }
                div class="card" {
                    h3 { a href={ "/dashboard/i-statements?site=" (url_encode(site)) } { "I Statements" } }
                    p { span class="big-number" { (counts[1]) } "responses" }
                }
                div class="card" {
                    h3 { a href={ "/dashboard/decisions?site=" (url_encode(site)) } { "Decision aids and shared decisions" } }
                    p { span class="big-number" { (counts[2]) } "responses" }
                }
            }
            @if *role >= Role::Analyst {
                p { a href={ "/dashboard/comments?site=" (url_encode(site)) } { "Read and tag comments" } " · " a href={ "/dashboard/exports?site=" (url_encode(site)) } { "Exports" } }
            }
        }
    };
    Ok(templates::page("Overview", Some(&staff), "overview", body).into_response())
}
