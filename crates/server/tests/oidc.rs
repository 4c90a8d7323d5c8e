//! Staff sign-in through a real OpenID provider: the certified `oidc-provider` package from npm,
//! started by each test on loopback from `tests/oidc/provider.mjs`, and a real `chorus serve`.
//! The browser is plain HTTP with a cookie jar: it follows the redirects and fills in the
//! provider's own sign-in form, as a person would.
//!
//! The provider signs what it issues with its own keys; the bad cases (another audience, an
//! expired token, a signature that no longer matches, a key the client has not seen) are made
//! by the provider script's test hook, which re-signs the provider's own ID token with one
//! thing changed, so each test sees exactly one fault.
//!
//! Skipped, with a message, only where `node` is not installed.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use serde_json::json;
use sqlx::Row;

#[allow(dead_code)]
mod common;

const SECRET: &str = "a-client-secret-for-the-tests-0123456789abcdef";
const CLIENT: &str = "chorus-test";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn node_present() -> bool {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: node is not installed, so the OpenID provider for these tests cannot run"
        );
    }
    ok
}

/// A child process killed when the test ends.
struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The provider and a Chorus server configured to use it.
struct Env {
    issuer: String,
    chorus: String,
    db: String,
    dir: PathBuf,
    _provider: Kill,
    _server: Kill,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!(
                "chorus log:\n{}",
                self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
            );
        }
    }
}

fn users() -> serde_json::Value {
    json!({
        "ann": {"email": "Ann.Admin@trust.nhs.uk", "groups": ["chorus-admins"]},
        "vic": {"email": "vic.viewer@trust.nhs.uk", "groups": ["demo-viewers", "unmapped-group"]},
        "eve": {"email": "eve@elsewhere.example", "groups": ["chorus-admins"]},
        "nor": {"email": "nor@trust.nhs.uk", "groups": []},
    })
}

async fn start() -> Option<Env> {
    if !node_present() {
        return None;
    }
    assert!(
        root()
            .join("node_modules/oidc-provider/package.json")
            .exists(),
        "the npm package oidc-provider is not installed: run `npm ci` (or `cargo xtask setup`) at the repository root"
    );
    let port = common::free_port();
    let chorus = format!("http://127.0.0.1:{port}");
    let redirect = format!("{chorus}/dashboard/oidc/callback");
    let mut provider = Command::new("node")
        .arg(root().join("tests/oidc/provider.mjs"))
        .env("OIDC_CLIENT_ID", CLIENT)
        .env("OIDC_CLIENT_SECRET", SECRET)
        .env("OIDC_REDIRECT_URI", &redirect)
        .env("OIDC_USERS", users().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node");
    let mut out = BufReader::new(provider.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let issuer = line
        .trim()
        .strip_prefix("issuer ")
        .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
        .to_string();
    // Keep reading, so the provider never writes into a closed pipe.
    std::thread::spawn(move || for _ in out.lines().map_while(Result::ok) {});
    let provider = Kill(provider);

    let dir = std::env::temp_dir().join(format!(
        "chorus-oidc-{}-{}",
        std::process::id(),
        common::rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("t.db").display());
    let config = format!(
        r#"
[[sites]]
id = "demo"
origins = ["http://127.0.0.1:*"]
[[sites]]
id = "other"

[oidc]
issuer = "{issuer}"
client_id = "{CLIENT}"
client_secret_env = "CHORUS_TEST_OIDC_SECRET"
redirect_url = "{redirect}"
allowed_domains = ["trust.nhs.uk"]
password_sign_in = false
[[oidc.roles]]
group = "chorus-admins"
site = "demo"
role = "admin"
[[oidc.roles]]
group = "chorus-admins"
site = "other"
role = "admin"
[[oidc.roles]]
group = "demo-viewers"
site = "demo"
role = "viewer"
"#
    );
    let file = dir.join("chorus.toml");
    std::fs::write(&file, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--pkg-dir"])
        .arg(&dir)
        .arg("--www-dir")
        .arg(&dir)
        .arg("--config")
        .arg(&file)
        .env("DATABASE_URL", &db)
        .env("CHORUS_TEST_OIDC_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    loop {
        let Some(Ok(l)) = lines.next() else {
            let _ = child.wait();
            panic!("chorus did not start:\n{}", log.lock().unwrap().join("\n"));
        };
        log.lock().unwrap().push(l.clone());
        if l.contains("Chorus listening on") {
            break;
        }
    }
    let keep = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(l);
        }
    });
    Some(Env {
        issuer,
        chorus,
        db,
        dir,
        _provider: provider,
        _server: Kill(child),
        log,
    })
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A browser that stops before the provider sends it back to Chorus (to look at, or replay,
/// the callback).
fn browser_stopping_at_callback() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(|a| {
            if a.url().path() == "/dashboard/oidc/callback" {
                a.stop()
            } else {
                a.follow()
            }
        }))
        .build()
        .unwrap()
}

/// What a browser ends on.
struct Page {
    status: u16,
    url: String,
    location: Option<String>,
    body: String,
}

async fn page(r: reqwest::Response) -> Page {
    Page {
        status: r.status().as_u16(),
        url: r.url().to_string(),
        location: r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        body: r.text().await.unwrap(),
    }
}

impl Env {
    /// Arrange for the provider's next ID token to carry fault `mode`.
    async fn next_token(&self, mode: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/__test/next?mode={mode}", self.issuer))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// Change a user's groups at the provider.
    async fn set_groups(&self, login: &str, groups: &str) {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/__test/groups?login={login}&groups={groups}",
                self.issuer
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    /// Click "sign in with your organisation's account" and fill in the provider's form as
    /// `login`; returns the page the browser ends on.
    async fn sign_in(&self, b: &reqwest::Client, login: &str) -> Page {
        let login_page = page(
            b.get(format!("{}/dashboard/login", self.chorus))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(
            login_page.body.contains("href=\"/dashboard/oidc/start\""),
            "{}",
            login_page.body
        );
        let at_provider = page(
            b.get(format!("{}/dashboard/oidc/start", self.chorus))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(
            at_provider
                .url
                .starts_with(&format!("{}/interaction/", self.issuer)),
            "{} {}",
            at_provider.url,
            at_provider.body
        );
        let action = at_provider
            .body
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("the provider's sign-in form")
            .replace("&amp;", "&");
        let action = if action.starts_with('/') {
            format!("{}{action}", self.issuer)
        } else {
            action
        };
        page(
            b.post(action)
                .form(&[("prompt", "login"), ("login", login), ("password", "any")])
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// The dashboard as this browser sees it now.
    async fn dashboard(&self, b: &reqwest::Client, path: &str) -> Page {
        page(
            b.get(format!("{}{path}", self.chorus))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.db).await.unwrap()
    }

    async fn roles(&self, email: &str) -> Vec<(String, String, String)> {
        let pool = self.db().await;
        let v = common::rows(
            &pool,
            "SELECT r.site, r.role, r.source FROM user_roles r JOIN users u ON u.id = r.user_id
             WHERE u.email = $1 ORDER BY r.site",
            &[email.into()],
        )
        .await;
        pool.close().await;
        v
    }

    async fn audit(&self, action: &str) -> Vec<(String, String)> {
        let pool = self.db().await;
        let v = common::rows(
            &pool,
            "SELECT actor, detail FROM audit_log WHERE action = $1 ORDER BY id",
            &[action.into()],
        )
        .await;
        pool.close().await;
        v
    }

    async fn user_count(&self, email: &str) -> i64 {
        let pool = self.db().await;
        let n = common::value(
            &pool,
            "SELECT COUNT(*) FROM users WHERE email = $1",
            &[email.into()],
        )
        .await;
        pool.close().await;
        n
    }

    /// A refusal: the page says why, and the browser has no session.
    async fn assert_refused(&self, b: &reqwest::Client, p: &Page, status: u16, says: &str) {
        assert_eq!(p.status, status, "{}", p.body);
        assert!(p.body.contains(says), "expected {says:?} in {}", p.body);
        let d = self.dashboard(b, "/dashboard").await;
        assert!(
            d.url.ends_with("/dashboard/login"),
            "a refused sign-in must leave no session: ended on {}",
            d.url
        );
    }
}

#[tokio::test]
async fn signing_in_through_the_provider_creates_the_account_with_its_groups_roles() {
    let Some(env) = start().await else { return };
    // The redirect to the provider: code flow with PKCE (S256), state and nonce.
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = page(
        b.get(format!("{}/dashboard/oidc/start", env.chorus))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(first.status, 303);
    let to = url::Url::parse(first.location.as_deref().unwrap()).unwrap();
    assert!(
        to.as_str().starts_with(&format!("{}/auth?", env.issuer)),
        "{to}"
    );
    let q: std::collections::BTreeMap<String, String> = to.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["code_challenge"].len() >= 43);
    assert!(q["state"].len() >= 16 && q["nonce"].len() >= 16);
    assert!(q["scope"].split(' ').any(|s| s == "openid"));

    let b = browser();
    let done = env.sign_in(&b, "ann").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.url
            .starts_with(&format!("{}/dashboard/oidc/callback?", env.chorus)),
        "{}",
        done.url
    );
    assert!(done.body.contains("You are signed in"), "{}", done.body);
    let home = env.dashboard(&b, "/dashboard").await;
    assert_eq!(home.status, 200, "{}", home.url);
    // The address is stored as Chorus normalises addresses (lower case).
    assert!(
        home.body.contains("ann.admin@trust.nhs.uk"),
        "{}",
        home.body
    );
    assert_eq!(env.dashboard(&b, "/dashboard/audit").await.status, 200);
    assert_eq!(
        env.roles("ann.admin@trust.nhs.uk").await,
        vec![
            ("demo".into(), "admin".into(), "oidc".into()),
            ("other".into(), "admin".into(), "oidc".into())
        ]
    );
    let signed_in = env.audit("sign_in").await;
    assert_eq!(
        signed_in,
        vec![("ann.admin@trust.nhs.uk".into(), "oidc".into()); 2],
        "one sign-in, logged for each of the two sites"
    );
    // The account is linked by the provider's subject, and has no password.
    let pool = env.db().await;
    let row = sqlx::query(
        "SELECT oidc_issuer, oidc_subject, password_hash, last_sign_in FROM users WHERE email = $1",
    )
    .bind("ann.admin@trust.nhs.uk")
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>(0), env.issuer);
    assert_eq!(row.get::<String, _>(1), "ann");
    assert_eq!(row.get::<String, _>(2), "");
    assert!(row.get::<Option<String>, _>(3).is_some());
    pool.close().await;

    // Signing in again (a new browser) finds the same account: no second one.
    let again = browser();
    assert_eq!(env.sign_in(&again, "ann").await.status, 200);
    assert_eq!(env.user_count("ann.admin@trust.nhs.uk").await, 1);

    // Password sign-in is switched off in this deployment: no form, and posting one is refused.
    let login = env.dashboard(&browser(), "/dashboard/login").await;
    assert!(!login.body.contains("type=\"password\""), "{}", login.body);
    let posted = reqwest::Client::new()
        .post(format!("{}/dashboard/login", env.chorus))
        .form(&[
            ("csrf", "x"),
            ("email", "ann.admin@trust.nhs.uk"),
            ("password", "whatever it is"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 403);
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let Some(env) = start().await else { return };
    env.next_token("wrong-aud").await;
    let b = browser();
    let p = env.sign_in(&b, "ann").await;
    env.assert_refused(&b, &p, 401, "for another application")
        .await;
    let failed = env.audit("sign_in_failed").await;
    assert!(
        failed
            .iter()
            .any(|(_, d)| d.starts_with("ID token for another application")),
        "{failed:?}"
    );
    assert_eq!(env.user_count("ann.admin@trust.nhs.uk").await, 0);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let Some(env) = start().await else { return };
    env.next_token("expired").await;
    let b = browser();
    let p = env.sign_in(&b, "ann").await;
    env.assert_refused(&b, &p, 401, "is expired").await;
    assert_eq!(env.user_count("ann.admin@trust.nhs.uk").await, 0);
}

#[tokio::test]
async fn a_tampered_signature_is_refused() {
    let Some(env) = start().await else { return };
    env.next_token("tampered").await;
    let b = browser();
    let p = env.sign_in(&b, "vic").await;
    env.assert_refused(&b, &p, 401, "not signed by the provider")
        .await;
    // The tampered claims (another address, the admins' group) were not believed.
    assert_eq!(env.user_count("mallory@trust.nhs.uk").await, 0);
    assert_eq!(env.user_count("vic.viewer@trust.nhs.uk").await, 0);
}

#[tokio::test]
async fn a_key_the_client_has_not_seen_is_fetched_and_used() {
    let Some(env) = start().await else { return };
    // A first sign-in caches the provider's keys.
    assert_eq!(env.sign_in(&browser(), "vic").await.status, 200);
    // The provider rotates: the next token is signed with a new key, published only now.
    env.next_token("rotate").await;
    let b = browser();
    let p = env.sign_in(&b, "ann").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(env.dashboard(&b, "/dashboard").await.status, 200);
    let log = env.log.lock().unwrap().join("\n");
    assert!(log.contains("fetched the provider's keys again"), "{log}");
}

#[tokio::test]
async fn a_replayed_state_is_refused() {
    let Some(env) = start().await else { return };
    let b = browser_stopping_at_callback();
    let back = env.sign_in(&b, "ann").await;
    let callback = back.location.expect("the provider sends the browser back");
    assert!(callback.contains("state="), "{callback}");
    let callback = if callback.starts_with('/') {
        format!("{}{callback}", env.chorus)
    } else {
        callback
    };
    // The first use signs in.
    let first = page(b.get(&callback).send().await.unwrap()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // The same code and state again, in the same browser: refused.
    let again = page(b.get(&callback).send().await.unwrap()).await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert!(again.body.contains("used already"), "{}", again.body);
    // And from another browser that never started a sign-in: refused, no session.
    let other = browser();
    let stolen = page(other.get(&callback).send().await.unwrap()).await;
    env.assert_refused(&other, &stolen, 400, "used already")
        .await;
    let failed = env.audit("sign_in_failed").await;
    assert_eq!(
        failed
            .iter()
            .filter(|(_, d)| d == "unknown or used state")
            .count(),
        2,
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_state_started_in_another_browser_is_refused() {
    let Some(env) = start().await else { return };
    // An attacker starts a sign-in and sends the victim the callback: the victim's browser
    // lacks the cookie bound to that state.
    let attacker = browser_stopping_at_callback();
    let back = env.sign_in(&attacker, "ann").await;
    let callback = back.location.unwrap();
    let victim = browser();
    let p = page(victim.get(&callback).send().await.unwrap()).await;
    env.assert_refused(&victim, &p, 400, "another browser")
        .await;
}

#[tokio::test]
async fn a_person_outside_the_allowed_domains_is_refused() {
    let Some(env) = start().await else { return };
    let b = browser();
    let p = env.sign_in(&b, "eve").await;
    env.assert_refused(&b, &p, 403, "cannot sign in to this dashboard")
        .await;
    assert_eq!(env.user_count("eve@elsewhere.example").await, 0);
    let failed = env.audit("sign_in_failed").await;
    assert!(
        failed
            .iter()
            .any(|(_, d)| d == "e-mail domain elsewhere.example is not allowed"),
        "{failed:?}"
    );
}

#[tokio::test]
async fn a_group_mapped_to_viewer_on_one_site_gives_only_that() {
    let Some(env) = start().await else { return };
    let b = browser();
    let p = env.sign_in(&b, "vic").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(
        env.roles("vic.viewer@trust.nhs.uk").await,
        vec![("demo".into(), "viewer".into(), "oidc".into())]
    );
    assert_eq!(env.dashboard(&b, "/dashboard").await.status, 200);
    // Viewer: no comments, exports or audit log, on any site.
    for path in [
        "/dashboard/audit",
        "/dashboard/exports",
        "/dashboard/comments",
    ] {
        let d = env.dashboard(&b, path).await;
        assert!(
            d.status == 403 || d.status == 400,
            "{path}: {} {}",
            d.status,
            d.body
        );
    }
    // Someone in no mapped group is known to their organisation but has no role here.
    let n = browser();
    let p = env.sign_in(&n, "nor").await;
    env.assert_refused(&n, &p, 403, "no role in Chorus yet")
        .await;
}

#[tokio::test]
async fn roles_follow_the_groups_at_every_sign_in_and_hand_given_roles_stay() {
    let Some(env) = start().await else { return };
    assert_eq!(env.sign_in(&browser(), "vic").await.status, 200);
    assert_eq!(
        env.roles("vic.viewer@trust.nhs.uk").await,
        vec![("demo".into(), "viewer".into(), "oidc".into())]
    );
    // Moved into the admins' group at the provider: admin on both sites at the next sign-in.
    env.set_groups("vic", "chorus-admins").await;
    let b = browser();
    assert_eq!(env.sign_in(&b, "vic").await.status, 200);
    assert_eq!(
        env.roles("vic.viewer@trust.nhs.uk").await,
        vec![
            ("demo".into(), "admin".into(), "oidc".into()),
            ("other".into(), "admin".into(), "oidc".into())
        ]
    );
    assert_eq!(env.dashboard(&b, "/dashboard/audit").await.status, 200);
    let changes = env.audit("roles_from_groups").await;
    assert!(
        changes
            .iter()
            .any(|(_, d)| d == "admin on demo, admin on other"),
        "{changes:?}"
    );
    // A role given by hand (here straight in the database, as the People page does) stays
    // when the groups change; the group roles go.
    let pool = env.db().await;
    common::exec(
        &pool,
        "UPDATE user_roles SET source = 'manual', role = 'analyst' WHERE site = 'other'
           AND user_id = (SELECT id FROM users WHERE email = 'vic.viewer@trust.nhs.uk')",
        &[],
    )
    .await;
    pool.close().await;
    env.set_groups("vic", "").await;
    assert_eq!(env.sign_in(&browser(), "vic").await.status, 200);
    assert_eq!(
        env.roles("vic.viewer@trust.nhs.uk").await,
        vec![("other".into(), "analyst".into(), "manual".into())]
    );
}
