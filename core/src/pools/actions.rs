//! Actions on one VM that a person waits for: start, shutdown, stop, reboot, revert.
//!
//! The request to Proxmox must be on its way within `answer_within` (2 s): a cluster that does
//! not answer gives "unreachable" at once instead of a long hang. The task it starts is then
//! waited for (a graceful shutdown at most `shutdown_timeout`, after which PVE forces the VM
//! off). A revert changes the VM, so it first checks the marker.

use std::future::Future;

use pvelab_proxmox::{Client, ShutdownParams, Upid};

use super::client::{client_for, cluster_error, unreachable};
use super::converge::read;
use super::drive::BASELINE;
use super::marker::Marker;
use super::observe::{config_fact, power};
use super::plan::slot_of;
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::store::pool::steps::{self, PoolVmState};
use crate::store::pool::PowerState;

/// What to do with a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VmAction {
    Start,
    /// Ask the guest to power off; forced off after `shutdown_timeout`.
    Shutdown,
    /// Power off at once.
    Stop,
    Reboot,
    /// Roll back to the `baseline` snapshot (the VM is stopped afterwards, as PVE leaves it).
    Revert,
}

impl VmAction {
    /// Task failures that mean the VM is already where the action would take it.
    fn already_done(self, text: &str) -> bool {
        match self {
            VmAction::Start => text.contains("already running"),
            VmAction::Shutdown | VmAction::Stop => text.contains("not running"),
            VmAction::Reboot | VmAction::Revert => false,
        }
    }
}

/// Within `answer_within`, or "unreachable".
async fn answer<T>(
    lab: &Lab,
    vm: &PoolVmState,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let within = lab.pools().config().answer_within;
    tokio::time::timeout(within, work)
        .await
        .map_err(|_| unreachable(&vm.vm.cluster_id, within))?
}

/// The VM's node: as recorded, else as the cluster lists it.
async fn node_of(lab: &Lab, client: &Client, vm: &PoolVmState) -> Result<String> {
    if let Some(node) = &vm.vm.node {
        return Ok(node.as_str().to_owned());
    }
    let listing = client.cluster();
    let listed = read(lab, &vm.vm.cluster_id, || listing.vms()).await?;
    listed
        .into_iter()
        .find(|r| r.vmid == Some(vm.vm.vmid.get()))
        .and_then(|r| r.node)
        .ok_or_else(|| Error::not_found(crate::Entity::Vm, format!("{} on Proxmox", vm.vm.vmid)))
}

/// Runs `action` on the pool VM `vm` and records the run state it ends in.
///
/// # Errors
/// [`Error::Cluster`] (unreachable within `answer_within`, or Proxmox refused or the task
/// failed); [`Error::VmNotOurs`] when a revert finds no marker for the VM's slot.
pub(crate) async fn run(lab: &Lab, vm: &PoolVmState, action: VmAction) -> Result<PowerState> {
    let cluster = vm.vm.cluster_id.clone();
    let client = client_for(lab, &cluster).await?;
    let vmid = vm.vm.vmid.get();
    let config = lab.pools().config().clone();
    let (node, task) = answer(lab, vm, async {
        let node = node_of(lab, &client, vm).await?;
        let qemu = client.node(&node).qemu(vmid);
        if action == VmAction::Revert {
            let fact = config_fact(&read(lab, &cluster, || qemu.config()).await?);
            let ours = slot_of(vm.vm.role).is_some_and(|slot| {
                fact.marker
                    .as_ref()
                    .is_some_and(|m: &Marker| m.is_for(vm.vm.class_id, slot, &cluster))
            });
            if !ours {
                return Err(Error::VmNotOurs {
                    vmid: vm.vm.vmid,
                    node,
                });
            }
        }
        let shutdown = ShutdownParams::forced_after(config.shutdown_timeout.as_secs());
        // Sent again after a transient failure: each of these is harmless to repeat (a second
        // start finds the VM running, which counts as done).
        let sent: Upid = read(lab, &cluster, || async {
            match action {
                VmAction::Start => qemu.start().await,
                VmAction::Shutdown => qemu.shutdown(&shutdown).await,
                VmAction::Stop => qemu.stop().await,
                VmAction::Reboot => qemu.reboot().await,
                VmAction::Revert => qemu.rollback_snapshot(BASELINE).await,
            }
        })
        .await?;
        Ok((node, sent))
    })
    .await?;
    match client
        .wait_for_task_with(&task, super::client::task_wait(&config))
        .await
    {
        Ok(_) => {}
        Err(pvelab_proxmox::Error::TaskFailed { exit_status, .. })
            if action.already_done(&exit_status) => {}
        // A restart of a stopped VM is a start: what the person asked for is a running VM.
        Err(pvelab_proxmox::Error::TaskFailed { exit_status, .. })
            if action == VmAction::Reboot && exit_status.contains("not running") =>
        {
            let qemu = client.node(&node).qemu(vmid);
            let started = answer(lab, vm, read(lab, &cluster, || qemu.start())).await?;
            match client
                .wait_for_task_with(&started, super::client::task_wait(&config))
                .await
            {
                Ok(_) => {}
                Err(pvelab_proxmox::Error::TaskFailed { exit_status, .. })
                    if VmAction::Start.already_done(&exit_status) => {}
                Err(e) => return Err(cluster_error(&cluster, e)),
            }
        }
        Err(e) => return Err(cluster_error(&cluster, e)),
    }
    let state = client
        .node(&node)
        .qemu(vmid)
        .status()
        .await
        .map(|s| power(s.status))
        .unwrap_or(PowerState::Unknown);
    let (class, id) = (vm.vm.class_id, vm.vm.vmid);
    lab.db()
        .write(move |tx| steps::set_power(tx, class, id, state))
        .await?;
    // The inventory row too, so `/myvm` shows the new state now rather than after the next
    // tick (it trusts a row the last tick checked). The action itself is done either way.
    if let Err(e) = lab.refresh_vm(&vm.vm, None).await {
        tracing::debug!(%cluster, vmid, error = %e, "the VM's inventory row is refreshed by the next tick");
    }
    Ok(state)
}
