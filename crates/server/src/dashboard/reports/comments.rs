//! `GET /dashboard/comments`: free text newest first, with its own paging (a page of comments
//! may need many rows: not every response has free text), and `POST …/tags`, the audited tag
//! change.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Form,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use chorus_core::ItemKind;
use chorus_store::{RowQuery, Selection};
use maud::html;
use serde::Deserialize;

use super::{
    FilterQuery, PageResult, Report, Row, check_filter, filter_form, report_instruments, selection,
    url_encode,
};
use crate::{
    dashboard::{
        auth::{Role, Staff},
        now_iso, templates,
    },
    state::AppState,
};

/// Comments shown per page.
const COMMENTS_PER_PAGE: usize = 50;

/// A response with free text, for the comments page.
struct Comment {
    row: Row,
    texts: Vec<(String, String)>,
    fft_answer: Option<String>,
}

/// Rows read at a time for the comments page (not every response has free text).
const ROWS_READ: i64 = 200;

/// The comment in a stored response: its non-empty free-text answers with their questions, and
/// the FFT answer beside them if the instrument has one. `None` when there is no free text (or
/// the instrument is unknown).
fn comment_of(app: &AppState, row: Row) -> Option<Comment> {
    let inst = app.instruments.get(&row.instrument)?;
    let answers: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&row.answers).unwrap_or_default();
    let texts: Vec<(String, String)> = inst
        .items
        .iter()
        .filter(|it| it.kind == ItemKind::FreeText)
        .filter_map(|it| {
            let t = answers.get(&it.id)?.as_str()?.trim();
            (!t.is_empty()).then(|| (it.text.en.clone(), t.to_string()))
        })
        .collect();
    if texts.is_empty() {
        return None;
    }
    let fft_answer = inst.fft_item().and_then(|it| {
        let a = answers.get(&it.id)?.as_str()?;
        it.options
            .iter()
            .find(|o| o.id == a)
            .map(|o| o.text.en.clone())
    });
    Some(Comment {
        row,
        texts,
        fft_answer,
    })
}

/// `GET /dashboard/comments` (analysts and admins): free text, newest first, with tags.
pub async fn comments_page(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Query(q): Query<FilterQuery>,
) -> PageResult {
    let f = check_filter(&app, &staff, &q, Report::Comments, Role::Analyst)?;
    let (app, staff, f) = (&*app, &staff, &f);
    let form = filter_form(app, staff, f, Report::Comments, Role::Analyst).await?;
    let query = RowQuery::new(
        &Selection {
            tag: f.tag.clone(),
            search: f.search.clone(),
            ..selection(f, &report_instruments(app, Report::Comments))
        },
        true,
    );
    let mut before = f.before.unwrap_or(i64::MAX);
    let mut comments = Vec::new();
    let mut more = false;
    'pages: loop {
        let rows = query.page_newest(&app.store, before, ROWS_READ).await?;
        let n = rows.len();
        for row in rows {
            before = row.id;
            let Some(c) = comment_of(app, row) else {
                continue;
            };
            if comments.len() == COMMENTS_PER_PAGE {
                more = true;
                break 'pages;
            }
            comments.push(c);
        }
        if (n as i64) < ROWS_READ {
            break;
        }
    }
    let ids: Vec<i64> = comments.iter().map(|c| c.row.id).collect();
    let tags = app.store.tags_of(&ids).await?;
    let themes = crate::dashboard::themes::panels(app, staff, &f.site, &ids).await?;
    let next_page = comments
        .last()
        .filter(|_| more)
        .map(|c| format!("/dashboard/comments?{}&before={}", f.query(), c.row.id));
    let body = html! {
        h1 { "Comments" }
        p { "What patients wrote, newest first. Personal details (NHS numbers, phone numbers, email addresses, postcodes and dates) were removed before the comments were stored." }
        (form)
        @if comments.is_empty() {
            p { "No comments match this filter." }
        }
        @for c in &comments {
            article class="comment" id={ "c" (c.row.id) } aria-labelledby={ "c" (c.row.id) "-h" } {
                h2 class="visually-hidden" id={ "c" (c.row.id) "-h" } { "Comment " (crate::reference::from_id(c.row.id)) }
                @for (q, t) in &c.texts {
                    p class="hint" { (q) }
                    blockquote lang=(if c.row.locale == "cy" { "cy" } else { "en-GB" }) { (t) }
                }
                p class="meta" {
                    (c.row.received_at.get(..10).unwrap_or("")) " · "
                    (c.row.service.as_deref().unwrap_or("no service")) " · "
                    (app.instruments.get(&c.row.instrument).map_or(c.row.instrument.as_str(), |i| i.title.en.as_str()))
                    @if let Some(a) = &c.fft_answer { " · answered: " strong { (a) } }
                    " · " (crate::reference::from_id(c.row.id))
                }
                @if let Some(t) = themes.get(&c.row.id) { (t) }
                @let these = tags.get(&c.row.id).cloned().unwrap_or_default();
                @if !these.is_empty() {
                    ul class="tags" aria-label="Tags" {
                        @for t in &these {
                            li class="tag" {
                                a href={ "/dashboard/comments?site=" (url_encode(&f.site)) "&tag=" (url_encode(t)) } { (t) }
                                form method="post" action={ "/dashboard/comments/" (c.row.id) "/tags" } {
                                    input type="hidden" name="csrf" value=(staff.csrf);
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="tag" value=(t);
                                    button type="submit" { "Remove" span class="visually-hidden" { " tag " (t) } }
                                }
                            }
                        }
                    }
                }
                form class="inline-form" method="post" action={ "/dashboard/comments/" (c.row.id) "/tags" } {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    input type="hidden" name="action" value="add";
                    div class="field" {
                        label for={ "tag-" (c.row.id) } { "Add a tag" }
                        input type="text" id={ "tag-" (c.row.id) } name="tag" maxlength="40" list="known-tags";
                    }
                    button type="submit" class="button button-secondary" { "Add tag" span class="visually-hidden" { " to comment " (crate::reference::from_id(c.row.id)) } }
                }
            }
        }
        datalist id="known-tags" {
            @for t in ["staff attitude", "waiting time", "communication", "environment", "praise", "follow up"] { option value=(t) {} }
        }
        @if let Some(href) = &next_page {
            p { a href=(href) { "Older comments" } }
        }
    };
    Ok(templates::page("Comments", Some(staff), "comments", body).into_response())
}

/// The tag form.
#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    tag: String,
}

/// A tag as stored: trimmed, lower case, 1–40 letters, digits, spaces or hyphens.
pub fn normalise_tag(t: &str) -> Option<String> {
    let t = t
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!t.is_empty()
        && t.chars().count() <= 40
        && t.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-'))
    .then_some(t)
}

/// `POST /dashboard/comments/{id}/tags` (analysts and admins of the response's site).
pub async fn tag_comment(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<TagForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    // Someone who may tag nowhere is refused before any look-up. For anyone else, a response
    // that does not exist and one on a site they may not tag get the same 404: the answer
    // must not tell which ids exist on other trusts' sites.
    staff.require_any(Role::Analyst)?;
    let site = app.store.site_of(id).await?;
    let Some(site) = staff.at_least_on(site, Role::Analyst) else {
        return Ok(templates::not_found().await);
    };
    let Some(tag) = normalise_tag(&form.tag) else {
        return Ok(templates::bad_request(
            &staff,
            "comments",
            &[(
                format!("tag-{id}"),
                "Enter a tag of 1 to 40 letters, numbers, spaces or hyphens".into(),
            )],
        ));
    };
    match form.action.as_str() {
        "add" => {
            app.store
                .add_tag(id, &tag, staff.user_id, &now_iso())
                .await?;
        }
        "remove" => {
            app.store.remove_tag(id, &tag).await?;
        }
        _ => {
            return Ok(templates::bad_request(
                &staff,
                "comments",
                &[("main".into(), "Choose to add or remove a tag".into())],
            ));
        }
    }
    staff
        .audit(
            &app.store,
            if form.action == "add" {
                "tag_added"
            } else {
                "tag_removed"
            },
            Some(&site),
            &format!("{} on {}", tag, crate::reference::from_id(id)),
        )
        .await?;
    Ok(back_to_comment(&site, id))
}

/// After a change to comment `id` (a tag, a theme): back to it in the site's comments.
pub fn back_to_comment(site: &str, id: i64) -> Response {
    Redirect::to(&format!(
        "/dashboard/comments?site={}#c{id}",
        url_encode(site)
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised() {
        assert_eq!(
            normalise_tag("  Waiting   Time "),
            Some("waiting time".into())
        );
        assert_eq!(normalise_tag(""), None);
        assert_eq!(normalise_tag("<script>"), None);
        assert_eq!(normalise_tag(&"a".repeat(41)), None);
    }
}
