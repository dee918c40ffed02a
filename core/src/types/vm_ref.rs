//! The key of a VM: its cluster and its VMID there.

use std::fmt;

use super::{ClusterId, VmId};

/// A VM as Proxmox knows it: VMIDs are unique per cluster only, so a VM is named by both. Every
/// VM operation of the core takes one, so two clusters' VM 101 are never confused (marking one
/// reimaged never cleans the other).
///
/// # Examples
/// ```
/// use pvelab_core::types::{ClusterId, VmId, VmRef};
/// let vm = VmRef::new(ClusterId::parse("pve1")?, VmId::new(101)?);
/// assert_eq!(vm.to_string(), "101 on pve1");
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VmRef {
    /// The cluster the VM lives on.
    pub cluster: ClusterId,
    /// Its VMID on that cluster.
    pub vmid: VmId,
}

impl VmRef {
    /// The VM `vmid` on `cluster`.
    pub fn new(cluster: ClusterId, vmid: VmId) -> Self {
        Self { cluster, vmid }
    }
}

impl fmt::Display for VmRef {
    /// `101 on pve1`, so that "VM {vm}" reads "VM 101 on pve1".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.vmid, self.cluster)
    }
}
