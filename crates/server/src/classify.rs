//! Themes, sentiment and safeguarding flags for stored comments, with `chorus-classify`.
//!
//! The patient's receipt never waits for this. The API handler only wakes a background worker
//! ([`kick`]) after the response is committed; the worker reads responses it has not read yet
//! (so it also catches up after a restart, or on data written by `chorus seed`), classifies
//! their free text — already redacted — with the site's classifier and the site's staff
//! corrections, and writes the tags, flags and a "read" mark for a batch in one transaction.
//! New flags are then handed to [`crate::notify`], which sends them in the background too.
//!
//! Per site, the theme list is the built-in one (`crates/classify/cues/themes.toml`), with
//! `[[classify.themes]]` from the configuration added (or replacing a built-in theme of the same
//! name), then the site's own `[[classify.sites.<id>.themes]]`, less its `drop_themes`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, OnceLock, Weak,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chorus_classify::{Classifier, Evidence, FlagDef, Sentiment, SiteRules, ThemeDef};
use chorus_core::ItemKind;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio::sync::Notify;

use crate::AppState;

/// `[classify]` in the configuration file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifyConfig {
    /// Themes for every site: added to the built-in list, or replacing the built-in theme of
    /// the same name.
    #[serde(default)]
    pub themes: Vec<ThemeDef>,
    /// Flag cue phrases: a built-in kind's name adds phrases to it; a new name is a new kind.
    #[serde(default)]
    pub flags: Vec<FlagDef>,
    /// Per site, by site id.
    #[serde(default)]
    pub sites: BTreeMap<String, SiteClassify>,
}

/// `[classify.sites.<id>]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteClassify {
    /// Start from no themes at all, not the built-in list (then `[[classify.themes]]` and this
    /// site's `themes` are the whole list).
    #[serde(default)]
    pub replace_builtin: bool,
    /// This site's themes: added, or replacing one of the same name.
    #[serde(default)]
    pub themes: Vec<ThemeDef>,
    /// Themes this site does not use.
    #[serde(default)]
    pub drop_themes: Vec<String>,
}

fn merge(list: &mut Vec<ThemeDef>, add: &[ThemeDef]) {
    for t in add {
        match list.iter_mut().find(|x| x.name == t.name) {
            Some(x) => *x = t.clone(),
            None => list.push(t.clone()),
        }
    }
}

impl ClassifyConfig {
    /// The classifier for `site` (sites without a section get the shared one).
    pub fn build(&self, site: Option<&str>) -> Result<Classifier, String> {
        let s = site.and_then(|s| self.sites.get(s));
        let mut themes = if s.is_some_and(|s| s.replace_builtin) {
            Vec::new()
        } else {
            chorus_classify::builtin_themes()
        };
        merge(&mut themes, &self.themes);
        if let Some(s) = s {
            merge(&mut themes, &s.themes);
            for d in &s.drop_themes {
                if !themes.iter().any(|t| &t.name == d) {
                    return Err(format!("drop_themes: there is no theme \"{d}\""));
                }
                themes.retain(|t| &t.name != d);
            }
        }
        let mut flags = chorus_classify::builtin_flags();
        for f in &self.flags {
            match flags.iter_mut().find(|x| x.name == f.name) {
                Some(x) => {
                    x.en.extend(f.en.iter().cloned());
                    x.cy.extend(f.cy.iter().cloned());
                }
                None => flags.push(f.clone()),
            }
        }
        Classifier::new(themes, flags)
    }

    /// Mistakes caught at start-up: sections for sites that do not exist, unknown themes,
    /// phrases the classifier cannot use.
    pub fn check(&self, site_ids: &[&str]) -> anyhow::Result<()> {
        self.build(None)
            .map_err(|e| anyhow::anyhow!("classify: {e}"))?;
        for id in self.sites.keys() {
            anyhow::ensure!(
                site_ids.contains(&id.as_str()),
                "classify.sites.{id}: there is no site \"{id}\""
            );
            self.build(Some(id))
                .map_err(|e| anyhow::anyhow!("classify.sites.{id}: {e}"))?;
        }
        Ok(())
    }
}

/// The classifiers and the worker's state, held in [`AppState`].
pub struct TextState {
    shared: Arc<Classifier>,
    sites: BTreeMap<String, Arc<Classifier>>,
    wake: Arc<Notify>,
    started: OnceLock<()>,
    /// Responses up to this id have been read.
    watermark: AtomicI64,
}

impl TextState {
    /// Build every site's classifier. The configuration was checked at load; a list that still
    /// fails (a configuration made in code) falls back to the built-in lists, with a warning.
    pub fn new(config: &crate::config::Config) -> TextState {
        let build = |site: Option<&str>| {
            config.classify.build(site).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "classify: using the built-in lists");
                Classifier::builtin()
            })
        };
        TextState {
            shared: Arc::new(build(None)),
            sites: config
                .classify
                .sites
                .keys()
                .map(|s| (s.clone(), Arc::new(build(Some(s)))))
                .collect(),
            wake: Arc::new(Notify::new()),
            started: OnceLock::new(),
            watermark: AtomicI64::new(0),
        }
    }

    /// The classifier for `site`.
    pub fn for_site(&self, site: &str) -> &Classifier {
        self.sites.get(site).unwrap_or(&self.shared)
    }
}

/// Wake the worker (starting it the first time): a response was stored.
pub fn kick(app: &Arc<AppState>) {
    app.text.started.get_or_init(|| {
        tokio::spawn(worker(Arc::downgrade(app), app.text.wake.clone()));
    });
    app.text.wake.notify_one();
}

/// Rows read per pass.
const BATCH: i64 = 256;

async fn worker(app: Weak<AppState>, wake: Arc<Notify>) {
    let mut failures = 0u32;
    loop {
        let more = {
            let Some(app) = app.upgrade() else { return };
            match classify_pending(&app, BATCH).await {
                Ok(n) => {
                    failures = 0;
                    n as i64 == BATCH
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "classify: a batch failed; will retry");
                    false
                }
            }
        };
        if more {
            continue;
        }
        // Back off after failures; otherwise wait to be woken, or 15 s (catching up with rows
        // another process wrote, such as `chorus seed`: a cheap look-up past the watermark).
        let wait = if failures > 0 {
            Duration::from_secs((1u64 << failures.min(6)).min(60))
        } else {
            Duration::from_secs(15)
        };
        tokio::select! {
            _ = wake.notified(), if failures == 0 => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Evidence with the free-text item it came from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ItemEvidence {
    /// Item id (e.g. `why`).
    pub item: String,
    /// Where and what.
    #[serde(flatten)]
    pub ev: Evidence,
}

/// What is stored in `comment_themes.evidence`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ThemeEvidence {
    /// Words that named the theme.
    pub cues: Vec<ItemEvidence>,
    /// Sentiment phrases counted.
    pub sentiment_words: Vec<ItemEvidence>,
}

/// A site's corrections that carry a phrase, as the classifier reads them.
pub async fn site_rules(app: &AppState, site: &str) -> anyhow::Result<SiteRules> {
    let rows = sqlx::query(
        "SELECT theme, action, phrase FROM theme_corrections WHERE site = $1 AND phrase IS NOT NULL ORDER BY id",
    )
    .bind(site)
    .fetch_all(app.store.pool())
    .await?;
    let mut rules = SiteRules::default();
    for r in rows {
        let (theme, action, phrase): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        match action.as_str() {
            "add" => rules.show.push((theme, phrase)),
            "remove" => rules.ignore.push((theme, phrase)),
            _ => {}
        }
    }
    Ok(rules)
}

/// The free-text answers of a stored response: `(item id, text)`.
pub fn free_texts(app: &AppState, instrument: &str, answers: &str) -> Vec<(String, String)> {
    let Some(inst) = app.instruments.get(instrument) else {
        return Vec::new();
    };
    let answers: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(answers).unwrap_or_default();
    inst.items
        .iter()
        .filter(|it| it.kind == ItemKind::FreeText)
        .filter_map(|it| {
            let t = answers.get(&it.id)?.as_str()?;
            (!t.trim().is_empty()).then(|| (it.id.clone(), t.to_string()))
        })
        .collect()
}

/// All the free text of a stored response in one string (one answer per line), as staff's
/// search indexes it (`chorus_store::search`); `None` when it has none.
pub fn search_text(app: &AppState, instrument: &str, answers: &str) -> Option<String> {
    let texts: Vec<String> = free_texts(app, instrument, answers)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// Themes and flags of one response, all its free-text items together.
pub struct Found {
    /// Theme → (sentiment, evidence).
    pub themes: BTreeMap<String, (Sentiment, ThemeEvidence)>,
    /// Flag kind → evidence.
    pub flags: BTreeMap<String, Vec<ItemEvidence>>,
}

/// Classify the texts of one response.
pub fn analyse(
    c: &Classifier,
    rules: &chorus_classify::CompiledRules,
    texts: &[(String, String)],
) -> Found {
    let mut scores: BTreeMap<String, (f64, ThemeEvidence)> = BTreeMap::new();
    let mut flags: BTreeMap<String, Vec<ItemEvidence>> = BTreeMap::new();
    let with = |item: &str, v: Vec<Evidence>| -> Vec<ItemEvidence> {
        v.into_iter()
            .map(|ev| ItemEvidence {
                item: item.to_string(),
                ev,
            })
            .collect()
    };
    for (item, text) in texts {
        let a = c.classify_with(text, rules);
        for t in a.themes {
            let e = scores.entry(t.theme).or_default();
            e.0 += t.score;
            e.1.cues.extend(with(item, t.cues));
            e.1.sentiment_words.extend(with(item, t.sentiment_words));
        }
        for f in a.flags {
            flags.entry(f.kind).or_default().extend(with(item, f.cues));
        }
    }
    let themes = scores
        .into_iter()
        .map(|(k, (score, ev))| {
            let s = if score > 1e-9 {
                Sentiment::Positive
            } else if score < -1e-9 {
                Sentiment::Negative
            } else {
                Sentiment::Neutral
            };
            (k, (s, ev))
        })
        .collect();
    Found { themes, flags }
}

/// Read up to `limit` responses not read yet; returns how many were read.
pub async fn classify_pending(app: &Arc<AppState>, limit: i64) -> anyhow::Result<usize> {
    let after = app.text.watermark.load(Ordering::Relaxed);
    let rows = sqlx::query(
        "SELECT id, site, service, instrument, answers, received_at FROM responses r
         WHERE id > $1 AND NOT EXISTS (SELECT 1 FROM comment_classified c WHERE c.response_id = r.id)
         ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(app.store.pool())
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    // Everything is read and classified first, and only then is the transaction opened: a
    // write transaction that waited on a pool connection (for a read) could hold SQLite's
    // write lock while every pool connection waited for it.
    let mut rules: BTreeMap<String, chorus_classify::CompiledRules> = BTreeMap::new();
    let mut read = Vec::with_capacity(rows.len());
    let mut last = after;
    for r in &rows {
        let (id, site, service, instrument, answers, received_at): (
            i64,
            String,
            Option<String>,
            String,
            String,
            String,
        ) = (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        last = last.max(id);
        let texts = free_texts(app, &instrument, &answers);
        let found = if texts.is_empty() {
            None
        } else {
            let c = app.text.for_site(&site);
            if !rules.contains_key(&site) {
                let r = site_rules(app, &site).await?;
                rules.insert(site.clone(), c.rules(&r));
            }
            Some(analyse(c, &rules[&site], &texts))
        };
        read.push((id, site, service, received_at, found));
    }
    let now = crate::dashboard::now_iso();
    // The theme rollups change in the same transaction (`chorus_store::theme_rollup`).
    let ids: Vec<i64> = read.iter().map(|r| r.0).collect();
    let mut tx = app.store.tag_write(&ids).await?;
    let mut notices = Vec::new();
    for (id, site, service, received_at, found) in &read {
        let id = *id;
        if let Some(found) = found {
            for (theme, (sentiment, ev)) in &found.themes {
                sqlx::query(
                    "INSERT INTO comment_themes (response_id, theme, sentiment, evidence, source, state, updated_by, updated_at)
                     VALUES ($1, $2, $3, $4, 'auto', 'active', NULL, $5) ON CONFLICT (response_id, theme) DO NOTHING",
                )
                .bind(id)
                .bind(theme)
                .bind(sentiment.as_str())
                .bind(serde_json::to_string(ev)?)
                .bind(&now)
                .execute(tx.conn())
                .await?;
            }
            let mut new_flags = Vec::new();
            for (kind, ev) in &found.flags {
                let done = sqlx::query(
                    "INSERT INTO comment_flags (response_id, kind, evidence, flagged_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (response_id, kind) DO NOTHING",
                )
                .bind(id)
                .bind(kind)
                .bind(serde_json::to_string(ev)?)
                .bind(&now)
                .execute(tx.conn())
                .await?;
                if done.rows_affected() > 0 {
                    new_flags.push(crate::notify::FlagKind {
                        kind: kind.clone(),
                        cues: ev.iter().map(|e| e.ev.text.clone()).collect(),
                    });
                }
            }
            if !new_flags.is_empty() {
                notices.push(crate::notify::Notice {
                    event: "comment_flagged",
                    site: site.clone(),
                    service: service.clone(),
                    reference: crate::reference::from_id(id),
                    received_at: received_at.clone(),
                    flags: new_flags,
                    review_url: String::new(),
                });
            }
        }
        sqlx::query(
            "INSERT INTO comment_classified (response_id, has_text, at) VALUES ($1, $2, $3) ON CONFLICT (response_id) DO NOTHING",
        )
        .bind(id)
        .bind(i64::from(found.is_some()))
        .bind(&now)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    app.text.watermark.fetch_max(last, Ordering::Relaxed);
    for n in notices {
        crate::notify::send(app, n);
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, en: &[&str]) -> ThemeDef {
        ThemeDef {
            name: name.into(),
            en: en.iter().map(|s| s.to_string()).collect(),
            cy: vec![],
        }
    }

    #[test]
    fn sites_add_replace_and_drop_themes() {
        let mut c = ClassifyConfig {
            themes: vec![t("pharmacy", &["pharmac*", "prescription*"])],
            ..Default::default()
        };
        c.sites.insert(
            "a".into(),
            SiteClassify {
                themes: vec![t("parking", &["car park"])],
                drop_themes: vec!["food".into()],
                ..Default::default()
            },
        );
        c.check(&["a"]).unwrap();
        let shared = c.build(None).unwrap();
        assert!(shared.theme_names().contains(&"pharmacy".to_string()));
        let a = c.build(Some("a")).unwrap();
        assert!(!a.theme_names().contains(&"food".to_string()));
        assert!(a.classify("no parking anywhere").theme("parking").is_none());
        assert!(a.classify("the car park").theme("parking").is_some());
        c.sites.get_mut("a").unwrap().drop_themes = vec!["nope".into()];
        assert!(c.check(&["a"]).unwrap_err().to_string().contains("nope"));
        assert!(c.check(&[]).unwrap_err().to_string().contains("no site"));
    }
}
