//! The jobs' way to a cluster's API client, and to the core's reading of its errors: ONE place,
//! so that moving to the lab's per-cluster client registry is an edit of this file alone.
//!
//! Until that registry exists, clients are built here from the cluster's row and its unsealed
//! credential and kept per cluster (a client carries a connection pool, a ticket cache and the
//! cluster's rate limit, so one per call would log in per call). A kept client is used while the
//! row's connection fields are unchanged.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::error::{ClusterProblem, Error, Result};
use crate::lab::Lab;
use crate::store::clusters::{self, Cluster, ClusterCredential};
use crate::types::ClusterId;

/// The clients built so far, each with the connection fields it was built from.
#[derive(Debug, Default)]
pub(crate) struct ClientCache {
    clients: Mutex<HashMap<ClusterId, (String, pvelab_proxmox::Client)>>,
}

/// The fields of a row that decide how to connect; a change builds a new client.
fn connection_key(row: &Cluster) -> String {
    format!(
        "{}|{}|{}|{:?}|{}|{}",
        row.host, row.port, row.user, row.api_token_id, row.verify_ssl, row.created_at
    )
}

/// The API client of `cluster`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown cluster; [`Error::NoSealingKey`] / [`Error::Sealing`] when
/// its credential cannot be opened; [`Error::Internal`] when the stored values make no client.
pub(crate) async fn client_for(lab: &Lab, cluster: &ClusterId) -> Result<pvelab_proxmox::Client> {
    let sealer = lab.sealer()?;
    let id = cluster.clone();
    let (row, credential) = lab
        .db()
        .read(move |tx| {
            let row = clusters::get(tx, &id)?;
            let credential = clusters::credential(tx, &sealer, &id)?;
            Ok((row, credential))
        })
        .await?;
    let key = connection_key(&row);
    let cache = &lab.jobs_shared().clients;
    if let Some((built_from, client)) = lock(cache).get(cluster) {
        if *built_from == key {
            return Ok(client.clone());
        }
    }
    let client = build(&row, credential).map_err(|e| cluster_error(cluster, e))?;
    lock(cache).insert(cluster.clone(), (key, client.clone()));
    Ok(client)
}

fn lock(
    cache: &ClientCache,
) -> std::sync::MutexGuard<'_, HashMap<ClusterId, (String, pvelab_proxmox::Client)>> {
    cache.clients.lock().unwrap_or_else(PoisonError::into_inner)
}

fn build(
    row: &Cluster,
    credential: ClusterCredential,
) -> pvelab_proxmox::Result<pvelab_proxmox::Client> {
    let host = if row.host.contains(':') && !row.host.starts_with('[') {
        format!("[{}]", row.host)
    } else {
        row.host.clone()
    };
    let auth = match credential {
        ClusterCredential::Password(password) => pvelab_proxmox::Auth::Password {
            username: row.user.clone(),
            password,
        },
        ClusterCredential::ApiToken { id, secret } => pvelab_proxmox::Auth::ApiToken {
            token_id: id,
            secret,
        },
    };
    let builder = pvelab_proxmox::Client::builder(&format!("https://{host}:{}", row.port))
        .auth(auth)
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(30))
        .retry_policy(pvelab_proxmox::RetryPolicy {
            max_retries: 2,
            ..pvelab_proxmox::RetryPolicy::default()
        });
    let builder = if row.verify_ssl {
        builder
    } else {
        builder.insecure()
    };
    builder.build()
}

/// `error` from talking to `cluster`, as the core reports it.
pub(crate) fn cluster_error(cluster: &ClusterId, error: pvelab_proxmox::Error) -> Error {
    use pvelab_proxmox::Error as E;
    let detail = error.to_string();
    let problem = match &error {
        E::Authentication { message } => ClusterProblem::AuthenticationFailed {
            detail: message.clone(),
        },
        E::PermissionDenied { message } => ClusterProblem::PermissionDenied {
            detail: message.clone(),
        },
        E::FingerprintMismatch { presented, .. } => ClusterProblem::Untrusted {
            presented: Some(presented.clone()),
            detail,
        },
        E::Transport { .. } | E::Timeout { .. } | E::NodeUnreachable { .. } => {
            ClusterProblem::Unreachable { detail }
        }
        E::Api { status, .. } if (502..=504).contains(status) => {
            ClusterProblem::Unreachable { detail }
        }
        E::Config(_) | E::InvalidInput(_) => {
            return Error::internal(format!("cluster {cluster}: {detail}"))
        }
        _ => ClusterProblem::Refused { detail },
    };
    Error::Cluster {
        cluster: cluster.clone(),
        problem,
    }
}
