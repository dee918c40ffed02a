//! Owned parameter structs for calls with many optional parameters.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::property::NetDevice;

/// Parameters of `POST .../qemu/{vmid}/clone` and `POST .../lxc/{vmid}/clone`.
///
/// Without `full`, PVE makes a linked clone of a template and a full clone of a plain VM.
/// `description` is stored in the new guest's config from the first moment (a good place for a
/// marker line); tags cannot be given here: set `tags` with a config update after the clone.
/// For a container ([`crate::Lxc::clone_ct`]) `name` is sent as `hostname` and `format` is
/// refused.
///
/// ```
/// use pvelab_proxmox::CloneParams;
/// let p = CloneParams::new(101).name("lab-alice").pool("class-7b").full(false);
/// assert_eq!(p.newid, 101);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CloneParams {
    /// VMID of the new VM (required).
    pub newid: u32,
    /// Name of the new VM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Resource pool to add the new VM to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// Full copy (`true`) or linked clone (`false`, templates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<bool>,
    /// Target storage (full clones only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// Target image format (full clones only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Target node (needs shared storage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Clone from this snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapname: Option<String>,
}

impl CloneParams {
    /// Clone into VMID `newid`, everything else default.
    pub fn new(newid: u32) -> Self {
        CloneParams {
            newid,
            ..Default::default()
        }
    }
    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
    /// Add the clone to a pool.
    pub fn pool(mut self, pool: impl Into<String>) -> Self {
        self.pool = Some(pool.into());
        self
    }
    /// Full (`true`) or linked (`false`) clone.
    pub fn full(mut self, full: bool) -> Self {
        self.full = Some(full);
        self
    }
    /// Target storage (full clones only).
    pub fn storage(mut self, storage: impl Into<String>) -> Self {
        self.storage = Some(storage.into());
        self
    }
    /// Target format (full clones only).
    pub fn format(mut self, format: impl Into<String>) -> Self {
        self.format = Some(format.into());
        self
    }
    /// Target node.
    pub fn target(mut self, node: impl Into<String>) -> Self {
        self.target = Some(node.into());
        self
    }
    /// Source snapshot.
    pub fn snapname(mut self, snapname: impl Into<String>) -> Self {
        self.snapname = Some(snapname.into());
        self
    }
}

/// A change to a guest config (`PUT`/`POST .../config`): values to set, keys to delete, and the
/// digest the change was based on (PVE refuses it if the config changed meanwhile).
///
/// ```
/// use pvelab_proxmox::ConfigUpdate;
/// let update = ConfigUpdate::new().set("memory", 4096).set("agent", "1").delete("ide2");
/// assert!(!update.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigUpdate {
    set: BTreeMap<String, String>,
    delete: Vec<String>,
    digest: Option<String>,
}

impl ConfigUpdate {
    /// An empty update.
    pub fn new() -> Self {
        Self::default()
    }
    /// Set `key` to `value` (numbers and text as PVE expects them; use `1`/`0` for booleans).
    pub fn set(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.set.insert(key.into(), value.to_string());
        self
    }
    /// Set `net{index}` from a parsed device.
    pub fn net(self, index: u32, device: &NetDevice) -> Self {
        self.set(format!("net{index}"), device)
    }
    /// Remove `key` from the config.
    pub fn delete(mut self, key: impl Into<String>) -> Self {
        self.delete.push(key.into());
        self
    }
    /// Only apply if the config still has this digest.
    pub fn digest(mut self, digest: impl Into<String>) -> Self {
        self.digest = Some(digest.into());
        self
    }
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty()
    }
}

impl Serialize for ConfigUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in &self.set {
            map.serialize_entry(k, v)?;
        }
        if !self.delete.is_empty() {
            map.serialize_entry("delete", &self.delete.join(","))?;
        }
        if let Some(d) = &self.digest {
            map.serialize_entry("digest", d)?;
        }
        map.end()
    }
}

/// Parameters of `DELETE /nodes/{node}/qemu/{vmid}` (sent in the query; a DELETE has no body).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeleteParams {
    /// Also remove the VMID from backup jobs, replication and HA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purge: Option<bool>,
    /// Also destroy disks not referenced by the config.
    #[serde(
        rename = "destroy-unreferenced-disks",
        skip_serializing_if = "Option::is_none"
    )]
    pub destroy_unreferenced_disks: Option<bool>,
}

impl DeleteParams {
    /// Purge everything: what a classroom pool wants when a student VM goes away.
    pub fn purge_all() -> Self {
        DeleteParams {
            purge: Some(true),
            destroy_unreferenced_disks: Some(true),
        }
    }
}

/// Parameters of `POST .../status/shutdown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ShutdownParams {
    /// Seconds to wait for the guest to power off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Hard-stop the guest if it has not shut down within `timeout`.
    #[serde(rename = "forceStop", skip_serializing_if = "Option::is_none")]
    pub force_stop: Option<bool>,
}

impl ShutdownParams {
    /// Wait `timeout` seconds, then force the guest off.
    pub fn forced_after(timeout: u64) -> Self {
        ShutdownParams {
            timeout: Some(timeout),
            force_stop: Some(true),
        }
    }
}

/// Parameters of `POST .../snapshot`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SnapshotParams {
    /// Snapshot name (letters, digits, `-`, `_`; starts with a letter).
    pub snapname: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Save RAM too (qemu only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmstate: Option<bool>,
}

impl SnapshotParams {
    /// A snapshot named `snapname`.
    pub fn new(snapname: impl Into<String>) -> Self {
        SnapshotParams {
            snapname: snapname.into(),
            ..Default::default()
        }
    }
    /// Set the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_update_lists_deletions_comma_separated() {
        let u = ConfigUpdate::new()
            .set("memory", 4096)
            .delete("ide2")
            .delete("net1")
            .digest("d1");
        let pairs = crate::form::to_pairs(&u).expect("encodes");
        assert!(pairs.contains(&("memory".into(), "4096".into())));
        assert!(pairs.contains(&("delete".into(), "ide2,net1".into())));
        assert!(pairs.contains(&("digest".into(), "d1".into())));
    }

    #[test]
    fn delete_params_use_pves_dashed_name_and_one_zero_booleans() {
        let pairs = crate::form::to_pairs(&DeleteParams::purge_all()).expect("encodes");
        assert!(pairs.contains(&("destroy-unreferenced-disks".into(), "1".into())));
        assert!(pairs.contains(&("purge".into(), "1".into())));
    }
}
