//! Provisioning a class's pool on the simulated cluster, faults on.

use std::collections::{BTreeMap, BTreeSet};

use pvelab_core::model::{ProgressEvent, VmRole};
use pvelab_core::types::Slot;
use pvelab_pve_sim::SimConfig;

use crate::pools_support::{assert_all_ready, bed, bed_with, finish, Login};

/// The marker line a VM of `class` in `slot` carries.
fn marker_line(class: i64, slot: Slot, cluster: &str) -> String {
    let slot = match slot {
        Slot::Teacher => "teacher".to_owned(),
        Slot::Base => "base".to_owned(),
        Slot::Student(n) => format!("{n:02}"),
    };
    format!("pvelab: class={class} slot={slot} cluster={cluster}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thirty_vm_class_over_three_nodes_is_built_completely_under_ten_percent_faults() {
    let b = bed_with(
        SimConfig::fast(),
        pvelab_core::model::PoolsConfig::fast(),
        Login::Token,
    )
    .await;
    b.faults(0.10);

    let (class, op) = b.launch("net101", 30).await;
    let (events, summary) = finish(op).await;

    // Every VM is ready: 30 students, the teacher VM and the base VM.
    let states = b.status(&class).await;
    assert_eq!(states.len(), 32);
    assert_all_ready(&states);
    assert_eq!(summary.ready, 32, "{summary:?}");
    assert!(summary.failed.is_empty(), "{summary:?}");

    // The progress stream's counts add up.
    let total = events.iter().find_map(|e| match e {
        ProgressEvent::Queued { total } => Some(*total),
        _ => None,
    });
    assert_eq!(total, Some(32));
    let count = |f: fn(&ProgressEvent) -> bool| events.iter().filter(|e| f(e)).count();
    assert_eq!(count(|e| matches!(e, ProgressEvent::Cloning { .. })), 32);
    assert_eq!(count(|e| matches!(e, ProgressEvent::Ready { .. })), 32);
    assert_eq!(count(|e| matches!(e, ProgressEvent::Failed { .. })), 0);
    let last_ready = events.iter().rev().find_map(|e| match e {
        ProgressEvent::Ready { ready, total, .. } => Some((*ready, *total)),
        _ => None,
    });
    assert_eq!(last_ready, Some((32, 32)));
    assert!(matches!(events.last(), Some(ProgressEvent::Done(s)) if s.ready == 32));

    // Proxmox has every VM with the class's specs, the tag, the marker, a baseline snapshot,
    // and the MAC the pool recorded; the VMs are spread over the three nodes.
    b.sim.set_faults(Default::default()).expect("faults off");
    let guests = b.guests().await;
    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for state in &states {
        let vmid = state.vm.vmid.get();
        let slot = match state.vm.role {
            VmRole::Teacher => Slot::Teacher,
            VmRole::Base => Slot::Base,
            VmRole::Student { slot } => Slot::Student(slot),
            VmRole::Manual => panic!("no manual VMs here"),
        };
        let config = b.config(vmid).await;
        assert_eq!(config.cores(), Some(4), "VM {vmid}");
        assert_eq!(config.memory_mib(), Some(4096), "VM {vmid}");
        let disk = config
            .disks()
            .expect("disks")
            .into_iter()
            .find(|(k, _)| k == "scsi0")
            .expect("scsi0");
        assert_eq!(disk.1.size_bytes(), Some(40 << 30), "VM {vmid}");
        let tags = config.get("tags").unwrap_or_default();
        assert!(tags.split(';').any(|t| t == "pvelab"), "VM {vmid}: {tags}");
        let description = config.get("description").unwrap_or_default();
        assert!(
            description.lines().next() == Some(&marker_line(class.id.get(), slot, "sim")),
            "VM {vmid}: {description:?}"
        );
        assert_eq!(b.snapshots(vmid).await, ["baseline"], "VM {vmid}");
        let mac = config.nets().expect("nets")[0].1.mac().map(str::to_owned);
        assert!(mac.is_some());
        assert_eq!(state.vm.mac_address, mac, "VM {vmid}");
        *per_node.entry(guests[&vmid].clone()).or_default() += 1;
    }
    assert_eq!(per_node.len(), 3, "{per_node:?}");
    assert!(per_node.values().all(|n| *n >= 10), "{per_node:?}");
    let audit = b.lab.audit_pool(&b.teacher, class.id).await.expect("audit");
    assert!(audit.is_clean(), "{audit:?}");
}

#[tokio::test]
async fn students_join_ready_vms_only_and_the_waitlist_is_served_as_vms_become_ready() {
    let b = bed().await;
    // Created without provisioning (a front end may provision later); prefix 50 is clear of
    // the simulator's own VMs.
    let mut new = b.new_class("waiting", 2);
    new.vmid_prefix = Some(50);
    let class = b.lab.create_class(&b.teacher, new).await.expect("class");
    let token = b
        .lab
        .rotate_token(&b.teacher, class.id, pvelab_core::model::TokenExpiry::Never)
        .await
        .expect("token")
        .token;
    let early = crate::support::user(&b.lab, "early", pvelab_core::types::Role::User).await;
    let joined = b.lab.join(&early, &token).await.expect("join");
    assert!(
        matches!(
            joined.vm,
            pvelab_core::model::VmOutcome::Waitlisted { position: 1 }
        ),
        "nothing is built yet: {joined:?}"
    );
    let dm = pvelab_core::events::ConsumerName::parse("test-dm").expect("name");
    let before = b.lab.events_after(&dm, 100).await.expect("events");
    b.lab
        .ack_events(&dm, before.last().expect("the waitlist event").id)
        .await
        .expect("ack");

    let op = b
        .lab
        .provision(&b.teacher, class.id)
        .await
        .expect("provision");
    let (_, summary) = finish(op).await;

    assert_eq!(summary.ready, 4, "{summary:?}");
    let held: BTreeSet<_> = b
        .status(&class)
        .await
        .iter()
        .filter_map(|s| s.vm.assigned_to)
        .collect();
    assert_eq!(held.len(), 1, "the waiting student got a VM");
    let events = b.lab.events_after(&dm, 100).await.expect("events");
    assert!(
        matches!(
            events.as_slice(),
            [e] if matches!(e.event, pvelab_core::events::LabEvent::AssignedFromWaitlist { .. })
        ),
        "{events:?}"
    );
}
