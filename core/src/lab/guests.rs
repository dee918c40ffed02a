//! Where a pool VM lives on Proxmox, and whether it runs: the one place checks and submissions
//! ask, so that the source of power states can change in one place (today the VM's own
//! `status/current`, which is always fresh; a cached inventory later).

use pvelab_proxmox::{GuestStatus, Qemu};

use super::proxmox_errors::cluster_error;
use super::Lab;
use crate::error::{Entity, Error, Result};
use crate::types::{NodeName, VmRef};

/// A pool VM as the API client addresses it, with its power state.
pub(crate) struct Located {
    /// The cluster's client (for waiting on the VM's tasks).
    pub(crate) client: pvelab_proxmox::Client,
    /// Calls on the VM.
    pub(crate) qemu: Qemu,
    /// Whether it is running (paused and unknown count as not running: its agent cannot
    /// answer).
    pub(crate) running: bool,
}

impl Lab {
    /// The VM `vm` on its cluster and whether it runs. `node` is where the pool last saw it;
    /// when it is not known, or the VM is no longer there (migrated), the cluster's resource
    /// list says where it is.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the cluster has no such VM; [`Error::Cluster`] when Proxmox
    /// cannot be asked; the errors of [`Lab::cluster_client`].
    pub(crate) async fn locate(&self, vm: &VmRef, node: Option<&NodeName>) -> Result<Located> {
        let client = self.cluster_client(&vm.cluster).await?;
        let fail = |e| cluster_error(&vm.cluster, e);
        if let Some(node) = node {
            let qemu = client.node(node.as_str()).qemu(vm.vmid.get());
            match qemu.status().await {
                Ok(status) => {
                    return Ok(Located {
                        client,
                        qemu,
                        running: status.status == GuestStatus::Running,
                    })
                }
                Err(pvelab_proxmox::Error::NotFound { .. }) => {}
                Err(e) => return Err(fail(e)),
            }
        }
        let listed = client.cluster().vms().await.map_err(fail)?;
        let node = listed
            .iter()
            .find(|r| r.vmid == Some(vm.vmid.get()) && r.kind == "qemu")
            .and_then(|r| r.node.clone())
            .ok_or_else(|| Error::not_found(Entity::Vm, vm))?;
        let qemu = client.node(node).qemu(vm.vmid.get());
        let status = qemu.status().await.map_err(fail)?;
        Ok(Located {
            client,
            qemu,
            running: status.status == GuestStatus::Running,
        })
    }
}
