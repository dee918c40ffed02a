//! `PUT .../resize`: grow a disk, in a task (`resize`). PVE 9 checks a VM's disk only inside
//! the task, so "shrinking disks is not supported" is the task's exit status; a container's
//! disk is checked before the task as well ("unable to shrink disk size" answers 500).

use axum::extract::State;
use serde_json::Value;

use super::guests::stale_digest_text;
use super::{guest_mut, guest_task, lock_text, task_guest, S};
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::{format_size, Guest, Kind};
use crate::tasks;

/// A requested size: absolute, or added to the current one (`+`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct SizeRequest {
    grow: bool,
    bytes: u64,
}

/// PVE's size pattern, anchored: `\+?\d+(\.\d+)?[KMGT]?` (upper-case units only).
fn parse_request(size: &str) -> Option<SizeRequest> {
    let (grow, rest) = match size.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, size),
    };
    let (number, mul) = match rest.as_bytes().last()? {
        b'K' => (&rest[..rest.len() - 1], 1u64 << 10),
        b'M' => (&rest[..rest.len() - 1], 1 << 20),
        b'G' => (&rest[..rest.len() - 1], 1 << 30),
        b'T' => (&rest[..rest.len() - 1], 1 << 40),
        _ => (rest, 1),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    Some(SizeRequest {
        grow,
        bytes: (value * mul as f64) as u64,
    })
}

/// The disk keys PVE's schema allows for `disk`.
fn disk_keys(kind: Kind) -> Vec<String> {
    match kind {
        Kind::Qemu => {
            let mut keys = Vec::new();
            for (bus, n) in [("ide", 4), ("sata", 6), ("scsi", 31), ("virtio", 16)] {
                keys.extend((0..n).map(|i| format!("{bus}{i}")));
            }
            keys.extend(["efidisk0".to_owned(), "tpmstate0".to_owned()]);
            keys
        }
        Kind::Lxc => std::iter::once("rootfs".to_owned())
            .chain((0..256).map(|i| format!("mp{i}")))
            .collect(),
    }
}

/// The new value of the disk key, `None` when the size stays (a VM) — or the refusal, in
/// PVE's order and words for the guest's kind.
fn plan(
    g: &Guest,
    kind: Kind,
    disk: &str,
    req: SizeRequest,
    digest: Option<&str>,
) -> Result<Option<String>, String> {
    let stale = digest.is_some_and(|d| d != g.digest());
    // qemu-server compares the digest first, pve-container takes the lock first.
    if kind == Kind::Qemu && stale {
        return Err(stale_digest_text(kind).to_owned());
    }
    if let Some(l) = lock_text(g) {
        return Err(l);
    }
    if kind == Kind::Lxc && stale {
        return Err(stale_digest_text(kind).to_owned());
    }
    let Some(current) = g.config.get(disk).and_then(Value::as_str) else {
        return Err(format!("disk '{disk}' does not exist"));
    };
    if kind == Kind::Qemu && current.split(',').any(|p| p == "media=cdrom") {
        return Err("you can't resize a cdrom".to_owned());
    }
    let old = current
        .split(',')
        .find_map(|p| p.strip_prefix("size="))
        .and_then(crate::model::parse_size)
        .unwrap_or(0);
    let new = if req.grow { old + req.bytes } else { req.bytes };
    if new < old {
        return Err(match kind {
            Kind::Qemu => "shrinking disks is not supported",
            Kind::Lxc => "unable to shrink disk size",
        }
        .to_owned());
    }
    if new == old {
        return match kind {
            Kind::Qemu => Ok(None),
            Kind::Lxc => Err("disk is already at specified size".to_owned()),
        };
    }
    let mut parts: Vec<String> = current.split(',').map(str::to_owned).collect();
    let size = format!("size={}", format_size(new));
    match parts.iter_mut().find(|p| p.starts_with("size=")) {
        Some(p) => *p = size,
        None => parts.push(size),
    }
    Ok(Some(parts.join(",")))
}

/// `PUT /nodes/{node}/qemu|lxc/{vmid}/resize` (disk, size `+NG` or `NG`, digest).
pub(crate) async fn resize(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    match kind {
        Kind::Qemu => c.params.allow(&["disk", "size", "digest", "skiplock"])?,
        Kind::Lxc => c.params.allow(&["disk", "size", "digest"])?,
    }
    let disk = c.params.required("disk")?.to_owned();
    let size = c.params.required("size")?.to_owned();
    let keys = disk_keys(kind);
    if !keys.contains(&disk) {
        return Err(ApiError::param(
            "disk",
            format!(
                "value '{disk}' does not have a value in the enumeration '{}'",
                keys.join(", ")
            ),
        ));
    }
    let req = parse_request(&size)
        .ok_or_else(|| ApiError::param("size", "value does not match the regex pattern"))?;
    let digest = c.params.get("digest").map(str::to_owned);
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        if kind == Kind::Lxc {
            plan(g, kind, &disk, req, digest.as_deref()).map_err(ApiError::fail)?;
        }
        let node = g.node.clone();
        guest_task(&s, &mut w, &node, kind, vmid, "resize", &c.user)
    };
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        ctx.work(ctx.shared.cfg.timing.snapshot_secs / 2.0).await;
        let mut w = ctx.shared.world();
        let g = task_guest(&mut w, kind, vmid)?;
        if let Some(value) = plan(g, kind, &disk, req, digest.as_deref())? {
            g.config.insert(disk.clone(), value.into());
            drop(w);
            ctx.log(format!("  Size of logical volume changed for disk {disk}."));
        }
        Ok(0)
    });
    Ok(Data::new(upid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_pves_pattern() {
        let r = |s| parse_request(s);
        assert_eq!(
            r("+8G"),
            Some(SizeRequest {
                grow: true,
                bytes: 8 << 30
            })
        );
        assert_eq!(r("1.5K").map(|x| x.bytes), Some(1536));
        assert_eq!(r("4096").map(|x| (x.grow, x.bytes)), Some((false, 4096)));
        for bad in ["8g", "+", "", "G", "-8G", "1..2G", "8 G", "8GB"] {
            assert_eq!(r(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_allowed_disks_are_pves() {
        let q = disk_keys(Kind::Qemu);
        assert!(q.contains(&"scsi30".to_owned()) && !q.contains(&"scsi31".to_owned()));
        assert!(disk_keys(Kind::Lxc).contains(&"mp255".to_owned()));
        assert!(!disk_keys(Kind::Lxc).contains(&"scsi0".to_owned()));
    }
}
