//! The state every handler shares: instruments, storage, configuration, limits, counters and
//! the instrument documents ready to serve.

use std::collections::BTreeMap;

use chorus_core::Instrument;

use crate::{cached::CachedJson, config, metrics, ratelimit, store};

/// Shared state of the running server.
pub struct AppState {
    /// Instruments by id: the current version of each, the one served to new patients.
    pub instruments: BTreeMap<String, Instrument>,
    /// Earlier versions still accepted and scored, by (id, version): see
    /// `chorus_core::library::EARLIER` and [`AppState::instrument`].
    pub earlier: BTreeMap<(String, u32), Instrument>,
    /// Storage.
    pub store: store::Store,
    /// Counters for `/metrics`.
    pub metrics: metrics::Metrics,
    /// Sites, origins, services.
    pub config: config::Config,
    /// Per-IP and per-site submission limits.
    pub limits: ratelimit::Limiters,
    /// `GET /api/v1/instruments`, ready to serve.
    pub instrument_list: CachedJson,
    /// `GET /api/v1/instruments/{id}`, ready to serve.
    pub instrument_docs: BTreeMap<String, CachedJson>,
    /// Themes, sentiment and flags in comments: the classifiers and their worker.
    pub text: crate::classify::TextState,
    /// Staff sign-in through the trust's identity provider, when `[oidc]` is configured.
    pub oidc: Option<crate::oidc::Oidc>,
    /// Site settings saved in the dashboard (services, retention), laid over the file's by
    /// [`AppState::site`].
    pub site_settings: config::runtime::Cache,
}

impl AppState {
    /// State with the built-in instrument library.
    pub fn new(store: store::Store, config: config::Config) -> AppState {
        let instruments: BTreeMap<String, Instrument> = chorus_core::library::all()
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        AppState {
            instrument_list: CachedJson::instrument_list(instruments.values()),
            // Served from the file as written (compacted), not from the parsed `Instrument`:
            // a decision aid's `about`, outcomes and row features are read by the widget
            // (`chorus_core::aid`), and `Instrument` does not carry them.
            instrument_docs: instruments
                .values()
                .map(|i| {
                    let name = format!("{}-v{}", i.id, i.version);
                    let source = chorus_core::library::SOURCES
                        .iter()
                        .find(|(id, _)| *id == i.id)
                        .and_then(|(_, json)| serde_json::from_str::<serde_json::Value>(json).ok());
                    let doc = match source {
                        Some(v) => CachedJson::new(&name, &v),
                        None => CachedJson::new(&name, i),
                    };
                    (i.id.clone(), doc)
                })
                .collect(),
            instruments,
            earlier: chorus_core::library::earlier()
                .into_iter()
                .map(|i| ((i.id.clone(), i.version), i))
                .collect(),
            store,
            text: crate::classify::TextState::new(&config),
            metrics: metrics::Metrics::default(),
            limits: ratelimit::Limiters::new(&config.limits),
            oidc: config.oidc.clone().and_then(|c| {
                crate::oidc::Oidc::new(c)
                    .map_err(|e| tracing::error!(error = %e, "oidc: cannot make an HTTP client"))
                    .ok()
            }),
            config,
            site_settings: Default::default(),
        }
    }

    /// The instrument a response names, at the version it names: the current one, or an
    /// earlier version still accepted (a patient who began before an upgrade, or whose answers
    /// waited offline, is scored by the version they answered). `None` for an unknown id; an
    /// unknown version of a known id gives the current one, which the core's validation then
    /// refuses with a message naming both versions.
    pub fn instrument(&self, id: &str, version: u32) -> Option<&Instrument> {
        let current = self.instruments.get(id)?;
        if current.version == version {
            return Some(current);
        }
        Some(
            self.earlier
                .get(&(id.to_string(), version))
                .unwrap_or(current),
        )
    }

    /// The site with this id, as in force now: the file's settings with those saved in the
    /// dashboard (services, retention) over them. Every reader of a site's services or
    /// retention goes through here (or [`AppState::sites`]), so a change needs no restart.
    pub fn site(&self, id: &str) -> Option<config::Site> {
        let file = self.config.site(id)?;
        let saved = self.site_settings.get();
        Some(
            saved
                .get(id)
                .map_or_else(|| file.clone(), |s| s.apply(file)),
        )
    }

    /// Every configured site, as in force now (see [`AppState::site`]).
    pub fn sites(&self) -> Vec<config::Site> {
        let saved = self.site_settings.get();
        self.config
            .sites
            .iter()
            .map(|f| saved.get(&f.id).map_or_else(|| f.clone(), |s| s.apply(f)))
            .collect()
    }

    /// Every configured site with the saved settings read from the database just now, or an
    /// error if they cannot be read (the retention task: it never deletes by a value an admin
    /// has replaced).
    pub async fn sites_checked(&self) -> anyhow::Result<Vec<config::Site>> {
        self.site_settings.refresh(&self.store).await?;
        Ok(self.sites())
    }
}
