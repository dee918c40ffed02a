//! Pools through the facade: recording templates to clone from, provisioning a class's pool on
//! a cluster, and reading the pool's progress. Each operation records its intent in the
//! database first and returns an [`Operation`] that reports progress while the work runs.

use rusqlite::Connection;

use super::Lab;
use crate::error::{Entity, Error, Result};
use crate::pools::client::{client_for, cluster_error, unreachable};
use crate::pools::converge::converge;
use crate::pools::observe;
use crate::pools::operation;
use crate::pools::{Operation, OperationKind};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::classes::{self, Class, NewClass};
use crate::store::clone_sources::{self, NewTemplate, TemplateInfo};
use crate::store::clusters;
use crate::store::pool::managed;
use crate::store::pool::steps::{self, PoolVmState};
use crate::types::{ClassId, ClusterId};

/// The cluster a class's pool goes to: where it already is; else the class's deployment
/// cluster; else the highest-priority active cluster that allows VM deployment, preferring one
/// that holds the class's template.
pub(crate) fn choose_cluster(
    tx: &Connection,
    class: Option<ClassId>,
    deployment: Option<&ClusterId>,
    template_id: Option<i64>,
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
    /// resumes or completes the pool; it never duplicates a VM.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class or no usable cluster;
    /// [`Error::Cluster`] when the cluster does not answer within
    /// [`PoolsConfig::answer_within`](crate::pools::PoolsConfig::answer_within).
    pub async fn provision(&self, actor: &Actor, class: ClassId) -> Result<Operation> {
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
        let client = client_for(self, &cluster).await?;
        let within = self.pools().config().answer_within;
        let guests = tokio::time::timeout(within, observe::guests(&client))
            .await
            .map_err(|_| unreachable(&cluster, within))?
            .map_err(|e| cluster_error(&cluster, e))?;
        let vmids: Vec<u32> = guests.keys().copied().collect();
        let chosen = cluster.clone();
        let class = self
            .db()
            .write(move |tx| {
                if let Some(cluster) = &new.deployment_cluster {
                    clusters::get(tx, cluster)?;
                }
                let class = classes::insert_avoiding(tx, teacher, &new, &vmids, chosen.as_str())?;
                managed::manage(tx, class.id, &chosen)?;
                Ok(class)
            })
            .await?;
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
        let chosen = cluster.clone();
        self.class_write(actor, Action::ResizePool, class, move |tx, _| {
            if managed::get(tx, class)?.is_some_and(|m| m.deleting_since.is_some()) {
                return Err(Error::not_found(Entity::Class, class));
            }
            managed::manage(tx, class, &chosen)
        })
        .await?;
        operation::start(
            self,
            class,
            kind,
            actor.user_id(),
            move |lab, report| async move { converge(&lab, class, &report, None).await },
        )
        .await
    }

    /// Checks that `cluster` answers within `answer_within`.
    pub(crate) async fn probe(&self, cluster: &ClusterId) -> Result<()> {
        let client = client_for(self, cluster).await?;
        let within = self.pools().config().answer_within;
        tokio::time::timeout(within, client.nodes())
            .await
            .map_err(|_| unreachable(cluster, within))?
            .map_err(|e| cluster_error(cluster, e))?;
        Ok(())
    }
}
