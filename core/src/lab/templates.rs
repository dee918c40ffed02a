//! Templates and ISO images of a cluster through the facade (adminers and the cluster's
//! administrators): what the syncs recorded, and per-node template replicas made on request.

use super::clusters::cluster_for;
use super::Lab;
use crate::error::{Entity, Error, Result};
use crate::jobs;
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::isos::{self, IsoImage};
use crate::store::templates::{self, TemplateRecord};
use crate::store::{cluster_jobs, clusters};
use crate::types::{ClusterId, NodeName, VmId};

impl Lab {
    /// The templates a new class may be cloned from, on every active cluster that allows VM
    /// deployment (teachers and adminers): what the template sync recorded, without per-node
    /// replicas and without the versions classes published (those belong to their class). A
    /// teacher names one of these when creating a class, and needs this list to find it.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor may create classes.
    pub async fn class_templates(&self, actor: &Actor) -> Result<Vec<TemplateRecord>> {
        authorize(actor, Action::CreateClass, ClassRelation::None)?;
        self.db()
            .read(|tx| {
                let mut usable = Vec::new();
                for cluster in clusters::list(tx)? {
                    if !cluster.is_active || !cluster.allow_vm_deployment {
                        continue;
                    }
                    usable.extend(
                        templates::list(tx, &cluster.cluster_id)?
                            .into_iter()
                            .filter(|t| !t.is_replica && !t.is_class_template),
                    );
                }
                Ok(usable)
            })
            .await
    }

    /// The ISO images the last ISO sync found on `cluster` (adminers and the cluster's
    /// administrators; `groups` are the actor's groups as the front end maps them).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown cluster; [`Error::NotPermitted`].
    pub async fn isos(
        &self,
        actor: &Actor,
        groups: &[String],
        cluster: &ClusterId,
    ) -> Result<Vec<IsoImage>> {
        let (actor, groups, id) = (*actor, groups.to_vec(), cluster.clone());
        self.db()
            .read(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageIsos, &id)?;
                isos::list(tx, &id)
            })
            .await
    }

    /// The templates of `cluster` as the last template sync (and pvelab's own publishing and
    /// replicating) recorded them, with their specs (adminers and the cluster's administrators).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown cluster; [`Error::NotPermitted`].
    pub async fn templates(
        &self,
        actor: &Actor,
        groups: &[String],
        cluster: &ClusterId,
    ) -> Result<Vec<TemplateRecord>> {
        let (actor, groups, id) = (*actor, groups.to_vec(), cluster.clone());
        self.db()
            .read(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageTemplates, &id)?;
                templates::list(tx, &id)
            })
            .await
    }

    /// Makes per-node replicas of the template `vmid` on the nodes of `cluster` that lack one
    /// (all online nodes but its own, or those of `nodes`), so linked clones on storage the
    /// nodes do not share can be made on every node. Each replica is a full clone onto the
    /// cluster's `template_storage` (else the template's own storage), turned into a template
    /// and marked as a replica. Returns the replicas made (none when every node has one).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown cluster or a template the sync has not recorded;
    /// [`Error::NotPermitted`]; [`Error::Cluster`] when Proxmox refuses (e.g. the template's
    /// storage cannot be reached from another node).
    pub async fn replicate_template(
        &self,
        actor: &Actor,
        groups: &[String],
        cluster: &ClusterId,
        vmid: VmId,
        nodes: Option<Vec<NodeName>>,
    ) -> Result<Vec<TemplateRecord>> {
        let (who, groups, id) = (*actor, groups.to_vec(), cluster.clone());
        let (source, existing, storage) = self
            .db()
            .read(move |tx| {
                cluster_for(tx, &who, &groups, Action::ManageTemplates, &id)?;
                let source = templates::by_vmid(tx, &id, vmid)?.ok_or_else(|| {
                    Error::not_found(Entity::Template, format!("{vmid} on cluster {id}"))
                })?;
                let existing: Vec<String> = templates::list(tx, &id)?
                    .into_iter()
                    .filter(|t| t.is_replica && t.source_vmid == Some(vmid))
                    .filter_map(|t| t.node)
                    .collect();
                let storage = cluster_jobs::settings(tx, &id)?.template_storage;
                Ok((source, existing, storage))
            })
            .await?;
        let wanted: Vec<String> = match nodes {
            Some(nodes) => nodes.iter().map(|n| n.as_str().to_owned()).collect(),
            None => {
                let client = jobs::client_for(self, cluster).await?;
                client
                    .nodes()
                    .await
                    .map_err(|e| jobs::cluster_error(cluster, e))?
                    .into_iter()
                    .filter(|n| n.status == pvelab_proxmox::NodeStatus::Online)
                    .map(|n| n.node)
                    .collect()
            }
        };
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|n| Some(n) != source.node.as_ref() && !existing.contains(n))
            .collect();
        let storage = storage.or_else(|| source.specs.disk_storage.clone());
        jobs::replicate(self, cluster, &source, &missing, storage, actor.user_id()).await
    }
}
