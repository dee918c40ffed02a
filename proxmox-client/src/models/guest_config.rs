use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::property::{Disk, NetDevice};

/// Keys of disk slots (`scsi0`, `virtio1`, `ide2`, `sata0`, `efidisk0`, `tpmstate0`, `unused0`,
/// and for containers `rootfs`, `mp0`).
const DISK_PREFIXES: &[&str] = &[
    "scsi", "virtio", "ide", "sata", "efidisk", "tpmstate", "unused", "mp",
];

/// A VM or container configuration (`GET .../config`): a flat map in which property strings
/// stay text.
///
/// Typed accessors parse the parts the product needs; [`GuestConfig::get`] reads anything else.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct GuestConfig {
    entries: BTreeMap<String, Value>,
}

impl GuestConfig {
    /// A value as text (numbers and booleans as PVE writes them), if present.
    pub fn get(&self, key: &str) -> Option<String> {
        match self.entries.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
    /// Every key and raw value.
    pub fn entries(&self) -> &BTreeMap<String, Value> {
        &self.entries
    }
    /// Config digest, to send back with an update so concurrent edits are detected.
    pub fn digest(&self) -> Option<String> {
        self.get("digest")
    }
    /// The VM name.
    pub fn name(&self) -> Option<String> {
        self.get("name").or_else(|| self.get("hostname"))
    }
    /// Memory in MiB (PVE 9 sends it as a string).
    pub fn memory_mib(&self) -> Option<u64> {
        self.entries
            .get("memory")
            .and_then(crate::lenient::parse_u64_value)
    }
    /// Cores per socket.
    pub fn cores(&self) -> Option<u64> {
        self.entries
            .get("cores")
            .and_then(crate::lenient::parse_u64_value)
    }
    /// Whether this is a template.
    pub fn is_template(&self) -> bool {
        self.entries
            .get("template")
            .and_then(crate::lenient::parse_u64_value)
            .is_some_and(|v| v != 0)
    }
    /// Active lock, if any.
    pub fn lock(&self) -> Option<String> {
        self.get("lock")
    }
    /// Network devices by index (`net0` -> 0), parsed.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] naming the first device that cannot be parsed.
    pub fn nets(&self) -> Result<Vec<(u32, NetDevice)>> {
        let mut out = Vec::new();
        for key in self.entries.keys() {
            if let Some(idx) = slot_index(key, "net") {
                let text = self.get(key).unwrap_or_default();
                let dev = NetDevice::parse(&text)
                    .map_err(|e| crate::Error::InvalidInput(format!("config key {key}: {e}")))?;
                out.push((idx, dev));
            }
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }
    /// Disks and drives by key (`scsi0`, `ide2`, `rootfs`, ...), parsed.
    ///
    /// # Errors
    /// [`crate::Error::InvalidInput`] naming the first disk that cannot be parsed.
    pub fn disks(&self) -> Result<Vec<(String, Disk)>> {
        let mut out = Vec::new();
        for key in self.entries.keys() {
            let is_disk =
                key == "rootfs" || DISK_PREFIXES.iter().any(|p| slot_index(key, p).is_some());
            if is_disk {
                let text = self.get(key).unwrap_or_default();
                let disk = Disk::parse(&text)
                    .map_err(|e| crate::Error::InvalidInput(format!("config key {key}: {e}")))?;
                out.push((key.clone(), disk));
            }
        }
        Ok(out)
    }
}

/// `net3` with prefix `net` -> 3.
fn slot_index(key: &str, prefix: &str) -> Option<u32> {
    let rest = key.strip_prefix(prefix)?;
    if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GuestConfig {
        serde_json::from_str(
            r#"{"name":"lab-101","memory":"2048","cores":2,"digest":"abc",
                "net0":"virtio=BC:24:11:2E:C5:4A,bridge=vmbr0,firewall=1",
                "scsi0":"local-lvm:base-9000-disk-0/vm-101-disk-0,size=32G",
                "ide2":"none,media=cdrom","scsihw":"virtio-scsi-single","vmgenid":"x"}"#,
        )
        .expect("valid")
    }

    #[test]
    fn memory_as_a_string_is_read_as_mebibytes() {
        assert_eq!(config().memory_mib(), Some(2048));
        assert_eq!(config().cores(), Some(2));
    }

    #[test]
    fn nets_and_disks_are_parsed_and_other_keys_are_not_disks() {
        let c = config();
        let nets = c.nets().expect("valid");
        assert_eq!(nets.len(), 1);
        assert_eq!(nets[0].1.bridge(), Some("vmbr0"));
        let disks = c.disks().expect("valid");
        let keys: Vec<&str> = disks.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, vec!["ide2", "scsi0"]);
        assert!(!c.is_template());
    }
}
