//! What students run on their own VM: `/vm start|stop|restart|revert|reimage|rdp|ip [class]`.
//!
//! The VM is the one the caller holds, in the named class or in their only class. The core
//! decides whether the action is allowed now (hours, quota, the VM being ready) and does it on
//! Proxmox; these functions find the VM and word the answer.

use std::time::Duration;

use pvelab_core::model::{Class, GuestState, PoolVm, PowerState, VmState};
use pvelab_core::types::ClassName;
use pvelab_core::{Actor, Entity};

use super::operations::{follow, summary_lines};
use super::student::vm_label;
use super::{ButtonStyle, CommandContext, CommandError, Reply};
use crate::console::grammar::quote_value;

/// A power action on one's VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Start it (if the class's hours and quota allow).
    Start,
    /// Ask its guest to shut down (forced off after the cluster's timeout).
    Stop,
    /// Reboot its guest.
    Restart,
    /// Back to the `baseline` snapshot pvelab took when it built the VM.
    Revert,
}

/// The VM the caller holds in `class`, or in their only class; with its class.
///
/// # Errors
/// [`CommandError::Core`] (not found) when they hold none there; [`CommandError::Refused`] when
/// they hold VMs in several classes and named none.
pub(crate) async fn own_vm(
    ctx: &CommandContext,
    actor: &Actor,
    class: Option<&ClassName>,
) -> Result<(PoolVm, Class), CommandError> {
    let mut found = Vec::new();
    for vm in ctx.lab.my_vms(actor).await? {
        let of = ctx.lab.class(actor, vm.class_id).await?;
        if class.is_none_or(|name| *name == of.name) {
            found.push((vm, of));
        }
    }
    if found.len() > 1 {
        let names: Vec<String> = found.iter().map(|(_, c)| c.name.to_string()).collect();
        return Err(CommandError::refused(
            format!("You hold VMs in several classes: {}.", names.join(", ")),
            format!(
                "Add class: to say which one, e.g. class:{}.",
                quote_value(&names[0])
            ),
        ));
    }
    found.pop().ok_or_else(|| {
        CommandError::Core(pvelab_core::Error::NotFound {
            entity: Entity::Vm,
            key: match class {
                Some(name) => format!("held by you in {name}"),
                None => "held by you".to_owned(),
            },
        })
    })
}

fn state_word(state: PowerState) -> &'static str {
    match state {
        PowerState::Running => "running",
        PowerState::Stopped => "stopped",
        _ => "in a state Proxmox did not report",
    }
}

/// `/vm start|stop|restart|revert [class]`.
///
/// # Errors
/// [`CommandError::Core`]: outside the class's hours, quota used up, the VM not ready yet, the
/// cluster not answering; not found when the caller holds no VM there, and
/// [`CommandError::Refused`] when they hold VMs in several classes and named none.
pub async fn power(
    ctx: &CommandContext,
    action: PowerAction,
    class: Option<&ClassName>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let (vm, of) = own_vm(ctx, &actor, class).await?;
    let lab = &ctx.lab;
    let state = match action {
        PowerAction::Start => lab.start_vm(&actor, of.id, vm.vmid).await?,
        PowerAction::Stop => lab.shutdown_vm(&actor, of.id, vm.vmid).await?,
        PowerAction::Restart => lab.reboot_vm(&actor, of.id, vm.vmid).await?,
        PowerAction::Revert => lab.revert_vm(&actor, of.id, vm.vmid).await?,
    };
    let done = match action {
        PowerAction::Start => "started",
        PowerAction::Stop => "shut down",
        PowerAction::Restart => "restarted",
        PowerAction::Revert => "reverted to the state it was built in",
    };
    let option = format!("class:{}", quote_value(of.name.as_str()));
    let reply = Reply::titled(format!("{}: {}", of.name, vm_label(&vm)))
        .line(format!(
            "Your VM was {done}; it is {} now.",
            state_word(state)
        ))
        .ephemeral();
    Ok(match state {
        PowerState::Running => {
            reply.button("Stop", format!("/vm stop {option}"), ButtonStyle::Secondary)
        }
        _ => reply.button("Start", format!("/vm start {option}"), ButtonStyle::Primary),
    })
}

/// `/vm reimage [class]`: the VM is replaced by a fresh clone of the class's template at the
/// same VMID; the caller keeps it. Progress is reported while it is built.
///
/// # Errors
/// As [`power`]; [`CommandError::Core`] when the VM was registered by hand (never rebuilt).
pub async fn reimage(
    ctx: &CommandContext,
    class: Option<&ClassName>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let (vm, of) = own_vm(ctx, &actor, class).await?;
    let operation = ctx.lab.reimage_vm(&actor, of.id, vm.vmid).await?;
    let summary = follow(ctx, operation).await?;
    let reply = Reply::titled(format!("{}: {} was reimaged", of.name, vm_label(&vm)));
    let reply = if summary.failed.is_empty() {
        reply.line("It is a fresh copy of the class's template; it is still yours.")
    } else {
        reply.section("result", summary_lines(&summary))
    };
    Ok(reply.ephemeral())
}

/// How long `/vm ip` and `/vm rdp` wait for a stale state to be read from Proxmox before they
/// answer from the last known address (a cluster that hangs must not hold the answer).
const REFRESH_WITHIN: Duration = Duration::from_secs(2);

/// The VM's state as the lab knows it (refreshed when stale), or `None` when Proxmox did not
/// answer the refresh within [`REFRESH_WITHIN`].
pub(super) async fn fresh_state(
    ctx: &CommandContext,
    actor: &Actor,
    vm: &PoolVm,
) -> Result<Option<VmState>, CommandError> {
    match tokio::time::timeout(REFRESH_WITHIN, ctx.lab.vm_state(actor, &vm.vm_ref())).await {
        Ok(state) => Ok(Some(state?)),
        Err(_) => Ok(None),
    }
}

/// `/vm ip [class]`: the VM's addresses and state.
///
/// # Errors
/// [`CommandError::Core`] (not found) when the caller holds no VM there;
/// [`CommandError::Refused`] when they hold VMs in several classes and named none.
pub async fn ip(ctx: &CommandContext, class: Option<&ClassName>) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let (vm, of) = own_vm(ctx, &actor, class).await?;
    let state = fresh_state(ctx, &actor, &vm).await?;
    let address = state
        .as_ref()
        .map_or(vm.cached_ip.clone(), |s| s.ip.clone());
    let running = match state.as_ref().map(|s| s.state) {
        Some(GuestState::Running) => "running",
        Some(GuestState::Stopped) => "stopped",
        Some(_) => "state not known",
        None => "not known now: Proxmox did not answer in time (the address is the last known)",
    };
    let mut reply = Reply::titled(format!("{}: {}", of.name, vm_label(&vm)))
        .line(format!(
            "address: {}",
            address.as_deref().unwrap_or("not known yet")
        ))
        .ephemeral();
    if let Some(v6) = state.as_ref().and_then(|s| s.ipv6.as_ref()) {
        reply = reply.line(format!("IPv6 address: {v6}"));
    }
    reply = reply.line(format!("state: {running}"));
    if address.is_none() {
        reply = reply
            .line("pvelab learns the address a little while after the VM starts; ask again then.");
    }
    Ok(reply)
}

/// The text of an `.rdp` file that connects to `address`. It names no user and holds no
/// password: the remote desktop client asks for them.
pub(crate) fn rdp_file(address: &str) -> String {
    [
        format!("full address:s:{address}"),
        "prompt for credentials:i:1".to_owned(),
        "administrative session:i:0".to_owned(),
        "screen mode id:i:2".to_owned(),
        "audiomode:i:0".to_owned(),
        "redirectclipboard:i:1".to_owned(),
    ]
    .map(|line| format!("{line}\r\n"))
    .concat()
}

/// `/vm rdp [class]`: a ready `.rdp` file for the VM's address.
///
/// # Errors
/// [`CommandError::Core`] (not found) when the caller holds no VM there;
/// [`CommandError::Refused`] when they hold VMs in several classes and named none, or while the
/// VM's address is not known.
pub async fn rdp(ctx: &CommandContext, class: Option<&ClassName>) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let (vm, of) = own_vm(ctx, &actor, class).await?;
    let state = fresh_state(ctx, &actor, &vm).await?;
    let address = state
        .as_ref()
        .map_or(vm.cached_ip.clone(), |s| s.ip.clone());
    let Some(ip) = address else {
        return Err(CommandError::refused(
            format!("The address of VM {} is not known yet.", vm.vmid),
            "Start the VM and ask again in a minute; /vm ip shows when its address is known.",
        ));
    };
    let file = format!("{}-{}.rdp", of.name.as_str().replace(' ', "-"), vm.vmid);
    let mut reply = Reply::titled(format!("{}: {}", of.name, vm_label(&vm)))
        .line(format!(
            "Open {file} with a remote desktop client to connect to {ip}."
        ))
        .attach(file.clone(), rdp_file(&ip).into_bytes())
        .ephemeral();
    if !state.as_ref().is_some_and(|s| s.rdp_available) {
        reply = reply.line(
            "pvelab has not seen remote desktop answer on this VM; if it does not connect, \
             start the VM or check that remote desktop is enabled in it.",
        );
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rdp_file_names_the_address_and_no_credential() {
        let text = rdp_file("10.0.0.5");
        assert!(text.starts_with("full address:s:10.0.0.5\r\n"), "{text}");
        assert!(text.contains("prompt for credentials:i:1\r\n"));
        for secret in ["password", "username"] {
            assert!(!text.contains(secret), "{text}");
        }
        // Every line ends with CRLF, as remote desktop clients expect.
        assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    }
}
