//! The template job and the template work done on request: syncing a cluster's templates with
//! their specs, recognising per-node replicas, creating replicas, and removing published
//! versions of class templates that nothing uses any more.
//!
//! pvelab marks the templates it makes with a line in their description: `pvelab-replica:
//! source=<vmid> node=<node>` for a replica, `pvelab-template: class=<id>` for a published
//! version of a class's template. The sync reads the marker to recognise them; a published
//! version is deleted from Proxmox only when its marker names its class (pvelab never deletes a
//! VM it did not make).

use pvelab_proxmox::{CloneParams, DeleteParams, GuestConfig};
use tokio_util::sync::CancellationToken;

use super::client::{client_for, cluster_error};
use super::report::JobStats;
use super::run::{unless_cancelled, JobError, JobResult};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::store::cluster_jobs;
use crate::store::templates::{self, NewTemplate, TemplateFacts, TemplateRecord, TemplateSpecs};
use crate::types::{ClassId, ClusterId, UserId, VmId};

/// Where pvelab puts new templates when nothing else says: the usual range of templates.
const TEMPLATE_VMIDS_FROM: u32 = 9000;
/// Attempts at a free VMID when others take the ones found.
const VMID_ATTEMPTS: u32 = 5;
/// The disks that boot, in the order a template's boot disk is looked for.
const BOOT_DISKS: [&str; 5] = ["scsi0", "virtio0", "sata0", "ide0", "rootfs"];

/// What pvelab's description marker says about a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Marker {
    /// A replica of (VMID, node).
    pub(crate) replica_of: Option<(VmId, String)>,
    /// A published version of this class's template.
    pub(crate) class_version: Option<ClassId>,
}

/// The marker line of a replica of `source` on `node`.
pub(crate) fn replica_marker(source: VmId, node: &str) -> String {
    format!("pvelab-replica: source={source} node={node}")
}

/// The marker line of a published version of `class`'s template.
pub(crate) fn class_version_marker(class: ClassId) -> String {
    format!("pvelab-template: class={class}")
}

/// Reads pvelab's marker lines out of a description (other lines are people's and ignored).
pub(crate) fn parse_marker(description: &str) -> Marker {
    let mut marker = Marker::default();
    for line in description.lines().map(str::trim) {
        let fields = |rest: &str| -> Vec<(String, String)> {
            rest.split_whitespace()
                .filter_map(|f| f.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        };
        let get = |fields: &[(String, String)], key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        if let Some(rest) = line.strip_prefix("pvelab-replica:") {
            let f = fields(rest);
            let source = get(&f, "source").and_then(|v| v.parse::<i64>().ok());
            if let (Some(source), Some(node)) =
                (source.and_then(|v| VmId::new(v).ok()), get(&f, "node"))
            {
                marker.replica_of = Some((source, node));
            }
        } else if let Some(rest) = line.strip_prefix("pvelab-template:") {
            let f = fields(rest);
            marker.class_version = get(&f, "class")
                .and_then(|v| v.parse::<i64>().ok())
                .map(ClassId::new);
        }
    }
    marker
}

/// A template's specs from its configuration.
pub(crate) fn specs_of(config: &GuestConfig) -> TemplateSpecs {
    let disks = config.disks().unwrap_or_default();
    let boot = BOOT_DISKS
        .iter()
        .find_map(|key| disks.iter().find(|(k, d)| k == key && !d.is_cdrom()))
        .or_else(|| {
            disks
                .iter()
                .find(|(k, d)| !d.is_cdrom() && !k.starts_with("unused"))
        })
        .map(|(_, d)| d);
    let volume = boot.map(|d| d.volume().to_owned());
    TemplateSpecs {
        cpu_cores: config.cores().and_then(|c| u32::try_from(c).ok()),
        cpu_sockets: config.get("sockets").and_then(|s| s.parse().ok()),
        memory_mb: config.memory_mib(),
        disk_size_gb: boot
            .and_then(|d| d.size_bytes())
            .map(|b| b as f64 / f64::from(1u32 << 30)),
        disk_storage: boot.and_then(|d| d.storage().map(str::to_owned)),
        disk_path: volume
            .as_deref()
            .map(|v| v.split_once(':').map_or(v, |(_, path)| path).to_owned()),
        disk_format: boot
            .and_then(|d| d.format().map(str::to_owned))
            .or_else(|| {
                volume
                    .as_deref()
                    .filter(|v| v.ends_with(".qcow2"))
                    .map(|_| "qcow2".to_owned())
            }),
        network_bridge: config.nets().ok().and_then(|nets| {
            nets.into_iter()
                .find_map(|(_, n)| n.bridge().map(str::to_owned))
        }),
        os_type: config.get("ostype"),
    }
}

/// Runs one template sync of `cluster`, then removes the published versions nothing uses.
pub(crate) async fn run(lab: &Lab, cluster: &ClusterId, cancel: &CancellationToken) -> JobResult {
    let client = client_for(lab, cluster).await?;
    let fail = |e| JobError::Failed(cluster_error(cluster, e));
    let guests = unless_cancelled(cancel, client.cluster().vms())
        .await?
        .map_err(fail)?;
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    for guest in guests.iter().filter(|g| g.template && g.is_guest()) {
        let (Some(vmid), Some(node)) = (guest.vmid, guest.node.clone()) else {
            continue;
        };
        let Ok(vmid) = VmId::new(i64::from(vmid)) else {
            continue;
        };
        let handle = client.node(&node);
        let config = if guest.kind == "lxc" {
            unless_cancelled(cancel, handle.lxc(vmid.get()).config()).await?
        } else {
            unless_cancelled(cancel, handle.qemu(vmid.get()).config()).await?
        };
        match config {
            Ok(config) => {
                let marker = parse_marker(&config.get("description").unwrap_or_default());
                found.push(TemplateFacts {
                    vmid,
                    name: config
                        .name()
                        .or_else(|| guest.name.clone())
                        .unwrap_or_default(),
                    node,
                    specs: specs_of(&config),
                    replica_of: marker.replica_of,
                    class_version: marker.class_version,
                });
            }
            // Its node is down: it is still there, but cannot be read now.
            Err(pvelab_proxmox::Error::NodeUnreachable { .. }) => unreadable.push(vmid),
            Err(e) => return Err(fail(e)),
        }
    }
    let id = cluster.clone();
    let (written, mut removed) = lab
        .db()
        .write(move |tx| {
            let host = cluster_jobs::settings(tx, &id)?.host;
            templates::record_sync(tx, &id, &host, &found, &unreadable)
        })
        .await?;
    removed += remove_unused(lab, &client, cluster, cancel).await?;
    Ok(JobStats {
        written,
        removed,
        ..JobStats::default()
    })
}

/// Deletes the published versions of class templates that nothing uses any more, from Proxmox
/// (only when their marker names their class) and then from the records. Returns how many went.
async fn remove_unused(
    lab: &Lab,
    client: &pvelab_proxmox::Client,
    cluster: &ClusterId,
    cancel: &CancellationToken,
) -> std::result::Result<usize, JobError> {
    let id = cluster.clone();
    let unused = lab
        .db()
        .read(move |tx| templates::unused_versions(tx, &id))
        .await?;
    let mut removed = 0;
    for version in unused {
        let (Some(node), Some(class)) = (version.node.clone(), version.class_id) else {
            continue;
        };
        let vm = client.node(&node).qemu(version.vmid.get());
        let config = match unless_cancelled(cancel, vm.config()).await? {
            Ok(config) => Some(config),
            Err(pvelab_proxmox::Error::NotFound { .. }) => None,
            Err(e) => {
                tracing::warn!(%cluster, vmid = %version.vmid, error = %e, "an unused template version cannot be read");
                continue;
            }
        };
        if let Some(config) = config {
            let marker = parse_marker(&config.get("description").unwrap_or_default());
            if marker.class_version != Some(class) {
                tracing::warn!(%cluster, vmid = %version.vmid, "an unused template version lacks pvelab's marker; left alone");
                continue;
            }
            let upid = match vm.delete(&DeleteParams::purge_all()).await {
                Ok(upid) => upid,
                Err(e) => {
                    tracing::warn!(%cluster, vmid = %version.vmid, error = %e, "an unused template version was not deleted");
                    continue;
                }
            };
            match unless_cancelled(cancel, client.wait_for_task(&upid)).await? {
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(%cluster, vmid = %version.vmid, error = %e, "deleting an unused template version failed");
                    continue;
                }
            }
        }
        let template = version.id;
        removed += lab
            .db()
            .write(move |tx| templates::delete(tx, template))
            .await?;
        tracing::info!(%cluster, vmid = %version.vmid, %class, "an unused template version was removed");
    }
    Ok(removed)
}

/// A VMID free on the cluster and outside every class's VMID range, at or above `from`. It is
/// handed to `create`, which reports whether another creator took it meanwhile (then the next
/// one is tried).
pub(crate) async fn with_template_vmid<T, F, Fut>(
    lab: &Lab,
    client: &pvelab_proxmox::Client,
    cluster: &ClusterId,
    mut create: F,
) -> Result<(VmId, T)>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = pvelab_proxmox::Result<T>>,
{
    let mut floor = TEMPLATE_VMIDS_FROM;
    let mut attempts = 0;
    loop {
        let candidate = client
            .free_vmid(Some(floor))
            .await
            .map_err(|e| cluster_error(cluster, e))?;
        if lab
            .db()
            .read(move |tx| templates::vmid_reserved(tx, candidate))
            .await?
        {
            floor = (candidate / 100 + 1) * 100;
            continue;
        }
        match create(candidate).await {
            Ok(value) => {
                let vmid = VmId::new(i64::from(candidate)).map_err(Error::from)?;
                return Ok((vmid, value));
            }
            Err(pvelab_proxmox::Error::AlreadyExists { .. }) if attempts + 1 < VMID_ATTEMPTS => {
                attempts += 1;
                floor = candidate + 1;
            }
            Err(e) => return Err(cluster_error(cluster, e)),
        }
    }
}

/// Copies the template `source` to each of `nodes` as a template of that node (a full clone
/// onto `storage`, converted to a template, marked as a replica), and records the copies.
pub(crate) async fn replicate(
    lab: &Lab,
    cluster: &ClusterId,
    source: &TemplateRecord,
    nodes: &[String],
    storage: Option<String>,
    by: Option<UserId>,
) -> Result<Vec<TemplateRecord>> {
    let client = client_for(lab, cluster).await?;
    let fail = |e| cluster_error(cluster, e);
    let source_node = source
        .node
        .clone()
        .ok_or_else(|| Error::internal(format!("template {} has no recorded node", source.vmid)))?;
    let host = {
        let id = cluster.clone();
        lab.db()
            .read(move |tx| cluster_jobs::settings(tx, &id))
            .await?
            .host
    };
    let mut made = Vec::new();
    for node in nodes {
        let name = format!("{}-{node}", source.name);
        let origin = client.node(&source_node).qemu(source.vmid.get());
        let (vmid, upid) = with_template_vmid(lab, &client, cluster, |newid| {
            let mut params = CloneParams::new(newid)
                .name(name.clone())
                .description(replica_marker(source.vmid, &source_node))
                .full(true)
                .target(node.clone());
            if let Some(storage) = &storage {
                params = params.storage(storage.clone());
            }
            let origin = origin.clone();
            async move { origin.clone_vm(&params).await }
        })
        .await?;
        client.wait_for_task(&upid).await.map_err(fail)?;
        let copy = client.node(node).qemu(vmid.get());
        if let Some(upid) = copy.convert_to_template().await.map_err(fail)? {
            client.wait_for_task(&upid).await.map_err(fail)?;
        }
        let specs = specs_of(&copy.config().await.map_err(fail)?);
        let new = NewTemplate {
            cluster: cluster.clone(),
            host: host.clone(),
            vmid,
            name,
            node: node.clone(),
            specs,
            created_by: by,
            class: None,
            replica_of: Some((source.vmid, source_node.clone())),
            original: Some(source.id),
        };
        made.push(
            lab.db()
                .write(move |tx| templates::insert(tx, &new))
                .await?,
        );
        tracing::info!(%cluster, %vmid, node, source = %source.vmid, "a template replica was made");
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_back_as_written_among_other_lines() {
        let vmid = VmId::new(9010).unwrap();
        let text = format!("Made for the lab\n{}\n", replica_marker(vmid, "pve1"));
        assert_eq!(
            parse_marker(&text),
            Marker {
                replica_of: Some((vmid, "pve1".into())),
                class_version: None,
            }
        );
        let class = ClassId::new(7);
        assert_eq!(
            parse_marker(&class_version_marker(class)).class_version,
            Some(class)
        );
        assert_eq!(
            parse_marker("pvelab-replica: source=x node=pve1"),
            Marker::default()
        );
        assert_eq!(parse_marker("just a description"), Marker::default());
    }

    #[test]
    fn specs_come_from_the_boot_disk_and_the_first_network_device() {
        let config: GuestConfig = serde_json::from_str(
            r#"{"name":"t","memory":"2048","cores":2,"sockets":1,"ostype":"l26",
                "ide2":"none,media=cdrom","scsi0":"local-lvm:base-9000-disk-0,iothread=1,size=32G",
                "net0":"virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"}"#,
        )
        .unwrap();
        let specs = specs_of(&config);
        assert_eq!(specs.cpu_cores, Some(2));
        assert_eq!(specs.cpu_sockets, Some(1));
        assert_eq!(specs.memory_mb, Some(2048));
        assert_eq!(specs.disk_size_gb, Some(32.0));
        assert_eq!(specs.disk_storage.as_deref(), Some("local-lvm"));
        assert_eq!(specs.disk_path.as_deref(), Some("base-9000-disk-0"));
        assert_eq!(specs.network_bridge.as_deref(), Some("vmbr0"));
        assert_eq!(specs.os_type.as_deref(), Some("l26"));
    }
}
