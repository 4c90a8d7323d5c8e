//! Submission rate limits (the `governor` crate's keyed GCRA limiters), per client IP and per
//! site. Checked in the handler, because the site is only known once the body is read.

use std::{net::IpAddr, num::NonZeroU32};

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
        if let Some(ip) = ip
            && self.per_ip.check_key(&ip).is_err()
        {
            return Err(Hit::Ip);
        }
        if self.per_site.check_key(&site.to_string()).is_err() {
            return Err(Hit::Site);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_site_limit_applies_across_addresses() {
        let l = Limiters::new(&Limits {
            per_ip_per_minute: 100,
            per_site_per_minute: 3,
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
}
