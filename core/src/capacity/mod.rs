//! Capacity planning, pure: what a class's pool needs (memory, vCPUs, disk) and whether the
//! target nodes can hold it without overcommitting memory beyond the allowed ratio. The facade
//! (`lab/capacity.rs`) gathers the class, the template's cached specs, the inventory's running
//! guests and the nodes' memory; nothing here does I/O.
//!
//! Memory is what is refused on: a node that runs out of it swaps or kills guests, while vCPUs
//! are shared by time and disks of linked clones grow slowly. vCPUs and disk are estimated and
//! shown beside it.

mod estimate;

pub(crate) use estimate::{plan, NodeLoad, PoolNeed};

use crate::types::{ClassName, ClusterId};

/// Where the per-VM figures of a [`CapacityPlan`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecsSource {
    /// The class's settings, with the disk at least the template's (its specs were cached by
    /// the template sync).
    ClassAndTemplate,
    /// The class's settings alone: the template's specs are not cached yet (no template sync
    /// has read it), so a template disk larger than the class's is not known. The estimate is
    /// made all the same: memory and vCPUs always come from the class's settings, which the
    /// pool applies to every VM.
    ClassOnly,
}

/// One target node in a [`CapacityPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodePlan {
    /// The node.
    pub node: String,
    /// Its physical memory, in MiB.
    pub memory_mb: u64,
    /// Configured memory of the guests running on it now (other than the class's own), in MiB.
    pub committed_mb: u64,
    /// What it may hold at the overcommit ratio, minus what is committed, in MiB (negative when
    /// it is past the ratio already).
    pub headroom_mb: i64,
    /// The class's VMs the plan puts on it.
    pub vms_placed: u32,
    /// How many of the class's VMs it could hold alone.
    pub could_hold: u32,
    /// Its CPU cores.
    pub cores: u32,
    /// vCPUs of the guests running on it now (other than the class's own).
    pub vcpus_committed: u64,
}

/// The estimate for a class's pool of a given size on its cluster's nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityPlan {
    /// The class.
    pub class: ClassName,
    /// The cluster its pool is (or would be) on.
    pub cluster: ClusterId,
    /// The student VMs planned.
    pub size: u16,
    /// VMs that run: the students' and the teacher's (the base VM stays stopped and needs only
    /// disk).
    pub running_vms: u32,
    /// Memory per VM, in MiB.
    pub memory_per_vm_mb: u32,
    /// vCPUs per VM.
    pub cores_per_vm: u16,
    /// Disk per VM, in GiB (a full copy; linked clones start smaller).
    pub disk_per_vm_gb: u32,
    /// Where the per-VM figures came from.
    pub specs: SpecsSource,
    /// Memory of all running VMs, in MiB.
    pub memory_needed_mb: u64,
    /// vCPUs of all running VMs.
    pub vcpus_needed: u64,
    /// Disk of every VM (students, teacher and base), in GiB.
    pub disk_needed_gb: u64,
    /// The allowed memory, in percent of a node's memory (`capacity.memory_overcommit_percent`).
    pub overcommit_percent: u32,
    /// The target nodes: the class's node when it names one, else every online node.
    pub nodes: Vec<NodePlan>,
    /// VMs no node can take within the ratio.
    pub unplaced_vms: u32,
    /// The memory those VMs lack, in MiB (0 when the plan fits).
    pub short_mb: u64,
    /// The largest pool size whose VMs all fit.
    pub largest_size_that_fits: u16,
}

impl CapacityPlan {
    /// Whether every VM fits within the overcommit ratio.
    pub fn fits(&self) -> bool {
        self.unplaced_vms == 0
    }

    /// The nodes with room for at least one more of the class's VMs, with how many each could
    /// take alone, most first.
    pub fn nodes_with_room(&self) -> Vec<(&str, u32)> {
        let mut room: Vec<(&str, u32)> = self
            .nodes
            .iter()
            .filter(|n| n.could_hold > 0)
            .map(|n| (n.node.as_str(), n.could_hold))
            .collect();
        room.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        room
    }
}
