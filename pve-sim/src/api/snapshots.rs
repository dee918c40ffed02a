//! Snapshots: list (ending with the pseudo entry `current`), create, rollback, delete.

use axum::extract::State;
use serde_json::{json, Value};

use super::{check_lock, guest_mut, guest_task, task_guest, S};
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::model::{Kind, Snapshot};
use crate::tasks;

/// `GET .../snapshot`.
pub(crate) async fn list(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    let mut out: Vec<Value> = g
        .snapshots
        .iter()
        .map(|x| {
            let mut v = json!({
                "name": x.name,
                "description": x.description,
                "snaptime": x.snaptime,
            });
            if let Some(p) = &x.parent {
                v["parent"] = p.clone().into();
            }
            if kind == Kind::Qemu {
                v["vmstate"] = 0.into();
            }
            v
        })
        .collect();
    let mut current = json!({ "name": "current", "description": "You are here!", "running": u8::from(g.running) });
    if let Some(p) = g.config.get("parent") {
        current["parent"] = p.clone();
    }
    out.push(current);
    Ok(Data::new(out))
}

/// `GET .../snapshot/{snapname}`: the directory index.
pub(crate) async fn index(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    let name = c.path("snapname");
    if !g.snapshots.iter().any(|x| x.name == name) {
        return Err(ApiError::fail(format!("snapshot '{name}' does not exist")));
    }
    Ok(Data::new(
        json!([{ "cmd": "rollback" }, { "cmd": "config" }]),
    ))
}

fn valid_snapname(n: &str) -> bool {
    n.len() <= 40
        && n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `POST .../snapshot` (snapname, description, vmstate).
pub(crate) async fn create(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    match kind {
        Kind::Qemu => c.params.allow(&["snapname", "description", "vmstate"])?,
        Kind::Lxc => c.params.allow(&["snapname", "description"])?,
    }
    let name = c.params.required("snapname")?.to_owned();
    if !valid_snapname(&name) {
        return Err(ApiError::param(
            "snapname",
            format!("invalid format - invalid configuration ID '{name}'"),
        ));
    }
    c.params.bool("vmstate")?;
    let description = c.params.get("description").unwrap_or_default().to_owned();
    let vmid = c.vmid();
    let upid = {
        let mut w = s.world();
        let g = guest_mut(&mut w, kind, c.node(), vmid)?;
        check_lock(g, false)?;
        if g.is_template() {
            return Err(ApiError::fail("snapshot feature is not available"));
        }
        if name == "current" || g.snapshots.iter().any(|x| x.name == name) {
            return Err(ApiError::fail(format!(
                "snapshot name '{name}' already used"
            )));
        }
        g.set_lock(Some("snapshot"));
        let node = g.node.clone();
        guest_task(&s, &mut w, &node, kind, vmid, "snapshot", &c.user)
    };
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        ctx.work(ctx.shared.cfg.timing.snapshot_secs).await;
        let failed = ctx.injected_failure();
        let now = ctx.shared.clock.now();
        let mut w = ctx.shared.world();
        let g = task_guest(&mut w, kind, vmid)?;
        g.set_lock(None);
        if let Some(e) = failed {
            return Err(e);
        }
        let parent = g
            .config
            .get("parent")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut config = g.config.clone();
        config.remove("parent");
        g.snapshots.push(Snapshot {
            name: name.clone(),
            description,
            snaptime: now,
            parent,
            config,
        });
        g.config.insert("parent".into(), name.into());
        Ok(0)
    });
    Ok(Data::new(upid))
}

/// The synchronous part of a rollback or a snapshot deletion, as PVE checks it before forking
/// the task: the guest exists and is unlocked, the snapshot exists; then the guest is locked with
/// `lock` and a task of type `task_type` is registered. Returns the task's UPID.
fn start_on_snapshot(
    s: &S,
    c: &Call,
    kind: Kind,
    name: &str,
    lock: &str,
    task_type: &str,
) -> Result<String, ApiError> {
    let mut w = s.world();
    let g = guest_mut(&mut w, kind, c.node(), c.vmid())?;
    check_lock(g, false)?;
    if !g.snapshots.iter().any(|x| x.name == name) {
        return Err(ApiError::fail(format!("snapshot '{name}' does not exist")));
    }
    g.set_lock(Some(lock));
    let node = g.node.clone();
    Ok(guest_task(
        s,
        &mut w,
        &node,
        kind,
        c.vmid(),
        task_type,
        &c.user,
    ))
}

/// `POST .../snapshot/{snapname}/rollback`.
pub(crate) async fn rollback(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["start"])?;
    let start = c.params.bool("start")?.unwrap_or(false);
    let name = c.path("snapname").to_owned();
    let vmid = c.vmid();
    let upid = start_on_snapshot(&s, &c, kind, &name, "rollback", "rollback")?;
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        ctx.work(ctx.shared.cfg.timing.snapshot_secs).await;
        let now = ctx.shared.clock.now_f64();
        let mut w = ctx.shared.world();
        let g = task_guest(&mut w, kind, vmid)?;
        let Some(snap) = g.snapshots.iter().find(|x| x.name == name).cloned() else {
            g.set_lock(None);
            return Err(format!("snapshot '{name}' does not exist"));
        };
        // A rollback without saved RAM leaves the guest stopped, as PVE does.
        if g.running {
            g.set_running(false, now);
        }
        g.config = snap.config;
        g.pending.clear();
        g.config.insert("parent".into(), name.into());
        if start {
            g.set_running(true, now);
        }
        Ok(0)
    });
    Ok(Data::new(upid))
}

/// `DELETE .../snapshot/{snapname}`.
pub(crate) async fn delete(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    c.params.allow(&["force"])?;
    c.params.bool("force")?;
    let name = c.path("snapname").to_owned();
    let vmid = c.vmid();
    let upid = start_on_snapshot(&s, &c, kind, &name, "snapshot-delete", "delsnapshot")?;
    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        ctx.work(ctx.shared.cfg.timing.snapshot_secs).await;
        let mut w = ctx.shared.world();
        let g = task_guest(&mut w, kind, vmid)?;
        g.set_lock(None);
        let parent_of_removed = g
            .snapshots
            .iter()
            .find(|x| x.name == name)
            .and_then(|x| x.parent.clone());
        g.snapshots.retain(|x| x.name != name);
        for x in &mut g.snapshots {
            if x.parent.as_deref() == Some(name.as_str()) {
                x.parent.clone_from(&parent_of_removed);
            }
        }
        if g.config.get("parent").and_then(Value::as_str) == Some(name.as_str()) {
            match parent_of_removed {
                Some(p) => g.config.insert("parent".into(), p.into()),
                None => g.config.remove("parent"),
            };
        }
        Ok(0)
    });
    Ok(Data::new(upid))
}
