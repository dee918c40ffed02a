//! The simulated cluster's state: nodes, storages, guests, pools, tasks.
//!
//! Plain data behind one mutex (see `state.rs`); every field is what PVE would keep in
//! `/etc/pve` or in its status daemon. JSON views are built by the API modules.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::exec::AgentState;
use crate::load::AnchoredLoad;

/// qemu or lxc.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Qemu,
    Lxc,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Qemu => "qemu",
            Kind::Lxc => "lxc",
        }
    }

    /// Folder of the guest's configuration file in `/etc/pve/nodes/<node>/`.
    pub(crate) fn conf_dir(self) -> &'static str {
        match self {
            Kind::Qemu => "qemu-server",
            Kind::Lxc => "lxc",
        }
    }

    /// Prefix of task types: `qm` or `vz`.
    pub(crate) fn task_prefix(self) -> &'static str {
        match self {
            Kind::Qemu => "qm",
            Kind::Lxc => "vz",
        }
    }

    /// "VM" or "CT", as PVE's messages say.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Qemu => "VM",
            Kind::Lxc => "CT",
        }
    }

    /// Name of the key holding the root disk.
    pub(crate) fn disk_key(self) -> &'static str {
        match self {
            Kind::Qemu => "scsi0",
            Kind::Lxc => "rootfs",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) online: bool,
    pub(crate) cores: u32,
    pub(crate) memory: u64,
    pub(crate) booted_at: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Storage {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) content: &'static str,
    pub(crate) shared: bool,
    pub(crate) total: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Iso {
    pub(crate) volid: String,
    pub(crate) size: u64,
    pub(crate) ctime: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) snaptime: i64,
    pub(crate) parent: Option<String>,
    /// The configuration at the time of the snapshot (restored by rollback).
    pub(crate) config: BTreeMap<String, Value>,
}

/// What the guest agent reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgentNet {
    DualStack,
    Ipv6Only,
}

#[derive(Debug, Clone)]
pub(crate) struct Guest {
    pub(crate) kind: Kind,
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// Configuration keys with PVE's JSON types (memory as a string for qemu, etc.).
    pub(crate) config: BTreeMap<String, Value>,
    pub(crate) running: bool,
    /// Simulated time (fractional seconds) of the last start.
    pub(crate) started_at: f64,
    pub(crate) created: i64,
    pub(crate) snapshots: Vec<Snapshot>,
    pub(crate) pool: Option<String>,
    pub(crate) load: AnchoredLoad,
    pub(crate) agent_net: AgentNet,
    /// Power transitions (simulated time, running after it), oldest first, for rrddata.
    pub(crate) power_log: Vec<(i64, bool)>,
    pub(crate) disk_bytes: u64,
    /// Changes PVE cannot apply to a running VM (cores, memory, ...): applied at its next
    /// stop or start; `None` deletes the key.
    pub(crate) pending: BTreeMap<String, Option<Value>>,
    /// The guest agent's processes and logged-in users (qemu only).
    pub(crate) agent: AgentState,
}

impl Guest {
    pub(crate) fn name(&self) -> String {
        let key = if self.kind == Kind::Lxc {
            "hostname"
        } else {
            "name"
        };
        self.config.get(key).and_then(Value::as_str).map_or_else(
            || format!("{}{}", self.kind.noun(), self.vmid),
            str::to_owned,
        )
    }

    pub(crate) fn lock(&self) -> Option<&str> {
        self.config.get("lock").and_then(Value::as_str)
    }

    pub(crate) fn set_lock(&mut self, lock: Option<&str>) {
        match lock {
            Some(l) => self.config.insert("lock".into(), Value::from(l)),
            None => self.config.remove("lock"),
        };
    }

    pub(crate) fn is_template(&self) -> bool {
        self.config.get("template").and_then(Value::as_i64) == Some(1)
    }

    pub(crate) fn cores(&self) -> u64 {
        let num = |k: &str| self.config.get(k).and_then(value_u64);
        num("cores").unwrap_or(1) * num("sockets").unwrap_or(1)
    }

    pub(crate) fn maxmem(&self) -> u64 {
        self.config.get("memory").and_then(value_u64).unwrap_or(512) * 1024 * 1024
    }

    pub(crate) fn maxdisk(&self) -> u64 {
        self.config
            .get(self.kind.disk_key())
            .and_then(Value::as_str)
            .and_then(|d| d.split(',').find_map(|p| p.strip_prefix("size=")))
            .and_then(parse_size)
            .unwrap_or(0)
    }

    pub(crate) fn has_agent(&self) -> bool {
        match self.kind {
            Kind::Lxc => false,
            Kind::Qemu => self
                .config
                .get("agent")
                .and_then(Value::as_str)
                .is_some_and(|a| a.starts_with('1') || a.contains("enabled=1")),
        }
    }

    pub(crate) fn tags(&self) -> Option<&str> {
        self.config.get("tags").and_then(Value::as_str)
    }

    /// MAC address of `net0` (qemu `virtio=MAC,...`, lxc `hwaddr=MAC`).
    pub(crate) fn mac(&self) -> Option<String> {
        let net = self.config.get("net0")?.as_str()?;
        net.split(',').find_map(|part| {
            let (k, v) = part.split_once('=')?;
            (v.len() == 17 && (k == "hwaddr" || k == "macaddr" || k == "virtio" || k == "e1000"))
                .then(|| v.to_owned())
        })
    }

    pub(crate) fn set_running(&mut self, running: bool, now: f64) {
        if running != self.running {
            self.apply_pending();
            // Processes die with the guest; a stop also logs everyone out.
            self.agent.reset_processes();
            if !running {
                self.agent.users.clear();
            }
        }
        if running && !self.running {
            self.started_at = now;
        }
        self.running = running;
        self.power_log.push((now.floor() as i64, running));
        if self.power_log.len() > 64 {
            // Keep the first entry: it is when the guest's history starts.
            self.power_log.remove(1);
        }
    }

    /// Apply pending changes (PVE does so when the VM stops or starts).
    pub(crate) fn apply_pending(&mut self) {
        for (k, v) in std::mem::take(&mut self.pending) {
            match v {
                Some(v) => self.config.insert(k, v),
                None => self.config.remove(&k),
            };
        }
    }

    /// The configuration with pending changes applied (what `GET config` shows by default).
    pub(crate) fn config_with_pending(&self) -> BTreeMap<String, Value> {
        let mut c = self.config.clone();
        for (k, v) in &self.pending {
            match v {
                Some(v) => c.insert(k.clone(), v.clone()),
                None => c.remove(k),
            };
        }
        c
    }

    /// Whether the guest was running at simulated time `t`.
    pub(crate) fn running_at(&self, t: i64) -> bool {
        self.power_log
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .is_some_and(|(_, r)| *r)
    }

    /// The config digest: a SHA-256 of the configuration, cut to the 40 hex digits PVE shows.
    pub(crate) fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (k, v) in &self.config {
            h.update(k.as_bytes());
            h.update(b"=");
            h.update(v.to_string().as_bytes());
            h.update(b"\n");
        }
        for (k, v) in &self.pending {
            h.update(format!("[PENDING]{k}={v:?}\n").as_bytes());
        }
        hex::encode(h.finalize())[..40].to_owned()
    }

    pub(crate) fn config_json(&self, current: bool) -> Value {
        let config = if current {
            self.config.clone()
        } else {
            self.config_with_pending()
        };
        let mut m: Map<String, Value> = config.into_iter().collect();
        m.insert("digest".into(), Value::from(self.digest()));
        Value::Object(m)
    }
}

pub(crate) fn conf_path(kind: Kind, node: &str, vmid: u32) -> String {
    format!("nodes/{node}/{}/{vmid}.conf", kind.conf_dir())
}

/// A number that PVE may send as a JSON number or a numeric string.
pub(crate) fn value_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// `32G`, `512M`, `1T`, `4096` (bytes) as PVE writes disk sizes.
pub(crate) fn parse_size(s: &str) -> Option<u64> {
    let (num, unit) = match s.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s, 'B'),
    };
    let n: f64 = num.parse().ok()?;
    let mul: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => return None,
    };
    (n >= 0.0).then_some((n * mul as f64) as u64)
}

/// Format bytes the way PVE writes them in `size=` (whole units, largest that fits).
pub(crate) fn format_size(bytes: u64) -> String {
    for (unit, mul) in [
        ('T', 1u64 << 40),
        ('G', 1 << 30),
        ('M', 1 << 20),
        ('K', 1 << 10),
    ] {
        if bytes >= mul && bytes % mul == 0 {
            return format!("{}{unit}", bytes / mul);
        }
    }
    bytes.to_string()
}

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) upid: String,
    pub(crate) node: String,
    pub(crate) pid: u32,
    pub(crate) pstart: u32,
    pub(crate) starttime: i64,
    pub(crate) ttype: String,
    pub(crate) id: String,
    pub(crate) user: String,
    pub(crate) log: Vec<String>,
    pub(crate) exitstatus: Option<String>,
    pub(crate) endtime: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Pool {
    pub(crate) comment: String,
}

/// Everything behind the state mutex.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) nodes: Vec<Node>,
    pub(crate) storages: Vec<Storage>,
    pub(crate) isos: Vec<Iso>,
    pub(crate) guests: BTreeMap<u32, Guest>,
    pub(crate) pools: BTreeMap<String, Pool>,
    pub(crate) tasks: HashMap<String, Task>,
    /// UPIDs in start order, for `GET /nodes/{node}/tasks`.
    pub(crate) task_order: Vec<String>,
    pub(crate) next_pid: u32,
}

impl World {
    pub(crate) fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    pub(crate) fn node_mut(&mut self, name: &str) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.name == name)
    }

    pub(crate) fn storage(&self, id: &str) -> Option<&Storage> {
        self.storages.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_trip_through_pve_notation() {
        assert_eq!(parse_size("32G"), Some(32 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(format_size(40 << 30), "40G");
        assert_eq!(parse_size("12X"), None);
    }
}
