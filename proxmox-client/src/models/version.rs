use serde::{Deserialize, Serialize};

/// `GET /version`: the PVE release the server runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Version {
    /// Package version, e.g. `9.2.0`.
    pub version: String,
    /// Major.minor release, e.g. `9.2`.
    pub release: String,
    /// Git id of the build.
    pub repoid: String,
}
