//! Publishing: a class's teacher VM becomes the class's new template version, and its students'
//! VMs are to be reimaged from it, at once or each when it next stops, as the teacher chose.
//!
//! The steps follow the orchestration's rule (record, call Proxmox, record): the teacher VM is
//! cloned to a new VMID (outside every class's range) with pvelab's class-template marker in its
//! description, the clone becomes a template, and then ONE transaction records it as the class's
//! template (its original: the previous version), points the class at it, and marks every
//! student VM "reimage from this template" with its time. Assignments are untouched. A crash
//! before the record leaves a marked template, which the template sync records as an unused
//! version and removes.
//!
//! The reimage itself is the pool orchestration's: it rebuilds a VM from the class's template.
//! Here a reimage is due at once (`now`) or when the inventory sees the VM stopped
//! (`at next stop`); [`Lab::pending_reimages`] lists what waits. The previous version stays
//! while any VM still runs on it (its image) or waits for it, and the template sync deletes it
//! once nothing does.

use jiff::Timestamp;
use pvelab_proxmox::CloneParams;

use super::Lab;
use crate::error::{Entity, Error, Result};
use crate::jobs;
use crate::rules::permissions::{Action, Actor};
use crate::store::class_settings::{self, ClassSettings};
use crate::store::cluster_jobs;
use crate::store::inventory::{self, GuestState};
use crate::store::pool::{self, VmRole};
use crate::store::templates::{self, NewTemplate, TemplateRecord};
use crate::store::vm_watch::{self, PendingReimage, PublishMode};
use crate::types::{ClassId, TemplateId, VmRef};

/// What [`Lab::publish_template`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishOutcome {
    /// The new template version, now the class's template.
    pub template: TemplateRecord,
    /// The version it replaces, kept while VMs use it.
    pub previous: Option<TemplateId>,
    /// The student VMs to be reimaged from it.
    pub vms: Vec<VmRef>,
    /// How many of them may be reimaged at once (all with [`PublishMode::Now`]; the stopped ones
    /// otherwise).
    pub due_now: usize,
}

/// A student VM waiting for a reimage from a published template.
#[derive(Debug, Clone, PartialEq)]
pub struct ReimageWait {
    /// The VM.
    pub vm: VmRef,
    /// The template it is to be rebuilt from.
    pub template: TemplateId,
    /// When, as the teacher chose.
    pub mode: PublishMode,
    /// Since when it may happen; `None` while it waits for the VM to stop.
    pub due_at: Option<Timestamp>,
}

impl Lab {
    /// Publishes the class's teacher VM as the class's new template version (the class's
    /// teachers and adminers), and schedules its students' VMs for a reimage from it: at once,
    /// or each when it next stops. Students' changes on their VMs are lost by the reimage; a
    /// front end asks the teacher to confirm that before calling this.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] when the class has no teacher VM;
    /// [`Error::Cluster`] when Proxmox refuses the clone or the conversion.
    pub async fn publish_template(
        &self,
        actor: &Actor,
        class: ClassId,
        mode: PublishMode,
    ) -> Result<PublishOutcome> {
        let (teacher_vm, stored, node, host) = self
            .class_read(actor, Action::PublishTemplate, class, move |tx, stored| {
                let teacher_vm = pool::list(tx, class)?
                    .into_iter()
                    .find(|vm| vm.role == VmRole::Teacher)
                    .ok_or_else(|| {
                        Error::not_found(Entity::Vm, format!("teacher VM of class {class}"))
                    })?;
                let node = inventory::get(tx, &teacher_vm.cluster_id, teacher_vm.vmid)?
                    .and_then(|e| e.node)
                    .or_else(|| teacher_vm.node.as_ref().map(|n| n.as_str().to_owned()))
                    .ok_or_else(|| {
                        Error::not_found(
                            Entity::Vm,
                            format!("{} on a known node", teacher_vm.vm_ref()),
                        )
                    })?;
                let host = cluster_jobs::settings(tx, &teacher_vm.cluster_id)?.host;
                Ok((teacher_vm, stored, node, host))
            })
            .await?;
        let cluster = teacher_vm.cluster_id.clone();
        let client = jobs::client_for(self, &cluster).await?;
        let fail = |e| jobs::cluster_error(&cluster, e);
        let version = {
            let done = self
                .db()
                .read(move |tx| templates::versions_of(tx, class))
                .await?;
            done + 1
        };
        let name = format!("{}-v{version}", stored.name);
        let source = client.node(&node).qemu(teacher_vm.vmid.get());
        let (vmid, upid) = jobs::with_template_vmid(self, &client, &cluster, |newid| {
            let params = CloneParams::new(newid)
                .name(name.clone())
                .description(jobs::class_version_marker(class))
                .full(true);
            let source = source.clone();
            async move { source.clone_vm(&params).await }
        })
        .await?;
        client.wait_for_task(&upid).await.map_err(fail)?;
        let copy = client.node(&node).qemu(vmid.get());
        if let Some(upid) = copy.convert_to_template().await.map_err(fail)? {
            client.wait_for_task(&upid).await.map_err(fail)?;
        }
        let specs = jobs::specs_of(&copy.config().await.map_err(fail)?);
        tracing::info!(%class, %vmid, version, "a class template version was made");

        let creator = actor.user_id();
        self.class_write(actor, Action::PublishTemplate, class, move |tx, stored| {
            let previous = stored.template_id;
            let template = templates::insert(
                tx,
                &NewTemplate {
                    cluster: cluster.clone(),
                    host,
                    vmid,
                    name,
                    node,
                    specs,
                    created_by: creator,
                    class: Some(class),
                    replica_of: None,
                    original: previous,
                },
            )?;
            class_settings::update(
                tx,
                class,
                &ClassSettings {
                    template_id: Some(Some(template.id)),
                    ..ClassSettings::default()
                },
            )?;
            let now = crate::db::time::now();
            let mut vms = Vec::new();
            let mut due_now = 0;
            for vm in pool::list(tx, class)? {
                if !matches!(vm.role, VmRole::Student { .. }) {
                    continue;
                }
                let stopped = inventory::get(tx, &vm.cluster_id, vm.vmid)?
                    .is_some_and(|e| e.state == GuestState::Stopped);
                let due = mode == PublishMode::Now || stopped;
                let mut watch = vm_watch::get(tx, &vm.cluster_id, vm.vmid)?;
                // Until its reimage, the VM still runs on what it was built from.
                if watch.image_template_id.is_none() {
                    watch.image_template_id = previous.map(TemplateId::get);
                }
                watch.reimage = Some(PendingReimage {
                    template_id: template.id.get(),
                    when: mode,
                    due_at: due.then_some(now),
                });
                vm_watch::save(tx, &vm.cluster_id, vm.vmid, &watch)?;
                due_now += usize::from(due);
                vms.push(vm.vm_ref());
            }
            Ok(PublishOutcome {
                template,
                previous,
                vms,
                due_now,
            })
        })
        .await
    }

    /// The class's student VMs waiting for a reimage from a published template (the class's
    /// teachers and adminers).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`] for an unknown class.
    pub async fn pending_reimages(
        &self,
        actor: &Actor,
        class: ClassId,
    ) -> Result<Vec<ReimageWait>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _stored| {
            let mut waits = Vec::new();
            for vm in pool::list(tx, class)? {
                if let Some(pending) = vm_watch::get(tx, &vm.cluster_id, vm.vmid)?.reimage {
                    waits.push(ReimageWait {
                        vm: vm.vm_ref(),
                        template: TemplateId::new(pending.template_id),
                        mode: pending.when,
                        due_at: pending.due_at,
                    });
                }
            }
            Ok(waits)
        })
        .await
    }
}
