//! Hosted form pages and posters (issue 18): the page a link or QR code leads to, its
//! refusals, and a poster whose QR code a real decoder reads back as that page's address.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use chorus_server::{AppState, Paths, router, store::Store};
use http_body_util::BodyExt;
use tower::ServiceExt;

mod common;

use common::{Backend, TestDb};

async fn app(public_url: Option<&str>) -> (Router, Arc<AppState>, TestDb) {
    let db = TestDb::new(Backend::Sqlite, "chan").await.unwrap();
    let store = Store::open(&db.url).await.unwrap();
    let mut config = chorus_server::config::Config::demo();
    config.public_url = public_url.map(str::to_string);
    config.sites.push(chorus_server::config::Site {
        id: "practice".into(),
        name: "Riverside Surgery".into(),
        origins: vec![],
        services: vec!["gp".into()],
        instruments: vec!["fft".into(), "i-statements".into()],
        retention_days: 30,
        withdraw_days: 30,
        org_code: "P1".into(),
        site_code: "P1".into(),
    });
    let state = Arc::new(AppState::new(store, config));
    std::fs::create_dir_all(db.dir.join("www")).unwrap();
    let paths = Paths {
        pkg_dir: db.dir.join("pkg"),
        www_dir: db.dir.join("www"),
    };
    (router(state.clone(), paths), state, db)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header(header::HOST, "feedback.test:8080")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn the_hosted_page_carries_the_widget_under_the_strict_policy() {
    let (app, state, db) = app(None).await;
    let (status, headers, body) = get(&app, "/f/practice/gp?mode=sms").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert!(headers.get(header::SET_COOKIE).is_none(), "no cookies");
    assert!(
        body.contains(r#"<script src="/embed/chorus.js" defer>"#),
        "{body}"
    );
    assert!(
        body.contains(
            r#"<chorus-fft site="practice" service="gp" instrument="fft" mode="sms" locale="en">"#
        ),
        "{body}"
    );
    assert!(body.contains("Riverside Surgery"));
    // No inline script or style: the policy would block it, so the page must not need it.
    assert!(
        !body.contains("<script>") && !body.contains("style="),
        "{body}"
    );
    // The Welsh link keeps the mode and the service.
    assert!(
        body.contains(r#"href="/f/practice/gp?mode=sms&amp;lang=cy""#),
        "{body}"
    );

    let (status, _, body) = get(&app, "/f/practice/gp?lang=cy&instrument=i-statements").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"<html lang="cy">"#), "{body}");
    assert!(body.contains("Dywedwch wrthym am eich gofal"));
    assert!(
        body.contains(r#"<chorus-form site="practice" service="gp" instrument="i-statements" mode="online" locale="cy">"#),
        "{body}"
    );
    db.remove(state).await;
}

#[tokio::test]
async fn a_link_that_cannot_work_says_so_plainly() {
    let (app, state, db) = app(None).await;
    for (uri, status, words) in [
        ("/f/nowhere/gp", StatusCode::NOT_FOUND, "organisation"),
        ("/f/practice/maternity", StatusCode::NOT_FOUND, "service"),
        (
            "/f/practice/gp?instrument=sure",
            StatusCode::NOT_FOUND,
            "questions",
        ),
        (
            "/f/practice/gp?instrument=no-such",
            StatusCode::NOT_FOUND,
            "questions",
        ),
        (
            "/f/practice/gp?mode=carrier-pigeon",
            StatusCode::BAD_REQUEST,
            "recognise",
        ),
        (
            "/f/practice/gp?lang=xx",
            StatusCode::BAD_REQUEST,
            "language",
        ),
        (
            "/f/practice/gp/poster?mode=bogus",
            StatusCode::BAD_REQUEST,
            "recognise",
        ),
    ] {
        let (got, headers, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}: {body}");
        assert!(body.contains(words), "{uri}: {body}");
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{uri}"
        );
    }
    db.remove(state).await;
}

/// Rasterise the poster's SVG (one `<rect>` per dark module, as served) and decode it.
fn decode_qr(svg: &str) -> String {
    let start = svg.find("<svg").expect("an svg");
    let svg = &svg[start..svg[start..].find("</svg>").unwrap() + start];
    let view = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let size: usize = view.split(' ').next().unwrap().parse().unwrap();
    let mut dark = vec![false; size * size];
    for rect in svg.split("<rect x=\"").skip(1) {
        let x: usize = rect.split('"').next().unwrap().parse().unwrap();
        let y: usize = rect
            .split("y=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        dark[y * size + x] = true;
    }
    const PX: usize = 6;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(size * PX, size * PX, |x, y| {
        if dark[(y / PX) * size + x / PX] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().expect("decodes").1
}

#[tokio::test]
async fn the_posters_qr_code_decodes_to_its_hosted_page() {
    let (app, state, db) = app(Some("https://feedback.example-trust.nhs.uk/")).await;
    let (status, headers, body) = get(&app, "/f/practice/gp/poster").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let target = decode_qr(&body);
    assert_eq!(
        target,
        "https://feedback.example-trust.nhs.uk/f/practice/gp?mode=qr"
    );
    // The address printed for typing is the short one (a typed visit counts as online).
    assert!(
        body.contains("https://feedback.example-trust.nhs.uk/f/practice/gp</strong>"),
        "{body}"
    );
    assert!(body.contains(chorus_core::FFT_QUESTION_EN));
    // And the page it names is served.
    let (status, _, page) = get(&app, "/f/practice/gp?mode=qr").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"mode="qr""#));

    // Welsh poster, and the QR code alone; without public_url the request's host is used.
    let (status, _, body) = get(&app, "/f/practice/gp/poster?lang=cy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#"<html lang="cy">"#));
    assert_eq!(
        decode_qr(&body),
        "https://feedback.example-trust.nhs.uk/f/practice/gp?mode=qr&lang=cy"
    );
    db.remove(state).await;

    let (app, state, db) = app_without_url().await;
    let (status, headers, svg) = get(&app, "/f/practice/gp/qr.svg").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert_eq!(
        decode_qr(&svg),
        "http://feedback.test:8080/f/practice/gp?mode=qr"
    );
    db.remove(state).await;
}

async fn app_without_url() -> (Router, Arc<AppState>, TestDb) {
    app(None).await
}
