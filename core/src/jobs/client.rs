//! The jobs' way to a cluster's API client and to the core's reading of its errors: the lab's
//! per-cluster client registry (one client per cluster, rebuilt when its row changes) and the
//! one mapping of client errors into [`Error::Cluster`](crate::Error::Cluster).

use crate::error::Result;
use crate::lab::Lab;
use crate::types::ClusterId;

pub(crate) use crate::lab::cluster_error;

/// The API client of `cluster`.
///
/// # Errors
/// As [`Lab::cluster_client`].
pub(crate) async fn client_for(lab: &Lab, cluster: &ClusterId) -> Result<pvelab_proxmox::Client> {
    lab.cluster_client(cluster).await
}
