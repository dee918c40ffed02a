use serde::{Deserialize, Serialize};

/// Run state of a VM or container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestStatus {
    /// Running.
    Running,
    /// Stopped.
    Stopped,
    /// Paused (qemu `qmpstatus` only).
    Paused,
    /// The server does not know (e.g. node offline in `/cluster/resources`), or a new value.
    #[default]
    #[serde(other)]
    Unknown,
}

/// A VM or container as listed by `GET /nodes/{node}/qemu|lxc` or described by
/// `.../status/current`. Fields the server leaves out stay `None`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GuestSummary {
    /// The VMID.
    #[serde(deserialize_with = "crate::lenient::opt_u32")]
    pub vmid: Option<u32>,
    /// Guest name (hostname for containers).
    pub name: Option<String>,
    /// Running, stopped, ...
    pub status: GuestStatus,
    /// QEMU's own view (`running`, `paused`, `prelaunch`, ...); qemu only.
    pub qmpstatus: Option<String>,
    /// Active lock (`clone`, `backup`, `migrate`, ...), if any.
    pub lock: Option<String>,
    /// Whether this is a template (the field is sent only for templates).
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub template: bool,
    /// Semicolon-separated tags.
    pub tags: Option<String>,
    /// CPU use as a fraction of all its vCPUs.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub cpu: Option<f64>,
    /// Number of vCPUs.
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub cpus: Option<f64>,
    /// Used memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub mem: Option<u64>,
    /// Configured memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub maxmem: Option<u64>,
    /// Used disk in bytes (containers; 0 for VMs).
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub disk: Option<u64>,
    /// Size of the boot disk in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub maxdisk: Option<u64>,
    /// Seconds since start.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub uptime: Option<u64>,
    /// Bytes received since start (cumulative).
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub netin: Option<u64>,
    /// Bytes sent since start (cumulative).
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub netout: Option<u64>,
    /// Whether the guest agent is enabled in the config (qemu status only).
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub agent: bool,
    /// Process id of the running guest.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub pid: Option<u64>,
}
