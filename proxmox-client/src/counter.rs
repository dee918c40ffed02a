//! Counting the requests a client sends, for an embedding program's metrics.
//!
//! A counter is shared (`Arc`) rather than owned by one client, so a program that rebuilds a
//! cluster's client (new credentials, new trust) keeps counting into the same figures.

use std::sync::atomic::{AtomicU64, Ordering};

/// Requests sent and how many of them failed. Every attempt counts, retries included: that is
/// the load the cluster saw.
#[derive(Debug, Default)]
pub struct RequestCounter {
    requests: AtomicU64,
    failures: AtomicU64,
}

impl RequestCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests that got no answer, or an answer outside 2xx.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    pub(crate) fn sent(&self, ok: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_failures_apart() {
        let counter = RequestCounter::new();
        counter.sent(true);
        counter.sent(false);
        counter.sent(true);
        assert_eq!((counter.requests(), counter.failures()), (3, 1));
    }
}
