//! The state every handler shares: instruments, storage, configuration, limits, counters and
//! the instrument documents ready to serve.

use std::collections::BTreeMap;

use chorus_core::Instrument;

use crate::{cached::CachedJson, config, metrics, ratelimit, store};

/// Shared state of the running server.
pub struct AppState {
    /// Instruments by id.
    pub instruments: BTreeMap<String, Instrument>,
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
            instrument_docs: instruments
                .values()
                .map(|i| {
                    let name = format!("{}-v{}", i.id, i.version);
                    (i.id.clone(), CachedJson::new(&name, i))
                })
                .collect(),
            instruments,
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
        }
    }
}
