//! The preload hint on `chorus.js`: a `Link` header naming the hashed wasm module the bundle's
//! manifest names, so a browser that acts on it can fetch the module alongside the script.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::{AppState, router, store::Store};
use tower::ServiceExt;

#[allow(dead_code)] // only its stand-in bundle is used here
mod common;

async fn get(app: &Router, uri: &str, accept_encoding: &str) -> axum::response::Response {
    let req = Request::get(uri)
        .header(header::ACCEPT_ENCODING, accept_encoding)
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap()
}

fn link(res: &axum::response::Response) -> Option<&str> {
    res.headers().get(header::LINK).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn chorus_js_names_the_manifest_wasm_module_for_preloading() {
    // The header does not depend on the database: one SQLite file in a directory of its own.
    let dir = std::env::temp_dir().join(format!(
        "chorus-preload-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap();
    let state = Arc::new(AppState::new(store, chorus_server::config::Config::demo()));
    let paths = common::stand_in_bundle(
        &dir,
        &[
            ("chorus.js", b"console.log('chorus')"),
            ("chorus.js.br", b"brotli bytes"),
            ("chorus-0123456789.wasm", b"\0asm\x01\0\0\0"),
            ("chorus-abcdef0123.wasm", b"\0asm\x01\0\0\0"),
        ],
    );
    let pkg_dir = paths.pkg_dir.clone();
    let manifest = |wasm: &str| {
        let m = serde_json::json!({"entry": "chorus.js", "wasm": wasm, "files": []});
        std::fs::write(pkg_dir.join("manifest.json"), m.to_string()).unwrap();
    };
    let app = router(state.clone(), paths);

    // Without a manifest there is nothing to name, and the script is served as ever.
    let res = get(&app, "/embed/chorus.js", "identity").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(link(&res), None);

    manifest("chorus-0123456789.wasm");
    let want = "<chorus-0123456789.wasm>; rel=preload; as=fetch; crossorigin";
    for encoding in ["identity", "gzip, deflate, br"] {
        let res = get(&app, "/embed/chorus.js", encoding).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(link(&res), Some(want), "Accept-Encoding: {encoding}");
    }
    // Only the entry script carries it: not the module itself, not the manifest, not a 404.
    for uri in [
        "/embed/chorus-0123456789.wasm",
        "/embed/manifest.json",
        "/embed/missing.js",
        "/",
    ] {
        assert_eq!(link(&get(&app, uri, "identity").await), None, "{uri}");
    }

    // A new bundle on disk: the hint follows the manifest at once, with no restart.
    manifest("chorus-abcdef0123.wasm");
    assert_eq!(
        link(&get(&app, "/embed/chorus.js", "br").await),
        Some("<chorus-abcdef0123.wasm>; rel=preload; as=fetch; crossorigin")
    );

    // A manifest naming anything but a plain hashed file is not copied into a header.
    for bad in [
        "chorus-0123456789.wasm>; rel=stylesheet, <https://evil.example/x",
        "../chorus-0123456789.wasm",
        "chorus.wasm",
    ] {
        manifest(bad);
        let res = get(&app, "/embed/chorus.js", "identity").await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(link(&res), None, "manifest wasm {bad:?}");
    }
    std::fs::write(pkg_dir.join("manifest.json"), "not json").unwrap();
    assert_eq!(link(&get(&app, "/embed/chorus.js", "identity").await), None);
    drop(app);
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}
