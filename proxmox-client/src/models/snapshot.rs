use serde::{Deserialize, Serialize};

/// One entry of `GET .../snapshot`. The list ends with a pseudo entry named `current`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SnapshotEntry {
    /// Snapshot name (`current` is the live state, not a snapshot).
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Parent snapshot.
    pub parent: Option<String>,
    /// Unix time of creation.
    #[serde(deserialize_with = "crate::lenient::opt_u64")]
    pub snaptime: Option<u64>,
    /// Whether RAM was saved too.
    #[serde(deserialize_with = "crate::lenient::bool")]
    pub vmstate: bool,
}

impl SnapshotEntry {
    /// Whether this is the pseudo entry for the live state.
    pub fn is_current(&self) -> bool {
        self.name == "current"
    }
}
