//! Staff search the comments: every word, other forms of it ("park" finds "parking"), Welsh
//! as written, only the site they chose, never query syntax from what they typed; a withdrawn
//! response is not found; responses stored before search existed are found once the server
//! has indexed them. SQLite and, with `CHORUS_TEST_POSTGRES_URL`, PostgreSQL.

use std::sync::Arc;

use axum::{Router, http::StatusCode};
use chorus_server::{AppState, users};
use serde_json::json;

#[allow(dead_code)]
mod common;

use common::{Backend, TestDb, client::Client};

const PASSWORD: &str = "correct horse battery staple 42";

async fn app_on(backend: Backend) -> Option<(Router, Arc<AppState>, TestDb)> {
    common::app_with(backend, "search", |config| {
        config.limits.per_ip_per_minute = 10_000;
        config.sites.push(common::other_site(&[]));
    })
    .await
}

async fn submit(app: &Router, site: &str, locale: &str, why: &str) -> i64 {
    let body = json!({"site": site, "response": {
        "instrument": "fft", "version": 1, "locale": locale,
        "idempotency_key": format!("search-{}", common::rand_suffix()),
        "answers": {"fft": "neither", "why": why}}});
    let (status, v) = common::post_submission(app, &body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// The comments page for `q` on the demo site: its status and body.
async fn search(c: &mut Client, q: &str) -> (StatusCode, String) {
    let p = c
        .get(&format!(
            "/dashboard/comments?site=demo&q={}",
            q.replace(' ', "+").replace('"', "%22").replace('*', "%2A")
        ))
        .await;
    (p.status, p.body)
}

const PARKING: &str = "The parking was impossible and cost a fortune.";
const RUDE: &str = "One of the staff was rude to my mum at the desk.";
const KIND: &str = "Lovely nurses, kind and calm.";
const WELSH: &str = "Roedd y parcio yn anodd iawn.";
const ELSEWHERE: &str = "Parking at the other trust is fine.";

async fn staff_find_comments_by_their_words(app: Router, state: Arc<AppState>) {
    let parking = submit(&app, "demo", "en", PARKING).await;
    let rude = submit(&app, "demo", "en", RUDE).await;
    submit(&app, "demo", "en", KIND).await;
    submit(&app, "demo", "cy", WELSH).await;
    submit(&app, "other", "en", ELSEWHERE).await;
    users::add(
        &state.store,
        "analyst@example.nhs.uk",
        PASSWORD,
        "demo",
        "analyst",
    )
    .await
    .unwrap();
    let mut c = Client::new(&app);
    assert_eq!(
        c.sign_in("analyst@example.nhs.uk", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // Other forms of a word; only the chosen site.
    let (status, page) = search(&mut c, "park").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(PARKING), "\"park\" finds \"parking\"");
    assert!(!page.contains(RUDE) && !page.contains(KIND));
    assert!(
        !page.contains(ELSEWHERE),
        "another site's comment is not found"
    );
    // Every word must be there.
    let (_, page) = search(&mut c, "rude staff").await;
    assert!(page.contains(RUDE) && !page.contains(PARKING));
    let (_, page) = search(&mut c, "rude parking").await;
    assert!(!page.contains(RUDE) && !page.contains(PARKING));
    // Welsh, as written.
    let (_, page) = search(&mut c, "parcio").await;
    assert!(page.contains(WELSH), "a Welsh word is found");
    // What staff type is never query syntax: quotes, stars, NEAR and a column name.
    for odd in ["\"rude", "rude*", "NEAR rude", "body:rude", "rude OR kind"] {
        let (status, page) = search(&mut c, odd).await;
        assert_eq!(status, StatusCode::OK, "{odd}: {page}");
    }
    let (_, page) = search(&mut c, "rude OR kind").await;
    assert!(
        !page.contains(KIND),
        "OR is a word to look for, not an operator"
    );
    // Nothing to look for: said plainly.
    let (status, page) = search(&mut c, "**").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Enter a word to search for"), "{page}");

    // Withdrawn: gone from the search too (in the same transaction as the deletion).
    assert!(state.store.delete_response(rude).await.unwrap());
    let (_, page) = search(&mut c, "rude").await;
    assert!(!page.contains(RUDE), "a withdrawn comment is not found");

    // Stored before search existed: found once indexed. (Its index entry is removed and the
    // backfill mark set back, as migration 0012 leaves a database that already had it.)
    let sqlite = state.store.pool().connect_options().database_url.scheme() == "sqlite";
    let unindex = if sqlite {
        "DELETE FROM comment_search WHERE rowid = $1"
    } else {
        "DELETE FROM comment_search WHERE response_id = $1"
    };
    sqlx::query(unindex)
        .bind(parking)
        .execute(state.store.pool())
        .await
        .unwrap();
    let (_, page) = search(&mut c, "parking").await;
    assert!(!page.contains(PARKING), "not indexed: not found");
    common::exec(
        &state,
        "UPDATE comment_search_backfill SET indexed_to = 0, upto = (SELECT MAX(id) FROM responses)",
        &[],
    )
    .await;
    // Only the unindexed response is indexed: the others are left as they are.
    let read = state
        .store
        .backfill_search(|instrument, answers| {
            let text = chorus_server::classify::search_text(&state, instrument, answers)?;
            text.contains("parking").then_some(text)
        })
        .await
        .unwrap();
    assert_eq!(
        read, 4,
        "each response still stored up to the mark was read once"
    );
    let (_, page) = search(&mut c, "parking").await;
    assert!(page.contains(PARKING), "indexed by the backfill: found");
    assert_eq!(
        state.store.backfill_search(|_, _| None).await.unwrap(),
        0,
        "nothing left to do"
    );
}

on_both!(2; staff_find_comments_by_their_words);
