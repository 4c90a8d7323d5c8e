//! Configuration: a TOML file (see `chorus.example.toml`) with environment overrides for the
//! address and database. Sites are the unit of trust: each says which origins may embed its
//! widgets, which services and instruments it collects for, and how long it keeps responses.
//!
//! Precedence for the address and the database: command-line flag, then environment
//! (`CHORUS_ADDR`, `DATABASE_URL`), then the file, then the built-in default. So one file can
//! be shared by every environment and each deployment only sets what differs.

use std::{collections::BTreeSet, net::SocketAddr, path::Path};

use serde::Deserialize;

mod dashboard;
pub use dashboard::DashboardConfig;
pub mod runtime;
pub mod service;
pub use service::{FftSetting, Service};

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (overridden by `--addr` / `CHORUS_ADDR`).
    #[serde(default)]
    pub addr: Option<SocketAddr>,
    /// Database URL (overridden by `--database` / `DATABASE_URL`).
    #[serde(default)]
    pub database: Option<String>,
    /// The address patients reach this server at (`https://feedback.example-trust.nhs.uk`),
    /// printed on posters and in their QR codes. Default: the request's own host.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Sites that may submit responses.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Rate limits.
    #[serde(default)]
    pub limits: Limits,
    /// Staff dashboard sign-in settings.
    #[serde(default)]
    pub dashboard: DashboardConfig,
    /// Staff sign-in with the trust's own accounts (OpenID Connect); none when absent.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// How long a dashboard session may sit unused.
    #[serde(default)]
    pub sessions: Sessions,
    /// Themes and flags in comments, per site.
    #[serde(default)]
    pub classify: crate::classify::ClassifyConfig,
    /// Where flagged comments are announced (e-mail, webhook).
    #[serde(default)]
    pub notify: crate::notify::NotifyConfig,
    /// Equality monitoring: which sites ask the optional "About you" questions, and the
    /// reference mix gaps in representation are measured against.
    #[serde(default)]
    pub equality: Equality,
}

/// `[equality]`: the optional "About you" questions (the core library's `about-you`), asked
/// after the feedback on the sites listed, stored apart from the answers, never exported
/// with them and never shown on a public page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equality {
    /// Sites whose widgets may send `about` with a response.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Per site, per characteristic (item id), per category (option id): the share expected
    /// (for example the catchment's census share) in tenths of a percent (123 = 12.3%).
    #[serde(default)]
    pub reference: std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, u32>>,
    >,
}

impl Equality {
    /// Does `site` ask the "About you" questions?
    pub fn enabled(&self, site: &str) -> bool {
        self.sites.iter().any(|s| s == site)
    }
}

/// Rate limits on submissions. A patient sends a handful of responses; a script sends
/// thousands. Per IP stops one machine flooding; per site caps what a leaked site id can do.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Submissions per minute from one IP address.
    #[serde(default = "default_per_ip")]
    pub per_ip_per_minute: u32,
    /// Submissions per minute for one site.
    #[serde(default = "default_per_site")]
    pub per_site_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry. Turn on only behind a
    /// reverse proxy or load balancer that sets it; otherwise every patient shares the proxy's
    /// address (and one limit), or, with it on and no proxy, a client could pick its own.
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// Longest an API request may take, reading the body included (408 `timeout` after).
    #[serde(default = "default_timeout")]
    pub request_timeout_seconds: u64,
    /// Longest a client may take to send a request's headers. A kept-alive connection waiting
    /// for its next request is closed after this too, so idle browsers cannot pile up.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_seconds: u64,
    /// A connection on which no byte moves either way for this long is closed (a body that
    /// stops arriving, a client that stops reading the answer).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_seconds: u64,
    /// Open connections allowed from one client address; more are answered 503 and closed at
    /// once. `0` turns the cap off. Default: 64, or off when `trust_forwarded_for` is on (every
    /// connection then comes from the proxy, which must apply its own cap).
    #[serde(default)]
    pub max_connections_per_ip: Option<u32>,
    /// Open connections allowed in all; more are answered 503 and closed at once. Keep it
    /// below the process's file-descriptor limit (`ulimit -n`) less what the database needs.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_timeout() -> u64 {
    15
}

fn default_header_read_timeout() -> u64 {
    10
}

fn default_idle_timeout() -> u64 {
    60
}

fn default_max_connections() -> u32 {
    4096
}

/// The per-address cap when the file does not set one.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: u32 = 64;

impl Limits {
    /// The per-address connection cap in force (`None`: off).
    pub fn connections_per_ip(&self) -> Option<u32> {
        match self.max_connections_per_ip {
            Some(0) => None,
            Some(n) => Some(n),
            None if self.trust_forwarded_for => None,
            None => Some(DEFAULT_MAX_CONNECTIONS_PER_IP),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_ip_per_minute: default_per_ip(),
            per_site_per_minute: default_per_site(),
            trust_forwarded_for: false,
            request_timeout_seconds: default_timeout(),
            header_read_timeout_seconds: default_header_read_timeout(),
            idle_timeout_seconds: default_idle_timeout(),
            max_connections_per_ip: None,
            max_connections: default_max_connections(),
        }
    }
}

fn default_per_ip() -> u32 {
    60
}

fn default_per_site() -> u32 {
    60_000
}

/// One site: a trust website (or a part of one) embedding Chorus.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The `site` attribute of the embed.
    pub id: String,
    /// A name for staff.
    #[serde(default)]
    pub name: String,
    /// Origins (`https://www.example-trust.nhs.uk`) whose pages may submit. Pages served by
    /// Chorus itself are always allowed. A port of `*` (`http://localhost:*`) allows any port,
    /// for local development.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Services accepted, each an id (`"ward-3"`) or a table with its FFT setting and codes
    /// (see [`Service`]); empty means any. The dashboard's site settings may replace the list
    /// at run time (read it through `AppState::site`).
    #[serde(default, deserialize_with = "service::deserialize_services")]
    pub services: Vec<Service>,
    /// Instrument ids accepted; empty means every library instrument.
    #[serde(default)]
    pub instruments: Vec<String>,
    /// Days responses are kept (the retention task deletes older ones).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// Days after sending in which a patient may withdraw a response themselves with the code
    /// on their receipt (`/withdraw`); 0 turns self-withdrawal off. Staff can always withdraw.
    #[serde(default = "default_withdraw_days")]
    pub withdraw_days: u32,
    /// ODS code of the organisation (trust or practice), for the NHS England FFT return.
    #[serde(default)]
    pub org_code: String,
    /// ODS site code, for the NHS England FFT return.
    #[serde(default)]
    pub site_code: String,
}

fn default_retention() -> u32 {
    730
}

fn default_withdraw_days() -> u32 {
    30
}

/// `[oidc]`: sign-in through the trust's identity provider (Microsoft Entra ID, NHSmail, or any
/// standards-compliant OpenID provider). See `crate::oidc` and the operators' guide.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer, exactly as in its discovery document (for Entra ID
    /// `https://login.microsoftonline.com/<tenant id>/v2.0`). HTTPS, except on loopback.
    pub issuer: String,
    /// The application (client) id registered with the provider.
    pub client_id: String,
    /// The name of the environment variable that holds the client secret (never the secret).
    pub client_secret_env: String,
    /// Where the provider sends browsers back: this server's `/dashboard/oidc/callback`, as
    /// registered with the provider.
    pub redirect_url: String,
    /// Domains whose e-mail addresses may sign in (`nhs.net`, `example-trust.nhs.uk`).
    pub allowed_domains: Vec<String>,
    /// The ID-token claim with the e-mail address: `email` (default), `preferred_username` or
    /// `upn` (Entra ID's user principal name).
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    /// The ID-token claim listing the person's groups (or app roles: `roles` in Entra ID).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// The sign-in button's words.
    #[serde(default = "default_button_label")]
    pub button_label: String,
    /// Also offer password sign-in (`chorus user add` accounts). Turn off once everyone signs
    /// in through the provider.
    #[serde(default = "default_true")]
    pub password_sign_in: bool,
    /// Roles from groups, replaced at every sign-in (roles given in the dashboard stay).
    #[serde(default)]
    pub roles: Vec<GroupRole>,
}

/// `[[oidc.roles]]`: members of `group` get `role` on `site`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRole {
    /// A value of the groups claim (Entra ID: the group's object id, or an app role's value).
    pub group: String,
    /// A configured site id.
    pub site: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
}

fn default_email_claim() -> String {
    "email".into()
}
fn default_groups_claim() -> String {
    "groups".into()
}
fn default_button_label() -> String {
    "Sign in with your organisation's account".into()
}
fn default_true() -> bool {
    true
}

/// `[sessions]`: the idle timeout (the absolute one is `dashboard.session_hours`).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// Minutes a session may go unused before it ends.
    #[serde(default = "default_idle_minutes")]
    pub idle_minutes: u32,
}

fn default_idle_minutes() -> u32 {
    60
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions {
            idle_minutes: default_idle_minutes(),
        }
    }
}

impl OidcConfig {
    /// Mistakes caught at start-up.
    fn check(&self, sites: &[Site]) -> anyhow::Result<()> {
        let url = |what: &str, u: &str| -> anyhow::Result<url::Url> {
            let parsed = url::Url::parse(u)
                .map_err(|e| anyhow::anyhow!("oidc.{what} \"{u}\" is not a URL: {e}"))?;
            let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            anyhow::ensure!(
                parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback),
                "oidc.{what} must use https (http only on loopback, for tests)"
            );
            Ok(parsed)
        };
        url("issuer", &self.issuer)?;
        let r = url("redirect_url", &self.redirect_url)?;
        anyhow::ensure!(
            r.path() == "/dashboard/oidc/callback",
            "oidc.redirect_url must end in /dashboard/oidc/callback (the path Chorus answers)"
        );
        anyhow::ensure!(!self.client_id.trim().is_empty(), "oidc.client_id is empty");
        anyhow::ensure!(
            !self.client_secret_env.trim().is_empty(),
            "oidc.client_secret_env must name the environment variable holding the secret"
        );
        anyhow::ensure!(
            !self.allowed_domains.is_empty(),
            "oidc.allowed_domains must list the e-mail domains that may sign in"
        );
        for d in &self.allowed_domains {
            anyhow::ensure!(
                crate::users::check_email(&format!("x@{d}")).is_ok() && !d.starts_with('@'),
                "oidc.allowed_domains: \"{d}\" is not a domain such as nhs.net"
            );
        }
        anyhow::ensure!(
            ["email", "preferred_username", "upn"].contains(&self.email_claim.as_str()),
            "oidc.email_claim must be email, preferred_username or upn"
        );
        for g in &self.roles {
            anyhow::ensure!(
                crate::users::ROLES.contains(&g.role.as_str()),
                "oidc.roles: role \"{}\" must be one of {}",
                g.role,
                crate::users::ROLES.join(", ")
            );
            anyhow::ensure!(
                sites.iter().any(|s| s.id == g.site),
                "oidc.roles: there is no site \"{}\"",
                g.site
            );
        }
        Ok(())
    }
}

impl Config {
    /// Read a TOML file; errors name the file and the problem.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    /// Mistakes serde cannot see: duplicate sites, origins that can never match, unknown
    /// instruments. Caught at start-up, not when the first patient submits.
    pub fn check(&self) -> anyhow::Result<()> {
        let l = &self.limits;
        anyhow::ensure!(
            (1..=3600).contains(&l.header_read_timeout_seconds),
            "limits.header_read_timeout_seconds must be 1 to 3600"
        );
        anyhow::ensure!(
            (1..=86_400).contains(&l.idle_timeout_seconds),
            "limits.idle_timeout_seconds must be 1 to 86400"
        );
        anyhow::ensure!(
            l.max_connections >= 1,
            "limits.max_connections must be at least 1"
        );
        if let Some(u) = &self.public_url {
            anyhow::ensure!(
                matches!(u.split_once("://"), Some(("http" | "https", r)) if !r.is_empty() && !r.contains(['?', '#', ' ', '"', '<', '>'])),
                "public_url \"{u}\" must be an http or https address with no query, e.g. https://feedback.example-trust.nhs.uk"
            );
        }
        let mut ids = BTreeSet::new();
        for s in &self.sites {
            anyhow::ensure!(ids.insert(&s.id), "site \"{}\" is configured twice", s.id);
            anyhow::ensure!(
                !s.id.trim().is_empty() && s.id.len() <= 64,
                "site ids must be 1 to 64 characters"
            );
            for o in &s.origins {
                anyhow::ensure!(
                    matches!(o.split_once("://"), Some(("http" | "https", r)) if !r.is_empty() && !r.trim_end_matches('/').contains('/')),
                    "site \"{}\": origin \"{o}\" must be scheme://host[:port] with no path, e.g. https://www.example-trust.nhs.uk",
                    s.id
                );
            }
            for i in &s.instruments {
                anyhow::ensure!(
                    chorus_core::library::get(i).is_some(),
                    "site \"{}\": there is no instrument \"{i}\"",
                    s.id
                );
            }
            anyhow::ensure!(
                s.retention_days >= 1,
                "site \"{}\": retention_days must be at least 1",
                s.id
            );
            service::check_list(&s.services)
                .map_err(|e| anyhow::anyhow!("site \"{}\": {e}", s.id))?;
        }
        let about = chorus_core::library::get(chorus_core::library::ABOUT_YOU)
            .ok_or_else(|| anyhow::anyhow!("the built-in about-you instrument is missing"))?;
        for s in &self.equality.sites {
            anyhow::ensure!(
                self.site(s).is_some(),
                "equality.sites names \"{s}\", which is not a configured site"
            );
        }
        for (site, chars) in &self.equality.reference {
            anyhow::ensure!(
                self.site(site).is_some(),
                "equality.reference names \"{site}\", which is not a configured site"
            );
            for (item, shares) in chars {
                let Some(it) = about.items.iter().find(|i| &i.id == item) else {
                    anyhow::bail!(
                        "equality.reference.{site}: there is no question \"{item}\" in about-you"
                    );
                };
                for (cat, tenths) in shares {
                    anyhow::ensure!(
                        it.options.iter().any(|o| &o.id == cat),
                        "equality.reference.{site}.{item}: there is no answer \"{cat}\""
                    );
                    anyhow::ensure!(
                        *tenths <= 1000,
                        "equality.reference.{site}.{item}.{cat}: shares are tenths of a percent, 0 to 1000"
                    );
                }
            }
        }
        let ids: Vec<&str> = self.sites.iter().map(|s| s.id.as_str()).collect();
        self.classify.check(&ids)?;
        self.notify.check()?;
        if let Some(o) = &self.oidc {
            o.check(&self.sites)?;
        }
        anyhow::ensure!(
            (1..=1440).contains(&self.sessions.idle_minutes),
            "sessions.idle_minutes must be 1 to 1440"
        );
        Ok(())
    }

    /// With no file: one `demo` site that pages on this machine may use (any port on
    /// 127.0.0.1 or localhost, and the server's own pages), for `cargo xtask demo` and the
    /// end-to-end tests. Not for production: a real deployment names its trusts' origins.
    pub fn demo() -> Config {
        Config {
            public_url: None,
            addr: None,
            database: None,
            sites: vec![Site {
                id: "demo".into(),
                name: "Chorus demo".into(),
                origins: vec![
                    "http://127.0.0.1:*".into(),
                    "http://localhost:*".into(),
                    "http://[::1]:*".into(),
                ],
                services: vec![],
                instruments: vec![],
                retention_days: default_retention(),
                withdraw_days: default_withdraw_days(),
                org_code: "DEMO1".into(),
                site_code: "DEMO1-01".into(),
            }],
            limits: Limits::default(),
            dashboard: Default::default(),
            equality: Equality {
                sites: vec!["demo".into()],
                reference: Default::default(),
            },
            classify: Default::default(),
            notify: Default::default(),
            oidc: None,
            sessions: Sessions::default(),
        }
    }

    /// The site with this id.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// May a page on `origin` call the API at all (used for CORS preflight)?
    pub fn any_site_allows(&self, origin: &str) -> bool {
        self.sites.iter().any(|s| s.allows_origin(origin))
    }
}

impl Site {
    /// Is `origin` one of this site's?
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| origin_matches(o, origin))
    }

    /// Does this site collect for `service`?
    pub fn allows_service(&self, service: Option<&str>) -> bool {
        self.services.is_empty() || service.is_some_and(|s| self.service(s).is_some())
    }

    /// The configured service with this id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|x| x.id == id)
    }

    /// The ids of the configured services, in order.
    pub fn service_ids(&self) -> Vec<String> {
        self.services.iter().map(|s| s.id.clone()).collect()
    }

    /// Does this site collect `instrument`?
    pub fn allows_instrument(&self, instrument: &str) -> bool {
        self.instruments.is_empty() || self.instruments.iter().any(|x| x == instrument)
    }
}

/// Does `origin` (as a browser sends it) match the configured `pattern`? Scheme and host are
/// compared without regard to case; `:*` matches any port (or none).
fn origin_matches(pattern: &str, origin: &str) -> bool {
    let pattern = pattern.trim_end_matches('/');
    match pattern.strip_suffix(":*") {
        None => pattern.eq_ignore_ascii_case(origin),
        Some(base) => {
            origin.len() >= base.len()
                && origin.is_char_boundary(base.len())
                && origin[..base.len()].eq_ignore_ascii_case(base)
                && match &origin[base.len()..] {
                    "" => true,
                    rest => rest
                        .strip_prefix(':')
                        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
                }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_or_by_wildcard_port() {
        assert!(origin_matches("https://a.nhs.uk/", "https://a.nhs.uk"));
        assert!(origin_matches("https://A.nhs.uk", "https://a.NHS.uk"));
        assert!(!origin_matches(
            "https://a.nhs.uk",
            "https://a.nhs.uk.evil.example"
        ));
        assert!(!origin_matches("https://a.nhs.uk", "http://a.nhs.uk"));
        assert!(origin_matches(
            "http://localhost:*",
            "http://localhost:4000"
        ));
        assert!(origin_matches("http://localhost:*", "http://localhost"));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost.evil.example"
        ));
        assert!(!origin_matches(
            "http://localhost:*",
            "http://localhost:80.evil.example"
        ));
        assert!(!origin_matches("http://localhost:*", "http://localhost:"));
        let demo = Config::demo();
        assert!(demo.any_site_allows("http://127.0.0.1:45123"));
        assert!(!demo.any_site_allows("https://example.org"));
    }

    #[test]
    fn mistakes_are_caught_at_start_up() {
        let bad = |toml: &str| {
            toml::from_str::<Config>(toml)
                .map_err(|e| e.to_string())
                .and_then(|c| c.check().map_err(|e| e.to_string()))
                .unwrap_err()
        };
        assert!(bad("[[sites]]\nid = \"a\"\n[[sites]]\nid = \"a\"").contains("twice"));
        assert!(
            bad("[[sites]]\nid = \"a\"\norigins = [\"www.a.nhs.uk\"]").contains("scheme://host")
        );
        assert!(
            bad("[[sites]]\nid = \"a\"\norigins = [\"https://a.nhs.uk/feedback\"]")
                .contains("no path")
        );
        assert!(bad("[[sites]]\nid = \"a\"\ninstruments = [\"fft-typo\"]").contains("fft-typo"));
        assert!(bad("[[sites]]\nid = \"a\"\nsurprise = 1").contains("surprise"));
        assert!(
            bad("[[sites]]\nid = \"a\"\nservices = [{ id = \"w\", setting = \"inpatient\", ward_code = \"W1\", specialty_code = \"1\" }]")
                .contains("three digits")
        );
        assert!(bad("[[sites]]\nid = \"a\"\nservices = [\"w\", \"w\"]").contains("twice"));
    }

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../chorus.example.toml");
        let c = Config::load(&path).unwrap();
        assert!(!c.sites.is_empty());
        // Both ways of writing a service parse: an id alone, and a table with its codes.
        let s = &c.sites[0];
        assert!(s.services.iter().any(|x| x.setting.is_none()));
        let ward = s
            .services
            .iter()
            .find(|x| x.setting == Some(FftSetting::Inpatient))
            .expect("an inpatient ward in the example");
        assert!(!ward.ward_code.is_empty() && !ward.specialty_code.is_empty());
    }

    #[test]
    fn the_example_oidc_section_parses_once_uncommented() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../chorus.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let (head, tail) = text.split_once("# [oidc]").unwrap();
        let uncommented: String = std::iter::once("[oidc]")
            .chain(
                tail.lines()
                    .skip(1)
                    .map(|l| l.strip_prefix("# ").unwrap_or(l)),
            )
            .collect::<Vec<_>>()
            .join("\n");
        let c: Config = toml::from_str(&format!("{head}{uncommented}")).unwrap();
        c.check().unwrap();
        let o = c.oidc.unwrap();
        assert!(o.issuer.starts_with("https://login.microsoftonline.com/"));
        assert!(!o.password_sign_in);
        assert_eq!(o.roles.len(), 2);
    }

    #[test]
    fn oidc_mistakes_are_caught_at_start_up() {
        let base = "[[sites]]\nid = \"a\"\n[oidc]\nclient_id = \"c\"\nclient_secret_env = \"S\"\n";
        let bad = |rest: &str| {
            toml::from_str::<Config>(&format!("{base}{rest}"))
                .map_err(|e| e.to_string())
                .and_then(|c| c.check().map_err(|e| e.to_string()))
                .unwrap_err()
        };
        let good_urls = "issuer = \"https://login.example.com/t/v2.0\"\nredirect_url = \"https://c.example-trust.nhs.uk/dashboard/oidc/callback\"\n";
        assert!(bad("issuer = \"http://login.example.com\"\nredirect_url = \"https://c.nhs.uk/dashboard/oidc/callback\"\nallowed_domains = [\"nhs.net\"]").contains("https"));
        assert!(bad("issuer = \"https://login.example.com\"\nredirect_url = \"https://c.nhs.uk/callback\"\nallowed_domains = [\"nhs.net\"]").contains("/dashboard/oidc/callback"));
        assert!(bad(&format!("{good_urls}allowed_domains = []")).contains("allowed_domains"));
        assert!(
            bad(&format!("{good_urls}allowed_domains = [\"@nhs.net\"]")).contains("not a domain")
        );
        assert!(
            bad(&format!(
                "{good_urls}allowed_domains = [\"nhs.net\"]\nemail_claim = \"name\""
            ))
            .contains("email_claim")
        );
        assert!(bad(&format!("{good_urls}allowed_domains = [\"nhs.net\"]\n[[oidc.roles]]\ngroup = \"g\"\nsite = \"b\"\nrole = \"viewer\"")).contains("no site"));
        assert!(bad(&format!("{good_urls}allowed_domains = [\"nhs.net\"]\n[[oidc.roles]]\ngroup = \"g\"\nsite = \"a\"\nrole = \"owner\"")).contains("role"));
        let ok: Config =
            toml::from_str(&format!("{base}{good_urls}allowed_domains = [\"nhs.net\"]")).unwrap();
        ok.check().unwrap();
        assert!(ok.oidc.unwrap().password_sign_in);
    }
}
