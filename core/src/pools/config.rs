//! How the orchestration paces itself: parallelism, retries, polling, and how long a person
//! waits for an unreachable cluster.

use std::time::Duration;

/// Settings of pool orchestration. [`PoolsConfig::default`] suits a real cluster;
/// [`PoolsConfig::fast`] suits the simulator at `time_scale = 0.01`.
///
/// Pass it with [`LabConfig::with_pools`](crate::LabConfig::with_pools).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolsConfig {
    /// Clone tasks in flight per node. A PVE node runs 3 API workers, so 3 keeps it busy
    /// without queueing work there.
    pub clones_per_node: usize,
    /// VMs one cluster works on at once (cloning, configuring, snapshotting, deleting).
    pub vms_per_cluster: usize,
    /// How long an action a person waits for (start, stop, ...) may take to answer when the
    /// cluster does not respond: it then fails with "cluster unreachable".
    pub answer_within: Duration,
    /// First delay between polls of a Proxmox task; grows by half each poll.
    pub task_poll: Duration,
    /// Longest delay between polls of a Proxmox task.
    pub task_poll_max: Duration,
    /// Give up waiting for one task after this long (the VM is then retried later).
    pub task_timeout: Duration,
    /// Retries of one step after transient failures (lock timeouts, 595/596, connection
    /// errors, a failed clone task) before the VM is recorded as failed.
    pub step_retries: u32,
    /// First delay before such a retry; doubles each time, with jitter.
    pub retry_base: Duration,
    /// Longest delay before such a retry.
    pub retry_max: Duration,
    /// First wait before a VM recorded as failed is tried again; doubles per attempt.
    pub failed_retry_base: Duration,
    /// Longest wait before a failed VM is tried again.
    pub failed_retry_max: Duration,
    /// Requests per second to one cluster (sustained); the lab's client of each cluster is
    /// built with it. Timeouts and the client's own retries are
    /// [`ClusterTimeouts`](crate::model::ClusterTimeouts).
    pub requests_per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub request_burst: u32,
    /// How long a graceful shutdown may take before the VM is forced off.
    pub shutdown_timeout: Duration,
}

impl Default for PoolsConfig {
    fn default() -> Self {
        Self {
            clones_per_node: 3,
            vms_per_cluster: 24,
            answer_within: Duration::from_secs(2),
            task_poll: Duration::from_millis(500),
            task_poll_max: Duration::from_secs(3),
            task_timeout: Duration::from_secs(30 * 60),
            step_retries: 6,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
            failed_retry_base: Duration::from_secs(60),
            failed_retry_max: Duration::from_secs(3600),
            requests_per_second: 20,
            request_burst: 40,
            shutdown_timeout: Duration::from_secs(180),
        }
    }
}

impl PoolsConfig {
    /// Settings for the simulator at `time_scale = 0.01` (tests): tight polling, short
    /// retries, no rate limit to speak of. The 2-second answer limit stays.
    pub fn fast() -> Self {
        Self {
            task_poll: Duration::from_millis(4),
            task_poll_max: Duration::from_millis(15),
            task_timeout: Duration::from_secs(30),
            step_retries: 8,
            retry_base: Duration::from_millis(5),
            retry_max: Duration::from_millis(100),
            failed_retry_base: Duration::from_millis(1),
            failed_retry_max: Duration::from_millis(1),
            requests_per_second: 5000,
            request_burst: 5000,
            shutdown_timeout: Duration::from_secs(5),
            ..Self::default()
        }
    }

    /// The delay before retry number `attempt` (0-based) of a step: exponential from
    /// `retry_base` up to `retry_max`, half of it random so that VMs that failed together do
    /// not come back together.
    pub(crate) fn retry_delay(&self, attempt: u32) -> Duration {
        jittered(self.retry_base, self.retry_max, attempt)
    }

    /// How long a VM recorded as failed after `attempts` attempts waits for its next try.
    pub(crate) fn failed_retry_delay(&self, attempts: u32) -> Duration {
        let exp = self
            .failed_retry_base
            .saturating_mul(2u32.saturating_pow(attempts.min(20)));
        exp.min(self.failed_retry_max)
    }
}

fn jittered(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(2u32.saturating_pow(attempt.min(20)))
        .min(max);
    let half = exp / 2;
    let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(rand::random::<u64>() % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_with_jitter_and_stay_under_the_cap() {
        let c = PoolsConfig::default();
        for _ in 0..100 {
            let first = c.retry_delay(0);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let late = c.retry_delay(30);
            assert!(late >= Duration::from_secs(15) && late <= Duration::from_secs(30));
        }
    }

    #[test]
    fn a_failed_vm_waits_longer_after_each_attempt_up_to_the_cap() {
        let c = PoolsConfig::default();
        assert_eq!(c.failed_retry_delay(0), Duration::from_secs(60));
        assert_eq!(c.failed_retry_delay(2), Duration::from_secs(240));
        assert_eq!(c.failed_retry_delay(40), Duration::from_secs(3600));
    }
}
