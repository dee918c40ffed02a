//! `POST .../clone`: linked clones of templates, full clones, storage lock contention.
//!
//! Synchronous refusals are the ones PVE checks before forking the worker; the new guest exists
//! with `lock: clone` while the task runs and disappears again if the task fails.

use axum::extract::State;
use rand::rngs::StdRng;
use serde_json::Value;

use super::{check_lock, guest_mut, S};
use crate::capacity::storage_lock_path;
use crate::http::call::Call;
use crate::http::reply::{ApiError, ApiResult, Data};
use crate::load::AnchoredLoad;
use crate::model::{Guest, Kind};
use crate::populate::{random_mac, random_uuid};
use crate::tasks;

/// Replace the MAC of a `net*` property string with a fresh one.
fn new_mac(net: &str, rng: &mut StdRng) -> String {
    net.split(',')
        .map(|part| match part.split_once('=') {
            Some((k, v)) if v.len() == 17 && v.matches(':').count() == 5 => {
                format!("{k}={}", random_mac(rng))
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Disk string of the clone: `<storage>:base-SRC-disk-0/vm-NEW-disk-0,...` (linked) or
/// `<storage>:vm-NEW-disk-0,...` (full).
fn clone_disk(src_disk: &str, newid: u32, full: bool, storage: Option<&str>) -> String {
    let (volume, opts) = src_disk.split_once(',').unwrap_or((src_disk, ""));
    let (src_storage, vol) = volume.split_once(':').unwrap_or(("local-lvm", volume));
    let base = vol.split('/').next().unwrap_or(vol);
    let new_vol = if full {
        format!("{}:vm-{newid}-disk-0", storage.unwrap_or(src_storage))
    } else {
        format!("{src_storage}:{base}/vm-{newid}-disk-0")
    };
    if opts.is_empty() {
        new_vol
    } else {
        format!("{new_vol},{opts}")
    }
}

/// `POST /nodes/{node}/qemu|lxc/{vmid}/clone`.
pub(crate) async fn clone(State(s): State<S>, c: Call, kind: Kind) -> ApiResult {
    let name_key = match kind {
        Kind::Qemu => "name",
        Kind::Lxc => "hostname",
    };
    let mut allowed = vec![
        "newid",
        name_key,
        "description",
        "pool",
        "full",
        "storage",
        "target",
        "snapname",
        "bwlimit",
    ];
    if kind == Kind::Qemu {
        allowed.push("format"); // containers have no image format to choose
    }
    c.params.allow(&allowed)?;
    let newid = c.params.required("newid")?;
    let newid = crate::http::params::check_int("newid", newid)?;
    if !(100..=999_999_999).contains(&newid) {
        return Err(ApiError::param(
            "newid",
            "value must have a minimum value of 100",
        ));
    }
    let newid = newid as u32;
    let full_param = c.params.bool("full")?;
    c.params.one_of("format", &["raw", "qcow2", "vmdk"])?;
    let storage = c.params.get("storage").map(str::to_owned);
    let target = c.params.get("target").map(str::to_owned);
    let pool = c.params.get("pool").map(str::to_owned);
    let new_name = c.params.get(name_key).map(str::to_owned);
    let src = c.vmid();
    let now = s.clock.now_f64();
    let noun = kind.noun();

    let (upid, full, lock_storage, target_node) = {
        let mut w = s.world();
        let node_names: Vec<String> = w.nodes.iter().map(|n| n.name.clone()).collect();
        let pools_exist = pool.as_ref().is_none_or(|p| w.pools.contains_key(p));
        let storage_ok = storage.as_ref().map(|id| {
            w.storage(id)
                .map(|st| (st.shared, st.content.contains("images")))
        });
        let taken = w.guests.contains_key(&newid);
        let g = guest_mut(&mut w, kind, c.node(), src)?;
        let template = g.is_template();
        let full = full_param.unwrap_or(!template);
        if taken {
            return Err(ApiError::fail(format!(
                "unable to create {noun} {newid}: config file already exists"
            )));
        }
        check_lock(g, false)?;
        if !full && storage.is_some() {
            return Err(ApiError::fail(
                "parameter 'storage' not allowed for linked clones",
            ));
        }
        if !full && c.params.get("format").is_some() {
            return Err(ApiError::fail(
                "parameter 'format' not allowed for linked clones",
            ));
        }
        if !full && !template {
            return Err(ApiError::fail(format!(
                "Linked clone feature is not supported for drive '{}'",
                kind.disk_key()
            )));
        }
        if let Some(snap) = c.params.get("snapname") {
            if !g.snapshots.iter().any(|x| x.name == snap) {
                return Err(ApiError::fail(format!("snapshot '{snap}' does not exist")));
            }
        }
        let src_disk = g
            .config
            .get(kind.disk_key())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let src_storage = src_disk.split(':').next().unwrap_or_default().to_owned();
        let src_shared = src_storage == "shared-nfs";
        let target_node = target.clone().unwrap_or_else(|| g.node.clone());
        if !node_names.contains(&target_node) {
            return Err(ApiError::param(
                "target",
                format!("no such cluster node '{target_node}'"),
            ));
        }
        let dest_shared = match &storage_ok {
            Some(Some((shared, true))) => *shared,
            Some(_) => {
                let id = storage.as_deref().unwrap_or_default();
                return Err(ApiError::fail(format!("storage '{id}' does not exist")));
            }
            None => src_shared,
        };
        // PVE runs the clone on the source node: it can reach another node only through
        // shared source disks (a full clone may then write to the target's local storage).
        if target_node != g.node && !src_shared {
            return Err(ApiError::fail(format!(
                "can't clone {noun} to node '{target_node}' ({noun} uses local storage)"
            )));
        }
        if !pools_exist {
            let p = pool.as_deref().unwrap_or_default();
            return Err(ApiError::fail(format!("pool '{p}' does not exist")));
        }
        // Build the new guest's configuration from the source's.
        // Seeded per simulator: the same sequence of clones gets the same MAC addresses.
        let mut rng = s.rng();
        let mut config = g.config.clone();
        for k in ["template", "lock", "parent", "protection"] {
            config.remove(k);
        }
        let source_name = g.name();
        for (k, v) in config.iter_mut() {
            if let Some(sv) = v.as_str() {
                if k.starts_with("net") {
                    *v = new_mac(sv, &mut rng).into();
                } else if k == "smbios1" {
                    *v = format!("uuid={}", random_uuid(&mut rng)).into();
                } else if k == "vmgenid" {
                    *v = random_uuid(&mut rng).into();
                }
            }
        }
        let dest_storage = storage.clone().unwrap_or_else(|| src_storage.clone());
        config.insert(
            kind.disk_key().into(),
            clone_disk(&src_disk, newid, full, storage.as_deref()).into(),
        );
        config.insert(
            name_key.into(),
            new_name
                .clone()
                .unwrap_or_else(|| format!("Copy-of-VM-{source_name}"))
                .into(),
        );
        if let Some(d) = c.params.get("description") {
            config.insert("description".into(), d.into());
        }
        config.insert("lock".into(), "clone".into());
        let source_node = g.node.clone();
        let agent_net = g.agent_net;
        let t = now.floor() as i64;
        w.guests.insert(
            newid,
            Guest {
                kind,
                vmid: newid,
                node: target_node.clone(),
                config,
                running: false,
                started_at: 0.0,
                created: t,
                snapshots: Vec::new(),
                pool: pool.clone(),
                load: AnchoredLoad::idle(),
                agent_net,
                power_log: vec![(t, false)],
                disk_bytes: 1 << 30,
                // The clone takes the current configuration; pending changes stay behind.
                pending: std::collections::BTreeMap::new(),
                agent: Default::default(),
            },
        );
        let ttype = format!("{}clone", kind.task_prefix());
        let upid = tasks::new_task(&s, &mut w, &source_node, &ttype, &src.to_string(), &c.user);
        let lock_storage = if dest_shared {
            dest_storage
        } else {
            format!("{dest_storage}@{target_node}")
        };
        (upid, full, lock_storage, target_node)
    };

    tasks::spawn(&s, upid.clone(), move |ctx| async move {
        let undo = |ctx: &tasks::TaskCtx| {
            ctx.shared.world().guests.remove(&newid);
        };
        let disk = {
            let w = ctx.shared.world();
            w.guests
                .get(&newid)
                .and_then(|g| g.config.get(kind.disk_key()))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let what = if full { "full" } else { "linked" };
        ctx.log(format!(
            "create {what} clone of drive {} ({disk})",
            kind.disk_key()
        ));
        let Some(_slot) = ctx.shared.capacity.clone_slot(&target_node).await else {
            undo(&ctx);
            return Err(format!("clone failed: no such node '{target_node}'"));
        };
        let timing = ctx.shared.cfg.timing;
        let mut _storage_guard = None;
        if full {
            let timeout = ctx.shared.cfg.scaled(timing.storage_lock_timeout_secs);
            let storage_id = lock_storage
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned();
            match ctx
                .shared
                .capacity
                .storage_lock(&lock_storage, timeout)
                .await
            {
                Some(g) => _storage_guard = Some(g),
                None => {
                    undo(&ctx);
                    return Err(format!(
                        "clone failed: can't lock file '{}' - got timeout",
                        storage_lock_path(&storage_id)
                    ));
                }
            }
            ctx.work(timing.full_clone_secs).await;
            ctx.log("transferred 32.0 GiB of 32.0 GiB (100.00%)");
        } else {
            ctx.work(timing.linked_clone_secs).await;
        }
        if let Some(e) = ctx.injected_failure() {
            undo(&ctx);
            return Err(format!("clone failed: {e}"));
        }
        let mut w = ctx.shared.world();
        match w.guests.get_mut(&newid) {
            Some(g) => {
                g.set_lock(None);
                Ok(0)
            }
            None => Err(format!(
                "clone failed: {noun} {newid} vanished during the clone"
            )),
        }
    });
    Ok(Data::new(upid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linked_clone_disk_names_the_templates_base_volume() {
        let d = clone_disk(
            "local-lvm:base-9000-disk-0,iothread=1,size=32G",
            101,
            false,
            None,
        );
        assert_eq!(
            d,
            "local-lvm:base-9000-disk-0/vm-101-disk-0,iothread=1,size=32G"
        );
    }

    #[test]
    fn a_full_clone_disk_lands_on_the_chosen_storage() {
        let d = clone_disk(
            "local-lvm:base-9000-disk-0,size=32G",
            7,
            true,
            Some("shared-nfs"),
        );
        assert_eq!(d, "shared-nfs:vm-7-disk-0,size=32G");
    }
}
