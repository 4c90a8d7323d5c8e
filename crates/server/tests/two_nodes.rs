//! Two `chorus serve` processes on one PostgreSQL database, as behind a load balancer, must
//! behave as one server:
//!
//! - both start at once on an empty database, and the schema is migrated once (sqlx holds a
//!   PostgreSQL advisory lock while it migrates);
//! - the same response raced at both nodes is stored once, and both senders get the same
//!   receipt (one 201, one 200 replay); with many raced at once neither node's group commit
//!   fails (each batch inserts in key order, so two nodes cannot deadlock on each other's rows);
//! - a staff session made on one node is valid on the other, and signing out on one ends it
//!   on both (sessions live in the database, not in a node's memory).
//!
//! Skipped (with a printed reason) without `CHORUS_TEST_POSTGRES_URL`.

use std::{collections::BTreeMap, io::Write, path::PathBuf};

#[allow(dead_code)] // the database and process helpers only
mod common;
use common::{Backend, TestDb};

const CONFIG: &str = "[[sites]]\nid = \"demo\"\n[limits]\nper_ip_per_minute = 100000000\nper_site_per_minute = 100000000\n# Every request here comes from 127.0.0.1.\nmax_connections_per_ip = 0\n";
const EMAIL: &str = "two.nodes@example-trust.nhs.uk";
const PASSWORD: &str = "a long password for two nodes";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("chorus-two-nodes-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The CSRF token in a sign-in or dashboard page.
fn csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\"").expect("a CSRF field");
    let tag = &page[page[..at].rfind('<').unwrap()..];
    let value = tag
        .split("value=\"")
        .nth(1)
        .expect("a value")
        .split('"')
        .next();
    value.unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_behave_as_one() {
    let Some(db) = TestDb::new(Backend::Postgres, "two-nodes").await else {
        return;
    };
    let (dir_a, dir_b) = (dir("a"), dir("b"));
    // Both at once, on the empty schema.
    let start = |d: PathBuf| {
        let url = db.url.clone();
        std::thread::spawn(move || common::serve_process(&url, &d, CONFIG))
    };
    let (a, b) = (start(dir_a.clone()), start(dir_b.clone()));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    let (server_a, at_a) = a.unwrap_or_else(|log| panic!("node A did not start:\n{log}"));
    let (server_b, at_b) = b.unwrap_or_else(|log| panic!("node B did not start:\n{log}"));
    let (a, b) = (format!("http://{at_a}"), format!("http://{at_b}"));

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let migrations: i64 = common::value(
        &pool,
        "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE",
        &[],
    )
    .await;
    let expected = chorus_server::store::migrator(false).iter().count() as i64;
    assert_eq!(migrations, expected, "each migration applied once");

    // The same responses raced at both nodes, all at once.
    let http = reqwest::Client::new();
    let keys = 300;
    let mut races = Vec::new();
    for i in 0..keys {
        let body = serde_json::json!({"site": "demo", "service": "ward-3", "response": {
            "instrument": "fft", "version": 1, "locale": "en",
            "idempotency_key": format!("two-nodes-{i:05}"),
            "answers": {"fft": "good"}}});
        // Alternate which node is asked first, so each node's batches meet the other's keys
        // in every order.
        let nodes = if i % 2 == 0 {
            [a.clone(), b.clone()]
        } else {
            [b.clone(), a.clone()]
        };
        for node in nodes {
            let (http, body) = (http.clone(), body.clone());
            races.push(tokio::spawn(async move {
                let r = http
                    .post(format!("{node}/api/v1/responses"))
                    .json(&body)
                    .send()
                    .await
                    .expect("an answer");
                let status = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap_or_default();
                (i, status, v)
            }));
        }
    }
    let mut by_key: BTreeMap<usize, Vec<(u16, serde_json::Value)>> = BTreeMap::new();
    for r in races {
        let (i, status, v) = r.await.unwrap();
        by_key.entry(i).or_default().push((status, v));
    }
    let mut problems = Vec::new();
    for (i, answers) in &by_key {
        let mut statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
        statuses.sort();
        if statuses != [200, 201] {
            problems.push(format!(
                "key {i}: answered {statuses:?}, not one 201 and one 200"
            ));
            continue;
        }
        let receipts: Vec<(&serde_json::Value, &serde_json::Value)> = answers
            .iter()
            .map(|(_, v)| (&v["id"], &v["reference"]))
            .collect();
        if receipts[0] != receipts[1] {
            problems.push(format!("key {i}: two receipts {receipts:?}"));
        }
    }
    let rows: Vec<(String, i64)> = common::rows(
        &pool,
        "SELECT idempotency_key, COUNT(*) FROM responses GROUP BY idempotency_key ORDER BY 1",
        &[],
    )
    .await;
    if rows.len() != keys || rows.iter().any(|(_, n)| *n != 1) {
        problems.push(format!(
            "{} keys stored, {} more than once",
            rows.len(),
            rows.iter().filter(|(_, n)| *n != 1).count()
        ));
    }
    let _ = writeln!(
        std::io::stderr(),
        "two nodes: {} responses raced at both nodes, {} problems",
        keys,
        problems.len()
    );
    problems.truncate(10);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // A staff account (made with the CLI), signed in on node A.
    let mut add = std::process::Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args([
            "user", "add", "--email", EMAIL, "--site", "demo", "--role", "admin",
        ])
        .env("DATABASE_URL", &db.url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(add.wait().unwrap().success(), "chorus user add");
    let staff = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = staff
        .get(format!("{a}/dashboard/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let signed_in = staff
        .post(format!("{a}/dashboard/login"))
        .form(&[
            ("csrf", csrf(&login).as_str()),
            ("email", EMAIL),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "signed in on node A");
    // The cookie jar sends the session to node B too (same host, another port).
    let on_b = staff.get(format!("{b}/dashboard")).send().await.unwrap();
    assert_eq!(
        on_b.status(),
        200,
        "the session from node A is valid on node B"
    );
    let page = on_b.text().await.unwrap();
    assert!(page.contains(EMAIL), "node B knows who is signed in");
    // Sign out on node B: the session ends on node A too.
    let out = staff
        .post(format!("{b}/dashboard/logout"))
        .form(&[("csrf", csrf(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303, "signed out on node B");
    let on_a = staff.get(format!("{a}/dashboard")).send().await.unwrap();
    assert_eq!(
        on_a.status(),
        303,
        "after signing out on node B, node A sends the browser to sign in"
    );

    pool.close().await;
    drop((server_a, server_b));
    let _ = std::fs::remove_dir_all(dir_a);
    let _ = std::fs::remove_dir_all(dir_b);
    db.clean().await;
}
