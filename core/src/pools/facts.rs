//! What Proxmox reported, in the core's own terms: the input of the pure planner.
//!
//! `observe.rs` fills these from one `cluster/resources` read, `GET /nodes`, the template's
//! config and the configs of the VMs the planner asks about; nothing here does I/O, so the
//! planner's tests build facts by hand.

use std::collections::BTreeMap;

use super::marker::Marker;
use crate::store::pool::PowerState;
use crate::types::{ClassId, ClassName, ClusterId, VmidScheme};

/// Bytes in one GiB (PVE's `G` in disk sizes).
pub(crate) const GIB: u64 = 1024 * 1024 * 1024;
/// Bytes in one MiB.
pub(crate) const MIB: u64 = 1024 * 1024;

/// What each VM of a class should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Specs {
    pub(crate) cores: u16,
    pub(crate) memory_mb: u32,
    pub(crate) disk_gb: u32,
}

impl Specs {
    pub(crate) fn disk_bytes(self) -> u64 {
        u64::from(self.disk_gb) * GIB
    }
}

/// The intent of one class's pool, as the database records it.
#[derive(Debug, Clone)]
pub(crate) struct Intent {
    pub(crate) class: ClassId,
    pub(crate) name: ClassName,
    pub(crate) cluster: ClusterId,
    pub(crate) scheme: VmidScheme,
    /// Desired number of student VMs.
    pub(crate) pool_size: u16,
    pub(crate) specs: Specs,
    /// The node every VM must go to, if the class names one.
    pub(crate) deployment_node: Option<String>,
    /// The class is being deleted: every VM goes.
    pub(crate) deleting: bool,
}

/// One guest of the cluster as `cluster/resources` lists it, plus its config when read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GuestFact {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// A VM (`qemu`); containers are never ours.
    pub(crate) qemu: bool,
    pub(crate) power: PowerState,
    pub(crate) lock: Option<String>,
    pub(crate) template: bool,
    /// Carries the `pvelab` tag.
    pub(crate) tagged: bool,
    /// vCPUs as running (a pending change shows in the config, not here).
    pub(crate) cores: Option<u64>,
    pub(crate) memory_mb: Option<u64>,
    pub(crate) disk_bytes: Option<u64>,
    /// The config, when the planner asked for it.
    pub(crate) config: Option<ConfigFact>,
}

/// The parts of a VM's config (pending changes applied, as `GET config` shows) pvelab uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ConfigFact {
    pub(crate) marker: Option<Marker>,
    pub(crate) description: Option<String>,
    pub(crate) tags: Option<String>,
    pub(crate) cores: Option<u64>,
    pub(crate) memory_mb: Option<u64>,
    /// The boot disk's key (`scsi0`) and size in bytes.
    pub(crate) disk: Option<(String, u64)>,
    /// The MAC address of `net0`.
    pub(crate) mac: Option<String>,
    pub(crate) lock: Option<String>,
    pub(crate) digest: Option<String>,
}

/// One node as `GET /nodes` reports it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeFact {
    pub(crate) name: String,
    pub(crate) online: bool,
    /// Memory not in use, in bytes.
    pub(crate) free_memory: u64,
    /// CPU use as a fraction of the node's cores.
    pub(crate) cpu: f64,
}

/// Where a class's VMs are cloned from: its template and that template's per-node replicas.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceFacts {
    pub(crate) template_vmid: u32,
    pub(crate) template_node: String,
    /// The template's disk lives on shared storage: clones may target any node.
    pub(crate) shared: bool,
    /// The source is a PVE template (linked clones possible); otherwise clones are full.
    pub(crate) is_template: bool,
    /// Replica templates by node (node -> VMID).
    pub(crate) replicas: BTreeMap<String, u32>,
    /// The template's boot disk size in bytes.
    pub(crate) disk_bytes: Option<u64>,
}

/// Everything the planner knows about the cluster.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// Guests by VMID (the whole cluster's, or at least the class's range).
    pub(crate) guests: BTreeMap<u32, GuestFact>,
    pub(crate) nodes: Vec<NodeFact>,
    /// The clone source, or why there is none usable (no template set, template missing).
    pub(crate) source: Result<SourceFacts, String>,
}
