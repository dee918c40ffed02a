//! The one place the orchestration gets a Proxmox client for a cluster, and the one mapping of
//! the client's errors into the core's [`Error::Cluster`].
//!
//! Clients are built from the stored cluster row and its unsealed credential and kept per
//! cluster for the lab's lifetime, so a ticket, the rate limit and the per-node caps are shared
//! by all work on that cluster. When the lab's own client registry lands, this file becomes a
//! call into it; nothing else in `pools` builds clients.

use pvelab_proxmox::{Client, RetryPolicy, TaskWait};
use secrecy::ExposeSecret;

use super::config::PoolsConfig;
use crate::error::{ClusterProblem, Error, Result};
use crate::lab::Lab;
use crate::store::clusters::{self, ClusterCredential};
use crate::types::ClusterId;

/// The client for `cluster`, built on first use.
///
/// # Errors
/// [`Error::NotFound`] for an unknown cluster; [`Error::NoSealingKey`] or [`Error::Sealing`]
/// when its credential cannot be opened; [`Error::Cluster`] when the stored settings do not make
/// a client (a host that is no URL).
pub(crate) async fn client_for(lab: &Lab, cluster: &ClusterId) -> Result<Client> {
    if let Some(client) = lab.pools().cached_client(cluster) {
        return Ok(client);
    }
    let sealer = lab.sealer()?;
    let id = cluster.clone();
    let (row, credential) = lab
        .db()
        .read(move |tx| {
            Ok((
                clusters::get(tx, &id)?,
                clusters::credential(tx, &sealer, &id)?,
            ))
        })
        .await?;
    let config = lab.pools().config();
    let host = if row.host.contains(':') && !row.host.starts_with('[') {
        format!("[{}]", row.host)
    } else {
        row.host.clone()
    };
    let mut builder = Client::builder(&format!("https://{host}:{}", row.port))
        .rate_limit(
            config.requests_per_second.max(1),
            config.request_burst.max(1),
        )
        .per_node_concurrency(
            pvelab_proxmox::DEFAULT_PER_NODE_CONCURRENCY.max(config.clones_per_node),
        )
        .request_timeout(config.request_timeout)
        .connect_timeout(config.answer_within)
        .retry_policy(RetryPolicy {
            max_retries: config.client_retries,
            base_delay: config.retry_base.min(std::time::Duration::from_millis(250)),
            max_delay: config.retry_max.min(std::time::Duration::from_secs(2)),
        })
        .task_wait(task_wait(config));
    builder = match &credential {
        ClusterCredential::Password(password) => {
            builder.password(&row.user, password.expose_secret())
        }
        ClusterCredential::ApiToken { id, secret } => {
            builder.api_token(&format!("{id}={}", secret.expose_secret()))
        }
    };
    if !row.verify_ssl {
        builder = builder.insecure();
    }
    let client = builder.build().map_err(|e| cluster_error(cluster, e))?;
    Ok(lab.pools().keep_client(cluster, client))
}

/// How tasks are polled, from the pools settings.
pub(crate) fn task_wait(config: &PoolsConfig) -> TaskWait {
    TaskWait {
        initial_interval: config.task_poll,
        max_interval: config.task_poll_max,
        timeout: config.task_timeout,
    }
}

/// The client's error as the core's: what went wrong with which cluster.
pub(crate) fn cluster_error(cluster: &ClusterId, e: pvelab_proxmox::Error) -> Error {
    use pvelab_proxmox::Error as P;
    let detail = e.to_string();
    let problem = match &e {
        P::Transport { .. } | P::Timeout { .. } | P::NodeUnreachable { .. } => {
            ClusterProblem::Unreachable { detail }
        }
        P::FingerprintMismatch { presented, .. } => ClusterProblem::Untrusted {
            presented: Some(presented.clone()),
            detail,
        },
        P::Authentication { .. } => ClusterProblem::AuthenticationFailed { detail },
        P::PermissionDenied { .. } => ClusterProblem::PermissionDenied { detail },
        P::Config(_) => ClusterProblem::Refused { detail },
        _ => ClusterProblem::Refused { detail },
    };
    Error::Cluster {
        cluster: cluster.clone(),
        problem,
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
