use serde::{Deserialize, Serialize};

/// Whether a node is reachable by the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// Up and in quorum.
    Online,
    /// Down or cut off.
    Offline,
    /// Anything else the server says.
    #[default]
    #[serde(other)]
    Unknown,
}

/// One entry of `GET /nodes`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NodeSummary {
    /// Node name (used in every `/nodes/{node}/...` path).
    pub node: String,
    /// Online or offline.
    pub status: NodeStatus,
    /// CPU use as a fraction of all cores (0.0 - 1.0).
    #[serde(deserialize_with = "crate::lenient::opt_f64")]
    pub cpu: Option<f64>,
    /// Number of cores.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub maxcpu: Option<u64>,
    /// Used memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub mem: Option<u64>,
    /// Total memory in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub maxmem: Option<u64>,
    /// Seconds since boot.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub uptime: Option<u64>,
    /// SHA-256 fingerprint of the node's certificate, colon-separated (pin this).
    pub ssl_fingerprint: Option<String>,
}
