//! Student and teacher actions on one pool VM: start (the core's `may_start` decides), graceful
//! shutdown (forced off after a timeout), hard stop, reboot, revert to `baseline`, and reimage
//! (a fresh clone at the same VMID, keeping its holder). A student acts on the VM they hold;
//! the class's teachers (and adminers, and the system) on any VM of the class.

use super::{class_for, Lab};
use crate::error::{Error, Result};
use crate::pools::actions::{self, VmAction};
use crate::pools::converge::converge;
use crate::pools::operation;
use crate::pools::plan::slot_of;
use crate::pools::{Operation, OperationKind};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::classes;
use crate::store::pool::steps::{self, PoolVmState, StepChange};
use crate::store::pool::{PowerState, VmStep};
use crate::types::{ClassId, VmId};

impl Lab {
    /// Starts a VM of the class, if [`Lab::may_start`] allows it now (hours, quota, state);
    /// returns the run state it ends in.
    ///
    /// # Errors
    /// [`Error::OutsideHours`], [`Error::QuotaExhausted`], [`Error::NotPermitted`];
    /// [`Error::VmNotReady`] while pvelab builds it; [`Error::Cluster`] when Proxmox does not
    /// answer within 2 s (unreachable) or refuses.
    pub async fn start_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        self.may_start(actor, class, &vm.vm.vm_ref())
            .await?
            .into_result()?;
        actions::run(self, &vm, VmAction::Start).await
    }

    /// Asks the VM's guest to power off; Proxmox forces it off after the configured
    /// `shutdown_timeout`.
    ///
    /// # Errors
    /// As [`Lab::start_vm`], without the hours and quota refusals.
    pub async fn shutdown_vm(
        &self,
        actor: &Actor,
        class: ClassId,
        vmid: VmId,
    ) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        actions::run(self, &vm, VmAction::Shutdown).await
    }

    /// Powers the VM off at once (as pulling the plug).
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`].
    pub async fn stop_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        actions::run(self, &vm, VmAction::Stop).await
    }

    /// Reboots the VM's guest; a stopped VM is started (a restart asks for a running VM).
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`].
    pub async fn reboot_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        actions::run(self, &vm, VmAction::Reboot).await
    }

    /// Returns the VM to its `baseline` snapshot (the state pvelab built); it is stopped
    /// afterwards.
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`]; [`Error::VmNotOurs`] when the VM lacks pvelab's marker.
    pub async fn revert_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        actions::run(self, &vm, VmAction::Revert).await
    }

    /// Replaces the VM with a fresh clone of the class's template at the same VMID, with a new
    /// `baseline`; its holder keeps it and hears of it. The old VM is deleted only if it
    /// carries pvelab's marker.
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`]; [`Error::VmNotOurs`] for a VM registered by hand.
    pub async fn reimage_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<Operation> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        if slot_of(vm.vm.role).is_none() {
            return Err(Error::VmNotOurs {
                vmid,
                node: vm
                    .vm
                    .node
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
        self.probe(&vm.vm.cluster_id).await?;
        self.db()
            .write(move |tx| {
                steps::set_step(tx, class, vmid, VmStep::Rebuilding, &StepChange::default())
            })
            .await?;
        operation::start(
            self,
            class,
            OperationKind::Reimage,
            actor.user_id(),
            move |lab, report| async move { converge(&lab, class, &report, None, Some(vmid)).await },
        )
        .await
    }

    /// The VM if the actor may control it now: the holder (a student's own VM), or the class's
    /// teachers; and it must be ready (not being built, rebuilt or deleted).
    async fn vm_to_control(
        &self,
        actor: &Actor,
        class: ClassId,
        vmid: VmId,
    ) -> Result<PoolVmState> {
        let actor = *actor;
        self.db()
            .read(move |tx| {
                classes::get(tx, class)?;
                let state = steps::state(tx, class, vmid)?;
                let own = actor.user_id().is_some() && state.vm.assigned_to == actor.user_id();
                if own {
                    authorize(&actor, Action::ControlOwnVm, ClassRelation::None)?;
                } else {
                    class_for(tx, &actor, Action::ControlStudentVm, class)?;
                }
                if state.step != VmStep::Ready {
                    return Err(Error::VmNotReady {
                        vmid,
                        step: state.step.to_string(),
                    });
                }
                Ok(state)
            })
            .await
    }
}
