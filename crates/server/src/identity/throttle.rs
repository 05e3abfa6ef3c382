//! Repeated failed logins are slowed, per user name and per client address, without ever
//! locking anyone out (a lockout would let an attacker shut a user out by failing on purpose).
//! After [`FREE_FAILURES`] failures within [`WINDOW`], each further attempt for that name or
//! from that address waits before it is answered, doubling up to [`MAX_DELAY`]; a success
//! clears the name's record. Memory is bounded: when full, old records go first.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 3;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const FIRST_DELAY: Duration = Duration::from_millis(250);
const MAX_DELAY: Duration = Duration::from_secs(8);
const CAPACITY: usize = 20_000;

#[derive(Hash, PartialEq, Eq, Clone)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<Key, (u32, Instant)>>,
}

impl Throttle {
    /// How long an attempt for `user` from `address` waits before it is answered.
    pub fn delay(&self, user: &str, address: Option<IpAddr>) -> Duration {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let count = |k: &Key| {
            failures
                .get(k)
                .filter(|(_, at)| at.elapsed() < WINDOW)
                .map_or(0, |(n, _)| *n)
        };
        let mut n = count(&Key::User(user.to_string()));
        if let Some(a) = address {
            n = n.max(count(&Key::Address(a)));
        }
        delay_after(n)
    }

    pub fn failed(&self, user: &str, address: Option<IpAddr>) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= CAPACITY {
            failures.retain(|_, (_, at)| at.elapsed() < WINDOW);
            if failures.len() >= CAPACITY {
                failures.clear();
            }
        }
        let mut keys = vec![Key::User(user.to_string())];
        keys.extend(address.map(Key::Address));
        for k in keys {
            let e = failures.entry(k).or_insert((0, Instant::now()));
            if e.1.elapsed() >= WINDOW {
                *e = (0, Instant::now());
            }
            e.0 = e.0.saturating_add(1);
            e.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, user: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.remove(&Key::User(user.to_string()));
    }
}

fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_slow_down_and_success_clears() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(2), Duration::ZERO);
        assert_eq!(delay_after(3), Duration::from_millis(250));
        assert_eq!(delay_after(4), Duration::from_millis(500));
        assert_eq!(delay_after(40), MAX_DELAY);
        let t = Throttle::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..4 {
            t.failed("alice", Some(a));
        }
        assert_eq!(t.delay("alice", None), Duration::from_millis(500));
        assert_eq!(
            t.delay("bob", Some(a)),
            Duration::from_millis(500),
            "same address"
        );
        assert_eq!(t.delay("bob", None), Duration::ZERO);
        t.succeeded("alice");
        assert_eq!(t.delay("alice", None), Duration::ZERO);
    }
}
