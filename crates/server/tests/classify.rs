//! Themes, sentiment and flags end to end: comments posted through the API are classified in
//! the background (after redaction) and their tags stored with the words behind them; the
//! comments page shows them; the themes page counts them per theme and month, suppressing
//! small counts; staff corrections change the tag, are audited and kept, and are used for later
//! comments (a phrase removed no longer names the theme, a phrase added does); the review queue
//! lists flagged comments and records who reviewed them. SQLite and, with
//! `CHORUS_TEST_POSTGRES_URL`, PostgreSQL.

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    http::{StatusCode, header},
};
use chorus_server::AppState;
use serde_json::{Value, json};

#[allow(dead_code)]
mod common;

use common::{Backend, TestDb, client::Client, signed_in};

/// A GET of the API with an optional `Origin`: (status, JSON body, headers).
async fn get_json(
    app: &Router,
    uri: &str,
    origin: Option<&str>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().uri(uri);
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    let res = app
        .clone()
        .oneshot(req.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers,
    )
}

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "classify", |config| {
        config.limits.per_ip_per_minute = 10_000;
        config.sites.push(common::other_site(&[]));
    })
    .await
}

async fn submit(app: &Router, locale: &str, why: &str) -> i64 {
    let body = json!({"site": "demo", "service": "outpatients", "response": {
        "instrument": "fft", "version": 1, "locale": locale,
        "idempotency_key": format!("cls-{}", common::rand_suffix()),
        "answers": {"fft": "neither", "why": why}}});
    let (status, v) = common::post_submission(app, &body, None).await;
    assert_eq!(status, StatusCode::CREATED);
    v["id"].as_i64().unwrap()
}

async fn classified(state: &AppState, id: i64) {
    for _ in 0..200 {
        let done = sqlx::query("SELECT 1 FROM comment_classified WHERE response_id = $1")
            .bind(id)
            .fetch_optional(state.store.pool())
            .await
            .unwrap()
            .is_some();
        if done {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("response {id} was not classified within 10 s");
}

/// (theme, sentiment, source, state) of one response.
async fn tags(state: &AppState, id: i64) -> Vec<(String, String, String, String)> {
    common::rows(
        state,
        "SELECT theme, sentiment, source, state FROM comment_themes WHERE response_id = $1 ORDER BY theme",
        &[id.into()],
    )
    .await
}

fn t(theme: &str, sentiment: &str, source: &str) -> (String, String, String, String) {
    (
        theme.into(),
        sentiment.into(),
        source.into(),
        "active".into(),
    )
}

async fn comments_are_tagged_with_the_words_behind_each_tag(app: Router, state: Arc<AppState>) {
    let id = submit(
        &app,
        "en",
        "The food was cold but the nurses were lovely. Call 07700 900123.",
    )
    .await;
    let cy = submit(&app, "cy", "Doedd y staff ddim yn gyfeillgar o gwbl.").await;
    classified(&state, id).await;
    classified(&state, cy).await;
    assert_eq!(
        tags(&state, id).await,
        [
            t("food", "negative", "auto"),
            t("staff attitude", "positive", "auto")
        ]
    );
    assert_eq!(
        tags(&state, cy).await,
        [t("staff attitude", "negative", "auto")]
    );
    let ev: String = common::value(
        &state,
        "SELECT evidence FROM comment_themes WHERE response_id = $1 AND theme = 'food'",
        &[id.into()],
    )
    .await;
    let ev: Value = serde_json::from_str(&ev).unwrap();
    assert_eq!(ev["cues"][0]["text"], "food");
    assert_eq!(ev["cues"][0]["item"], "why");
    assert_eq!(ev["sentiment_words"][0]["text"], "cold");
    assert_eq!(ev["sentiment_words"][0]["why"], "negative");
    // Classified after redaction: no trace of the phone number anywhere in the tags.
    let all: Vec<String> = common::column(&state, "SELECT evidence FROM comment_themes", &[]).await;
    assert!(all.iter().all(|e| !e.contains("07700")));

    let mut c = signed_in(&app, &state, "analyst@trust.nhs.uk", "demo", "analyst").await;
    let page = c.get("/dashboard/comments?site=demo").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<strong>food</strong> – negative"),
        "{}",
        page.body
    );
    assert!(page.body.contains("because of \u{201c}food\u{201d}"));
    assert!(page.body.contains("negative from \u{201c}cold\u{201d}"));
    assert!(page.body.contains("because of \u{201c}staff\u{201d}"));
    // A viewer may not read the themes page.
    let mut v = signed_in(&app, &state, "viewer@trust.nhs.uk", "demo", "viewer").await;
    assert_eq!(
        v.get("/dashboard/themes?site=demo").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn the_themes_page_counts_each_theme_and_suppresses_small_counts(
    app: Router,
    state: Arc<AppState>,
) {
    let mut ids = Vec::new();
    for why in [
        "The food was awful.",
        "Lovely food.",
        "Cold food again.",
        "The food was inedible.",
        "Food was fine but late.",
        "Great food and kind staff.",
        "Parking was impossible.",
    ] {
        ids.push(submit(&app, "en", why).await);
    }
    for id in &ids {
        classified(&state, *id).await;
    }
    let mut c = signed_in(&app, &state, "a@trust.nhs.uk", "demo", "analyst").await;
    let page = c.get("/dashboard/themes?site=demo&theme=food").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let b = &page.body;
    assert!(b.contains("<svg id=\"themes-chart\""), "{b}");
    assert!(b.contains("<svg id=\"theme-trend\""));
    assert!(b.contains("7 comments with free text"), "{b}");
    // food: 6 comments, 2 positive ("Lovely", "Great"), 4 negative: 4 is below 5, so "*".
    let row = |name: &str| {
        let at = b
            .find(&format!(">{name}</a></th>"))
            .unwrap_or_else(|| panic!("no row for {name}"));
        b[at..at + b[at..].find("</tr>").unwrap()].to_string()
    };
    let food = row("food");
    assert!(food.contains("<td>6</td>"), "{food}");
    assert!(
        !food.contains("<td>4</td>") && !food.contains("<td>2</td>"),
        "small counts are suppressed: {food}"
    );
    let parking = row("parking");
    assert!(!parking.contains("<td>1</td>"), "{parking}");
    // The trend table: one month, 7 comments, 6 mentioning food.
    assert!(b.contains("food by month"));
}

async fn staff_corrections_are_kept_audited_and_used_for_later_comments(
    app: Router,
    state: Arc<AppState>,
) {
    let id = submit(&app, "en", "Her talk gave me food for thought.").await;
    classified(&state, id).await;
    assert_eq!(tags(&state, id).await, [t("food", "neutral", "auto")]);
    let mut c = signed_in(&app, &state, "fix@trust.nhs.uk", "demo", "analyst").await;
    let csrf = c.get("/dashboard/comments?site=demo").await.csrf();
    let url = format!("/dashboard/comments/{id}/themes");
    // A phrase that is not in the comment is refused.
    let p = c
        .form(
            &url,
            &csrf,
            &[
                ("action", "remove"),
                ("theme", "food"),
                ("phrase", "tasty soup"),
            ],
        )
        .await
        .want(StatusCode::BAD_REQUEST);
    assert!(p.body.contains("words of this comment"));
    // Without the session's token, nothing changes; then a tag removed, one added, and a
    // theme there is none of refused.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], StatusCode);
    let cases: [Case; 4] = [
        (
            "nope",
            &[("action", "remove"), ("theme", "food")],
            StatusCode::FORBIDDEN,
        ),
        (
            &csrf,
            &[
                ("action", "remove"),
                ("theme", "food"),
                ("phrase", "Food for thought"),
            ],
            StatusCode::SEE_OTHER,
        ),
        (
            &csrf,
            &[
                ("action", "add"),
                ("theme", "communication"),
                ("sentiment", "positive"),
                ("phrase", "her talk"),
            ],
            StatusCode::SEE_OTHER,
        ),
        (
            &csrf,
            &[
                ("action", "add"),
                ("theme", "no such theme"),
                ("sentiment", "positive"),
            ],
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (token, fields, want) in cases {
        c.form(&url, token, fields).await.want(want);
    }
    // Kept: the removed tag stays, marked, beside the staff's own.
    assert_eq!(
        tags(&state, id).await,
        [
            t("communication", "positive", "staff"),
            (
                "food".into(),
                "neutral".into(),
                "staff".into(),
                "removed".into()
            )
        ]
    );
    let page = c.get("/dashboard/comments?site=demo").await;
    assert!(
        page.body.contains("Removed by staff: food"),
        "{}",
        page.body
    );
    assert!(page.body.contains("(set by staff)"));
    // Audited.
    let audit: Vec<(String, String)> = common::rows(
        &state,
        "SELECT action, detail FROM audit_log WHERE action LIKE 'theme_%' ORDER BY id",
        &[],
    )
    .await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0].0, "theme_removed");
    assert!(audit[0].1.contains("food for thought"), "{audit:?}");
    assert_eq!(audit[1].0, "theme_added");
    let kept: i64 = common::value(
        &state,
        "SELECT COUNT(*) FROM theme_corrections WHERE site = 'demo' AND actor = 'fix@trust.nhs.uk'",
        &[],
    )
    .await;
    assert_eq!(kept, 2);
    // Used as examples: a later comment with the same words.
    let later = submit(
        &app,
        "en",
        "Her talk was food for thought, and the food was good.",
    )
    .await;
    classified(&state, later).await;
    let got = tags(&state, later).await;
    assert_eq!(
        got,
        [
            t("communication", "neutral", "auto"),
            t("food", "positive", "auto")
        ],
        "{got:?}"
    );
    let ev: String = common::value(
        &state,
        "SELECT evidence FROM comment_themes WHERE response_id = $1 AND theme = 'food'",
        &[later.into()],
    )
    .await;
    let ev: Value = serde_json::from_str(&ev).unwrap();
    assert_eq!(
        ev["cues"].as_array().unwrap().len(),
        1,
        "only the second 'food' counts: {ev}"
    );
    let ev: String = common::value(
        &state,
        "SELECT evidence FROM comment_themes WHERE response_id = $1 AND theme = 'communication'",
        &[later.into()],
    )
    .await;
    assert!(ev.contains("staff cue"), "{ev}");
    // Someone with no role on the comment's site gets the same answer as for no comment.
    let mut other = signed_in(&app, &state, "other@trust.nhs.uk", "other", "analyst").await;
    let oc = other.get("/dashboard/comments?site=other").await.csrf();
    other
        .form(
            &url,
            &oc,
            &[("action", "remove"), ("theme", "communication")],
        )
        .await
        .want(StatusCode::NOT_FOUND);
}

async fn flagged_comments_wait_in_the_review_queue_until_reviewed(
    app: Router,
    state: Arc<AppState>,
) {
    let id = submit(
        &app,
        "en",
        "I told the nurse I wanted to end my life and nobody came back.",
    )
    .await;
    let calm = submit(&app, "en", "No complaints, all good.").await;
    classified(&state, id).await;
    classified(&state, calm).await;
    let reference = chorus_server::reference::from_id(id);
    let mut c = signed_in(&app, &state, "rev@trust.nhs.uk", "demo", "analyst").await;
    let page = c.get("/dashboard/review?site=demo").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("id=\"{reference}\"")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<mark>end my life</mark>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("self-harm"));
    assert!(page.body.contains("Not reviewed yet."));
    assert!(
        !page.body.contains(&chorus_server::reference::from_id(calm)),
        "no flag for 'No complaints'"
    );
    let csrf = page.csrf();
    c.form(
        &format!("/dashboard/review/{id}"),
        &csrf,
        &[("outcome", "made up")],
    )
    .await
    .want(StatusCode::BAD_REQUEST);
    let p = c
        .post(
            &format!("/dashboard/review/{calm}"),
            &[("csrf", &csrf), ("outcome", "no concern")],
        )
        .await;
    assert_eq!(
        p.status,
        StatusCode::NOT_FOUND,
        "a comment with no flag cannot be reviewed"
    );
    c.form(
        &format!("/dashboard/review/{id}"),
        &csrf,
        &[("outcome", "safeguarding referral made")],
    )
    .await
    .want(StatusCode::SEE_OTHER);
    let open = c.get("/dashboard/review?site=demo").await;
    assert!(!open.body.contains(&format!("id=\"{reference}\"")));
    let done = c.get("/dashboard/review?site=demo&status=reviewed").await;
    assert!(done.body.contains("by rev@trust.nhs.uk"), "{}", done.body);
    assert!(done.body.contains("safeguarding referral made"));
    let audited: i64 = common::value(&state, "SELECT COUNT(*) FROM audit_log WHERE action = 'flag_reviewed' AND actor = 'rev@trust.nhs.uk'", &[]).await;
    assert_eq!(audited, 1);
    let mut other = signed_in(&app, &state, "o@trust.nhs.uk", "other", "analyst").await;
    assert_eq!(
        other.get("/dashboard/review?site=demo").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn comments_stored_before_the_worker_ran_are_caught_up(app: Router, state: Arc<AppState>) {
    // Rows written straight to the table (as by an older version, or while the worker was
    // stopped) are read by the catch-up pass.
    let id = submit(&app, "en", "Parking was a nightmare.").await;
    classified(&state, id).await;
    common::exec(&state, "DELETE FROM comment_classified", &[]).await;
    common::exec(&state, "DELETE FROM comment_themes", &[]).await;
    // The in-memory mark says it was read: a fresh state (a restart) reads it again.
    let n = {
        let fresh = Arc::new(AppState::new(
            state.store.clone(),
            chorus_server::config::Config::demo(),
        ));
        chorus_server::classify::classify_pending(&fresh, 100)
            .await
            .unwrap()
    };
    assert_eq!(n, 1);
    assert_eq!(tags(&state, id).await, [t("parking", "negative", "auto")]);
}

async fn you_said_we_did_is_published_with_suppressed_figures_and_no_comments(
    app: Router,
    state: Arc<AppState>,
) {
    let mut last = 0;
    for (i, why) in [
        "The food was lovely, near the zebra crossing.",
        "Delicious food, and served quickly.",
        "Tasty food and kind staff.",
        "Food was great.",
        "The food was cold.",
        "Good food.",
        "Parking was hard.",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"site": "demo", "service": "ward-7", "response": {
            "instrument": "fft", "version": 1, "locale": "en",
            "idempotency_key": format!("pub-{i}-{}", common::rand_suffix()),
            "answers": {"fft": if i < 5 { "very_good" } else { "poor" }, "why": why}}});
        let (status, v) = common::post_submission(&app, &body, None).await;
        assert_eq!(status, StatusCode::CREATED);
        last = v["id"].as_i64().unwrap();
    }
    classified(&state, last).await;
    let mut c = signed_in(&app, &state, "act@trust.nhs.uk", "demo", "analyst").await;
    let page = c.get("/dashboard/actions?site=demo").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let form = |you: &'static str, did: &'static str, done: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("service", "ward-7".to_string()),
            ("theme", "food".to_string()),
            ("you_said", you.to_string()),
            ("we_did", did.to_string()),
            ("status", "in progress".to_string()),
            ("started_on", "2026-01-05".to_string()),
            ("done_on", done.to_string()),
        ]
    };
    let post = async |c: &mut Client, f: Vec<(&str, String)>| {
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.post("/dashboard/actions?site=demo", &f).await
    };
    let p = post(
        &mut c,
        form("Meals were cold", "Call Jo on 07700 900123", ""),
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("personal details"), "{}", p.body);
    let p = post(
        &mut c,
        form("Meals were cold", "New heated trolleys", "2026-02-31"),
    )
    .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    let p = post(
        &mut c,
        form(
            "Meals arrived cold on ward 7",
            "We bought heated trolleys and moved the serving point",
            "",
        ),
    )
    .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    let id: i64 = common::value(&state, "SELECT id FROM actions WHERE site = 'demo'", &[]).await;
    c.form(
        &format!("/dashboard/actions/{id}"),
        &csrf,
        &[("status", "done"), ("done_on", "2026-03-01")],
    )
    .await
    .want(StatusCode::SEE_OTHER);
    // The public page, with no sign-in.
    let mut public = Client::new(&app);
    let page = public.get("/results/demo").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let b = &page.body;
    assert!(
        b.contains("We bought heated trolleys and moved the serving point"),
        "{b}"
    );
    assert!(b.contains("Status: done") && b.contains("Done 2026-03-01"));
    assert!(b.contains("<svg id=\"results-fft\""));
    // 5 of 7 good or very good: 71.4%, published; the total is 7.
    assert!(b.contains("71.4%"), "{b}");
    // food: 6 comments (5 positive; the 1 negative is suppressed); parking (1) is left out.
    let food = &b[b.find(">food</th>").expect("food row")..];
    let food = &food[..food.find("</tr>").unwrap()];
    assert!(
        food.contains("<td>6</td>") && food.contains("83.3%"),
        "{food}"
    );
    assert!(!b.contains(">parking</th>"));
    // No patient's words.
    for s in ["zebra", "served quickly", "Parking was hard"] {
        assert!(!b.contains(s), "the public page shows {s:?}");
    }
    assert_eq!(
        public.get("/results/nope").await.status,
        StatusCode::NOT_FOUND
    );
    // The same figures as JSON for <chorus-results service="ward-7">, under the API's CORS
    // (an allowed page's origin is answered) and policy.
    let (status, v, h) = get_json(
        &app,
        "/api/v1/results/demo?service=ward-7",
        Some("http://127.0.0.1:8123"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://127.0.0.1:8123"
    );
    assert!(
        h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(v["service"], "ward-7");
    let months = v["months"].as_array().unwrap();
    assert_eq!(months.len(), 1, "{v}");
    assert_eq!(months[0]["responses"], "7");
    assert_eq!(months[0]["positive"]["percent"], "71.4");
    assert!(months[0]["positive"]["low"].is_string() && months[0]["positive"]["high"].is_string());
    let themes = v["themes"].as_array().unwrap();
    let food = themes.iter().find(|t| t["theme"] == "food").expect("food");
    assert_eq!(food["comments"], "6");
    assert_eq!(food["positive"]["percent"], "83.3");
    // Suppressed exactly as the page shows it: a star, and no interval to work it out from.
    assert_eq!(food["negative"], json!({"percent": "*"}));
    assert!(themes.iter().all(|t| t["theme"] != "parking"), "{v}");
    let actions = v["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(
        actions[0]["we_did"],
        "We bought heated trolleys and moved the serving point"
    );
    assert_eq!(actions[0]["status"], "done");
    let text = v.to_string();
    for s in ["zebra", "served quickly", "Parking was hard"] {
        assert!(!text.contains(s), "the results JSON shows {s:?}");
    }
    // Another service: none of ward 7's figures or actions.
    let (status, v, _) = get_json(&app, "/api/v1/results/demo?service=ward-9", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["months"], json!([]));
    assert_eq!(v["actions"], json!([]));
    // Bad input: a clear error.
    let (status, v, _) = get_json(&app, "/api/v1/results/nope", None).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_site"))
    );
    let (status, v, _) = get_json(&app, "/api/v1/results/demo?service=07700%20900123", None).await;
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_service"))
    );
    let audited: i64 = common::value(
        &state,
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('action_added', 'action_updated')",
        &[],
    )
    .await;
    assert_eq!(audited, 2);
}

on_both!(
    2;
    you_said_we_did_is_published_with_suppressed_figures_and_no_comments,
    comments_are_tagged_with_the_words_behind_each_tag,
    the_themes_page_counts_each_theme_and_suppresses_small_counts,
    staff_corrections_are_kept_audited_and_used_for_later_comments,
    flagged_comments_wait_in_the_review_queue_until_reviewed,
    comments_stored_before_the_worker_ran_are_caught_up,
);
