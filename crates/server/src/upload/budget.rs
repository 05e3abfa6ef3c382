//! What all requests together may hold of uploads at once: bytes of request bodies in flight,
//! and bytes of tables being parsed in memory.
//!
//! Each request is already held to its own limits; these bound the sum, which is what decides
//! whether a burst of large uploads takes the machine's memory (three 94 MB uploads once took
//! the server from 29 to 816 MiB). Bodies past the budget are refused at once with 503 and
//! Retry-After, before any byte is read, because a client that is told early can come back,
//! while one that is made to wait holds a connection. Parsing waits its turn instead: the body
//! has been received by then, and refusing would throw it away.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::LimitsConfig;

/// The shared budgets of one service.
#[derive(Debug)]
pub struct Budgets {
    pub bodies: Arc<BodyBudget>,
    parsing: Arc<Semaphore>,
    parse_max: u64,
}

impl Budgets {
    pub fn new(limits: &LimitsConfig) -> Budgets {
        let parse_max = limits.upload_parse_memory_bytes.clamp(1, u64::from(u32::MAX));
        Budgets {
            bodies: Arc::new(BodyBudget {
                in_flight: AtomicU64::new(0),
                max: limits.bodies_in_flight_bytes,
            }),
            parsing: Arc::new(Semaphore::new(parse_max as usize)),
            parse_max,
        }
    }

    /// Wait until a table of `bytes` may be parsed: it counts twice (its bytes and the COPY
    /// text made from them), and one larger than the whole budget takes all of it, so it is
    /// parsed alone rather than never.
    pub async fn parsing(&self, bytes: u64) -> Option<OwnedSemaphorePermit> {
        let weight = bytes.saturating_mul(2).clamp(1, self.parse_max);
        // The semaphore is never closed; None would only mean it was.
        Arc::clone(&self.parsing)
            .acquire_many_owned(u32::try_from(weight).unwrap_or(u32::MAX))
            .await
            .ok()
    }
}

/// Bytes of request bodies received and not yet let go, against `limits.bodies_in_flight_bytes`.
#[derive(Debug)]
pub struct BodyBudget {
    in_flight: AtomicU64,
    max: u64,
}

impl BodyBudget {
    /// Take `bytes` of the budget, or None when that would pass it.
    pub fn charge(self: &Arc<Self>, bytes: u64) -> Option<Charge> {
        let mut charge = Charge {
            budget: Arc::clone(self),
            bytes: 0,
        };
        charge.grow(bytes).then_some(charge)
    }

    /// Bytes held now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn max(&self) -> u64 {
        self.max
    }
}

/// A request's share of the body budget, given back when dropped.
#[derive(Debug)]
pub struct Charge {
    budget: Arc<BodyBudget>,
    bytes: u64,
}

impl Charge {
    /// Take `more` bytes, unless that would pass the budget (then nothing changes).
    pub fn grow(&mut self, more: u64) -> bool {
        let taken = self
            .budget
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                now.checked_add(more).filter(|total| *total <= self.budget.max)
            });
        if taken.is_ok() {
            self.bytes += more;
        }
        taken.is_ok()
    }

    /// Bytes this charge holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.in_flight.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_are_bounded_and_given_back() {
        let limits = LimitsConfig {
            bodies_in_flight_bytes: 100,
            ..LimitsConfig::default()
        };
        let budgets = Budgets::new(&limits);
        let mut a = budgets.bodies.charge(60).expect("room for 60");
        assert!(budgets.bodies.charge(50).is_none(), "60 + 50 passes 100");
        let b = budgets.bodies.charge(40).expect("room for 40");
        assert!(!a.grow(1), "the budget is full");
        assert_eq!(budgets.bodies.in_flight(), 100);
        drop(b);
        assert!(a.grow(30));
        assert_eq!(a.bytes(), 90);
        drop(a);
        assert_eq!(budgets.bodies.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_table_larger_than_the_parse_budget_is_parsed_alone() {
        let limits = LimitsConfig {
            upload_parse_memory_bytes: 100,
            ..LimitsConfig::default()
        };
        let budgets = Budgets::new(&limits);
        let big = budgets.parsing(1_000).await.expect("the whole budget");
        let small = tokio::time::timeout(std::time::Duration::from_millis(50), budgets.parsing(10)).await;
        assert!(small.is_err(), "waits while the large table is parsed");
        drop(big);
        assert!(budgets.parsing(10).await.is_some());
    }
}
