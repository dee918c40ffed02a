//! VMs pvelab did not create are never touched: not in a range chosen for a new class, not at
//! a VMID a slot wants, not when one appears there in the middle of a run.

use pvelab_core::model::{PoolsConfig, ProgressEvent, VmStep};
use pvelab_core::Error;
use pvelab_pve_sim::SimConfig;

use crate::pools_support::{assert_all_ready, bed, bed_with, finish, Login};

#[tokio::test]
async fn a_range_that_holds_guests_is_not_given_to_a_new_class() {
    let b = bed().await;
    let before = b.guests().await;
    assert!(
        before.contains_key(&100),
        "the simulator populates VMs from 100"
    );
    let digest_before = b.config(100).await.digest();

    let (class, op) = b.launch("fresh", 3).await;
    let (_, summary) = finish(op).await;

    assert_ne!(
        class.scheme.prefix(),
        1,
        "block 1 holds the simulator's VMs"
    );
    assert_eq!(summary.ready, 5, "{summary:?}");
    assert_eq!(
        b.config(100).await.digest(),
        digest_before,
        "VM 100 untouched"
    );
    let mut asked = b.new_class("asked", 3);
    asked.vmid_prefix = Some(1);
    let refused = b
        .lab
        .create_and_provision_class(&b.teacher, asked)
        .await
        .expect_err("range with guests");
    assert!(
        matches!(&refused, Error::VmidRangeTaken { by, .. } if by.contains("VM 100")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_foreign_vm_at_a_slots_vmid_fails_that_slot_and_stays_as_it_was() {
    let b = bed().await;
    let mut new = b.new_class("clash", 4);
    new.vmid_prefix = Some(60);
    let class = b.lab.create_class(&b.teacher, new).await.expect("class");
    b.foreign_vm(6003).await;
    let digest = b.config(6003).await.digest();

    let op = b
        .lab
        .provision(&b.teacher, class.id)
        .await
        .expect("provision");
    let (_, summary) = finish(op).await;

    assert_eq!(summary.ready, 5, "{summary:?}");
    assert_eq!(summary.failed.len(), 1, "{summary:?}");
    let (vmid, reason) = &summary.failed[0];
    assert_eq!(vmid.get(), 6003);
    assert_eq!(
        reason,
        "VM 6003 on pve1 exists and was not created by pvelab for this slot"
    );
    let config = b.config(6003).await;
    assert_eq!(config.digest(), digest, "the foreign VM was not changed");
    assert_eq!(config.name().as_deref(), Some("someone-elses"));
    let failed = b
        .status(&class)
        .await
        .into_iter()
        .find(|s| s.vm.vmid.get() == 6003)
        .expect("row");
    assert_eq!(failed.step, VmStep::Failed);
    assert_eq!(failed.error.as_deref(), Some(reason.as_str()));
}

#[tokio::test]
async fn a_foreign_vm_created_at_a_target_vmid_mid_run_is_left_alone() {
    // One clone per node at a time, so the last slots are cloned well after the first.
    let pools = PoolsConfig {
        clones_per_node: 1,
        ..PoolsConfig::fast()
    };
    let b = bed_with(SimConfig::fast(), pools, Login::Token).await;
    let mut new = b.new_class("midrun", 12);
    new.vmid_prefix = Some(61);
    let class = b.lab.create_class(&b.teacher, new).await.expect("class");

    let mut op = b
        .lab
        .provision(&b.teacher, class.id)
        .await
        .expect("provision");
    let mut events = op.events().expect("events");
    while let Some(event) = events.recv().await {
        if matches!(event, ProgressEvent::Cloning { .. }) {
            break;
        }
    }
    b.foreign_vm(6112).await;
    let summary = op.wait().await.expect("operation");

    let failed: Vec<u32> = summary.failed.iter().map(|(v, _)| v.get()).collect();
    assert_eq!(failed, [6112], "{summary:?}");
    assert_eq!(
        b.config(6112).await.name().as_deref(),
        Some("someone-elses")
    );
    let tags = b.config(6112).await.get("tags").unwrap_or_default();
    assert!(!tags.contains("pvelab"), "{tags}");
    let built: Vec<_> = b
        .status(&class)
        .await
        .into_iter()
        .filter(|s| s.vm.vmid.get() != 6112)
        .collect();
    assert_all_ready(&built);
}

#[tokio::test]
async fn a_class_created_without_its_pool_keeps_clear_of_the_guests_the_inventory_knows() {
    let b = bed().await;
    b.sync_inventory().await;
    let guests = b.guests().await;
    assert!(
        guests.contains_key(&100),
        "the simulator's VMs start at 100"
    );

    // No cluster is asked (as when the template is not known yet), yet the range is free.
    let class = b
        .lab
        .create_class(&b.teacher, b.new_class("later", 2))
        .await
        .expect("class");
    let range = class.scheme.vmids();
    let inside: Vec<u32> = guests
        .keys()
        .copied()
        .filter(|v| range.contains(v))
        .collect();
    assert!(inside.is_empty(), "{} holds {inside:?}", class.scheme);

    // Asking for the taken range by its prefix is refused, naming a guest there.
    let mut taken = b.new_class("taken", 2);
    taken.vmid_prefix = Some(1);
    let refused = b
        .lab
        .create_class(&b.teacher, taken)
        .await
        .expect_err("VMs 100.. exist");
    assert!(
        matches!(refused, Error::VmidRangeTaken { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("VM 100 on "), "{refused}");
}
