//! Teachers' pool commands: status, resize, assign, unassign, reset-usage.

use std::collections::HashMap;

use pvelab_core::model::{PoolVm, VmRole, VmStatus};
use pvelab_core::types::{ClassName, PoolSize, UserId, VmId};
use pvelab_core::Actor;

use super::operations::{follow, summary_lines};
use super::{CommandContext, CommandError, Reply};
use crate::parse::people::UserRef;
use crate::render::format;

fn role(vm: &PoolVm) -> String {
    match vm.role {
        VmRole::Student { slot } => format!("student #{slot}"),
        VmRole::Teacher => "teacher".to_owned(),
        VmRole::Base => "base".to_owned(),
        VmRole::Manual => "added by hand".to_owned(),
    }
}

fn status(vm: &PoolVm) -> &'static str {
    match (vm.status, vm.needs_reimage) {
        (VmStatus::Deleting, _) => "being deleted",
        (VmStatus::Assigned, _) => "assigned",
        (VmStatus::Available, true) => "waits for a reset",
        (VmStatus::Available, false) => "free",
    }
}

/// Names of the given users, looked up once each.
pub(super) async fn names(
    ctx: &CommandContext,
    actor: &Actor,
    ids: impl IntoIterator<Item = UserId>,
) -> Result<HashMap<UserId, String>, CommandError> {
    let mut out = HashMap::new();
    for id in ids {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(id) {
            e.insert(format::person(&ctx.lab.user(actor, id).await?));
        }
    }
    Ok(out)
}

/// `/pool status class`: every VM of the class and who holds it, then the waitlist.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn status_of(ctx: &CommandContext, name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let vms = ctx.lab.pool(&actor, class.id).await?;
    let waiting = ctx.lab.waitlist(&actor, class.id).await?;
    // Collected first: an iterator borrowing `vms` held across the await would make the
    // future not `Send` (a known limit of the compiler's lifetime inference).
    let held: Vec<UserId> = vms.iter().filter_map(|vm| vm.assigned_to).collect();
    let holders = names(ctx, &actor, held).await?;
    let rows = vms
        .iter()
        .map(|vm| {
            vec![
                vm.vmid.to_string(),
                role(vm),
                status(vm).to_owned(),
                vm.assigned_to
                    .and_then(|id| holders.get(&id).cloned())
                    .unwrap_or_default(),
                format::usage(vm.usage_hours, class.max_usage),
            ]
        })
        .collect();
    let free = vms
        .iter()
        .filter(|vm| status(vm) == "free" && matches!(vm.role, VmRole::Student { .. }))
        .count();
    let mut reply = Reply::titled(format!("Pool of {}", class.name))
        .line(format!(
            "{} of {} student VMs exist; {free} free.",
            vms.iter()
                .filter(|vm| matches!(vm.role, VmRole::Student { .. }))
                .count(),
            class.pool_size
        ))
        .table(&["VMID", "ROLE", "STATUS", "HOLDER", "USAGE"], rows);
    if !waiting.is_empty() {
        let queue: Vec<String> = waiting
            .iter()
            .enumerate()
            .map(|(i, (user, _))| format!("{}. {}", i + 1, format::person(user)))
            .collect();
        reply = reply.section("waitlist", queue);
    }
    Ok(reply)
}

/// `/pool resize class size [force]`: grows or shrinks the pool, reporting progress as VMs
/// become ready, and answers when the pool has its size. Shrinking removes free VMs of the
/// highest slots; VMs students hold go only with `force` (their students hear of it).
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers; a size beyond the class's
/// VMID plan; the cluster not answering (then nothing changed).
pub async fn resize(
    ctx: &CommandContext,
    name: &ClassName,
    size: PoolSize,
    force: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let before = class.pool_size;
    let operation = ctx.lab.resize_pool(&actor, class.id, size, force).await?;
    let summary = follow(ctx, operation).await?;
    let vms = ctx.lab.pool(&actor, class.id).await?;
    let held_beyond = vms
        .iter()
        .filter(|vm| {
            matches!(vm.role, VmRole::Student { slot } if slot > size.get())
                && vm.status != VmStatus::Deleting
        })
        .count();
    let mut reply = Reply::titled(format!(
        "Pool of {} resized from {before} to {size} student VMs",
        class.name
    ))
    .section("result", summary_lines(&summary));
    if held_beyond > 0 {
        reply = reply.line(format!(
            "{held_beyond} VMs above the new size are held by students and stay until they \
             leave; force:yes takes them now."
        ));
    }
    Ok(reply)
}

/// `/pool assign class user [vm]`: gives the student that VM, or the lowest free one.
///
/// # Errors
/// [`CommandError::Core`]: the student holds a VM already, the VM is not free, no VM is free.
pub async fn assign(
    ctx: &CommandContext,
    name: &ClassName,
    who: &UserRef,
    vm: Option<VmId>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let student = ctx.person(who).await?;
    // A class's VMs may live on several clusters: the VMID names the one of its pool.
    let vm = match vm {
        Some(vmid) => Some(
            ctx.lab
                .pool(&actor, class.id)
                .await?
                .into_iter()
                .find(|v| v.vmid == vmid)
                .map(|v| v.vm_ref())
                .ok_or_else(|| pvelab_core::Error::NotFound {
                    entity: pvelab_core::Entity::Vm,
                    key: format!("{vmid} in class {}", class.name),
                })?,
        ),
        None => None,
    };
    let got = ctx
        .lab
        .assign(&actor, class.id, student.id, vm.as_ref())
        .await?;
    Ok(Reply::text(format!(
        "{} now holds VM {} in {}.",
        who.display(),
        got.vmid,
        class.name
    )))
}

/// `/pool unassign class user`: takes the student's VM back; it is reset before reuse.
///
/// # Errors
/// [`CommandError::Core`]: the student holds no VM in the class.
pub async fn unassign(
    ctx: &CommandContext,
    name: &ClassName,
    who: &UserRef,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let student = ctx.known_person(&actor, who).await?;
    let vm = ctx.lab.unassign(&actor, class.id, student.id).await?;
    Ok(Reply::text(format!(
        "VM {} was taken back from {}; it is reset before anyone else gets it. {} stays \
         enrolled in {}.",
        vm.vmid,
        who.display(),
        who.display(),
        class.name
    )))
}

/// `/pool reset-usage class [user]`: sets used hours back to zero.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers.
pub async fn reset_usage(
    ctx: &CommandContext,
    name: &ClassName,
    who: Option<&UserRef>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let student = match who {
        Some(who) => Some(ctx.known_person(&actor, who).await?.id),
        None => None,
    };
    let count = ctx.lab.reset_usage(&actor, class.id, student).await?;
    // Usage belongs to the student in the class (not to a VM): leaving, rejoining or a
    // reimage keeps it; this is the one way to start it over.
    let whose = who.map_or_else(
        || format!("every student of {}", class.name),
        |w| format!("{} in {}", w.display(), class.name),
    );
    Ok(Reply::text(format!(
        "Usage reset to 0 hours for {whose} ({count} with usage recorded).",
    )))
}
