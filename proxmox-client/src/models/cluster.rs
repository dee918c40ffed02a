use serde::{Deserialize, Serialize};

use super::GuestStatus;

/// Filter of `GET /cluster/resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// VMs and containers.
    Vm,
    /// Storages.
    Storage,
    /// Nodes.
    Node,
    /// SDN zones.
    Sdn,
}

/// One entry of `GET /cluster/resources`: every guest (and node, storage, ...) of the cluster
/// in one call. Values can lag a few seconds behind the nodes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClusterResource {
    /// `qemu/100`, `lxc/200`, `node/pve1`, `storage/pve1/local`, ...
    pub id: String,
    /// `qemu`, `lxc`, `node`, `storage`, `sdn`, `pool`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Node the resource lives on.
    pub node: Option<String>,
    /// VMID (guests only).
    #[serde(deserialize_with = "crate::lenient::opt_u32")]
    pub vmid: Option<u32>,
    /// Guest name.
    pub name: Option<String>,
    /// Guest run state as text (`running`, `stopped`, `unknown`; `online` for nodes).
    pub status: Option<String>,
    /// Whether the guest is a template.
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub template: bool,
    /// Active lock, if any.
    pub lock: Option<String>,
    /// Semicolon-separated tags.
    pub tags: Option<String>,
    /// Resource pool.
    pub pool: Option<String>,
    /// Storage id (storage entries).
    pub storage: Option<String>,
    /// CPU use as a fraction.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub cpu: Option<f64>,
    /// vCPUs / cores.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub maxcpu: Option<f64>,
    /// Used memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub mem: Option<u64>,
    /// Memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub maxmem: Option<u64>,
    /// Used disk in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub disk: Option<u64>,
    /// Disk size in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub maxdisk: Option<u64>,
    /// Bytes received (cumulative).
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub netin: Option<u64>,
    /// Bytes sent (cumulative).
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub netout: Option<u64>,
    /// Seconds since start.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub uptime: Option<u64>,
}

impl ClusterResource {
    /// Whether this entry is a VM or container.
    pub fn is_guest(&self) -> bool {
        self.kind == "qemu" || self.kind == "lxc"
    }

    /// The guest status as an enum (`Unknown` when absent or new).
    pub fn guest_status(&self) -> GuestStatus {
        match self.status.as_deref() {
            Some("running") => GuestStatus::Running,
            Some("stopped") => GuestStatus::Stopped,
            Some("paused") => GuestStatus::Paused,
            _ => GuestStatus::Unknown,
        }
    }
}
