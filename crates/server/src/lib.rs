//! chorus-server: the collector. Validates and re-scores every response with `chorus-core`,
//! redacts free text, stores durably (SQLite, group commit), and serves the embed bundle and
//! the demo site.

pub mod api;
pub mod config;
pub mod metrics;
pub mod offline;
pub mod openapi;
pub mod ratelimit;
pub mod reference;
pub mod store;
pub mod users;

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use axum::{
    Router,
    http::{HeaderValue, header},
    routing::{get, post},
};
use chorus_core::Instrument;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
};

/// Where the server finds the files it serves.
#[derive(Clone, Debug)]
pub struct Paths {
    /// Built embed bundle (`cargo xtask dist` output).
    pub pkg_dir: PathBuf,
    /// Demo site and docs.
    pub www_dir: PathBuf,
}

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
}

impl AppState {
    /// State with the built-in instrument library.
    pub fn new(store: store::Store, config: config::Config) -> AppState {
        AppState {
            instruments: chorus_core::library::all()
                .into_iter()
                .map(|i| (i.id.clone(), i))
                .collect(),
            store,
            metrics: metrics::Metrics::default(),
            limits: ratelimit::Limiters::new(&config.limits),
            config,
        }
    }
}

/// Build the application router.
pub fn router(state: Arc<AppState>, paths: Paths) -> Router {
    // Preflight: an origin some site allows. The POST handler then checks the origin against
    // the submission's own site. The API sets and reads no cookies, so no credentials mode.
    let allowed = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|o| allowed.config.any_site_allows(o))
        }))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    let api = Router::new()
        .route("/v1/responses", post(api::post_response))
        .route("/v1/instruments", get(api::list_instruments))
        .route("/v1/instruments/{id}", get(api::get_instrument))
        .route("/v1/openapi.json", get(openapi::serve))
        .fallback(api_not_found)
        .layer(axum::middleware::from_fn(api::json_errors))
        .layer(cors)
        // A slow client must not hold a connection for ever. If the timeout fires while a
        // commit is under way the response may still be stored; the retry with the same
        // idempotency key then gets the original receipt, so nothing is lost or doubled.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(15),
        ))
        .with_state(state.clone());
    // The bundle is fetched cross-origin with SRI, so it needs CORS too; .br/.gz twins are
    // served to browsers that accept them.
    let embed = Router::new()
        .fallback_service(
            ServeDir::new(&paths.pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(axum::middleware::from_fn(embed_cache_control))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics::render).with_state(state.clone()))
        .nest("/api", api)
        .nest_service("/embed", embed)
        .fallback_service(ServeDir::new(&paths.www_dir))
        .layer(axum::middleware::from_fn_with_state(state, metrics::track))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
}

/// Content-hashed bundle files never change: cache them for a year. `chorus.js` keeps its name
/// across releases (it is what web teams paste), so it is revalidated after five minutes.
async fn embed_cache_control(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let name = req
        .uri()
        .path()
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let mut res = next.run(req).await;
    let hashed = name.starts_with("chorus-") && name.contains(".wasm");
    let value = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    if res.status().is_success() {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    res
}

/// Unknown paths under `/api/` get a JSON 404 like every other API rejection.
async fn api_not_found() -> api::ApiError {
    api::ApiError::not_found()
}
