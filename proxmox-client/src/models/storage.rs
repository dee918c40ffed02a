use serde::{Deserialize, Serialize};

/// One entry of `GET /nodes/{node}/storage`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct StorageSummary {
    /// Storage id (`local`, `local-lvm`).
    pub storage: String,
    /// Storage type (`dir`, `lvmthin`, `rbd`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Comma-separated content types (`iso,vztmpl,backup`).
    pub content: String,
    /// Whether it is accessible now.
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub active: bool,
    /// Whether it is enabled.
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub enabled: bool,
    /// Whether all nodes share it (linked clones to other nodes need this).
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub shared: bool,
    /// Free bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub avail: Option<u64>,
    /// Total bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub total: Option<u64>,
    /// Used bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub used: Option<u64>,
}

/// One volume of `GET /nodes/{node}/storage/{storage}/content`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct StorageContent {
    /// Volume id (`local:iso/debian-12.iso`).
    pub volid: String,
    /// Format (`iso`, `raw`, `qcow2`, `tgz`).
    pub format: Option<String>,
    /// Content type (`iso`, `images`, `vztmpl`).
    pub content: Option<String>,
    /// Size in bytes.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub size: Option<u64>,
    /// Unix creation time.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub ctime: Option<u64>,
    /// Owning VMID (disk images).
    #[serde(deserialize_with = "crate::lenient::opt_u32")]
    pub vmid: Option<u32>,
}
