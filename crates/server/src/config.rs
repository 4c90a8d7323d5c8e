//! Configuration: a TOML file (see `chorus.example.toml`) with environment overrides for the
//! address and database. Sites are the unit of trust: each says which origins may embed its
//! widgets, which services and instruments it collects for, and how long it keeps responses.

use std::{collections::BTreeSet, path::Path};

use serde::Deserialize;

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Sites that may submit responses.
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Rate limits.
    #[serde(default)]
    pub limits: Limits,
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
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_ip_per_minute: default_per_ip(),
            per_site_per_minute: default_per_site(),
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
    /// Chorus itself are always allowed.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Service ids accepted; empty means any.
    #[serde(default)]
    pub services: Vec<String>,
    /// Instrument ids accepted; empty means every library instrument.
    #[serde(default)]
    pub instruments: Vec<String>,
    /// Days responses are kept (the retention task deletes older ones).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

fn default_retention() -> u32 {
    730
}

impl Config {
    /// Read a TOML file; errors name the file and the problem.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut ids = BTreeSet::new();
        for s in &config.sites {
            anyhow::ensure!(
                ids.insert(&s.id),
                "{}: site \"{}\" is configured twice",
                path.display(),
                s.id
            );
        }
        Ok(config)
    }

    /// With no file: one `demo` site that local pages may use, for `cargo xtask demo`.
    pub fn demo() -> Config {
        Config {
            sites: vec![Site {
                id: "demo".into(),
                name: "Chorus demo".into(),
                origins: vec![
                    "http://127.0.0.1:8080".into(),
                    "http://localhost:8080".into(),
                ],
                services: vec![],
                instruments: vec![],
                retention_days: default_retention(),
            }],
            limits: Limits::default(),
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
        self.origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }

    /// Does this site collect for `service`?
    pub fn allows_service(&self, service: Option<&str>) -> bool {
        self.services.is_empty() || service.is_some_and(|s| self.services.iter().any(|x| x == s))
    }

    /// Does this site collect `instrument`?
    pub fn allows_instrument(&self, instrument: &str) -> bool {
        self.instruments.is_empty() || self.instruments.iter().any(|x| x == instrument)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../chorus.example.toml");
        let c = Config::load(&path).unwrap();
        assert!(!c.sites.is_empty());
    }
}
