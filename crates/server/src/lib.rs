//! chorus-server: the collector. Validates and re-scores every response with `chorus-core`,
//! redacts free text, stores durably (SQLite, group commit), and serves the embed bundle and
//! the demo site.

pub mod api;
pub mod audit;
pub mod author;
pub mod backup;
pub mod cached;
pub mod channels;
pub mod classify;
pub mod config;
pub mod csv_out;
pub mod dashboard;
pub mod doctor;
pub mod metrics;
pub mod notify;
pub mod offline;
pub mod oidc;
pub mod openapi;
pub mod ratelimit;
pub mod results;
pub mod retention;
pub mod serve;
pub mod state;
pub mod users;
pub mod util;
pub mod withdraw_self;

pub use retention::{apply_retention, apply_retention_as, apply_retention_for};
pub use state::AppState;

/// Stored responses live in their own crate (`chorus-store`); these paths are kept for callers.
pub use chorus_store::{self as store, reference};

use std::{path::PathBuf, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderValue, header},
    routing::{get, post},
};
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
        .allow_headers([header::CONTENT_TYPE])
        // Patients on slow connections should not pay a preflight per submission.
        .max_age(Duration::from_secs(3600));
    let api = Router::new()
        .route("/v1/responses", post(api::post_response))
        .route("/v1/withdrawals", post(api::post_withdrawal))
        .route("/v1/instruments", get(api::list_instruments))
        .route("/v1/instruments/{id}", get(api::get_instrument))
        .route("/v1/results/{site}", get(results::results_json))
        .route("/v1/check", post(author::post_check))
        .route("/v1/openapi.json", get(openapi::serve))
        .fallback(api_not_found)
        // A slow client must not hold a connection for ever. If the timeout fires while a
        // commit is under way the response may still be stored; the retry with the same
        // idempotency key then gets the original receipt, so nothing is lost or doubled.
        // Inside `json_errors`, so the 408 has a JSON body like every other rejection.
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.limits.request_timeout_seconds.max(1)),
        ))
        .layer(axum::middleware::from_fn(api::json_errors))
        .layer(cors)
        .layer(axum::middleware::from_fn(api_headers))
        .with_state(state.clone());
    // The bundle is fetched cross-origin with SRI, so it needs CORS too; .br/.gz twins are
    // served to browsers that accept them.
    let embed = Router::new()
        .fallback_service(
            ServeDir::new(&paths.pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(paths.pkg_dir.clone()),
            static_guard,
        ))
        .layer(axum::middleware::from_fn(embed_cache_control))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(paths.pkg_dir.clone()),
            embed_preload_link,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        ))
        // Trust pages that isolate themselves (COEP) may still load the bundle.
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ));
    // The demo site and docs: files from `www/` only (see `static_guard`), under the same
    // strict policy a trust's own pages can run the widget under (csp.html shows it).
    let www = Router::new()
        .fallback_service(ServeDir::new(&paths.www_dir))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(paths.www_dir.clone()),
            static_guard,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(WWW_CSP),
        ));
    Router::new()
        .route("/healthz", get(healthz).with_state(state.clone()))
        .route("/metrics", get(metrics::render).with_state(state.clone()))
        .route(
            "/results/{site}",
            get(results::results_page).with_state(state.clone()),
        )
        .nest("/api", api)
        .nest("/dashboard", dashboard::router(state.clone()))
        .route(
            "/dashboard/",
            get(|| async { axum::response::Redirect::permanent("/dashboard") }),
        )
        .nest_service("/embed", embed)
        .nest("/f", channels::router(state.clone()))
        .route(
            "/withdraw",
            get(withdraw_self::page)
                .post(withdraw_self::post)
                .with_state(state.clone()),
        )
        .fallback_service(www)
        .layer(tower_http::trace::TraceLayer::new_for_http())
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

/// The demo pages' policy: scripts and styles from this origin only (plus compiling the
/// widget's WebAssembly), no inline script or style, no plugins, no framing by other sites.
/// The NHS.UK frontend stylesheet of `nhsuk.html` loads its fonts from `assets.nhs.uk`.
pub const WWW_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; font-src 'self' https://assets.nhs.uk; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// Static files come from their folder and nowhere else:
/// - a path that resolves (through symbolic links) outside `root` is answered 404, as if it
///   were not there; so are the `.br`/`.gz` twins and `index.html` the file server may pick;
/// - a path starting `//` (or holding a backslash, which browsers read as `/`) is answered
///   404: the file server would redirect `//docs` to `//docs/`, a protocol-relative address
///   on another host (an open redirect);
/// - no redirect leaves this site whatever the path (checked on the answer too).
async fn static_guard(
    axum::extract::State(root): axum::extract::State<Arc<PathBuf>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let not_found = || axum::http::StatusCode::NOT_FOUND.into_response();
    let raw = req.uri().path();
    let Some(decoded) = percent_decode(raw) else {
        return not_found();
    };
    if raw.starts_with("//") || decoded.starts_with("//") || decoded.contains('\\') {
        return not_found();
    }
    if !stays_inside(&root, &decoded).await {
        return not_found();
    }
    let res = next.run(req).await;
    let off_site = res
        .headers()
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| !l.starts_with('/') || l.starts_with("//") || l.contains('\\'));
    if off_site { not_found() } else { res }
}

/// Does every file the file server could send for `path` (the file, its compressed twins,
/// `index.html` of a folder) resolve inside `root`? Paths that do not exist pass: the file
/// server answers them 404 itself.
async fn stays_inside(root: &std::path::Path, path: &str) -> bool {
    let Ok(root) = tokio::fs::canonicalize(root).await else {
        return true;
    };
    let mut candidate = root.clone();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return false;
        }
        candidate.push(part);
    }
    let mut names = vec![candidate.clone(), candidate.join("index.html")];
    for twin in ["br", "gz"] {
        for base in [candidate.clone(), candidate.join("index.html")] {
            let mut s = base.into_os_string();
            s.push(".");
            s.push(twin);
            names.push(PathBuf::from(s));
        }
    }
    for name in names {
        if let Ok(real) = tokio::fs::canonicalize(&name).await
            && !real.starts_with(&root)
        {
            tracing::warn!(path = %path, "refused: a static file resolves outside its folder");
            return false;
        }
    }
    true
}

/// `%XX` decoded (as the file server decodes it); `None` if that is not UTF-8 or malformed.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Content-hashed bundle files (`chorus-63cde26b13.wasm`) never change: cache them for a year.
/// `chorus.js` keeps its name across releases (it is what web teams paste, with its SRI hash),
/// so it is revalidated after five minutes.
async fn embed_cache_control(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let hashed = is_hashed_name(req.uri().path().rsplit('/').next().unwrap_or(""));
    let mut res = next.run(req).await;
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

/// `Link: <chorus-….wasm>; rel=preload; as=fetch; crossorigin` on `chorus.js`, so a browser
/// that acts on a script's Link header can start the module while the script is still
/// arriving. The address is relative to `chorus.js` (right behind a proxy that mounts Chorus
/// elsewhere), `crossorigin` matches the loader's CORS fetch, and the name comes from
/// `manifest.json` on every request, so a bundle replaced on disk never points the hint at an
/// old module. Chromium (156) acts only on a document's own Link headers, so the snippet
/// builder also prints a `<link rel="preload">` for the page itself.
async fn embed_preload_link(
    axum::extract::State(dir): axum::extract::State<Arc<PathBuf>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let entry = req.uri().path() == "/chorus.js";
    let mut res = next.run(req).await;
    if entry && res.status() == axum::http::StatusCode::OK {
        let wasm = tokio::fs::read(dir.join("manifest.json"))
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|m| m["wasm"].as_str().map(str::to_string))
            // Only a plain hashed file name goes into a header.
            .filter(|w| {
                is_hashed_name(w)
                    && w.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            });
        if let Some(v) = wasm.and_then(|w| {
            HeaderValue::from_str(&format!("<{w}>; rel=preload; as=fetch; crossorigin")).ok()
        }) {
            res.headers_mut().insert(header::LINK, v);
        }
    }
    res
}

/// `name-<8 or more hex digits>.ext…`: the name changes whenever the content does.
fn is_hashed_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    stem.rsplit_once('-').is_some_and(|(base, hash)| {
        !base.is_empty() && hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    }) && name.contains('.')
}

/// Headers on every API answer: no caching unless the endpoint says otherwise (receipts are
/// personal), nothing to frame or run, and never a cookie (the API is cookie-free by design:
/// no consent banner is needed, and no session can be ridden by another site).
async fn api_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.remove(header::SET_COOKIE);
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// Background upkeep of a running server: every few seconds, read the dashboard's site
/// settings again; every minute, forget idle rate-limit keys; at start and every hour, apply
/// each site's retention rule.
pub fn spawn_housekeeping(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    // Comments stored while the server was down (or by `chorus seed`) are classified now.
    classify::kick(&state);
    // Comments stored before search existed are indexed, once, beside everything else (a
    // failure, say storage down at start, is tried again a minute later).
    let indexing = state.clone();
    tokio::spawn(async move {
        let state = indexing;
        loop {
            let text_of = |instrument: &str, answers: &str| {
                classify::search_text(&state, instrument, answers)
            };
            match state.store.backfill_search(text_of).await {
                Ok(0) => break,
                Ok(n) => {
                    tracing::info!(responses = n, "comment search: older responses indexed");
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "comment search: indexing older responses failed; will retry");
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
            }
        }
    });
    tokio::spawn(async move {
        // Every few seconds, read the site settings saved in the dashboard again (another
        // server sharing the database may have changed them).
        let every = config::runtime::REFRESH;
        let per_minute = (60 / every.as_secs().max(1)).max(1);
        let mut tick = tokio::time::interval(every);
        for n in 0u64.. {
            tick.tick().await;
            if n > 0
                && let Err(e) = state.site_settings.refresh(&state.store).await
            {
                tracing::warn!(error = %e, "site settings: cannot read them again; keeping the last read");
            }
            if n % per_minute == 0 {
                state.limits.forget_idle();
            }
            if n % (per_minute * 60) == 0 {
                apply_retention(&state).await;
            }
            // Rollups of responses deleted or changed (retention just now, a withdrawal, an
            // operator's SQL) are recomputed from their rows; reports read those keys from
            // the rows until then, so this only saves later reads the work.
            if let Err(e) = state.store.settle_rollups().await {
                tracing::warn!(error = %e, "rollups: recomputing changed days failed; will retry");
            }
        }
    })
}

/// `GET /healthz`: `ok` only if a response could be stored now: a heartbeat row is written
/// through the writer and committed within two seconds (a read would still succeed on a full
/// or read-only disk), so a load balancer stops sending patients to an instance that would
/// only answer 503, and sends them back once storage recovers.
async fn healthz(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let healthy = tokio::time::timeout(Duration::from_secs(2), state.store.healthy())
        .await
        .unwrap_or(false);
    if healthy {
        "ok".into_response()
    } else {
        api::ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            api::Code::StorageUnavailable,
            "storage cannot commit a write now",
        )
        .into_response()
    }
}

/// Unknown paths under `/api/` get a JSON 404 like every other API rejection.
async fn api_not_found() -> api::ApiError {
    api::ApiError::not_found()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_names_are_recognised() {
        for n in [
            "chorus-63cde26b13.wasm",
            "chorus-63cde26b13.wasm.br",
            "theme-deadbeef.css",
        ] {
            assert!(super::is_hashed_name(n), "{n}");
        }
        for n in [
            "chorus.js",
            "chorus.js.br",
            "manifest.json",
            "chorus-widgets.js",
            "-12345678.js",
        ] {
            assert!(!super::is_hashed_name(n), "{n}");
        }
    }
}
