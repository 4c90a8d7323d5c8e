//! The themes of each comment on the comments page, with the words behind each tag, and the
//! staff corrections made there (`POST /dashboard/comments/{id}/themes`): the tag, its rollups
//! and the correction's record in one transaction, then the audit entry.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Form,
    extract::{Path, State},
    response::Response,
};
use chorus_classify::Sentiment;
use maud::{Markup, html};
use serde::Deserialize;
use sqlx::Row;

use super::super::{
    auth::{Role, Staff},
    now_iso,
    reports::url_encode,
    templates::{self, PageResult},
};
use crate::{
    AppState,
    classify::{ItemEvidence, ThemeEvidence},
};

/// One stored tag.
struct Tag {
    theme: String,
    sentiment: String,
    evidence: ThemeEvidence,
    source: String,
    state: String,
}

/// The themes block of each comment on the comments page (by response id): the tags with
/// the words behind them, and the forms to correct them. `site` is the page's site.
pub async fn panels(
    app: &AppState,
    staff: &Staff,
    site: &str,
    ids: &[i64],
) -> anyhow::Result<BTreeMap<i64, Markup>> {
    let mut tags: BTreeMap<i64, Vec<Tag>> = BTreeMap::new();
    let mut flags: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for chunk in ids.chunks(100) {
        let ps: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT response_id, theme, sentiment, evidence, source, state FROM comment_themes WHERE response_id IN ({}) ORDER BY theme",
            ps.join(", ")
        )));
        for id in chunk {
            qy = qy.bind(*id);
        }
        for r in qy.fetch_all(app.store.pool()).await? {
            tags.entry(r.get(0)).or_default().push(Tag {
                theme: r.get(1),
                sentiment: r.get(2),
                evidence: serde_json::from_str(&r.get::<String, _>(3)).unwrap_or_default(),
                source: r.get(4),
                state: r.get(5),
            });
        }
        let mut qy = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT response_id, kind FROM comment_flags WHERE response_id IN ({}) ORDER BY kind",
            ps.join(", ")
        )));
        for id in chunk {
            qy = qy.bind(*id);
        }
        for r in qy.fetch_all(app.store.pool()).await? {
            flags.entry(r.get(0)).or_default().push(r.get(1));
        }
    }
    let names = app.text.for_site(site).theme_names().to_vec();
    let quoted = |v: &[ItemEvidence]| {
        v.iter()
            .map(|e| {
                format!(
                    "\u{201c}{}\u{201d}{}",
                    e.ev.text,
                    if e.ev.why.starts_with("negated") {
                        " (turned round by a negative)"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = BTreeMap::new();
    for &id in ids {
        let these = tags.remove(&id).unwrap_or_default();
        let reference = crate::reference::from_id(id);
        let action = format!("/dashboard/comments/{id}/themes");
        let m = html! {
            @if let Some(k) = flags.get(&id) {
                p class="flagged" { strong { "Flagged for review: " } (k.join(", ")) " · " a href={ "/dashboard/review?site=" (url_encode(site)) "#" (reference) } { "Review queue" } }
            }
            div class="themes" {
                p class="hint" { "Themes" }
                @if these.iter().all(|t| t.state != "active") { p { "No themes found." } }
                ul class="tags" aria-label={ "Themes of comment " (reference) } {
                    @for t in these.iter().filter(|t| t.state == "active") {
                        li {
                            strong { (t.theme) } " – " (t.sentiment)
                            @if t.source == "staff" { " (set by staff)" }
                            @if !t.evidence.cues.is_empty() { span class="hint" { " · because of " (quoted(&t.evidence.cues)) } }
                            @if !t.evidence.sentiment_words.is_empty() { span class="hint" { " · " (t.sentiment) " from " (quoted(&t.evidence.sentiment_words)) } }
                            form class="inline-form" method="post" action=(action) {
                                input type="hidden" name="csrf" value=(staff.csrf);
                                input type="hidden" name="action" value="sentiment";
                                input type="hidden" name="theme" value=(t.theme);
                                div class="field" {
                                    label for={ "s-" (id) "-" (slug(&t.theme)) } { "Sentiment" }
                                    select id={ "s-" (id) "-" (slug(&t.theme)) } name="sentiment" {
                                        @for s in ["positive", "negative", "neutral"] { option value=(s) selected[s == t.sentiment] { (s) } }
                                    }
                                }
                                button type="submit" class="button button-secondary" { "Change" span class="visually-hidden" { " sentiment of " (t.theme) " on " (reference) } }
                            }
                            form class="inline-form" method="post" action=(action) {
                                input type="hidden" name="csrf" value=(staff.csrf);
                                input type="hidden" name="action" value="remove";
                                input type="hidden" name="theme" value=(t.theme);
                                div class="field" {
                                    label for={ "p-" (id) "-" (slug(&t.theme)) } { "Words that do not mean " (t.theme) " (optional: ignored for this theme in later comments)" }
                                    input type="text" id={ "p-" (id) "-" (slug(&t.theme)) } name="phrase" maxlength="60";
                                }
                                button type="submit" class="button button-secondary" { "Remove" span class="visually-hidden" { " theme " (t.theme) " from " (reference) } }
                            }
                        }
                    }
                }
                @let removed: Vec<&Tag> = these.iter().filter(|t| t.state == "removed").collect();
                @if !removed.is_empty() {
                    p class="hint" { "Removed by staff: " (removed.iter().map(|t| t.theme.as_str()).collect::<Vec<_>>().join(", ")) }
                }
                form class="inline-form" method="post" action=(action) {
                    input type="hidden" name="csrf" value=(staff.csrf);
                    input type="hidden" name="action" value="add";
                    div class="field" {
                        label for={ "t-" (id) } { "Add a theme" }
                        select id={ "t-" (id) } name="theme" { @for n in &names { option value=(n) { (n) } } }
                    }
                    div class="field" {
                        label for={ "ts-" (id) } { "Sentiment" }
                        select id={ "ts-" (id) } name="sentiment" { @for s in ["negative", "positive", "neutral"] { option value=(s) { (s) } } }
                    }
                    div class="field" {
                        label for={ "tp-" (id) } { "Words in the comment that show it (optional: a cue for later comments)" }
                        input type="text" id={ "tp-" (id) } name="phrase" maxlength="60";
                    }
                    button type="submit" class="button button-secondary" { "Add theme" span class="visually-hidden" { " to " (reference) } }
                }
            }
        };
        out.insert(id, m);
    }
    Ok(out)
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The correction form.
#[derive(Deserialize)]
pub struct CorrectForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    action: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    sentiment: Option<String>,
    #[serde(default)]
    phrase: Option<String>,
}

/// A phrase as staff may give it: 1 to 6 words of letters, digits, `'` and `-`, at most 60
/// characters, lower case.
pub fn normalise_phrase(p: &str) -> Option<String> {
    let words: Vec<&str> = p.split_whitespace().collect();
    let p = words.join(" ").to_lowercase();
    (!words.is_empty()
        && words.len() <= 6
        && p.chars().count() <= 60
        && p.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '\'' | '’' | '-')))
    .then_some(p)
}

/// `POST /dashboard/comments/{id}/themes` (analysts and admins of the response's site).
pub async fn correct(
    State(app): State<Arc<AppState>>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(form): Form<CorrectForm>,
) -> PageResult {
    staff.check_csrf(form.csrf.as_deref())?;
    staff.require_any(Role::Analyst)?;
    Ok(correct_inner(&app, &staff, id, &form).await?)
}

async fn correct_inner(
    app: &AppState,
    staff: &Staff,
    id: i64,
    form: &CorrectForm,
) -> anyhow::Result<Response> {
    let row = sqlx::query("SELECT site, instrument, answers FROM responses WHERE id = $1")
        .bind(id)
        .fetch_optional(app.store.pool())
        .await?;
    // A response on a site this person may not correct looks the same as none at all.
    let Some((site, instrument, answers)) = row
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<String, _>(2),
            )
        })
        .filter(|(s, _, _)| staff.role_on(s).is_some_and(|r| r >= Role::Analyst))
    else {
        return Ok(templates::not_found().await);
    };
    let problem = |field: String, msg: &str| {
        Ok(templates::bad_request(
            staff,
            "comments",
            &[(field, msg.to_string())],
        ))
    };
    let existing: Option<(String, String)> = sqlx::query(
        "SELECT sentiment, state FROM comment_themes WHERE response_id = $1 AND theme = $2",
    )
    .bind(id)
    .bind(&form.theme)
    .fetch_optional(app.store.pool())
    .await?
    .map(|r| (r.get(0), r.get(1)));
    let sentiment = form.sentiment.as_deref().and_then(Sentiment::parse);
    let phrase = match form
        .phrase
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => match normalise_phrase(p) {
            Some(p) => Some(p),
            None => {
                return problem(
                    format!("tp-{id}"),
                    "Enter up to 6 words (letters, numbers, hyphens and apostrophes), or leave it empty",
                );
            }
        },
    };
    let texts = crate::classify::free_texts(app, &instrument, &answers);
    // A phrase must be words of this comment: it is an example taken from it.
    let located = match &phrase {
        None => None,
        Some(p) => {
            let found = texts.iter().find_map(|(item, t)| {
                let lower = t.to_lowercase();
                // Lower-casing can change byte lengths; only use a position that maps back.
                (lower.len() == t.len())
                    .then(|| lower.find(p.as_str()))
                    .flatten()
                    .map(|start| (item.clone(), start, t[start..start + p.len()].to_string()))
            });
            match found {
                Some(f) => Some(f),
                None => {
                    return problem(
                        format!("tp-{id}"),
                        "The words must be words of this comment, as written",
                    );
                }
            }
        }
    };
    let now = now_iso();
    let detail;
    // The tag, its rollups and the correction's record in one transaction.
    let mut tx = app.store.tag_write(&[id]).await?;
    match form.action.as_str() {
        "add" => {
            if !app.text.for_site(&site).theme_names().contains(&form.theme) {
                return problem(format!("t-{id}"), "Choose one of the site's themes");
            }
            let Some(s) = sentiment else {
                return problem(format!("ts-{id}"), "Choose positive, negative or neutral");
            };
            let ev = ThemeEvidence {
                cues: located
                    .iter()
                    .map(|(item, start, text)| ItemEvidence {
                        item: item.clone(),
                        ev: chorus_classify::Evidence {
                            start: *start,
                            end: start + text.len(),
                            text: text.clone(),
                            why: "staff cue".into(),
                        },
                    })
                    .collect(),
                sentiment_words: vec![],
            };
            sqlx::query(
                "INSERT INTO comment_themes (response_id, theme, sentiment, evidence, source, state, updated_by, updated_at)
                 VALUES ($1, $2, $3, $4, 'staff', 'active', $5, $6)
                 ON CONFLICT (response_id, theme) DO UPDATE SET sentiment = excluded.sentiment, evidence = excluded.evidence,
                   source = 'staff', state = 'active', updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(&form.theme)
            .bind(s.as_str())
            .bind(serde_json::to_string(&ev)?)
            .bind(staff.user_id)
            .bind(&now)
            .execute(tx.conn())
            .await?;
            detail = format!(
                "{} ({}) added to {}",
                form.theme,
                s.as_str(),
                crate::reference::from_id(id)
            );
        }
        "remove" | "sentiment" => {
            if existing.as_ref().is_none_or(|(_, state)| state != "active") {
                return problem("main".into(), "That comment has no such theme");
            }
            // A removal sets the state, a sentiment change the sentiment: one statement.
            let (state, new_sentiment) = if form.action == "remove" {
                detail = format!(
                    "{} removed from {}",
                    form.theme,
                    crate::reference::from_id(id)
                );
                (Some("removed"), None)
            } else {
                let Some(s) = sentiment else {
                    return problem("main".into(), "Choose positive, negative or neutral");
                };
                detail = format!(
                    "{} on {} set to {}",
                    form.theme,
                    crate::reference::from_id(id),
                    s.as_str()
                );
                (None, Some(s.as_str()))
            };
            sqlx::query(
                "UPDATE comment_themes SET state = COALESCE($1, state), sentiment = COALESCE($2, sentiment),
                   source = 'staff', updated_by = $3, updated_at = $4 WHERE response_id = $5 AND theme = $6",
            )
            .bind(state)
            .bind(new_sentiment)
            .bind(staff.user_id)
            .bind(&now)
            .bind(id)
            .bind(&form.theme)
            .execute(tx.conn())
            .await?;
        }
        _ => {
            return problem(
                "main".into(),
                "Choose to add or remove a theme, or change its sentiment",
            );
        }
    }
    sqlx::query(
        "INSERT INTO theme_corrections (site, response_id, theme, action, sentiment, phrase, user_id, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&site)
    .bind(id)
    .bind(&form.theme)
    .bind(&form.action)
    .bind(sentiment.map(Sentiment::as_str))
    .bind(phrase.as_deref().filter(|_| form.action != "sentiment"))
    .bind(staff.user_id)
    .bind(&staff.email)
    .bind(&now)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let detail = match phrase.as_deref().filter(|_| form.action != "sentiment") {
        Some(p) => format!("{detail}; phrase \"{p}\" kept as an example for the site"),
        None => detail,
    };
    staff
        .audit(
            &app.store,
            &format!(
                "theme_{}",
                if form.action == "add" {
                    "added"
                } else if form.action == "remove" {
                    "removed"
                } else {
                    "sentiment"
                }
            ),
            Some(&site),
            &detail,
        )
        .await?;
    Ok(super::reports::back_to_comment(&site, id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn phrases_are_checked() {
        assert_eq!(
            super::normalise_phrase("  Food  for Thought "),
            Some("food for thought".into())
        );
        assert_eq!(super::normalise_phrase("a b c d e f g"), None);
        assert_eq!(super::normalise_phrase("<script>"), None);
        assert_eq!(super::normalise_phrase(""), None);
    }
}
