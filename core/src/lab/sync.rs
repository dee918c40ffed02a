//! The background jobs through the facade: running a job now, what the jobs recorded (sync
//! status, the inventory), a cluster's job settings, and the student's answer to an idle
//! warning. A VM's state for its users is in `vm_state.rs`.

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{class_for, Lab};
use crate::error::{Entity, Error, Result};
use crate::events::ShutdownReason;
use crate::jobs::{self, SyncReport, SyncStatus, SyncWhat};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::cluster_jobs::{self, ClusterJobChange, ClusterJobSettings};
use crate::store::inventory::{self, InventoryEntry};
use crate::store::pool;
use crate::store::{classes, clusters, vm_watch};
use crate::types::{ClusterId, VmId, VmRef};

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
