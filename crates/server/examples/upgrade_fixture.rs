//! Writes an **upgrade fixture**: a database at the schema this build migrates to, holding every
//! kind of row Chorus keeps (responses for each seeded instrument, users and roles, a session, a
//! failed sign-in, audit rows, comment tags), and beside it a snapshot of those rows as text.
//! `tests/upgrade.rs` migrates a copy of each committed fixture forward with the current build
//! and checks that every snapshot row, score and reference is still there, unchanged.
//!
//! A fixture is written once, when a schema is current, and never regenerated: it stands for a
//! trust's database of that version. To add one (say before a migration `0007_…` lands):
//!
//! ```sh
//! D=crates/server/tests/fixtures/upgrade
//! cargo run -p chorus-server --example upgrade_fixture -- sqlite://$D/v6.sqlite $D/v6.sqlite.json
//! # PostgreSQL: a fresh database, then a plain dump of it
//! cargo run -p chorus-server --example upgrade_fixture -- postgres://chorus:chorus@127.0.0.1/chorus_fixture $D/v6.postgres.json
//! pg_dump --no-owner --no-privileges -d postgres://chorus:chorus@127.0.0.1/chorus_fixture -f $D/v6.postgres.sql
//! ```

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    body::Body,
    http::{Request, header},
};
use chorus_server::{AppState, Paths, dashboard, router, store::Store, users};
use http_body_util::BodyExt;
use sqlx::Row;
use tower::ServiceExt;

/// Every table and the column that orders it, as the snapshot lists them.
pub const TABLES: &[(&str, &str)] = &[
    ("responses", "id"),
    ("users", "id"),
    ("user_roles", "user_id, site"),
    ("sessions", "token_hash"),
    ("login_failures", "key"),
    ("audit_log", "id"),
    ("comment_tags", "response_id, tag"),
];

const PASSWORD: &str = "fixture password 4 upgrades";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(snapshot)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: upgrade_fixture DATABASE_URL SNAPSHOT.json");
    };
    let store = Store::open(&url).await?;
    let state = Arc::new(AppState::new(store, chorus_server::config::Config::demo()));
    // A fixed "now", so the generated answers are the same on every run.
    let opts = dashboard::seed::SeedOptions {
        site: "demo".into(),
        months: 3,
        per_month: 60,
        seed: 4,
        now: 1_793_491_200, // 2026-11-01T00:00:00Z
    };
    let report = dashboard::seed::seed(&state, &opts, |_, _| {}).await?;
    println!("{} responses", report.created + report.replayed);
    users::add(
        &state.store,
        "admin@fixture.example",
        PASSWORD,
        "demo",
        "admin",
    )
    .await?;
    users::add(
        &state.store,
        "viewer@fixture.example",
        PASSWORD,
        "demo",
        "viewer",
    )
    .await?;

    let app = router(
        state.clone(),
        Paths {
            pkg_dir: std::env::temp_dir().join("chorus-fixture-pkg"),
            www_dir: std::env::temp_dir().join("chorus-fixture-www"),
        },
    );
    let mut web = Browser {
        app,
        cookies: BTreeMap::new(),
    };
    // A failed sign-in (a login_failures row and an audit row), then a real one (a session).
    let csrf = web.csrf("/dashboard/login").await?;
    web.post(
        "/dashboard/login",
        &[
            ("csrf", &csrf),
            ("email", "viewer@fixture.example"),
            ("password", "not the password"),
        ],
    )
    .await?;
    let csrf = web.csrf("/dashboard/login").await?;
    web.post(
        "/dashboard/login",
        &[
            ("csrf", &csrf),
            ("email", "admin@fixture.example"),
            ("password", PASSWORD),
        ],
    )
    .await?;
    // Tags on the first few comments, through the dashboard's own form.
    let csrf = web.csrf("/dashboard/comments?site=demo").await?;
    let ids: Vec<i64> =
        sqlx::query(r#"SELECT id FROM responses WHERE answers LIKE '%"why"%' ORDER BY id LIMIT 3"#)
            .fetch_all(state.store.pool())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    for (i, id) in ids.iter().enumerate() {
        let tag = ["waiting times", "kindness", "communication"][i % 3];
        web.post(
            &format!("/dashboard/comments/{id}/tags"),
            &[("csrf", &csrf), ("tag", tag), ("action", "add")],
        )
        .await?;
    }

    let mut out = serde_json::Map::new();
    for (table, order) in TABLES {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM {table} ORDER BY {order}"
        )))
        .fetch_all(state.store.pool())
        .await?;
        let Some(first) = rows.first() else {
            anyhow::bail!("the fixture has no {table} rows: every table must hold some");
        };
        use sqlx::Column;
        let columns: Vec<String> = first.columns().iter().map(|c| c.name().into()).collect();
        let cast = columns
            .iter()
            .map(|c| format!("CAST({c} AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {cast} FROM {table} ORDER BY {order}"
        )))
        .fetch_all(state.store.pool())
        .await?;
        let rows: Vec<Vec<Option<String>>> = rows
            .iter()
            .map(|r| (0..columns.len()).map(|i| r.get(i)).collect())
            .collect();
        println!("{table}: {} rows", rows.len());
        out.insert(
            (*table).into(),
            serde_json::json!({ "order": order, "columns": columns, "rows": rows }),
        );
    }
    let references: BTreeMap<String, String> = sqlx::query("SELECT id FROM responses")
        .fetch_all(state.store.pool())
        .await?
        .iter()
        .map(|r| {
            let id: i64 = r.get(0);
            (id.to_string(), chorus_server::reference::from_id(id))
        })
        .collect();
    out.insert("references".into(), serde_json::to_value(references)?);
    std::fs::write(
        &snapshot,
        serde_json::to_string_pretty(&serde_json::Value::Object(out))? + "\n",
    )?;
    state.store.pool().close().await;
    println!("wrote {url} and {snapshot}");
    Ok(())
}

/// Just enough of a browser: cookies kept between requests.
struct Browser {
    app: Router,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    async fn send(&mut self, req: Request<Body>) -> anyhow::Result<String> {
        let res = self.app.clone().oneshot(req).await?;
        for v in res.headers().get_all(header::SET_COOKIE) {
            let pair = v.to_str()?.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies.insert(k.into(), v.into());
            }
        }
        let body = res.into_body().collect().await?.to_bytes();
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let cookies = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, cookies)
            .header("x-forwarded-for", "192.0.2.10")
    }

    async fn csrf(&mut self, path: &str) -> anyhow::Result<String> {
        let body = self
            .send(self.request("GET", path).body(Body::empty())?)
            .await?;
        let at = body
            .find("name=\"csrf\" value=\"")
            .ok_or_else(|| anyhow::anyhow!("no csrf field on {path}"))?
            + 19;
        Ok(body[at..].split('"').next().unwrap_or_default().to_string())
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<String> {
        let body = fields
            .iter()
            .map(|(k, v)| {
                let v: String = v
                    .bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
                        _ => format!("%{b:02X}"),
                    })
                    .collect();
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))?;
        self.send(req).await
    }
}
