//! Guest endpoints: lists, status, configuration and pending changes.

use axum::extract::State;
use serde_json::{json, Value};

use super::views::{guest_entry, guest_status};
use super::{check_lock, guest_mut, S};
use crate::http::call::Call;
use crate::http::params::{check_bool, check_int};
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::Kind;

/// `GET /nodes/{node}/qemu|lxc`.
pub(crate) async fn list(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["full"])?;
    c.params.bool("full")?;
    let now = s.clock.now_f64();
    let w = s.world();
    let list: Vec<Value> = w
        .guests
        .values()
        .filter(|g| g.kind == kind && g.node == c.node())
        .map(|g| Value::Object(guest_entry(g, now)))
        .collect();
    Ok(Data::new(list))
}

/// `GET /nodes/{node}/qemu|lxc/{vmid}`: the directory index.
pub(crate) async fn index(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    let mut w = s.world();
    guest_mut(&mut w, kind, c.node(), c.vmid())?;
    let subdirs = [
        "config", "status", "snapshot", "rrddata", "clone", "template", "resize",
    ];
    Ok(Data::new(
        subdirs
            .iter()
            .map(|d| json!({ "subdir": d }))
            .collect::<Vec<_>>(),
    ))
}

/// `GET .../status/current`.
pub(crate) async fn status(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    let now = s.clock.now_f64();
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    Ok(Data::new(guest_status(g, now)))
}

/// `GET /nodes/{node}/qemu/{vmid}/pending`: every key with its current and pending value.
pub(crate) async fn pending(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    let mut keys: std::collections::BTreeSet<&String> = g.config.keys().collect();
    keys.extend(g.pending.keys());
    let list: Vec<Value> = keys
        .into_iter()
        .map(|k| {
            let mut e = json!({ "key": k });
            // The schema declares both values as strings.
            let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            if let Some(v) = g.config.get(k) {
                e["value"] = text(v).into();
            }
            match g.pending.get(k) {
                Some(Some(p)) => e["pending"] = text(p).into(),
                Some(None) => e["delete"] = 1.into(),
                None => {}
            }
            e
        })
        .collect();
    Ok(Data::new(list))
}

/// `GET .../config`.
pub(crate) async fn config(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["current", "snapshot"])?;
    let current = c.params.bool("current")?.unwrap_or(false);
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    if let Some(name) = c.params.get("snapshot") {
        let snap = g
            .snapshots
            .iter()
            .find(|x| x.name == name)
            .ok_or_else(|| ApiError::fail(format!("snapshot '{name}' does not exist")))?;
        let mut m: serde_json::Map<String, Value> = snap.config.clone().into_iter().collect();
        m.insert("digest".into(), g.digest().into());
        return Ok(Data::new(Value::Object(m)));
    }
    Ok(Data::new(g.config_json(current)))
}

const QEMU_KEYS: &[&str] = &[
    "name",
    "memory",
    "cores",
    "sockets",
    "cpu",
    "cpulimit",
    "cpuunits",
    "balloon",
    "description",
    "tags",
    "onboot",
    "protection",
    "agent",
    "ostype",
    "boot",
    "vga",
    "machine",
    "bios",
    "numa",
    "hotplug",
    "startup",
    "kvm",
    "ciuser",
    "cipassword",
    "sshkeys",
    "nameserver",
    "searchdomain",
    "net*",
    "scsi*",
    "ide*",
    "sata*",
    "virtio*",
    "serial*",
    "ipconfig*",
    "efidisk0",
    "tpmstate0",
    "scsihw",
    "smbios1",
    "vmgenid",
    "meta",
    "affinity",
];
const LXC_KEYS: &[&str] = &[
    "hostname",
    "memory",
    "swap",
    "cores",
    "cpulimit",
    "cpuunits",
    "description",
    "tags",
    "onboot",
    "protection",
    "ostype",
    "startup",
    "nameserver",
    "searchdomain",
    "features",
    "unprivileged",
    "net*",
    "mp*",
    "rootfs",
    "arch",
    "console",
    "tty",
    "cmode",
];
const CONTROL_KEYS: &[&str] = &["delete", "digest", "revert", "skiplock", "background_delay"];
/// Containers take neither `skiplock` nor `background_delay` on their config.
const LXC_CONTROL_KEYS: &[&str] = &["delete", "digest", "revert"];
const INT_KEYS: &[&str] = &[
    "cores", "sockets", "balloon", "cpuunits", "swap", "numa", "kvm",
];
const PENDING_KEYS: &[&str] = &[
    "cores", "sockets", "memory", "cpu", "agent", "ostype", "bios", "machine", "vga", "scsihw",
    "numa", "kvm",
];
const BOOL_KEYS: &[&str] = &["onboot", "protection", "unprivileged"];

/// PVE's refusal of a stale `digest`: qemu-server words it its own way, containers use the
/// common helper's text.
pub(crate) fn stale_digest_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Qemu => "checksum mismatch (file change by other user?)",
        Kind::Lxc => "detected modified configuration - file changed by other user? Try again.",
    }
}

fn valid_dns_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 253
        && v.split('.').all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// `PUT .../config` (synchronous) and `POST .../config` (PVE may answer with a UPID; the
/// simulator applies it at once and answers `null`, which PVE also does).
pub(crate) async fn set_config(State(s): State<S>, c: Call, kind: Kind, _post: bool) -> ApiResult {
    let (keys, control) = match kind {
        Kind::Qemu => (QEMU_KEYS, CONTROL_KEYS),
        Kind::Lxc => (LXC_KEYS, LXC_CONTROL_KEYS),
    };
    let allowed: Vec<&str> = keys.iter().chain(control).copied().collect();
    c.params.allow(&allowed)?;
    let mut updates = Vec::new();
    for (k, v) in c.params.iter() {
        if CONTROL_KEYS.contains(&k.as_str()) {
            continue;
        }
        let value: Value = if INT_KEYS.contains(&k.as_str()) {
            check_int(k, v)?.into()
        } else if BOOL_KEYS.contains(&k.as_str()) {
            u8::from(check_bool(k, v)?).into()
        } else if k == "memory" {
            let n = check_int(k, v.trim_start_matches("current="))?;
            if n < 16 {
                return Err(ApiError::param(k, "value must have a minimum value of 16"));
            }
            // qemu keeps memory as a (property) string; containers as an integer.
            match kind {
                Kind::Qemu => n.to_string().into(),
                Kind::Lxc => n.into(),
            }
        } else if k == "name" || k == "hostname" {
            if !valid_dns_name(v) {
                return Err(ApiError::param(
                    k,
                    "invalid format - value does not look like a valid DNS name",
                ));
            }
            v.clone().into()
        } else if k == "cores" || k == "sockets" {
            check_int(k, v)?.into()
        } else if k == "tags" {
            crate::tags::unique_tags(v)
                .map_err(|e| ApiError::param(k, e))?
                .into()
        } else {
            v.clone().into()
        };
        updates.push((k.clone(), value));
    }
    let deletes: Vec<String> = c
        .params
        .get("delete")
        .map(|d| {
            d.split([',', ';', ' '])
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for d in &deletes {
        if !keys
            .iter()
            .any(|k| k == d || k.strip_suffix('*').is_some_and(|p| d.starts_with(p)))
        {
            return Err(ApiError::param(
                "delete",
                format!("invalid configuration key '{d}'"),
            ));
        }
    }
    let skiplock = c.params.bool("skiplock")?.unwrap_or(false);
    if updates.is_empty() && deletes.is_empty() {
        return Err(ApiError::fail("no options specified"));
    }
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    // qemu-server checks the digest before the lock; pve-container the other way round.
    if kind == Kind::Lxc {
        check_lock(g, skiplock)?;
    }
    if let Some(d) = c.params.get("digest") {
        if d != g.digest() {
            return Err(ApiError::fail(stale_digest_text(kind)));
        }
    }
    if kind == Kind::Qemu {
        check_lock(g, skiplock)?;
    }
    // A running VM cannot take these changes live (no CPU/memory hotplug by default): PVE
    // keeps them pending until the VM stops or starts.
    let pends = |k: &str| kind == Kind::Qemu && g.running && PENDING_KEYS.contains(&k);
    for d in deletes {
        if pends(&d) {
            g.pending.insert(d, None);
        } else {
            g.config.remove(&d);
        }
    }
    for (k, v) in updates {
        if k == "tags" && v.as_str() == Some("") {
            g.config.remove(&k);
        } else if pends(&k) {
            g.pending.insert(k, Some(v));
        } else {
            g.config.insert(k, v);
        }
    }
    Ok(Data::new(Value::Null))
}
