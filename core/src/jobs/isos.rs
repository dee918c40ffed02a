//! The ISO job: the ISO images on the storages of a cluster that allows ISO sync.
//!
//! For every online node: its storages with ISO content, then each storage's ISO volumes. A
//! shared storage is listed once, through the first node that shows it. Images no longer shown
//! are removed, except those of nodes that could not be listed (an offline node keeps its rows).

use std::collections::HashSet;

use tokio_util::sync::CancellationToken;

use super::client::{client_for, cluster_error};
use super::report::JobStats;
use super::run::{unless_cancelled, JobResult};
use crate::lab::Lab;
use crate::store::isos::{self, IsoFound};
use crate::types::ClusterId;

/// Runs one ISO listing of `cluster`.
pub(crate) async fn run(lab: &Lab, cluster: &ClusterId, cancel: &CancellationToken) -> JobResult {
    let client = client_for(lab, cluster).await?;
    let fail = |e| cluster_error(cluster, e);
    let nodes = unless_cancelled(cancel, client.nodes())
        .await?
        .map_err(fail)?;
    let mut found = Vec::new();
    let mut unlisted: Vec<String> = nodes
        .iter()
        .filter(|n| n.status != pvelab_proxmox::NodeStatus::Online)
        .map(|n| n.node.clone())
        .collect();
    let mut shared_done: HashSet<String> = HashSet::new();
    for node in nodes
        .iter()
        .filter(|n| n.status == pvelab_proxmox::NodeStatus::Online)
    {
        let handle = client.node(&node.node);
        let storages = match unless_cancelled(cancel, handle.storages(Some("iso"))).await? {
            Ok(storages) => storages,
            Err(pvelab_proxmox::Error::NodeUnreachable { .. }) => {
                unlisted.push(node.node.clone());
                continue;
            }
            Err(e) => return Err(fail(e).into()),
        };
        for storage in storages.iter().filter(|s| s.active || s.enabled) {
            if storage.shared && !shared_done.insert(storage.storage.clone()) {
                continue;
            }
            let content = unless_cancelled(
                cancel,
                handle.storage(&storage.storage).content(Some("iso")),
            )
            .await?
            .map_err(fail)?;
            let at = (!storage.shared).then(|| node.node.clone());
            found.extend(
                content
                    .into_iter()
                    .filter(|v| v.content.as_deref().is_none_or(|c| c == "iso"))
                    .map(|v| IsoFound {
                        storage: storage.storage.clone(),
                        volid: v.volid,
                        size: v.size,
                        node: at.clone(),
                    }),
            );
        }
    }
    let id = cluster.clone();
    let (written, removed) = lab
        .db()
        .write(move |tx| isos::record(tx, &id, &found, &unlisted))
        .await?;
    Ok(JobStats {
        written,
        removed,
        ..JobStats::default()
    })
}
