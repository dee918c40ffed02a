//! Pools through the facade: recording templates to clone from, provisioning a class's pool on
//! a cluster, and reading the pool's progress. Each operation records its intent in the
//! database first and returns an [`Operation`] that reports progress while the work runs.

use rusqlite::Connection;

use super::audit::record_in_class;
use super::{class_for, Lab, TokenRotation};
use crate::error::{Entity, Error, Result};
use crate::pools::announce;
use crate::pools::client::{client_for, within_answer_time};
use crate::pools::converge::converge;
use crate::pools::observe;
use crate::pools::operation;
use crate::pools::{Operation, OperationKind, OperationSummary};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::class_settings::{self, ClassSettings};
use crate::store::classes::{self, Class, ClassDeletion, NewClass};
use crate::store::clone_sources::{self, NewTemplate, TemplateInfo};
use crate::store::clusters;
use crate::store::pool::managed;
use crate::store::pool::steps::{self, PoolVmState};
use crate::store::pool::{VmRole, VmStatus, VmStep};
use crate::store::tokens;
use crate::token::TokenExpiry;
use crate::types::{
    ClassId, ClassName, ClusterId, Cores, DiskGb, InvalidValue, MemoryMb, PoolSize, SchemeKind,
    TemplateId, VmId, VmidScheme,
};

/// The cluster a class's pool goes to: where it already is; else the class's deployment
/// cluster; else the highest-priority active cluster that allows VM deployment, preferring one
/// that holds the class's template.
pub(crate) fn choose_cluster(
    tx: &Connection,
    class: Option<ClassId>,
    deployment: Option<&ClusterId>,
    template_id: Option<TemplateId>,
) -> Result<ClusterId> {
    if let Some(class) = class {
        if let Some(managed) = managed::get(tx, class)? {
            return Ok(managed.cluster);
        }
    }
    if let Some(cluster) = deployment {
        return Ok(clusters::get(tx, cluster)?.cluster_id);
    }
    let usable: Vec<clusters::Cluster> = clusters::list(tx)?
        .into_iter()
        .filter(|c| c.is_active && c.allow_vm_deployment)
        .collect();
    let template_cluster = match template_id {
        Some(id) => clone_sources::get(tx, id)?.and_then(|t| t.cluster_id),
        None => None,
    };
    usable
        .iter()
        .find(|c| Some(&c.cluster_id) == template_cluster.as_ref())
        .or_else(|| usable.first())
        .map(|c| c.cluster_id.clone())
        .ok_or_else(|| Error::not_found(Entity::Cluster, "that is active and allows VM deployment"))
}

impl Lab {
    /// Records a template the pools may clone from: a PVE template VM on a cluster, or a
    /// per-node replica of one (adminers, and administrators of that cluster through the
    /// template sync). Set it as a class's `template_id` to provision from it.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown cluster;
    /// [`Error::NameTaken`] when the cluster's VMID is recorded already.
    pub async fn register_template(
        &self,
        actor: &Actor,
        template: NewTemplate,
    ) -> Result<TemplateInfo> {
        authorize(actor, Action::ManageTemplates, ClassRelation::None)?;
        let by = actor.user_id();
        self.db()
            .write(move |tx| {
                clusters::get(tx, &template.cluster_id)?;
                clone_sources::insert(tx, &template, by)
            })
            .await
    }

    /// Builds the class's pool on Proxmox (the class's teachers and adminers): its teacher VM,
    /// its base VM and its student VMs, cloned from the class's template with the class's
    /// specs, tagged and marked, with a `baseline` snapshot. Returns at once with the running
    /// [`Operation`]; students can join each VM as soon as it is ready. Calling it again
    /// resumes or completes the pool; it never duplicates a VM. The audit trail has no entry
    /// for it: it builds what the class already records, whose change was recorded.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class or no usable cluster;
    /// [`Error::Cluster`] when the cluster does not answer within
    /// [`PoolsConfig::answer_within`](crate::pools::PoolsConfig::answer_within);
    /// [`Error::Overcommitted`] when the pool would not fit its nodes' memory.
    pub async fn provision(&self, actor: &Actor, class: ClassId) -> Result<Operation> {
        let size = self
            .class_read(actor, Action::ResizePool, class, |_, c| Ok(c.pool_size))
            .await?;
        self.require_capacity(actor, class, size).await?;
        self.start_pool_operation(actor, class, OperationKind::Provision)
            .await
    }

    /// Creates a class and provisions its pool: like [`Lab::create_class`], but its VMID range
    /// is chosen against the cluster's guests too, so a range that holds any guest (a VM of
    /// another tool, say) is never given to the new class.
    ///
    /// # Errors
    /// As [`Lab::create_class`] and [`Lab::provision`]; [`Error::VmidRangeTaken`] when a
    /// requested prefix's range holds a guest of the cluster.
    pub async fn create_and_provision_class(
        &self,
        actor: &Actor,
        new: NewClass,
    ) -> Result<(Class, Operation)> {
        authorize(actor, Action::CreateClass, ClassRelation::None)?;
        let teacher = actor.person(Action::CreateClass)?;
        let (deployment, template) = (new.deployment_cluster.clone(), new.template_id);
        let cluster = self
            .db()
            .read(move |tx| choose_cluster(tx, None, deployment.as_ref(), template))
            .await?;
        self.require_capacity_for_new(&new, &cluster).await?;
        let client = client_for(self, &cluster).await?;
        let guests = within_answer_time(self, &cluster, || observe::guests(&client)).await?;
        let vmids: Vec<u32> = guests.keys().copied().collect();
        let (chosen, by) = (cluster.clone(), *actor);
        let class = self
            .db()
            .write(move |tx| {
                if let Some(cluster) = &new.deployment_cluster {
                    clusters::get(tx, cluster)?;
                }
                let on = format!("cluster {chosen}");
                let class = classes::insert_avoiding(tx, teacher, &new, &vmids, &on)?;
                managed::manage(tx, class.id, &chosen)?;
                let detail = format!(
                    "class {} with {}, built on cluster {chosen}",
                    class.name,
                    super::audit::student_vms(class.pool_size)
                );
                record_in_class(tx, &by, Action::CreateClass, class.id, None, detail)?;
                Ok(class)
            })
            .await?;
        self.wake_consumers(1);
        let op = self
            .start_pool_operation(actor, class.id, OperationKind::Provision)
            .await?;
        Ok((class, op))
    }

    /// Every VM of the class's pool with how far it has come on Proxmox (the class's teachers
    /// and adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`].
    pub async fn pool_status(&self, actor: &Actor, class: ClassId) -> Result<Vec<PoolVmState>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _| {
            steps::states(tx, class)
        })
        .await
    }

    /// Records that the class's pool is managed on its cluster (checking the actor's right in
    /// the same transaction), checks the cluster answers, and starts `kind` over the class.
    /// It writes no audit entry: the change that asked for the work (the class created, the
    /// pool resized, the specs changed) recorded its own, and carrying it out is not another.
    pub(crate) async fn start_pool_operation(
        &self,
        actor: &Actor,
        class: ClassId,
        kind: OperationKind,
    ) -> Result<Operation> {
        let stored = self
            .class_read(actor, Action::ResizePool, class, |_, c| Ok(c))
            .await?;
        let cluster = self
            .db()
            .read(move |tx| {
                choose_cluster(
                    tx,
                    Some(class),
                    stored.deployment_cluster.as_ref(),
                    stored.template_id,
                )
            })
            .await?;
        self.probe(&cluster).await?;
        let (chosen, who) = (cluster.clone(), *actor);
        // A class being deleted is not found here (the facade no longer sees it).
        self.db()
            .write(move |tx| {
                class_for(tx, &who, Action::ResizePool, class)?;
                managed::manage(tx, class, &chosen)
            })
            .await?;
        operation::start(
            self,
            class,
            kind,
            actor.user_id(),
            move |lab, report| async move { converge(&lab, class, &report, None, None).await },
        )
        .await
    }

    /// Checks that `cluster` answers within `answer_within`.
    pub(crate) async fn probe(&self, cluster: &ClusterId) -> Result<()> {
        let client = client_for(self, cluster).await?;
        within_answer_time(self, cluster, || client.nodes()).await?;
        Ok(())
    }
}

/// The result of [`Lab::import_class`].
#[derive(Debug)]
pub struct ImportedClass {
    /// The new class.
    pub class: Class,
    /// Its join token (shown once).
    pub token: TokenRotation,
    /// The VMs adopted (marked and recorded), by VMID.
    pub adopted: Vec<VmId>,
    /// VMs of the range left alone, and why.
    pub skipped: Vec<(VmId, String)>,
    /// The operation that finishes the pool (baseline snapshots, missing teacher or base VM).
    pub operation: Operation,
}

impl Lab {
    /// Grows or shrinks the class's pool (the class's teachers and adminers). The pool's
    /// student slots are 1 to its size. Growing adds VMs at the free slots up to the size; a
    /// classic class cannot grow beyond 98 students. Shrinking deletes the VMs nobody holds in
    /// the slots above the size (the highest slots; those are never handed out again); VMs
    /// students hold there are taken only with `force`, and their students hear of it, else
    /// they go when their students leave. Returns the running [`Operation`].
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::InvalidValue`] for a size beyond the class's VMID plan
    /// (naming the limit), or for growing a class that has no template to clone from;
    /// [`Error::Cluster`] when the cluster does not answer within 2 s (then
    /// nothing changed); [`Error::Overcommitted`] when the new size would not fit its nodes'
    /// memory (then nothing changed either).
    pub async fn resize_pool(
        &self,
        actor: &Actor,
        class: ClassId,
        size: PoolSize,
        force: bool,
    ) -> Result<Operation> {
        self.probe_class_cluster(actor, class).await?;
        // Only growing needs room; shrinking must stay possible on a crowded cluster.
        let (current, name, template) = self
            .class_read(actor, Action::ResizePool, class, |_, c| {
                Ok((c.pool_size, c.name, c.template_id))
            })
            .await?;
        if size > current && template.is_none() {
            // Nothing to clone from: every new VM would fail.
            return Err(InvalidValue::new(
                "pool size",
                size,
                format!(
                    "class {name} has no template to build VMs from (it was created before \
                     pvelab recorded any template): create the class again with a template \
                     from /template list"
                ),
            )
            .into());
        }
        if size > current {
            self.require_capacity(actor, class, size).await?;
        }
        let written = self
            .class_write(actor, Action::ResizePool, class, move |tx, _| {
                let change = ClassSettings {
                    pool_size: Some(size),
                    ..ClassSettings::default()
                };
                class_settings::update(tx, class, &change)?;
                crate::store::audit::note(None, format!("pool size {current} -> {size}"));
                shrink_now(tx, class, usize::from(size.get()), force)
            })
            .await?;
        self.wake_consumers(written);
        self.start_pool_operation(actor, class, OperationKind::Resize)
            .await
    }

    /// Changes the cores, memory or disk of the class's VMs (the class's teachers and
    /// adminers) and brings its VMs there without wiping them: a stopped VM takes the change at
    /// once, a running one at its next stop (the change is pending meanwhile, as Proxmox
    /// shows). Disks only grow.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::InvalidValue`] when nothing is changed;
    /// [`Error::Cluster`] when the cluster does not answer within 2 s (then nothing changed).
    pub async fn change_vm_specs(
        &self,
        actor: &Actor,
        class: ClassId,
        cores: Option<Cores>,
        memory: Option<MemoryMb>,
        disk: Option<DiskGb>,
    ) -> Result<Operation> {
        if cores.is_none() && memory.is_none() && disk.is_none() {
            return Err(InvalidValue::new(
                "VM specs",
                "no change",
                "at least one of cores, memory or disk",
            )
            .into());
        }
        let managed = self
            .class_read(actor, Action::EditClassSettings, class, move |tx, _| {
                Ok(managed::get(tx, class)?.is_some())
            })
            .await?;
        self.probe_class_cluster(actor, class).await?;
        self.class_write(actor, Action::EditClassSettings, class, move |tx, _| {
            let change = ClassSettings {
                cpu_cores: cores,
                memory_mb: memory,
                disk_gb: disk,
                ..ClassSettings::default()
            };
            class_settings::update(tx, class, &change)
        })
        .await?;
        if !managed {
            // No pool built yet: the specs are stored, and a spec change does not start
            // building one (that is `provision`'s or a resize's decision).
            return operation::start(
                self,
                class,
                OperationKind::Reconfigure,
                actor.user_id(),
                move |_, report| async move {
                    report.queued(0);
                    Ok(OperationSummary {
                        class: Some(class),
                        notes: vec![
                            "no VM is built yet: the class's VMs get these specs when they are \
                             built"
                                .to_owned(),
                        ],
                        ..OperationSummary::default()
                    })
                },
            )
            .await;
        }
        self.start_pool_operation(actor, class, OperationKind::Reconfigure)
            .await
    }

    /// Starts deleting a class (its primary teacher and adminers): its VMs first (only those
    /// carrying its marker; others are left alone), then its records, then its VMID range. The
    /// intent is recorded first, so a crash in between finishes at the next reconciliation.
    /// Students lose their VMs and hear of it; the join token stops working at once. A class
    /// whose pool pvelab does not manage goes at once.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`]; [`Error::Cluster`] when the cluster does
    /// not answer within 2 s (then nothing changed).
    pub async fn begin_class_deletion(&self, actor: &Actor, class: ClassId) -> Result<Operation> {
        let cluster = self
            .class_read(actor, Action::DeleteClass, class, move |tx, _| {
                Ok(managed::get(tx, class)?.map(|m| m.cluster))
            })
            .await?;
        if let Some(cluster) = &cluster {
            self.probe(cluster).await?;
        }
        let (deletion, written) = self
            .class_write(actor, Action::DeleteClass, class, move |tx, _| {
                let mut written = 0;
                for state in steps::states(tx, class)? {
                    if let Some(holder) = state.vm.assigned_to {
                        written += announce::vm_removed(tx, holder, class, state.vm.vmid)?;
                    }
                }
                Ok((classes::delete_or_mark(tx, class)?, written))
            })
            .await?;
        self.wake_consumers(written);
        let managed = cluster.is_some();
        operation::start(
            self,
            class,
            OperationKind::Delete,
            actor.user_id(),
            move |lab, report| async move {
                match (deletion, managed) {
                    (ClassDeletion::VmsPending { .. }, true) => {
                        converge(&lab, class, &report, None, None).await
                    }
                    (ClassDeletion::VmsPending { .. }, false) => {
                        report.queued(0);
                        crate::pools::forget_unmanaged(&lab, class).await
                    }
                    (ClassDeletion::Deleted, _) => {
                        report.queued(0);
                        Ok(crate::pools::OperationSummary {
                            class: Some(class),
                            notes: vec!["the class had no VMs".into()],
                            ..Default::default()
                        })
                    }
                }
            },
        )
        .await
    }

    /// Adopts the VMs of a classic VMID range (`prefix*100` to `prefix*100+99`) on `cluster` as
    /// a new class of the actor: VMID 00 as its teacher VM, 99 as its base VM, 01-98 as student
    /// VMs. Each adopted VM is marked (tag and description line) and recorded; VMs that carry
    /// another class's marker, containers and templates are left alone. The class's specs are
    /// taken from its first student VM; a join token is set. The returned operation takes the
    /// `baseline` snapshots.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor may create classes; [`Error::InvalidValue`] for
    /// a prefix outside the classic plan; [`Error::VmidRangeTaken`] when a class owns the range;
    /// [`Error::NameTaken`]; [`Error::Cluster`] when the cluster does not answer within 2 s.
    pub async fn import_class(
        &self,
        actor: &Actor,
        cluster: &ClusterId,
        prefix: u32,
        name: ClassName,
        template_id: Option<TemplateId>,
    ) -> Result<ImportedClass> {
        authorize(actor, Action::CreateClass, ClassRelation::None)?;
        let teacher = actor.person(Action::CreateClass)?;
        let scheme = VmidScheme::new(SchemeKind::Classic, i64::from(prefix))?;
        let found = crate::pools::import::survey(self, cluster, scheme).await?;
        let mut new = NewClass::new(
            name,
            PoolSize::new(i64::try_from(found.students()).unwrap_or(i64::MAX))?,
        );
        new.vmid_prefix = Some(prefix);
        new.template_id = template_id;
        new.deployment_cluster = Some(cluster.clone());
        found.apply_specs(&mut new);
        let (chosen, by) = (cluster.clone(), *actor);
        let token = crate::token::JoinToken::generate();
        let hash = token.hash();
        let class = self
            .db()
            .write(move |tx| {
                clusters::get(tx, &chosen)?;
                let class = classes::insert(tx, teacher, &new)?;
                managed::manage(tx, class.id, &chosen)?;
                tokens::set_token(tx, class.id, Some(&hash), TokenExpiry::Never)?;
                let range = class.scheme.vmids();
                let detail = format!(
                    "class {} imported from VMIDs {}-{} on cluster {chosen}",
                    class.name,
                    range.start(),
                    range.end()
                );
                record_in_class(tx, &by, Action::CreateClass, class.id, None, detail)?;
                Ok(class)
            })
            .await?;
        self.wake_consumers(1);
        let adopted = crate::pools::import::adopt(self, &class, &found).await?;
        let operation = self
            .start_pool_operation(actor, class.id, OperationKind::Provision)
            .await?;
        Ok(ImportedClass {
            class,
            token: TokenRotation {
                token,
                expiry: TokenExpiry::Never,
            },
            adopted,
            skipped: found.skipped.clone(),
            operation,
        })
    }

    /// Checks the cluster of a class's managed pool answers (nothing to check for a class whose
    /// pool is not built yet: its cluster is chosen when it is).
    async fn probe_class_cluster(&self, actor: &Actor, class: ClassId) -> Result<()> {
        let cluster = self
            .class_read(actor, Action::ResizePool, class, move |tx, _| {
                Ok(managed::get(tx, class)?.map(|m| m.cluster))
            })
            .await?;
        match cluster {
            Some(cluster) => self.probe(&cluster).await,
            None => Ok(()),
        }
    }
}

/// Marks the student VMs beyond `size` for deletion (slots above the size are never handed out
/// again): free ones always, held ones only with `force` (their students hear of it). Returns
/// the events written.
fn shrink_now(tx: &Connection, class: ClassId, size: usize, force: bool) -> Result<usize> {
    let mut written = 0;
    for state in steps::states(tx, class)? {
        let beyond = matches!(state.vm.role, VmRole::Student { slot } if usize::from(slot) > size);
        let live = state.step != VmStep::Deleting && state.vm.status != VmStatus::Deleting;
        if !beyond || !live || (state.vm.assigned_to.is_some() && !force) {
            continue;
        }
        let vmid = state.vm.vmid;
        if let Some(holder) = steps::mark_deleting(tx, class, vmid, force)? {
            written += announce::vm_removed(tx, holder, class, vmid)?;
        }
    }
    Ok(written)
}

impl Lab {
    /// Brings every managed pool back to its intent once, as the system: resumes what a crash
    /// interrupted, rebuilds VMs that vanished (their students keep them and hear of it),
    /// records VMs stopped or started behind pvelab's back, reimages VMs whose students left,
    /// finishes class deletions, and reports VMs in a class's range that pvelab does not know.
    /// A VM without pvelab's marker is never touched. One unreachable cluster does not delay
    /// the others; its failure is in the report.
    ///
    /// # Errors
    /// [`Error::Internal`] when the database fails.
    pub async fn reconcile(&self) -> Result<crate::pools::ReconcileReport> {
        crate::pools::reconcile(self).await
    }

    /// Runs [`Lab::reconcile`] now and then every `every` until `cancel` fires (at start, then
    /// periodically; an overrunning run delays the next instead of piling up).
    pub fn spawn_reconciler(
        &self,
        every: std::time::Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        crate::pools::spawn_reconciler(self.clone(), every, cancel)
    }

    /// Checks the class's pool against Proxmox (the class's teachers and adminers): every VM
    /// exists once with its marker, tag, specs and baseline and is ready; every assignment
    /// points at an existing VM; no student holds two; no marked VM exists outside the pool;
    /// the pool has its size. Also lists running VMs with a pending change.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::Cluster`] when the cluster cannot be read.
    pub async fn audit_pool(
        &self,
        actor: &Actor,
        class: ClassId,
    ) -> Result<crate::pools::PoolAudit> {
        self.class_read(actor, Action::ListStudents, class, |_, _| Ok(()))
            .await?;
        crate::pools::audit(self, class).await
    }
}
