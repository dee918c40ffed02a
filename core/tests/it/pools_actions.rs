//! Student and teacher actions on VMs: power, revert, reimage.

use pvelab_core::events::{ConsumerName, LabEvent, RebuildReason};
use pvelab_core::model::{AuditOutcome, AuditQuery, PowerState};
use pvelab_core::types::{Role, UserId};
use pvelab_core::Error;
use pvelab_proxmox::ConfigUpdate;

use crate::pools_support::{bed, finish};
use crate::support::{user, ActorId};

#[tokio::test]
async fn a_student_starts_and_stops_their_vm_and_a_teacher_may_too() {
    let b = bed().await;
    let (class, op) = b.launch("power", 2).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let other = user(&b.lab, "other", Role::User).await;
    let vm = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("assign")
        .vmid;

    assert_eq!(
        b.lab.start_vm(&sam, class.id, vm).await.expect("start"),
        PowerState::Running
    );
    let refused = b.lab.stop_vm(&other, class.id, vm).await;
    assert!(
        matches!(refused, Err(Error::NotPermitted { .. })),
        "{refused:?}"
    );
    assert_eq!(
        b.lab
            .reboot_vm(&b.teacher, class.id, vm)
            .await
            .expect("reboot"),
        PowerState::Running
    );
    assert_eq!(
        b.lab
            .shutdown_vm(&sam, class.id, vm)
            .await
            .expect("shutdown"),
        PowerState::Stopped
    );
    // Starting twice in a row is not an error.
    b.lab
        .start_vm(&b.teacher, class.id, vm)
        .await
        .expect("start");
    assert_eq!(
        b.lab.start_vm(&sam, class.id, vm).await.expect("again"),
        PowerState::Running
    );
    assert_eq!(
        b.lab.stop_vm(&b.teacher, class.id, vm).await.expect("stop"),
        PowerState::Stopped
    );
    let recorded = b
        .status(&class)
        .await
        .into_iter()
        .find(|s| s.vm.vmid == vm)
        .expect("row");
    assert_eq!(recorded.power, Some(PowerState::Stopped));
    // Restarting a stopped VM starts it (Proxmox itself refuses to reboot a stopped VM).
    assert_eq!(
        b.lab.reboot_vm(&sam, class.id, vm).await.expect("restart"),
        PowerState::Running
    );

    // The trail holds the teacher's actions on Sam's VM and the refused attempt, not Sam's own.
    let trail = b
        .lab
        .audit(&b.admin, AuditQuery::default())
        .await
        .expect("trail");
    let on_vms: Vec<(&str, Option<UserId>, AuditOutcome)> = trail
        .iter()
        .rev()
        .filter(|e| e.action == "control_student_vm")
        .map(|e| (e.detail.as_str(), e.actor, e.outcome))
        .collect();
    let by_teacher = |what: &str| format!("{what} of VM {vm}, held by the subject");
    let (reboot, start, stop) = (
        by_teacher("reboot"),
        by_teacher("start"),
        by_teacher("stop"),
    );
    assert_eq!(on_vms.len(), 4, "{trail:#?}");
    assert_eq!(on_vms[0].1, Some(other.uid()));
    assert_eq!(on_vms[0].2, AuditOutcome::Refused);
    assert_eq!(
        on_vms[1..],
        [
            (reboot.as_str(), Some(b.teacher.uid()), AuditOutcome::Done),
            (start.as_str(), Some(b.teacher.uid()), AuditOutcome::Done),
            (stop.as_str(), Some(b.teacher.uid()), AuditOutcome::Done),
        ]
    );
    assert!(trail
        .iter()
        .filter(|e| e.action == "control_student_vm" && e.outcome == AuditOutcome::Done)
        .all(|e| e.subject == Some(sam.uid()) && e.class_id == Some(class.id)));
}

#[tokio::test]
async fn revert_rolls_the_vm_back_to_its_baseline() {
    let b = bed().await;
    let (class, op) = b.launch("revert", 1).await;
    finish(op).await;
    let vm = class.scheme.student_vmid(1).expect("slot");
    let node = b.guests().await[&vm.get()].clone();
    b.client()
        .node(&node)
        .qemu(vm.get())
        .update_config(&ConfigUpdate::new().set("onboot", 1))
        .await
        .expect("a change after the baseline");
    assert_eq!(b.config(vm.get()).await.get("onboot").as_deref(), Some("1"));

    b.lab
        .revert_vm(&b.teacher, class.id, vm)
        .await
        .expect("revert");

    assert_eq!(b.config(vm.get()).await.get("onboot"), None);
    assert_eq!(b.snapshots(vm.get()).await, ["baseline"]);
}

#[tokio::test]
async fn reimage_gives_a_fresh_clone_and_keeps_the_assignment() {
    let b = bed().await;
    let (class, op) = b.launch("reimage", 1).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let vm = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("assign")
        .vmid;
    let node = b.guests().await[&vm.get()].clone();
    b.client()
        .node(&node)
        .qemu(vm.get())
        .update_config(&ConfigUpdate::new().set("onboot", 1))
        .await
        .expect("student's changes");
    let old_mac = b.status(&class).await[0].vm.mac_address.clone();
    let dm = ConsumerName::parse("dm").expect("name");
    let seen = b.lab.events_after(&dm, 1000).await.expect("events");
    if let Some(last) = seen.last() {
        b.lab.ack_events(&dm, last.id).await.expect("ack");
    }

    let op = b
        .lab
        .reimage_vm(&b.teacher, class.id, vm)
        .await
        .expect("reimage");
    let (_, summary) = finish(op).await;

    assert_eq!((summary.total, summary.ready), (1, 1), "{summary:?}");
    let config = b.config(vm.get()).await;
    assert_eq!(config.get("onboot"), None, "a fresh clone");
    assert_eq!(config.cores(), Some(4));
    assert_eq!(b.snapshots(vm.get()).await, ["baseline"]);
    let row = b
        .status(&class)
        .await
        .into_iter()
        .find(|s| s.vm.vmid == vm)
        .expect("row");
    assert_eq!(row.vm.assigned_to, Some(sam.uid()), "the student keeps it");
    assert_ne!(
        row.vm.mac_address, old_mac,
        "the new clone's MAC is recorded"
    );
    let events = b.lab.events_after(&dm, 1000).await.expect("events");
    assert!(
        events.iter().any(|e| matches!(
            e.event,
            LabEvent::VmRebuilt { user_id, reason: RebuildReason::Reimaged, .. }
                if user_id == sam.uid()
        )),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_vm_that_is_not_ready_cannot_be_started() {
    let b = bed().await;
    let mut new = b.new_class("early", 1);
    new.vmid_prefix = Some(62);
    let class = b.lab.create_class(&b.teacher, new).await.expect("class");
    let vm = class.scheme.student_vmid(1).expect("slot");
    b.foreign_vm(vm.get()).await;
    let op = b
        .lab
        .provision(&b.teacher, class.id)
        .await
        .expect("provision");
    finish(op).await;

    let refused = b.lab.start_vm(&b.teacher, class.id, vm).await;

    assert!(
        matches!(&refused, Err(Error::VmNotReady { step, .. }) if step == "failed"),
        "{refused:?}"
    );
    assert_eq!(
        b.sim.guest_lock(vm.get()),
        Some(None),
        "the foreign VM is as it was"
    );
}
