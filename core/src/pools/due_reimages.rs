//! Reimages from a published template whose time has come.
//!
//! Publishing records, per student VM, a pending reimage (`vm_watch`): due at once, or once the
//! inventory sees the VM stopped. The reconciler turns each due one into pool work here: in ONE
//! transaction the VM moves to the `Rebuilding` step and its watch row records the new image.
//! A crash before that transaction leaves the reimage pending (it is taken at the next run); a
//! crash after it leaves a `Rebuilding` step, which every reconciliation finishes from the
//! database. The holder keeps the VM throughout, as with a reimage a person asks for.

use rusqlite::Connection;

use super::plan::slot_of;
use crate::error::Result;
use crate::lab::Lab;
use crate::store::pool::managed;
use crate::store::pool::steps::{self, StepChange, VmStep};
use crate::store::vm_watch;
use crate::types::ClusterId;

/// Moves every due reimage of `cluster` to the `Rebuilding` step; returns how many.
///
/// # Errors
/// [`crate::Error::Internal`] when the database fails.
pub(crate) async fn start(lab: &Lab, cluster: &ClusterId) -> Result<usize> {
    let cluster = cluster.clone();
    lab.db().write(move |tx| start_in(tx, &cluster)).await
}

fn start_in(tx: &Connection, cluster: &ClusterId) -> Result<usize> {
    let watches = vm_watch::all_on(tx, cluster)?;
    let mut started = 0;
    for vm in vm_watch::pool_vms_on(tx, cluster)? {
        let due = watches
            .get(&vm.vmid)
            .and_then(|w| w.reimage.as_ref())
            .is_some_and(|r| r.due_at.is_some());
        if !due {
            continue;
        }
        // Only VMs pvelab built in a pool it manages can be rebuilt; a VM registered by hand
        // keeps its pending reimage, which the teacher sees in the pending list.
        if slot_of(vm.role).is_none() || managed::get(tx, vm.class_id)?.is_none() {
            continue;
        }
        let state = steps::state(tx, vm.class_id, vm.vmid)?;
        // A VM still being built, rebuilt or deleted gets the class's new template anyway.
        if state.step != VmStep::Ready {
            if matches!(state.step, VmStep::Rebuilding | VmStep::Deleting) {
                vm_watch::reimaged(tx, cluster, vm.vmid)?;
            }
            continue;
        }
        steps::set_step(
            tx,
            vm.class_id,
            vm.vmid,
            VmStep::Rebuilding,
            &StepChange::default(),
        )?;
        vm_watch::reimaged(tx, cluster, vm.vmid)?;
        started += 1;
    }
    if started > 0 {
        tracing::info!(%cluster, vms = started, "reimages from a published template started");
    }
    Ok(started)
}
