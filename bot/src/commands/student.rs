//! What students run: `/join`, `/myvm`, `/leave`.

use pvelab_core::model::{Class, Enrollment, JoinToken, PoolVm, StartDecision, VmOutcome};
use pvelab_core::types::ClassName;

use super::{ButtonStyle, CommandContext, CommandError, Reply};
use crate::console::grammar::quote_value;
use crate::render::format;

/// `/join token`: enrolls the caller and gives them a VM, or a place on the waitlist.
///
/// # Errors
/// [`CommandError::Core`]: an invalid or expired token, too many attempts.
pub async fn join(ctx: &CommandContext, token: &JoinToken) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let joined = ctx.lab.join(&actor, token).await?;
    let class = &joined.class.name;
    let title = match joined.enrollment {
        Enrollment::Enrolled => format!("You joined {class}"),
        Enrollment::AlreadyEnrolled => format!("You are in {class} already"),
    };
    let reply = Reply::titled(title).ephemeral();
    Ok(match joined.vm {
        VmOutcome::Assigned(vm) | VmOutcome::AlreadyAssigned(vm) => reply
            .line(format!("Your VM: {}", vm_label(&vm)))
            .line("See it, start it or stop it with /myvm.")
            .button(
                "My VM",
                format!("/myvm class:{}", quote_value(class.as_str())),
                ButtonStyle::Primary,
            ),
        VmOutcome::Waitlisted { position } => reply
            .line(format!(
                "No VM is free yet: you are number {position} on the waitlist."
            ))
            .line("You will get a message as soon as your VM is ready."),
        VmOutcome::NoVmFree => reply
            .line("No VM is free at the moment; your teacher can assign you one.")
            .line("You are enrolled, so you do not need to join again."),
    })
}

/// `VM 1201 (lab-1201) on pve1`.
pub(crate) fn vm_label(vm: &PoolVm) -> String {
    match &vm.name {
        Some(name) => format!("VM {} ({name}) on {}", vm.vmid, vm.cluster_id),
        None => format!("VM {} on {}", vm.vmid, vm.cluster_id),
    }
}

/// `/myvm [class]`: the caller's VMs with address, usage, allowed hours and controls.
///
/// # Errors
/// [`CommandError::Core`] when the lab fails.
pub async fn my_vm(ctx: &CommandContext, only: Option<&ClassName>) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    // One core call: one snapshot however many VMs and facts it shows; the core bounds a
    // refresh of stale states by the answer time and says when Proxmox did not answer.
    let mine = ctx.lab.my_vm_overview(&actor).await?;
    let wanted = |class: &Class| only.is_none_or(|name| *name == class.name);
    let mut reply = Reply::titled("Your VMs").ephemeral();
    let mut shown = 0;
    for mine in mine.vms.iter().filter(|m| wanted(&m.class)) {
        shown += 1;
        let (vm, class, state) = (&mine.vm, &mine.class, &mine.state);
        let now = match &mine.start {
            StartDecision::Allowed => "you may start it now".to_owned(),
            StartDecision::Refused(why) => format!("not now: {why}"),
        };
        let mut lines = vec![
            format!("state: {}", state_text(state)),
            format!("node: {}", vm.node.as_deref().unwrap_or("not known yet")),
            format!(
                "address: {}",
                state.ip.as_deref().unwrap_or("not known yet")
            ),
            format!("usage: {}", format::usage(vm.usage_hours, class.max_usage)),
            format!(
                "allowed hours: {} ({now})",
                format::hours(class.hours, class.time_zone.as_ref())
            ),
        ];
        lines.extend(
            mine.next_session
                .as_ref()
                .map(|next| super::sessions::session_line(ctx, next)),
        );
        reply = reply.section(format!("{}: {}", class.name, vm_label(vm)), lines);
        let option = format!("class:{}", quote_value(class.name.as_str()));
        for (label, verb, style) in [
            ("Start", "start", ButtonStyle::Primary),
            ("Stop", "stop", ButtonStyle::Secondary),
            ("Restart", "restart", ButtonStyle::Secondary),
            ("Revert", "revert", ButtonStyle::Danger),
        ] {
            reply = reply.button(label, format!("/vm {verb} {option}"), style);
        }
    }
    let waiting: Vec<String> = mine
        .waiting
        .iter()
        .filter(|w| wanted(&w.class))
        .map(|w| {
            format!(
                "{}: you are number {} on the waitlist; the next free VM goes to the first \
                 in line, and you hear of it here",
                w.class.name, w.place
            )
        })
        .collect();
    if shown == 0 {
        if !waiting.is_empty() {
            return Ok(Reply::titled("Your VMs")
                .line("You have no VM yet.")
                .section("Waiting for a VM", waiting)
                .ephemeral());
        }
        let text = match only {
            Some(name) => format!("You have no VM in {name}."),
            None => "You have no VM yet. Join a class with /join and the token your teacher \
                     gave you."
                .to_owned(),
        };
        return Ok(Reply::text(text).ephemeral());
    }
    if !waiting.is_empty() {
        reply = reply.section("Waiting for a VM", waiting);
    }
    Ok(reply)
}

/// A VM's power state as `/myvm` shows it; `None` when Proxmox did not answer in time.
fn state_text(state: &pvelab_core::model::VmState) -> String {
    use pvelab_core::model::GuestState;
    let word = match state.state {
        GuestState::Running => "running",
        GuestState::Stopped => "stopped",
        _ if state.refresh_error.is_some() => {
            return "not known yet (Proxmox does not answer now)".to_owned()
        }
        _ => return "not known yet".to_owned(),
    };
    match &state.refresh_error {
        Some(_) => format!("{word} when last seen (Proxmox does not answer now)"),
        None => word.to_owned(),
    }
}

/// `/leave class`: ends the caller's enrollment and gives their VM back.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class.
pub async fn leave(ctx: &CommandContext, name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let left = ctx.lab.leave(&actor, class.id).await?;
    let mut reply = Reply::default().ephemeral();
    if !left.was_enrolled && left.released.is_none() && !left.was_waitlisted {
        return Ok(reply.line(format!("You were not in {name}; nothing changed.")));
    }
    reply = reply.line(format!("You left {name}."));
    if let Some(vm) = left.released {
        reply = reply.line(format!(
            "{} went back to the class; it is reset before anyone else gets it.",
            vm_label(&vm)
        ));
    }
    if left.was_waitlisted {
        reply = reply.line("Your place on the waitlist is given up.");
    }
    Ok(reply)
}
