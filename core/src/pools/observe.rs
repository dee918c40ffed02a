//! Reading facts from Proxmox for the planner: one `cluster/resources` read for every guest,
//! `GET /nodes` for placement, the template's config and storage, and the configs of just the
//! VMs the planner asks about. The client's models stop here: the rest of `pools` sees only
//! [`facts`](super::facts).

use std::collections::BTreeMap;

use pvelab_proxmox::{Client, ClusterResource, GuestConfig, GuestStatus, NodeStatus};

use super::config::PoolsConfig;
use super::converge::read;
use super::facts::{ConfigFact, GuestFact, NodeFact, SourceFacts, MIB};
use super::marker::{has_tag, Marker};
use super::retry::is_transient;
use crate::error::Result;
use crate::lab::Lab;
use crate::store::clone_sources;
use crate::store::pool::PowerState;
use crate::types::{ClusterId, TemplateId};

/// Boot disk keys, most likely first.
const BOOT_DISKS: [&str; 4] = ["scsi0", "virtio0", "sata0", "ide0"];

/// Every guest of the cluster, by VMID (one call).
///
/// # Errors
/// The client's error.
pub(crate) async fn guests(client: &Client) -> pvelab_proxmox::Result<BTreeMap<u32, GuestFact>> {
    let listed = client.cluster().vms().await?;
    Ok(listed
        .iter()
        .filter_map(guest_fact)
        .map(|g| (g.vmid, g))
        .collect())
}

fn guest_fact(r: &ClusterResource) -> Option<GuestFact> {
    if !r.is_guest() {
        return None;
    }
    Some(GuestFact {
        vmid: r.vmid?,
        node: r.node.clone()?,
        qemu: r.kind == "qemu",
        power: power(r.guest_status()),
        lock: r.lock.clone().filter(|l| !l.is_empty()),
        template: r.template,
        tagged: r.tags.as_deref().is_some_and(has_tag),
        cores: r.maxcpu.map(|c| c.round() as u64),
        memory_mb: r.maxmem.map(|m| m / MIB),
        disk_bytes: r.maxdisk,
        config: None,
    })
}

pub(crate) fn power(status: GuestStatus) -> PowerState {
    match status {
        GuestStatus::Running | GuestStatus::Paused => PowerState::Running,
        GuestStatus::Stopped => PowerState::Stopped,
        _ => PowerState::Unknown,
    }
}

/// The cluster's nodes with their free memory and CPU use.
///
/// # Errors
/// The client's error.
pub(crate) async fn nodes(client: &Client) -> pvelab_proxmox::Result<Vec<NodeFact>> {
    Ok(client
        .nodes()
        .await?
        .into_iter()
        .map(|n| NodeFact {
            online: n.status == NodeStatus::Online,
            free_memory: n.maxmem.unwrap_or(0).saturating_sub(n.mem.unwrap_or(0)),
            cpu: n.cpu.unwrap_or(0.0),
            name: n.node,
        })
        .collect())
}

/// The parts of a config pvelab uses.
pub(crate) fn config_fact(c: &GuestConfig) -> ConfigFact {
    let description = c.get("description");
    let disk = c.disks().ok().and_then(|disks| {
        BOOT_DISKS.iter().find_map(|key| {
            disks
                .iter()
                .find(|(k, d)| k == key && !d.is_cdrom())
                .and_then(|(k, d)| Some((k.clone(), d.size_bytes()?)))
        })
    });
    let mac = c.nets().ok().and_then(|nets| {
        nets.into_iter()
            .find(|(i, _)| *i == 0)
            .and_then(|(_, n)| n.mac().map(str::to_owned))
    });
    ConfigFact {
        marker: description.as_deref().and_then(Marker::find),
        description,
        tags: c.get("tags"),
        cores: c.cores(),
        memory_mb: c.memory_mib(),
        disk,
        mac,
        lock: c.lock().filter(|l| !l.is_empty()),
        digest: c.digest(),
    }
}

/// Reads the configs of `wanted` guests (a few at a time, transient failures tried again) and
/// attaches them. A config that still cannot be read stays unknown: the planner then waits for
/// that VM instead of guessing.
pub(crate) async fn read_configs(
    client: &Client,
    config: &PoolsConfig,
    guests: &mut BTreeMap<u32, GuestFact>,
    wanted: &[u32],
    parallel: usize,
) {
    let mut pending: Vec<(u32, String)> = wanted
        .iter()
        .filter_map(|v| guests.get(v).map(|g| (g.vmid, g.node.clone())))
        .collect();
    while !pending.is_empty() {
        let batch: Vec<(u32, String)> = pending
            .drain(..pending.len().min(parallel.max(1)))
            .collect();
        let mut set = tokio::task::JoinSet::new();
        for (vmid, node) in batch {
            let (client, config) = (client.clone(), config.clone());
            set.spawn(async move {
                let qemu = client.node(node).qemu(vmid);
                let mut tries = 0;
                loop {
                    match qemu.config().await {
                        Err(e) if is_transient(&e) && tries < config.step_retries => {
                            tokio::time::sleep(config.retry_delay(tries)).await;
                            tries += 1;
                        }
                        done => return (vmid, done),
                    }
                }
            });
        }
        while let Some(done) = set.join_next().await {
            if let Ok((vmid, Ok(config))) = done {
                if let Some(g) = guests.get_mut(&vmid) {
                    g.config = Some(config_fact(&config));
                }
            }
        }
    }
}

/// Where the class's VMs are cloned from, or why that is not possible now.
///
/// # Errors
/// [`crate::Error::Internal`] when the database fails (Proxmox failures are reasons).
pub(crate) async fn source(
    lab: &Lab,
    client: &Client,
    cluster: &ClusterId,
    template_id: Option<TemplateId>,
    guests: &BTreeMap<u32, GuestFact>,
) -> Result<std::result::Result<SourceFacts, String>> {
    let Some(template_id) = template_id else {
        return Ok(Err("the class has no template to clone from".into()));
    };
    let cluster_for_db = cluster.clone();
    let (template, replicas) = lab
        .db()
        .read(move |tx| {
            let template = clone_sources::get(tx, template_id)?;
            let replicas = match &template {
                Some(t) => clone_sources::replicas(tx, &cluster_for_db, t.vmid)?,
                None => Vec::new(),
            };
            Ok((template, replicas))
        })
        .await?;
    let Some(template) = template else {
        return Ok(Err(format!("template {template_id} is not recorded")));
    };
    if template.cluster_id.as_ref().is_some_and(|c| c != cluster) {
        return Ok(Err(format!(
            "template {} lives on another cluster than {cluster}",
            template.vmid
        )));
    }
    let vmid = template.vmid.get();
    let Some(found) = guests.get(&vmid) else {
        return Ok(Err(format!(
            "template {vmid} does not exist on cluster {cluster}"
        )));
    };
    let node = found.node.clone();
    let qemu = client.node(&node).qemu(vmid);
    let config = match read(lab, cluster, || qemu.config()).await {
        Ok(c) => c,
        Err(e) => return Ok(Err(format!("template {vmid} cannot be read: {e}"))),
    };
    let fact = config_fact(&config);
    let storage = config.disks().ok().and_then(|disks| {
        BOOT_DISKS.iter().find_map(|key| {
            disks
                .iter()
                .find(|(k, d)| k == key && !d.is_cdrom())
                .and_then(|(_, d)| d.storage().map(str::to_owned))
        })
    });
    let qemu_node = client.node(&node);
    let shared = match storage {
        Some(storage) => match read(lab, cluster, || qemu_node.storages(None)).await {
            Ok(list) => list.iter().any(|s| s.storage == storage && s.shared),
            Err(e) => return Ok(Err(format!("the storages of {node} cannot be read: {e}"))),
        },
        None => false,
    };
    let replicas = replicas
        .into_iter()
        .filter_map(|r| {
            let g = guests.get(&r.vmid.get())?;
            (g.template && g.qemu).then(|| (g.node.clone(), r.vmid.get()))
        })
        .collect();
    Ok(Ok(SourceFacts {
        template_vmid: vmid,
        template_node: node,
        shared,
        is_template: config.is_template() || found.template,
        replicas,
        disk_bytes: fact.disk.map(|(_, b)| b),
    }))
}
