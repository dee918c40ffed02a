//! Guest lifecycle tasks: destroy, resize a disk, convert to a template.

use axum::extract::State;
use serde_json::Value;

use super::{check_lock, guest_mut, guest_task, task_guest, S};
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::{format_size, parse_size, Kind};
use crate::tasks;

/// `DELETE /nodes/{node}/qemu|lxc/{vmid}`.
pub(crate) async fn destroy(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params
        .allow(&["purge", "destroy-unreferenced-disks", "skiplock", "force"])?;
    c.params.bool("purge")?;
    c.params.bool("destroy-unreferenced-disks")?;
    let skiplock = c.params.bool("skiplock")?.unwrap_or(false);
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        check_lock(g, skiplock)?;
        if g.running {
            return Err(ApiError::fail(format!(
                "{} {vmid} is running - destroy failed",
                kind.noun()
            )));
        }
        if g.config.get("protection").and_then(Value::as_i64) == Some(1) {
            return Err(ApiError::fail(format!(
                "can't remove {} {vmid} - protection mode enabled",
                kind.noun()
            )));
        }
        let node = g.node.clone();
        guest_task(&s, &mut w, &node, kind, vmid, "destroy", &c.user)
    };
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        let base = format!(":base-{vmid}-disk-");
        let in_use = {
            let w = ctx.shared.world();
            let g = w.guests.get(&vmid);
            let disk = g
                .and_then(|g| g.config.get(kind.disk_key()))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let users = w.guests.values().any(|o| {
                o.vmid != vmid
                    && o.config
                        .get(o.kind.disk_key())
                        .and_then(Value::as_str)
                        .is_some_and(|d| d.contains(&format!("{base}0/")))
            });
            users.then(|| disk.unwrap_or_default())
        };
        if let Some(disk) = in_use {
            let vol = disk.split(',').next().unwrap_or_default().to_owned();
            return Err(format!(
                "base volume '{vol}' is still in use by linked clone"
            ));
        }
        ctx.work(ctx.shared.cfg.timing.destroy_secs).await;
        if let Some(e) = ctx.injected_failure() {
            return Err(e);
        }
        let removed = ctx.shared.world().guests.remove(&vmid);
        if let Some(g) = removed {
            if let Some(d) = g.config.get(g.kind.disk_key()).and_then(Value::as_str) {
                let vol = d.split(',').next().unwrap_or_default();
                let name = vol.rsplit(['/', ':']).next().unwrap_or(vol);
                ctx.log(format!("  Logical volume \"{name}\" successfully removed."));
            }
        }
        Ok(0)
    });
    Ok(Data::new(upid))
}

/// `PUT .../resize` (disk, size `+NG` or `NG`): a task in PVE 9.
pub(crate) async fn resize(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["disk", "size", "digest", "skiplock"])?;
    let disk = c.params.required("disk")?.to_owned();
    let size = c.params.required("size")?.to_owned();
    let (grow, amount) = match size.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, size.as_str()),
    };
    let bytes = parse_size(amount).ok_or_else(|| {
        ApiError::param(
            "size",
            format!("value does not match the regex pattern - got '{size}'"),
        )
    })?;
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        check_lock(g, c.params.bool("skiplock")?.unwrap_or(false))?;
        let Some(current) = g
            .config
            .get(&disk)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Err(ApiError::fail(format!("disk '{disk}' does not exist")));
        };
        let old = current
            .split(',')
            .find_map(|p| p.strip_prefix("size="))
            .and_then(parse_size)
            .unwrap_or(0);
        let new = if grow { old + bytes } else { bytes };
        if new < old {
            return Err(ApiError::fail("shrinking disks is not supported"));
        }
        let updated: Vec<String> = current
            .split(',')
            .map(|p| {
                if p.starts_with("size=") {
                    format!("size={}", format_size(new))
                } else {
                    p.to_owned()
                }
            })
            .collect();
        g.config.insert(disk.clone(), updated.join(",").into());
        let node = g.node.clone();
        guest_task(&s, &mut w, &node, kind, vmid, "resize", &c.user)
    };
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        ctx.log(format!("  Size of logical volume changed for disk {disk}."));
        ctx.work(ctx.shared.cfg.timing.snapshot_secs / 2.0).await;
        Ok(0)
    });
    Ok(Data::new(upid))
}

/// `POST .../template`: convert a stopped guest without snapshots into a template.
pub(crate) async fn template(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["disk"])?;
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        check_lock(g, false)?;
        if g.is_template() {
            return Err(ApiError::fail("you can't convert a template to a template"));
        }
        if g.running {
            return Err(ApiError::fail(format!(
                "you can't convert a {} to template if {} is running",
                kind.noun(),
                kind.noun()
            )));
        }
        if !g.snapshots.is_empty() {
            return Err(ApiError::fail(format!(
                "you can't convert a {} to template if {} has snapshots",
                kind.noun(),
                kind.noun()
            )));
        }
        g.set_lock(Some("create"));
        let node = g.node.clone();
        guest_task(&s, &mut w, &node, kind, vmid, "template", &c.user)
    };
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        ctx.work(ctx.shared.cfg.timing.snapshot_secs).await;
        let mut w = ctx.shared.world();
        let g = task_guest(&mut w, kind, vmid)?;
        let key = kind.disk_key();
        if let Some(d) = g.config.get(key).and_then(Value::as_str) {
            let renamed = d.replacen(
                &format!("vm-{vmid}-disk-"),
                &format!("base-{vmid}-disk-"),
                1,
            );
            let renamed = match renamed.split_once('/') {
                // A linked clone's disk: after conversion it no longer names its parent.
                Some((_, own)) => {
                    format!("{}:{}", renamed.split(':').next().unwrap_or_default(), own)
                }
                None => renamed,
            };
            g.config.insert(key.into(), renamed.into());
        }
        g.config.insert("template".into(), 1.into());
        g.set_lock(None);
        Ok(0)
    });
    Ok(Data::new(upid))
}
