//! chorus-server: HTTP routes for the collector, the embed bundle and the demo site.

use std::path::PathBuf;

use axum::{Router, routing::get};
use tower_http::services::ServeDir;

/// Where the server finds the files it serves.
#[derive(Clone, Debug)]
pub struct Paths {
    /// Built embed bundle (`cargo xtask dist` output).
    pub pkg_dir: PathBuf,
    /// Demo site and docs.
    pub www_dir: PathBuf,
}

/// Build the application router.
pub fn router(paths: Paths) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest_service("/embed", ServeDir::new(&paths.pkg_dir))
        .fallback_service(ServeDir::new(&paths.www_dir))
}
