//! Submission rate limits (the `governor` crate's keyed GCRA limiters), per client IP and per
//! site. `governor` directly rather than `tower_governor`: the per-site key is only known once
//! the body is parsed, and both refusals must use our JSON error body, so the checks live in
//! the handler. The per-IP check runs before the body is even read, so a flood of junk costs
//! almost nothing; the per-site check runs once the site is known.

use std::{net::IpAddr, num::NonZeroU32};

use axum::http::HeaderMap;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Limits;

/// The two limiters.
pub struct Limiters {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_site: DefaultKeyedRateLimiter<String>,
}

/// Which limit was hit.
#[derive(Debug, PartialEq, Eq)]
pub enum Hit {
    /// Too many from this address.
    Ip,
    /// Too many for this site.
    Site,
}

impl Limiters {
    /// Limiters for the configured quotas (a zero quota is treated as one per minute).
    pub fn new(l: &Limits) -> Limiters {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Limiters {
            per_ip: RateLimiter::keyed(quota(l.per_ip_per_minute)),
            per_site: RateLimiter::keyed(quota(l.per_site_per_minute)),
        }
    }

    /// Count one submission; `Err` names the limit that was exceeded.
    pub fn check(&self, ip: Option<IpAddr>, site: &str) -> Result<(), Hit> {
        self.check_ip(ip)?;
        self.check_site(site)
    }

    /// Count one request from `ip` (no address: an in-process caller, not limited).
    pub fn check_ip(&self, ip: Option<IpAddr>) -> Result<(), Hit> {
        match ip {
            Some(ip) if self.per_ip.check_key(&ip).is_err() => Err(Hit::Ip),
            _ => Ok(()),
        }
    }

    /// Count one submission for `site`.
    pub fn check_site(&self, site: &str) -> Result<(), Hit> {
        if self.per_site.check_key(&site.to_string()).is_err() {
            return Err(Hit::Site);
        }
        Ok(())
    }

    /// Forget keys whose limit has fully recovered, so memory follows recent traffic, not
    /// every address ever seen. Called every minute by the housekeeping task.
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_site.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_site.shrink_to_fit();
    }
}

/// The client's address: the connection's peer, or behind a trusted proxy the last
/// `X-Forwarded-For` entry (the one our own proxy appended; earlier ones the client can forge).
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(ip) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|p| p.trim().parse::<IpAddr>().ok())
            .next_back()
    {
        return Some(ip);
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_site_limit_applies_across_addresses() {
        let l = Limiters::new(&Limits {
            per_ip_per_minute: 100,
            per_site_per_minute: 3,
            ..Limits::default()
        });
        for n in 0..3u8 {
            assert_eq!(l.check(Some(IpAddr::from([10, 0, 0, n])), "a"), Ok(()));
        }
        assert_eq!(
            l.check(Some(IpAddr::from([10, 0, 0, 9])), "a"),
            Err(Hit::Site)
        );
        assert_eq!(l.check(None, "b"), Ok(()));
    }

    #[test]
    fn forwarded_for_is_used_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "6.6.6.6, 10.1.2.3".parse().unwrap());
        let peer = Some(IpAddr::from([192, 168, 0, 1]));
        assert_eq!(client_ip(peer, &h, false), peer);
        assert_eq!(client_ip(peer, &h, true), Some(IpAddr::from([10, 1, 2, 3])));
        assert_eq!(client_ip(peer, &HeaderMap::new(), true), peer);
    }
}
