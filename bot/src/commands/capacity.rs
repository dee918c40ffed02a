//! Capacity planning: `/pool plan class size` shows whether a pool of that size fits the
//! memory of its cluster's nodes, and the words for a refused create or resize.

use pvelab_core::model::{CapacityPlan, SpecsSource};
use pvelab_core::types::{ClassName, PoolSize};

use super::{CommandContext, CommandError, Reply};

/// `/pool plan class size`: the estimate (memory, vCPUs, disk; each node's room and the VMs it
/// would take), without changing anything.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class, not one of its teachers, or the cluster does not
/// answer.
pub async fn plan(
    ctx: &CommandContext,
    class_name: &ClassName,
    size: PoolSize,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let plan = ctx.lab.plan_capacity(&actor, class.id, size).await?;
    let verdict = if plan.fits() {
        format!(
            "Fits: every VM finds a node within {}% of its memory.",
            plan.overcommit_percent
        )
    } else {
        format!(
            "Does not fit: {} VMs ({} MiB) find no node within {}% of its memory.",
            plan.unplaced_vms, plan.short_mb, plan.overcommit_percent
        )
    };
    let mut reply = Reply::titled(format!(
        "Plan for {} with {} student VMs on {}",
        plan.class, plan.size, plan.cluster
    ))
    .line(verdict)
    .line(needs(&plan))
    .line(specs(&plan));
    if !plan.fits() {
        reply = reply.line(advice(&plan));
    }
    Ok(reply.table(
        &["NODE", "MEMORY", "IN USE", "ROOM", "COULD HOLD", "PLANNED"],
        rows(&plan),
    ))
}

/// The refusal of a create or resize whose pool does not fit: the numbers and what to do.
pub fn refusal(plan: &CapacityPlan) -> Reply {
    Reply::text(format!(
        "The pool of {} with {} student VMs does not fit: {} VMs ({} MiB of memory) find no \
         node within {}% of its memory. Nothing was changed.",
        plan.class, plan.size, plan.unplaced_vms, plan.short_mb, plan.overcommit_percent
    ))
    .line(advice(plan))
    .table(
        &["NODE", "MEMORY", "IN USE", "ROOM", "COULD HOLD", "PLANNED"],
        rows(plan),
    )
    .ephemeral()
}

fn needs(plan: &CapacityPlan) -> String {
    format!(
        "Needs {} MiB memory and {} vCPUs for {} running VMs (students and the teacher's; \
         {} MiB, {} vCPUs each), and up to {} GB disk with the base VM.",
        plan.memory_needed_mb,
        plan.vcpus_needed,
        plan.running_vms,
        plan.memory_per_vm_mb,
        plan.cores_per_vm,
        plan.disk_needed_gb
    )
}

fn specs(plan: &CapacityPlan) -> String {
    match plan.specs {
        SpecsSource::ClassAndTemplate => {
            "Sizes from the class's settings and its template's cached specs.".to_owned()
        }
        _ => "Sizes from the class's settings: the template's specs are not cached yet \
              (/sync now what:templates reads them)."
            .to_owned(),
    }
}

/// What to do about a pool that does not fit.
fn advice(plan: &CapacityPlan) -> String {
    let room: Vec<String> = plan
        .nodes_with_room()
        .iter()
        .map(|(node, vms)| format!("{node} ({vms})"))
        .collect();
    let mut text = format!(
        "At most {} student VMs fit now.",
        plan.largest_size_that_fits
    );
    if room.is_empty() {
        text.push_str(" No node has room for another VM.");
    } else {
        text.push_str(&format!(" Nodes with room: {}.", room.join(", ")));
    }
    text.push_str(
        " Choose a smaller pool or less memory per VM, stop other guests, or ask an adminer \
         about capacity.memory_overcommit_percent.",
    );
    text
}

fn rows(plan: &CapacityPlan) -> Vec<Vec<String>> {
    plan.nodes
        .iter()
        .map(|n| {
            vec![
                n.node.clone(),
                format!("{} MiB", n.memory_mb),
                format!("{} MiB", n.committed_mb),
                format!("{} MiB", n.headroom_mb),
                n.could_hold.to_string(),
                n.vms_placed.to_string(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use pvelab_core::model::NodePlan;
    use pvelab_core::types::ClusterId;
    use pvelab_core::Error;

    use super::*;
    use crate::render::text;

    fn node(name: &str, could_hold: u32, placed: u32) -> NodePlan {
        NodePlan {
            node: name.to_owned(),
            memory_mb: 16_384,
            committed_mb: 2048,
            headroom_mb: 14_336,
            vms_placed: placed,
            could_hold,
            cores: 16,
            vcpus_committed: 2,
        }
    }

    fn refused() -> CapacityPlan {
        CapacityPlan {
            class: ClassName::parse("net101").unwrap(),
            cluster: ClusterId::parse("pve").unwrap(),
            size: 23,
            running_vms: 24,
            memory_per_vm_mb: 2048,
            cores_per_vm: 2,
            disk_per_vm_gb: 32,
            specs: SpecsSource::ClassOnly,
            memory_needed_mb: 24 * 2048,
            vcpus_needed: 48,
            disk_needed_gb: 25 * 32,
            overcommit_percent: 100,
            nodes: vec![node("pve1", 7, 7), node("pve2", 0, 0), node("pve3", 9, 9)],
            unplaced_vms: 8,
            short_mb: 8 * 2048,
            largest_size_that_fits: 15,
        }
    }

    #[test]
    fn a_refused_pool_says_by_how_much_where_there_is_room_and_what_to_do() {
        let error = CommandError::Core(Error::Overcommitted {
            plan: Box::new(refused()),
        });
        let reply = crate::render::errors::error_reply(&error);
        assert!(reply.ephemeral);
        let shown = text::plain(&reply);
        assert!(
            shown.contains("8 VMs (16384 MiB of memory) find no node within 100%"),
            "{shown}"
        );
        assert!(shown.contains("Nothing was changed."), "{shown}");
        assert!(
            shown.contains("At most 15 student VMs fit now. Nodes with room: pve3 (9), pve1 (7)."),
            "{shown}"
        );
        assert!(
            shown.contains("capacity.memory_overcommit_percent"),
            "{shown}"
        );
        assert!(
            shown.contains("pve2"),
            "the table lists every node: {shown}"
        );
    }
}
