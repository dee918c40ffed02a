//! Load control: the cluster-wide rate limit, the per-node concurrency cap, and retry rules.
//!
//! A PVE node runs three API workers by default; more parallel slow calls only queue up there,
//! so the client queues them here instead, where they cost nothing.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::reply::ErrorReply;

/// Default number of concurrent requests per node (a node has 3 API workers).
pub const DEFAULT_PER_NODE_CONCURRENCY: usize = 3;

/// Requests per second and burst of the cluster-wide rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once before the sustained rate applies.
    pub burst: NonZeroU32,
}

impl Default for RateLimit {
    /// 20 requests per second with a burst of 40: far above what a class needs, well below what
    /// hurts a cluster.
    fn default() -> Self {
        RateLimit {
            per_second: NonZeroU32::new(20).expect("20 is not zero"),
            burst: NonZeroU32::new(40).expect("40 is not zero"),
        }
    }
}

/// How failed requests are retried (jittered exponential backoff).
///
/// Tests set tiny delays so they run fast; production keeps the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Delay before the first retry; doubles for each further one.
    pub base_delay: Duration,
    /// Upper bound of one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (0-based): half fixed, half random, so that
    /// callers that failed together do not come back together.
    pub(crate) fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.max_delay);
        let half = exp / 2;
        let jitter_nanos = fastrand::u64(0..=half.as_nanos().min(u64::MAX as u128) as u64);
        half + Duration::from_nanos(jitter_nanos)
    }
}

/// The rate limiter and the per-node semaphores of one client.
pub(crate) struct Limits {
    limiter: DefaultDirectRateLimiter,
    per_node: usize,
    nodes: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Limits {
    pub(crate) fn new(rate: RateLimit, per_node: usize) -> Self {
        Limits {
            limiter: RateLimiter::direct(
                Quota::per_second(rate.per_second).allow_burst(rate.burst),
            ),
            per_node: per_node.max(1),
            nodes: Mutex::new(HashMap::new()),
        }
    }

    /// Wait for the rate limit and a slot on `node` (`""` for cluster-wide paths).
    pub(crate) async fn admit(&self, node: &str) -> OwnedSemaphorePermit {
        let semaphore = {
            // A std mutex is fine: it is never held across an await.
            let mut nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
            nodes
                .entry(node.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_node)))
                .clone()
        };
        let permit = semaphore
            .acquire_owned()
            .await
            .expect("per-node semaphores are never closed");
        self.limiter.until_ready().await;
        permit
    }
}

/// Whether an error reply may be retried.
///
/// Writes: only the synchronous lock timeouts (file lock or cluster file system lock), which
/// PVE raises before doing anything.
/// GETs: also proxy failures (595/596), gateway errors, and 500s that report a timeout; other
/// 500s are semantic answers (missing VM, agent not running) and would not change.
pub(crate) fn reply_is_retryable(reply: &ErrorReply, idempotent: bool) -> bool {
    if reply.is_lock_timeout() {
        return true;
    }
    if !idempotent {
        return false;
    }
    match reply.status {
        502..=504 | 595 | 596 => true,
        500 => {
            let text = reply.combined_message().to_lowercase();
            // "got timeout", "got lock request timeout", "... timed out".
            text.contains("timeout") || text.contains("timed out")
        }
        _ => false,
    }
}

/// Whether a transport failure may be retried: connection failures never reached the server;
/// timeouts and broken replies may have, so only GETs retry them.
pub(crate) fn transport_is_retryable(err: &reqwest::Error, idempotent: bool) -> bool {
    if is_tls_failure(err) {
        return false;
    }
    err.is_connect() || (idempotent && (err.is_timeout() || err.is_request() || err.is_body()))
}

/// A certificate problem does not go away by retrying.
pub(crate) fn is_tls_failure(err: &reqwest::Error) -> bool {
    chain_has_rustls_error(err)
}

/// Walk the error chain. `io::Error` hides its wrapped error from `source()` (it returns the
/// wrapped error's source instead), so descend into it explicitly.
fn chain_has_rustls_error(e: &(dyn std::error::Error + 'static)) -> bool {
    if e.downcast_ref::<rustls::Error>().is_some() {
        return true;
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        if chain_has_rustls_error(inner) {
            return true;
        }
    }
    e.source().is_some_and(chain_has_rustls_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_the_cap() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        for _ in 0..50 {
            let d0 = p.delay(0);
            assert!(d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100));
            let d3 = p.delay(3);
            assert!(d3 >= Duration::from_millis(250) && d3 <= Duration::from_millis(500));
        }
    }

    #[test]
    fn a_semantic_500_is_not_retried_even_for_a_get() {
        let r = ErrorReply::new(500, "Configuration file 'x' does not exist", b"");
        assert!(!reply_is_retryable(&r, true));
    }

    #[test]
    fn a_595_is_retried_for_gets_but_not_for_writes() {
        let r = ErrorReply::new(595, "Connection refused", b"");
        assert!(reply_is_retryable(&r, true));
        assert!(!reply_is_retryable(&r, false));
    }

    #[test]
    fn a_lock_timeout_is_retried_even_for_writes() {
        let r = ErrorReply::new(
            500,
            "can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout",
            b"",
        );
        assert!(reply_is_retryable(&r, false));
    }

    #[test]
    fn a_cluster_lock_request_timeout_is_retried_even_for_writes() {
        let r = ErrorReply::new(
            500,
            "cfs-lock 'file-replication_cfg' error: got lock request timeout",
            b"",
        );
        assert!(reply_is_retryable(&r, false));
    }

    #[test]
    fn a_stopped_guest_is_not_retried() {
        let r = ErrorReply::new(500, "VM 101 is not running", b"");
        assert!(!reply_is_retryable(&r, true));
    }

    #[tokio::test]
    async fn the_node_cap_admits_only_that_many_at_once() {
        let limits = Limits::new(RateLimit::default(), 2);
        let a = limits.admit("pve1").await;
        let _b = limits.admit("pve1").await;
        // A third request on the same node waits; another node is unaffected.
        let _other = limits.admit("pve2").await;
        let third = tokio::time::timeout(Duration::from_millis(50), limits.admit("pve1")).await;
        assert!(third.is_err(), "a third permit must wait");
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(5), limits.admit("pve1")).await;
        assert!(third.is_ok(), "a freed permit must admit the waiter");
    }
}
