//! The one place the orchestration gets a Proxmox client for a cluster, and its error mapping:
//! the lab's per-cluster client registry and its one translation of client errors, plus the
//! orchestration's own task polling and its "unreachable within 2 s" answer.

use pvelab_proxmox::{Client, TaskWait};

use super::config::PoolsConfig;
use crate::error::{ClusterProblem, Error, Result};
use crate::lab::Lab;
use crate::types::ClusterId;

pub(crate) use crate::lab::cluster_error;

/// The client for `cluster` (shared by all work on it: one ticket, one rate limit).
///
/// # Errors
/// [`Error::NotFound`] for an unknown cluster; [`Error::NoSealingKey`] or [`Error::Sealing`]
/// when its credential cannot be opened.
pub(crate) async fn client_for(lab: &Lab, cluster: &ClusterId) -> Result<Client> {
    lab.cluster_client(cluster).await
}

/// How the orchestration polls tasks (tighter than the client's default, from the settings).
pub(crate) fn task_wait(config: &PoolsConfig) -> TaskWait {
    TaskWait {
        initial_interval: config.task_poll,
        max_interval: config.task_poll_max,
        timeout: config.task_timeout,
    }
}

/// The answer for a cluster that did not respond within `answer_within`.
pub(crate) fn unreachable(cluster: &ClusterId, waited: std::time::Duration) -> Error {
    Error::Cluster {
        cluster: cluster.clone(),
        problem: ClusterProblem::Unreachable {
            detail: format!("no answer within {} ms", waited.as_millis()),
        },
    }
}

/// Runs a call on `cluster` for a person who waits: transient failures (an injected or real
/// 595, a lock timeout) are tried again, but the whole takes at most `answer_within`; past it the
/// answer is "unreachable".
///
/// # Errors
/// [`Error::Cluster`]: unreachable within the limit, or what Proxmox answered.
pub(crate) async fn within_answer_time<T, F, Fut>(
    lab: &Lab,
    cluster: &ClusterId,
    call: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = pvelab_proxmox::Result<T>>,
{
    let within = lab.pools().config().answer_within;
    tokio::time::timeout(within, super::converge::read(lab, cluster, call))
        .await
        .map_err(|_| unreachable(cluster, within))?
}
