//! The background jobs through the facade: running a job now, what the jobs recorded (sync
//! status, the inventory, a VM's state), a cluster's job settings, and the student's answer to
//! an idle warning.

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{class_for, Lab};
use crate::error::{Entity, Error, Result};
use crate::events::ShutdownReason;
use crate::jobs::{self, SyncReport, SyncStatus, SyncWhat};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::cluster_jobs::{self, ClusterJobChange, ClusterJobSettings};
use crate::store::inventory::{
    self, GuestCategory, GuestFacts, GuestKind, GuestState, InventoryEntry,
};
use crate::store::pool::{self, PoolVm};
use crate::store::{classes, clusters, vm_watch};
use crate::types::{ClusterId, VmId, VmRef};

/// A pool VM's state as the lab knows it, for `/myvm` and pool listings: read from the
/// database, refreshed from Proxmox first only when older than the cluster's `vm_cache_ttl`.
#[derive(Debug, Clone, PartialEq)]
pub struct VmState {
    /// The cluster.
    pub cluster_id: ClusterId,
    /// The VM.
    pub vmid: VmId,
    /// Running, stopped or unknown.
    pub state: GuestState,
    /// Its node.
    pub node: Option<String>,
    /// CPU use in percent (running VMs).
    pub cpu_usage: Option<f64>,
    /// Memory use in percent (running VMs).
    pub memory_usage: Option<f64>,
    /// Seconds since it started (running VMs).
    pub uptime: Option<u64>,
    /// The address to connect to, if one was found.
    pub ip: Option<String>,
    /// Its IPv6 address, if one was found.
    pub ipv6: Option<String>,
    /// Whether it offers remote desktop.
    pub rdp_available: bool,
    /// Whether it offers SSH.
    pub ssh_available: bool,
    /// When its state was last read from Proxmox (`None`: never).
    pub checked_at: Option<Timestamp>,
    /// Why the refresh this read needed failed (the recorded state is returned anyway).
    pub refresh_error: Option<String>,
    /// An automatic shutdown decided for it and why, until it is seen stopped.
    pub shutdown_pending: Option<ShutdownReason>,
    /// When it was warned for being idle (a [`Lab::keep_running`] answer clears it).
    pub idle_warned_at: Option<Timestamp>,
}

/// The answer to [`Lab::keep_running`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepRunning {
    /// The VM.
    pub vmid: VmId,
    /// The earliest time it can be found idle again (a whole idle span from now).
    pub idle_again_at: Timestamp,
    /// Whether an idle shutdown already decided (but not yet sent) was called off.
    pub shutdown_called_off: bool,
}

impl Lab {
    /// Runs `what` now on `cluster` (or on every cluster, in parallel) and reports what each run
    /// did (adminers). A run of a job that is already running on a cluster waits for it first:
    /// a job never overlaps itself.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer; [`Error::NotFound`] for an
    /// unknown cluster. Failed runs are not errors: they are in the report (and recorded).
    pub async fn sync_now(
        &self,
        actor: &Actor,
        what: SyncWhat,
        cluster: Option<ClusterId>,
    ) -> Result<SyncReport> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        let targets = match cluster {
            Some(id) => {
                let wanted = id.clone();
                self.db().read(move |tx| clusters::get(tx, &wanted)).await?;
                vec![id]
            }
            None => self
                .db()
                .read(|tx| cluster_jobs::all(tx))
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect(),
        };
        // Clusters side by side; on each, the jobs in order (the inventory first, so the others
        // see fresh facts). A cluster that does not answer fails its runs at once.
        let jobs_asked = what.jobs();
        let never = CancellationToken::new();
        let mut tasks = JoinSet::new();
        for (index, cluster) in targets.into_iter().enumerate() {
            let (lab, never, jobs_asked) = (self.clone(), never.clone(), jobs_asked.clone());
            tasks.spawn(async move {
                if let Some(runs) = jobs::unanswered_runs(&lab, &jobs_asked, &cluster).await {
                    return (index, runs);
                }
                let mut runs = Vec::with_capacity(jobs_asked.len());
                for job in jobs_asked {
                    runs.push(jobs::run_job(&lab, job, &cluster, &never).await);
                }
                (index, runs)
            });
        }
        let mut done = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            done.push(joined.map_err(|e| Error::internal(format!("a sync task failed: {e}")))?);
        }
        // In the order asked for: job by job, each over the clusters in order.
        let mut runs: Vec<(usize, usize, jobs::ClusterRun)> = done
            .into_iter()
            .flat_map(|(index, runs)| {
                runs.into_iter()
                    .enumerate()
                    .map(move |(j, r)| (j, index, r))
            })
            .collect();
        runs.sort_by_key(|(job, index, _)| (*job, *index));
        let report = SyncReport {
            runs: runs.into_iter().map(|(_, _, run)| run).collect(),
        };
        Ok(report)
    }

    /// How every job last went on `cluster` (or on every cluster), as recorded (adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer.
    pub async fn sync_status(
        &self,
        actor: &Actor,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<SyncStatus>> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        let cluster = cluster.cloned();
        self.db()
            .read(move |tx| cluster_jobs::status(tx, cluster.as_ref()))
            .await
    }

    /// Every guest of `cluster` as the inventory recorded it (adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer; [`Error::NotFound`] for an unknown
    /// cluster.
    pub async fn inventory(
        &self,
        actor: &Actor,
        cluster: &ClusterId,
    ) -> Result<Vec<InventoryEntry>> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        let cluster = cluster.clone();
        self.db()
            .read(move |tx| {
                clusters::get(tx, &cluster)?;
                inventory::list(tx, &cluster)
            })
            .await
    }

    /// A cluster's settings for the background jobs (adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown cluster.
    pub async fn cluster_job_settings(
        &self,
        actor: &Actor,
        cluster: &ClusterId,
    ) -> Result<ClusterJobSettings> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        let cluster = cluster.clone();
        self.db()
            .read(move |tx| cluster_jobs::settings(tx, &cluster))
            .await
    }

    /// Changes a cluster's settings for the background jobs (adminers); returns them afterwards.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown cluster.
    pub async fn change_cluster_job_settings(
        &self,
        actor: &Actor,
        cluster: &ClusterId,
        change: ClusterJobChange,
    ) -> Result<ClusterJobSettings> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        let (cluster, by) = (cluster.clone(), *actor);
        let settings = self
            .db()
            .write(move |tx| {
                let settings = cluster_jobs::change(tx, &cluster, &change)?;
                super::audit::record(
                    tx,
                    &by,
                    Action::ManageClusters,
                    None,
                    format!(
                        "cluster {cluster} job settings changed: {}",
                        change.fields().join(", ")
                    ),
                )?;
                Ok(settings)
            })
            .await?;
        self.wake_consumers(1);
        Ok(settings)
    }

    /// The state of a pool VM for its holder, its class's teachers and adminers. It comes from
    /// the database (the inventory keeps it fresh); only when it is older than the cluster's
    /// `vm_cache_ttl` is it read from Proxmox first (one call).
    ///
    /// # Errors
    /// [`Error::NotFound`] when no pool VM has this VMID on this cluster;
    /// [`Error::NotPermitted`] for others.
    pub async fn vm_state(&self, actor: &Actor, vm: &VmRef) -> Result<VmState> {
        let (who, key) = (*actor, vm.clone());
        let (cluster, vmid) = (vm.cluster.clone(), vm.vmid);
        let id = cluster.clone();
        let (vm, entry, ttl) = self
            .db()
            .read(move |tx| {
                let vm =
                    pool::by_ref(tx, &key)?.ok_or_else(|| Error::not_found(Entity::Vm, &key))?;
                if vm.assigned_to.is_none() || vm.assigned_to != who.user_id() {
                    class_for(tx, &who, Action::ListStudents, vm.class_id)?;
                }
                let entry = inventory::get(tx, &id, vmid)?;
                let ttl = cluster_jobs::settings(tx, &id)?.vm_cache_ttl;
                Ok((vm, entry, ttl))
            })
            .await?;
        let now = self.now();
        let fresh = entry
            .as_ref()
            .and_then(|e| e.last_status_check)
            .is_some_and(|at| now.duration_since(at) <= SignedDuration::from_secs(i64::from(ttl)));
        // A person waits for this answer: a refresh that Proxmox does not answer in time gives
        // way to what the database knows, with the reason beside it.
        let refresh_error = if fresh {
            None
        } else {
            let within = self.pools().config().answer_within;
            match tokio::time::timeout(within, self.refresh_vm(&vm, entry.as_ref())).await {
                Ok(refreshed) => refreshed.err().map(|e| e.to_string()),
                Err(_) => Some(crate::pools::client::unreachable(&cluster, within).to_string()),
            }
        };
        let id = cluster.clone();
        let (entry, watch) = self
            .db()
            .read(move |tx| {
                Ok((
                    inventory::get(tx, &id, vmid)?,
                    vm_watch::get(tx, &id, vmid)?,
                ))
            })
            .await?;
        Ok(VmState {
            cluster_id: cluster,
            vmid,
            state: entry.as_ref().map_or(GuestState::Unknown, |e| e.state),
            node: entry
                .as_ref()
                .and_then(|e| e.node.clone())
                .or_else(|| vm.node.as_ref().map(|n| n.as_str().to_owned())),
            cpu_usage: entry.as_ref().and_then(|e| e.cpu_usage),
            memory_usage: entry.as_ref().and_then(|e| e.memory_usage),
            uptime: entry.as_ref().and_then(|e| e.uptime),
            ip: entry.as_ref().and_then(|e| e.ip.clone()).or(vm.cached_ip),
            ipv6: entry.as_ref().and_then(|e| e.ipv6.clone()),
            rdp_available: entry.as_ref().is_some_and(|e| e.rdp_available),
            ssh_available: entry.as_ref().is_some_and(|e| e.ssh_available),
            checked_at: entry.as_ref().and_then(|e| e.last_status_check),
            refresh_error,
            shutdown_pending: watch.shutdown.map(|s| s.reason),
            idle_warned_at: watch.idle_warned_at,
        })
    }

    /// Reads one pool VM's state from Proxmox and records it.
    pub(crate) async fn refresh_vm(
        &self,
        vm: &PoolVm,
        entry: Option<&InventoryEntry>,
    ) -> Result<()> {
        let node = entry
            .and_then(|e| e.node.clone())
            .or_else(|| vm.node.as_ref().map(|n| n.as_str().to_owned()))
            .ok_or_else(|| {
                Error::not_found(Entity::Vm, format!("{} on any known node", vm.vmid))
            })?;
        let kind = entry.map_or(GuestKind::Qemu, |e| e.kind);
        let client = jobs::client_for(self, &vm.cluster_id).await?;
        let handle = client.node(&node);
        let summary = match kind {
            GuestKind::Qemu => handle.qemu(vm.vmid.get()).status().await,
            GuestKind::Lxc => handle.lxc(vm.vmid.get()).status().await,
        }
        .map_err(|e| jobs::cluster_error(&vm.cluster_id, e))?;
        let state = match summary.status {
            pvelab_proxmox::GuestStatus::Running | pvelab_proxmox::GuestStatus::Paused => {
                GuestState::Running
            }
            pvelab_proxmox::GuestStatus::Stopped => GuestState::Stopped,
            _ => GuestState::Unknown,
        };
        let running = state == GuestState::Running;
        let facts = GuestFacts {
            vmid: vm.vmid,
            name: summary
                .name
                .clone()
                .or_else(|| entry.and_then(|e| e.name.clone())),
            node: Some(node),
            state,
            kind,
            category: GuestCategory::Pool,
            memory: summary.maxmem,
            cores: summary.cpus.map(|c| c.round() as u32),
            disk_size: summary.maxdisk,
            uptime: summary.uptime.filter(|_| running),
            cpu_percent: summary.cpu.filter(|_| running).map(|c| c * 100.0),
            memory_percent: match (summary.mem, summary.maxmem) {
                (Some(m), Some(max)) if running && max > 0 => Some(m as f64 / max as f64 * 100.0),
                _ => None,
            },
            is_template: summary.template,
            tags: summary
                .tags
                .clone()
                .or_else(|| entry.and_then(|e| e.tags.clone())),
        };
        let cluster = vm.cluster_id.clone();
        // The row gets what the direct read saw, ahead of the next tick.
        self.jobs_shared().digests.forget(&cluster);
        self.db()
            .write(move |tx| inventory::refresh_one(tx, &cluster, &facts))
            .await
    }

    /// The answer to an idle warning: keep the VM running (its holder, or the class's teachers).
    /// The warning event names the class and the VMID; the holder's [`Lab::my_vms`] gives the
    /// VM's key.
    /// Its idleness must be seen for a whole new idle span before it is warned again, and an
    /// idle shutdown decided but not yet sent is called off.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no pool has this VM; [`Error::NotPermitted`] for others.
    pub async fn keep_running(&self, actor: &Actor, vm: &VmRef) -> Result<KeepRunning> {
        let (who, key) = (*actor, vm.clone());
        let vmid = vm.vmid;
        self.db()
            .write(move |tx| {
                let vm =
                    pool::by_ref(tx, &key)?.ok_or_else(|| Error::not_found(Entity::Vm, &key))?;
                let class = vm.class_id;
                let stored = if who.user_id().is_some() && vm.assigned_to == who.user_id() {
                    authorize(&who, Action::ControlOwnVm, ClassRelation::None)?;
                    classes::get(tx, class)?
                } else {
                    class_for(tx, &who, Action::ControlStudentVm, class)?
                };
                let mut watch = vm_watch::get(tx, &vm.cluster_id, vmid)?;
                let unsent_idle_shutdown = watch.shutdown.as_ref().is_some_and(|s| {
                    matches!(s.reason, ShutdownReason::Idle { .. }) && s.requested_at.is_none()
                });
                if unsent_idle_shutdown {
                    watch.shutdown = None;
                }
                watch.idle_warned_at = None;
                vm_watch::save(tx, &vm.cluster_id, vmid, &watch)?;
                vm_watch::clear_samples(tx, &vm.cluster_id, vmid)?;
                let span =
                    SignedDuration::from_mins(i64::from(stored.auto_shutdown.idle_minutes.get()));
                Ok(KeepRunning {
                    vmid,
                    idle_again_at: crate::db::time::now() + span,
                    shutdown_called_off: unsent_idle_shutdown,
                })
            })
            .await
    }
}
