//! `[dashboard]`: sessions, cookies and sign-in lock-out.

use serde::Deserialize;

/// `[dashboard]` in the configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardConfig {
    /// Mark cookies `Secure` (and use the `__Host-` prefix). Default: when the request came
    /// over HTTPS through a trusted proxy (`X-Forwarded-Proto: https` with
    /// `limits.trust_forwarded_for`).
    #[serde(default)]
    pub secure_cookies: Option<bool>,
    /// How long a sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub session_hours: u32,
    /// Failed sign-ins to one account (within `lock_minutes` of each other) before it is locked.
    #[serde(default = "default_lock_after")]
    pub lock_after: u32,
    /// Failed sign-ins from one address before it is locked (many accounts tried from one place).
    #[serde(default = "default_ip_lock_after")]
    pub ip_lock_after: u32,
    /// How long a lock lasts; failures further apart than this are forgotten.
    #[serde(default = "default_lock_minutes")]
    pub lock_minutes: u32,
    /// Delay added to a failed sign-in, doubled with each further failure (capped at 5 s).
    #[serde(default = "default_failure_delay_ms")]
    pub failure_delay_ms: u64,
}

fn default_session_hours() -> u32 {
    8
}
fn default_lock_after() -> u32 {
    5
}
fn default_ip_lock_after() -> u32 {
    20
}
fn default_lock_minutes() -> u32 {
    15
}
fn default_failure_delay_ms() -> u64 {
    250
}

impl Default for DashboardConfig {
    fn default() -> DashboardConfig {
        DashboardConfig {
            secure_cookies: None,
            session_hours: default_session_hours(),
            lock_after: default_lock_after(),
            ip_lock_after: default_ip_lock_after(),
            lock_minutes: default_lock_minutes(),
            failure_delay_ms: default_failure_delay_ms(),
        }
    }
}
