//! Per-client request limits: a token bucket per client address (GCRA, the `governor` crate), so
//! that one client flooding the API slows down alone.
//!
//! The client is the TCP peer. `X-Forwarded-For` counts only when the peer is a proxy the
//! operator trusts (`ICAT_TRUSTED_PROXIES`), and then only its rightmost address that is not
//! itself a trusted proxy: every entry left of that could have been written by the client.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

pub struct ClientLimits {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Vec<IpAddr>,
}

impl ClientLimits {
    /// `per_second` 0 turns the limit off (benchmarks, or a gateway that limits already).
    pub fn new(per_second: u32, burst: u32, trusted_proxies: Vec<IpAddr>) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            RateLimiter::dashmap(Quota::per_second(rate).allow_burst(burst))
        });
        Self {
            limiter,
            trusted_proxies,
        }
    }

    /// Whose request this is: see the module's documentation.
    pub fn client(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        forwarded_for
            .into_iter()
            .flat_map(|v| v.rsplit(','))
            .map_while(|s| s.trim().parse::<IpAddr>().ok())
            .find(|ip| !self.trusted_proxies.contains(ip))
            .or(Some(peer))
    }

    /// `Err(wait)` when the client has used up its burst.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        match &self.limiter {
            Some(limiter) => limiter
                .check_key(&client)
                .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
            None => Ok(()),
        }
    }

    /// Drops the buckets of clients that have been quiet long enough to be full again, so the
    /// table does not grow with every address ever seen.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let limits = ClientLimits::new(1, 1, vec![ip("10.0.0.1")]);
        // An untrusted peer cannot claim another address.
        assert_eq!(
            limits.client(Some(ip("203.0.113.9")), Some("198.51.100.7")),
            Some(ip("203.0.113.9"))
        );
        // Behind the trusted proxy: the rightmost untrusted entry, whatever the client prepended.
        assert_eq!(
            limits.client(Some(ip("10.0.0.1")), Some("1.2.3.4, 198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            limits.client(Some(ip("10.0.0.1")), None),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn a_client_past_its_burst_waits_and_others_do_not() {
        let limits = ClientLimits::new(1, 2, vec![]);
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        assert!(limits.check(a).is_ok());
        assert!(limits.check(a).is_ok());
        assert!(limits.check(a).is_err());
        assert!(limits.check(b).is_ok());
        assert!(
            ClientLimits::new(0, 0, vec![]).check(a).is_ok(),
            "0 turns it off"
        );
    }
}
