//! The commands scenario: `/join` and `/myvm` typed by many users at once through the console
//! front end's command code (grammar, catalogue, dispatcher, command, rendering), against the
//! same core calls made directly, in the same run; and the peak resident memory of the whole
//! process once the lab holds a cluster of 10,000 VMs in its inventory and 1,000 users.
//!
//! The simulated cluster runs in a child process, so the memory figure is the pvelab side's
//! alone: the lab, its SQLite connections, one inventory tick of 10,000 guests, the runtime and
//! the command bursts.

use std::sync::Arc;

use anyhow::{ensure, Context, Result};
use clap::Args;
use pvelab_bot::commands::Dispatcher;
use pvelab_core::jobs::{JobKind, SyncWhat};
use pvelab_core::model::VmOutcome;
use pvelab_core::types::{ClusterId, Role};

use super::setup::{
    add_sim_cluster, console_command, console_id, fill_classes, lab_with_admin, status_mib,
    ClassPlan,
};
use super::sim_child::SimChild;
use super::{burst, Comparison, Report};

/// The goal for the peak resident memory of the whole process, in MiB: the 40 MB
/// (40,000,000 bytes) is 38.15 MiB, and `VmHWM` is in KiB.
const MEMORY_GOAL_MIB: f64 = 40_000_000.0 / (1024.0 * 1024.0);

#[derive(Args)]
pub(crate) struct CommandsArgs {
    /// Users typing the commands (each joins two classes, then asks for their VMs).
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// VMs on the simulated cluster, all in the inventory (templates and two containers on top).
    #[arg(long, default_value_t = 10_000)]
    vms: usize,
    /// Nodes of the simulated cluster.
    #[arg(long, default_value_t = 10)]
    nodes: usize,
    /// Students per class (1 to 98).
    #[arg(long, default_value_t = 50)]
    class_size: u16,
}

/// The process's peak and current resident size at one point, in MiB: the current size beside
/// the peak says whether a phase's memory was given back or is still held.
fn memory_now() -> serde_json::Value {
    serde_json::json!({
        "VmHWM": status_mib("VmHWM"),
        "VmRSS": status_mib("VmRSS"),
        "Threads": status_mib("Threads").map(|t| t * 1024.0),
    })
}

pub(crate) async fn commands(args: &CommandsArgs) -> Result<Report> {
    ensure!(args.users >= 1, "--users must be at least 1");
    ensure!(
        (1..=98).contains(&args.class_size),
        "--class-size is 1 to 98 (the classic VMID plan)"
    );
    ensure!(
        (1..=64).contains(&args.nodes),
        "--nodes is 1 to 64 (the simulator's limit)"
    );
    let classes = args.users.div_ceil(usize::from(args.class_size));
    // Class VMIDs start at 100 and the simulator's VMs too: with enough VMs, every pool VM is a
    // guest of the inventory, as after provisioning.
    let sim = SimChild::spawn(args.vms, args.nodes)?;
    let dir = tempfile::tempdir()?;
    // The peak after each phase, so a figure over the goal says where the memory went.
    let mut phases = serde_json::Map::new();
    let mut phase = |name: &str| {
        phases.insert(name.into(), memory_now());
    };
    phase("start");
    let (lab, admin) = lab_with_admin(&dir.path().join("bench.db")).await?;
    let cluster = ClusterId::parse("bench")?;
    add_sim_cluster(&lab, &admin, &cluster, &sim.access).await?;

    // Arrange (not measured): the users, two sets of classes of the same shape (one joined
    // through the commands, one through the core), their VMs registered, then an inventory
    // tick that records every guest of the cluster.
    let names: Arc<Vec<String>> = Arc::new((0..args.users).map(|i| format!("s{i:06}")).collect());
    for name in names.iter() {
        lab.ensure_user(&console_id(name)?, Some(name)).await?;
    }
    let clusters = [cluster.clone()];
    let plan = |prefix, first| ClassPlan {
        prefix,
        classes,
        first,
        size: args.class_size,
        teachers: classes.div_ceil(5),
        clusters: &clusters,
        nodes: args.nodes,
    };
    let by_command = fill_classes(&lab, &admin, &plan("cmd", 0), 32).await?;
    let by_core = fill_classes(&lab, &admin, &plan("ref", classes), 32).await?;
    phase("filled");
    let report = lab
        .sync_now(
            &admin,
            SyncWhat::Job(JobKind::Inventory),
            Some(cluster.clone()),
        )
        .await?;
    let guests = report
        .stats(JobKind::Inventory, &cluster)
        .with_context(|| format!("the inventory tick failed: {report:?}"))?
        .written;
    drop(report);
    phase("filled_and_inventory_tick");
    let size = usize::from(args.class_size);
    let tokens = |set: &[super::setup::FilledClass]| -> Arc<Vec<String>> {
        Arc::new(
            (0..args.users)
                .map(|i| set[i / size].token.expose().to_owned())
                .collect(),
        )
    };
    let (command_tokens, core_tokens) = (tokens(&by_command), tokens(&by_core));
    let dispatcher = Dispatcher::unlimited();

    // Act 1: every user joins a class by typing /join; the reference joins them to a class of
    // the same shape through the core's calls (the same user lookup, then the join).
    let (join_measured, join_replies) = burst(args.users, |i| {
        let (lab, dispatcher) = (lab.clone(), dispatcher.clone());
        let line = format!("{} /join token:{}", names[i], command_tokens[i]);
        async move { console_command(&lab, &dispatcher, &line).await }
    })
    .await?;
    phase("joins_by_command");
    let (join_reference, join_outcomes) = burst(args.users, |i| {
        let (lab, names, tokens) = (lab.clone(), Arc::clone(&names), Arc::clone(&core_tokens));
        async move {
            let user = lab
                .ensure_user(&console_id(&names[i])?, Some(&names[i]))
                .await?;
            let actor = lab.actor_with_role(user.id, user.role.max(Role::User));
            let token = pvelab_core::model::JoinToken::parse(&tokens[i])?;
            Ok(lab.join(&actor, &token).await?.vm)
        }
    })
    .await?;

    phase("joins");
    // Act 2: every user types /myvm (two VMs each now); the reference makes the calls the
    // command makes (the user, then the overview of their VMs).
    let (myvm_measured, myvm_replies) = burst(args.users, |i| {
        let (lab, dispatcher) = (lab.clone(), dispatcher.clone());
        let line = format!("{} /myvm", names[i]);
        async move { console_command(&lab, &dispatcher, &line).await }
    })
    .await?;
    phase("myvm_by_command");
    let (myvm_reference, myvm_counts) = burst(args.users, |i| {
        let (lab, names) = (lab.clone(), Arc::clone(&names));
        async move {
            let user = lab
                .ensure_user(&console_id(&names[i])?, Some(&names[i]))
                .await?;
            let actor = lab.actor_with_role(user.id, user.role.max(Role::User));
            Ok(lab.my_vm_overview(&actor).await?.vms.len())
        }
    })
    .await?;
    phase("myvm");
    let peak = status_mib("VmHWM");
    let resident = status_mib("VmRSS");
    drop(sim);

    // Check: everyone got a VM both ways and sees both.
    let joined_by_command = join_replies
        .iter()
        .filter(|r| r.starts_with("You joined") && r.contains("Your VM: VM "))
        .count();
    let joined_by_core = join_outcomes
        .iter()
        .filter(|o| matches!(o, VmOutcome::Assigned(_)))
        .count();
    let myvm_with_two = myvm_replies
        .iter()
        .filter(|r| r.matches("allowed hours:").count() == 2)
        .count();
    let core_with_two = myvm_counts.iter().filter(|n| **n == 2).count();

    let mut counts = serde_json::Map::new();
    counts.insert("measured_command".into(), "/myvm".into());
    counts.insert("users".into(), args.users.into());
    counts.insert("classes".into(), (2 * classes).into());
    counts.insert("guests_in_inventory".into(), guests.into());
    counts.insert(
        "joined_with_a_vm_by_command".into(),
        joined_by_command.into(),
    );
    counts.insert("joined_with_a_vm_by_core".into(), joined_by_core.into());
    counts.insert("myvm_replies_with_two_vms".into(), myvm_with_two.into());
    counts.insert("myvm_reference_with_two_vms".into(), core_with_two.into());
    counts.insert("peak_resident_mib (VmHWM)".into(), peak.into());
    counts.insert("resident_at_end_mib (VmRSS)".into(), resident.into());
    counts.insert("peak_resident_mib_after_each_phase".into(), phases.into());
    counts.insert("peak_resident_goal_mib".into(), MEMORY_GOAL_MIB.into());
    counts.insert(
        "peak_resident_within_goal".into(),
        peak.map(|p| p <= MEMORY_GOAL_MIB).into(),
    );
    let ratio = |m: &super::Throughput, r: &super::Throughput| {
        m.per_second / r.per_second.max(f64::EPSILON)
    };
    Ok(Report {
        scenario: "commands",
        parameters: serde_json::json!({
            "users": args.users,
            "vms": args.vms,
            "nodes": args.nodes,
            "class_size": args.class_size,
        }),
        ratio: ratio(&myvm_measured, &myvm_reference),
        measured: myvm_measured,
        reference_name: "/myvm: the same core calls without the command layer (the user, \
                         then Lab::my_vm_overview)",
        reference: myvm_reference,
        more: vec![Comparison {
            name: "/join".into(),
            ratio: ratio(&join_measured, &join_reference),
            measured: join_measured,
            reference_name: "the same user lookup and Lab::join without the command layer, \
                             into classes of the same shape",
            reference: join_reference,
        }],
        counts,
    })
}
