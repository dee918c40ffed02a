//! Capacity planning through the facade: the estimate for a class's pool against its cluster's
//! nodes (`/pool plan`), and the check that refuses to create or grow a pool that would
//! overcommit memory beyond the `capacity.memory_overcommit_percent` setting.
//!
//! The figures: memory and vCPUs per VM are the class's settings (the pool applies them to every
//! VM); disk per VM is the class's, or the template's when that is larger (a clone's disk never
//! shrinks). A node's load is the configured memory and vCPUs of the guests the inventory last
//! saw running on it, other than the class's own VMs (those are what is planned); its size is
//! what `GET /nodes` reports now.

use std::collections::HashMap;

use rusqlite::Connection;

use super::pools::choose_cluster;
use super::Lab;
use crate::capacity::{plan, CapacityPlan, NodeLoad, PoolNeed, SpecsSource};
use crate::error::{Error, Result};
use crate::pools::client::{client_for, within_answer_time};
use crate::rules::permissions::{Action, Actor};
use crate::store::classes::NewClass;
use crate::store::inventory::{self, GuestState};
use crate::store::{settings, templates};
use crate::types::{
    ClassId, ClassName, ClusterId, Cores, DiskGb, MemoryMb, NodeName, PoolSize, TemplateId,
    VmidScheme,
};

/// The class's side of a plan: what it asks for, wherever it is read from.
#[derive(Debug, Clone)]
struct Sizing {
    name: ClassName,
    /// The class's VMIDs (its own running VMs are planned, not counted as load); `None` for a
    /// class not created yet.
    scheme: Option<VmidScheme>,
    size: PoolSize,
    cores: Cores,
    memory: MemoryMb,
    disk: DiskGb,
    node: Option<NodeName>,
    template: Option<TemplateId>,
}

/// What the database says about the cluster for a plan.
#[derive(Debug)]
struct Stored {
    /// Memory and vCPUs of running guests by node (bytes, vCPUs).
    load: HashMap<String, (u64, u64)>,
    template_disk_gb: Option<f64>,
    specs_cached: bool,
    overcommit_percent: u32,
}

fn read_stored(tx: &Connection, cluster: &ClusterId, sizing: &Sizing) -> Result<Stored> {
    let mut load: HashMap<String, (u64, u64)> = HashMap::new();
    let own = sizing.scheme.map(VmidScheme::vmids);
    for guest in inventory::list(tx, cluster)? {
        let mine = own.as_ref().is_some_and(|r| r.contains(&guest.vmid.get()));
        if guest.state != GuestState::Running || guest.is_template || mine {
            continue;
        }
        if let Some(node) = guest.node {
            let entry = load.entry(node).or_default();
            entry.0 += guest.memory.unwrap_or(0);
            entry.1 += u64::from(guest.cores.unwrap_or(0));
        }
    }
    let template = match sizing.template {
        Some(id) => templates::list(tx, cluster)?
            .into_iter()
            .find(|t| t.id == id),
        None => None,
    };
    let specs_cached = template
        .as_ref()
        .is_some_and(|t| t.specs_cached_at.is_some());
    Ok(Stored {
        load,
        template_disk_gb: template.and_then(|t| t.specs.disk_size_gb),
        specs_cached,
        overcommit_percent: settings::load(tx)?.memory_overcommit_percent(),
    })
}

impl Lab {
    /// The estimate for the class's pool at `size` student VMs (the class's teachers and
    /// adminers): memory, vCPUs and disk it needs, each target node's room at the overcommit
    /// ratio, where the VMs would go and how many do not fit. Changes nothing.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class or no usable cluster;
    /// [`Error::Cluster`] when the cluster does not answer.
    pub async fn plan_capacity(
        &self,
        actor: &Actor,
        class: ClassId,
        size: PoolSize,
    ) -> Result<CapacityPlan> {
        let (sizing, cluster) = self
            .class_read(actor, Action::ResizePool, class, move |tx, stored| {
                let cluster = choose_cluster(
                    tx,
                    Some(class),
                    stored.deployment_cluster.as_ref(),
                    stored.template_id,
                )?;
                let sizing = Sizing {
                    name: stored.name,
                    scheme: Some(stored.scheme),
                    size,
                    cores: stored.cpu_cores,
                    memory: stored.memory_mb,
                    disk: stored.disk_gb,
                    node: stored.deployment_node,
                    template: stored.template_id,
                };
                Ok((sizing, cluster))
            })
            .await?;
        self.estimate(sizing, cluster).await
    }

    /// Refuses with [`Error::Overcommitted`] when the class's pool at `size` would not fit.
    pub(crate) async fn require_capacity(
        &self,
        actor: &Actor,
        class: ClassId,
        size: PoolSize,
    ) -> Result<()> {
        refuse_unless_fits(self.plan_capacity(actor, class, size).await?)
    }

    /// Refuses with [`Error::Overcommitted`] when a class not created yet would not fit on
    /// `cluster`.
    pub(crate) async fn require_capacity_for_new(
        &self,
        new: &NewClass,
        cluster: &ClusterId,
    ) -> Result<()> {
        let sizing = Sizing {
            name: new.name.clone(),
            scheme: None,
            size: new.pool_size,
            cores: new.cpu_cores,
            memory: new.memory_mb,
            disk: new.disk_gb,
            node: new.deployment_node.clone(),
            template: new.template_id,
        };
        refuse_unless_fits(self.estimate(sizing, cluster.clone()).await?)
    }

    async fn estimate(&self, sizing: Sizing, cluster: ClusterId) -> Result<CapacityPlan> {
        let client = client_for(self, &cluster).await?;
        let nodes = within_answer_time(self, &cluster, || client.nodes()).await?;
        let (id, read) = (cluster.clone(), sizing.clone());
        let stored = self
            .db()
            .read(move |tx| read_stored(tx, &id, &read))
            .await?;
        let loads: Vec<NodeLoad> = nodes
            .iter()
            .map(|n| {
                let (memory, vcpus) = stored.load.get(&n.node).copied().unwrap_or_default();
                NodeLoad {
                    node: n.node.clone(),
                    online: n.status == pvelab_proxmox::NodeStatus::Online,
                    memory_bytes: n.maxmem.unwrap_or(0),
                    committed_bytes: memory,
                    cores: u32::try_from(n.maxcpu.unwrap_or(0)).unwrap_or(u32::MAX),
                    vcpus_committed: vcpus,
                }
            })
            .collect();
        Ok(assemble(sizing, cluster, &stored, &loads))
    }
}

/// The plan from its parts: the per-VM figures, the placement, and the largest size that fits.
fn assemble(
    sizing: Sizing,
    cluster: ClusterId,
    stored: &Stored,
    loads: &[NodeLoad],
) -> CapacityPlan {
    let size = sizing.size.get();
    let running_vms = u32::from(size) + 1;
    let memory_per_vm_mb = sizing.memory.get();
    let template_disk = stored
        .template_disk_gb
        .filter(|gb| gb.is_finite() && *gb > 0.0)
        .map(|gb| gb.ceil() as u32);
    let disk_per_vm_gb = sizing.disk.get().max(template_disk.unwrap_or(0));
    let need = PoolNeed {
        running_vms,
        memory_per_vm_mb,
    };
    let only = sizing.node.as_ref().map(|n| n.as_str());
    let placement = plan(need, loads, only, stored.overcommit_percent);
    let placed = running_vms - placement.unplaced_vms;
    CapacityPlan {
        class: sizing.name,
        cluster,
        size,
        running_vms,
        memory_per_vm_mb,
        cores_per_vm: sizing.cores.get(),
        disk_per_vm_gb,
        specs: if stored.specs_cached {
            SpecsSource::ClassAndTemplate
        } else {
            SpecsSource::ClassOnly
        },
        memory_needed_mb: u64::from(running_vms) * u64::from(memory_per_vm_mb),
        vcpus_needed: u64::from(running_vms) * u64::from(sizing.cores.get()),
        disk_needed_gb: (u64::from(size) + 2) * u64::from(disk_per_vm_gb),
        overcommit_percent: stored.overcommit_percent,
        nodes: placement.nodes,
        unplaced_vms: placement.unplaced_vms,
        short_mb: u64::from(placement.unplaced_vms) * u64::from(memory_per_vm_mb),
        // The teacher's VM comes first; what is left of the placed VMs are students.
        largest_size_that_fits: u16::try_from(placed.saturating_sub(1)).unwrap_or(u16::MAX),
    }
}

fn refuse_unless_fits(plan: CapacityPlan) -> Result<()> {
    if plan.fits() {
        Ok(())
    } else {
        Err(Error::Overcommitted {
            plan: Box::new(plan),
        })
    }
}
