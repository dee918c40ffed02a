//! Student and teacher actions on one pool VM: start (the core's `may_start` decides), graceful
//! shutdown (forced off after a timeout), hard stop, reboot, revert to `baseline`, and reimage
//! (a fresh clone at the same VMID, keeping its holder). A student acts on the VM they hold;
//! the class's teachers (and adminers, and the system) on any VM of the class.
//!
//! The audit trail records what people do to VMs they do not hold (a teacher stopping a
//! student's VM, and attempts refused), not students' doings on their own VM, nor the system's
//! (its actions reach the trail through the events they send). A reimage ends in a
//! `VmRebuilt` event, which the trail records as the system's rebuild, except when the holder
//! asked for it: that rebuild is their own doing (see `store::audit::from_event`).

use super::audit::record_in_class;
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
        let result = actions::run(self, &vm, VmAction::Start).await;
        self.audit_control(actor, class, &vm, "start", &result)
            .await;
        result
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
        let result = actions::run(self, &vm, VmAction::Shutdown).await;
        self.audit_control(actor, class, &vm, "shutdown", &result)
            .await;
        result
    }

    /// Powers the VM off at once (as pulling the plug).
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`].
    pub async fn stop_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        let result = actions::run(self, &vm, VmAction::Stop).await;
        self.audit_control(actor, class, &vm, "stop", &result).await;
        result
    }

    /// Reboots the VM's guest; a stopped VM is started (a restart asks for a running VM).
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`].
    pub async fn reboot_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        let result = actions::run(self, &vm, VmAction::Reboot).await;
        self.audit_control(actor, class, &vm, "reboot", &result)
            .await;
        result
    }

    /// Returns the VM to its `baseline` snapshot (the state pvelab built); it is stopped
    /// afterwards.
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`]; [`Error::VmNotOurs`] when the VM lacks pvelab's marker.
    pub async fn revert_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<PowerState> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        let result = actions::run(self, &vm, VmAction::Revert).await;
        self.audit_control(actor, class, &vm, "revert", &result)
            .await;
        result
    }

    /// Replaces the VM with a fresh clone of the class's template at the same VMID, with a new
    /// `baseline`; its holder keeps it and hears of it. The old VM is deleted only if it
    /// carries pvelab's marker.
    ///
    /// # Errors
    /// As [`Lab::shutdown_vm`]; [`Error::VmNotOurs`] for a VM registered by hand.
    pub async fn reimage_vm(&self, actor: &Actor, class: ClassId, vmid: VmId) -> Result<Operation> {
        let vm = self.vm_to_control(actor, class, vmid).await?;
        let result = self.start_reimage(actor, class, &vm).await;
        self.audit_control(actor, class, &vm, "reimage", &result)
            .await;
        result
    }

    /// The reimage of a VM the actor may control, as an operation.
    async fn start_reimage(
        &self,
        actor: &Actor,
        class: ClassId,
        vm: &PoolVmState,
    ) -> Result<Operation> {
        let vmid = vm.vm.vmid;
        if slot_of(vm.vm.role).is_none() {
            return Err(Error::VmNotOurs {
                vmid,
                node: vm
                    .vm
                    .node
                    .as_ref()
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
        let who = *actor;
        let result = self
            .db()
            .read(move |tx| {
                let actor = who;
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
            .await;
        if let Err(refused @ Error::NotPermitted { .. }) = &result {
            self.audit_failure(actor, Action::ControlStudentVm, Some(class), refused)
                .await;
        }
        result
    }

    /// Records an action on a VM by someone who does not hold it (a teacher, an adminer) with
    /// the VM's holder as its subject; a failed one with its error. A holder's own actions and
    /// the system's are not recorded (see the module's note).
    async fn audit_control<T>(
        &self,
        actor: &Actor,
        class: ClassId,
        vm: &PoolVmState,
        what: &'static str,
        result: &Result<T>,
    ) {
        let holder = vm.vm.assigned_to;
        if actor.is_system() || (holder.is_some() && holder == actor.user_id()) {
            return;
        }
        if let Err(error) = result {
            self.audit_failure(actor, Action::ControlStudentVm, Some(class), error)
                .await;
            return;
        }
        let (who, vmid) = (*actor, vm.vm.vmid);
        let detail = match holder {
            Some(_) => format!("{what} of VM {vmid}, held by the subject"),
            None => format!("{what} of VM {vmid}, held by nobody"),
        };
        let recorded = self
            .db()
            .write(move |tx| {
                record_in_class(tx, &who, Action::ControlStudentVm, class, holder, detail)
            })
            .await;
        match recorded {
            Ok(()) => self.wake_consumers(1),
            Err(e) => tracing::error!(error = %e, "a VM action could not be audited"),
        }
    }
}
