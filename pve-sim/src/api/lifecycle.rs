//! Guest lifecycle tasks: destroy, convert to a template.

use axum::extract::State;
use serde_json::Value;

use super::{check_lock, guest_mut, guest_task, task_guest, S};
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::{Guest, Kind};
use crate::tasks;

/// `DELETE /nodes/{node}/qemu|lxc/{vmid}`.
pub(crate) async fn destroy(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    match kind {
        Kind::Qemu => c
            .params
            .allow(&["purge", "destroy-unreferenced-disks", "skiplock"])?,
        Kind::Lxc => c
            .params
            .allow(&["purge", "destroy-unreferenced-disks", "force"])?,
    }
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

/// The synchronous refusals of a template conversion, in PVE's order and words.
fn template_refusal(g: &Guest, kind: Kind) -> Result<(), ApiError> {
    check_lock(g, false)?;
    let noun = kind.noun();
    if !g.snapshots.is_empty() {
        return Err(ApiError::fail(format!(
            "unable to create template, because {noun} contains snapshots"
        )));
    }
    if g.is_template() {
        return Err(ApiError::fail("you can't convert a template to a template"));
    }
    if g.running {
        return Err(ApiError::fail(match kind {
            Kind::Qemu => "you can't convert a VM to template if VM is running",
            Kind::Lxc => "you can't convert a CT to template if the CT is running",
        }));
    }
    Ok(())
}

/// `POST .../template`: convert a stopped guest without snapshots into a template, in a task
/// (`qmtemplate` / `vztemplate`). For a VM PVE answers with the task's UPID; for a container
/// it answers `null` and the task runs unnamed.
pub(crate) async fn template(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    match kind {
        Kind::Qemu => c.params.allow(&["disk"])?,
        Kind::Lxc => c.params.allow(&[])?,
    }
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        template_refusal(g, kind)?;
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
    Ok(match kind {
        Kind::Qemu => Data::new(upid),
        Kind::Lxc => Data::new(Value::Null),
    })
}
