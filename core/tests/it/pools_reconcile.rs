//! Reconciliation: drift behind pvelab's back is noticed and repaired, unknown VMs reported and
//! left alone, released VMs reimaged, and one dead cluster never blocks another.

use pvelab_core::events::{ConsumerName, LabEvent, RebuildReason};
use pvelab_core::model::{PowerState, TokenExpiry, VmStep};
use pvelab_core::types::Role;

use pvelab_pve_sim::{Sim, SimConfig};

use crate::pools_support::{assert_all_ready, bed, finish, register_sim, Login};
use crate::support::{user, ActorId};

#[tokio::test]
async fn a_vm_deleted_behind_our_back_is_rebuilt_for_its_student() {
    let b = bed().await;
    let (class, op) = b.launch("drift", 2).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let vm = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("assign")
        .vmid;
    b.sim
        .delete_guest(vm.get())
        .expect("delete behind our back");

    let report = b.lab.reconcile().await.expect("reconcile");

    let summary = report.class(class.id).expect("reconciled");
    assert_eq!(summary.ready, 1, "{summary:?}");
    assert!(b.guests().await.contains_key(&vm.get()), "rebuilt");
    assert_eq!(b.snapshots(vm.get()).await, ["baseline"]);
    let row = b
        .status(&class)
        .await
        .into_iter()
        .find(|s| s.vm.vmid == vm)
        .expect("row");
    assert_eq!(row.step, VmStep::Ready);
    assert_eq!(row.vm.assigned_to, Some(sam.uid()), "the student keeps it");
    let dm = ConsumerName::parse("dm").expect("name");
    let events = b.lab.events_after(&dm, 1000).await.expect("events");
    assert!(events.iter().any(|e| matches!(
        e.event,
        LabEvent::VmRebuilt { user_id, reason: RebuildReason::Vanished, .. } if user_id == sam.uid()
    )));
    assert!(b
        .lab
        .audit_pool(&b.teacher, class.id)
        .await
        .expect("audit")
        .is_clean());
}

#[tokio::test]
async fn vms_stopped_or_started_behind_our_back_are_seen() {
    let b = bed().await;
    let (class, op) = b.launch("power", 1).await;
    finish(op).await;
    let vm = class.scheme.student_vmid(1).expect("slot");
    let power = |states: Vec<pvelab_core::model::PoolVmState>| {
        states
            .into_iter()
            .find(|s| s.vm.vmid == vm)
            .and_then(|s| s.power)
    };

    b.sim.start_guest(vm.get()).expect("start behind our back");
    b.lab.reconcile().await.expect("reconcile");
    assert_eq!(power(b.status(&class).await), Some(PowerState::Running));

    b.sim.stop_guest(vm.get()).expect("stop behind our back");
    b.lab.reconcile().await.expect("reconcile");
    assert_eq!(power(b.status(&class).await), Some(PowerState::Stopped));
}

#[tokio::test]
async fn a_vm_in_the_range_pvelab_does_not_know_is_reported_and_left_alone() {
    let b = bed().await;
    let (class, op) = b.launch("stray", 1).await;
    finish(op).await;
    let stray = class.scheme.student_vmid(50).expect("slot").get();
    b.foreign_vm(stray).await;
    let digest = b.config(stray).await.digest();

    let report = b.lab.reconcile().await.expect("reconcile");

    let summary = report.class(class.id).expect("reconciled");
    let unknown: Vec<u32> = summary.unknown.iter().map(|v| v.get()).collect();
    assert_eq!(unknown, [stray]);
    assert_eq!(b.config(stray).await.digest(), digest);
}

#[tokio::test]
async fn a_vm_its_student_left_is_reimaged_before_anyone_else_gets_it() {
    let b = bed().await;
    let (class, op) = b.launch("leave", 1).await;
    finish(op).await;
    let token = b
        .lab
        .rotate_token(&b.teacher, class.id, TokenExpiry::Never)
        .await
        .expect("token")
        .token;
    let first = user(&b.lab, "first", Role::User).await;
    let second = user(&b.lab, "second", Role::User).await;
    b.lab.join(&first, &token).await.expect("join");
    let vm = class.scheme.student_vmid(1).expect("slot");
    let node = b.guests().await[&vm.get()].clone();
    b.client()
        .node(node)
        .qemu(vm.get())
        .update_config(&pvelab_proxmox::ConfigUpdate::new().set("onboot", 1))
        .await
        .expect("the first student's traces");
    b.lab.leave(&first, class.id).await.expect("leave");
    let waiting = b.lab.join(&second, &token).await.expect("join");
    assert!(
        matches!(waiting.vm, pvelab_core::model::VmOutcome::Waitlisted { .. }),
        "not before the reimage: {waiting:?}"
    );

    b.lab.reconcile().await.expect("reconcile");

    let mine = b.lab.my_vms(&second).await.expect("mine");
    assert_eq!(mine.iter().map(|v| v.vmid).collect::<Vec<_>>(), [vm]);
    assert_eq!(
        b.config(vm.get()).await.get("onboot"),
        None,
        "a fresh clone"
    );
    assert!(!mine[0].needs_reimage);
}

#[tokio::test]
async fn one_dead_cluster_never_blocks_another() {
    let b = bed().await;
    let (class, op) = b.launch("alive", 1).await;
    finish(op).await;
    let other = Sim::start(SimConfig::fast())
        .await
        .expect("second simulator");
    let (dead, template) = register_sim(&b.lab, &b.admin, &other, "other", Login::Token).await;
    let mut elsewhere = b.new_class("elsewhere", 1);
    elsewhere.deployment_cluster = Some(dead.clone());
    elsewhere.template_id = Some(template);
    let (moved, op) = b
        .lab
        .create_and_provision_class(&b.teacher, elsewhere)
        .await
        .expect("a class on the other cluster");
    finish(op).await;
    other.shutdown().await;
    let vm = class.scheme.student_vmid(1).expect("slot");
    b.sim
        .delete_guest(vm.get())
        .expect("drift on the live cluster");

    let report = b.lab.reconcile().await.expect("reconcile");

    let dead_report = report
        .clusters
        .iter()
        .find(|c| c.cluster == dead)
        .expect("the dead cluster is reported");
    assert!(
        matches!(&dead_report.result, Err(pvelab_core::Error::Cluster { .. })),
        "{dead_report:?}"
    );
    assert_eq!(report.class(class.id).map(|s| s.ready), Some(1));
    assert!(report.class(moved.id).is_none());
    assert_all_ready(&b.status(&class).await);
}

#[tokio::test]
async fn the_background_reconciler_repairs_drift_until_it_is_cancelled() {
    let b = bed().await;
    let (class, op) = b.launch("background", 1).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let vm = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("assign")
        .vmid;
    let dm = ConsumerName::parse("dm").expect("name");
    let seen = b.lab.events_after(&dm, 1000).await.expect("events");
    if let Some(last) = seen.last() {
        b.lab.ack_events(&dm, last.id).await.expect("ack");
    }
    b.sim
        .delete_guest(vm.get())
        .expect("delete behind our back");
    let cancel = tokio_util::sync::CancellationToken::new();

    let task = b
        .lab
        .spawn_reconciler(std::time::Duration::from_millis(50), cancel.clone());
    // The student's event arrives once the VM is rebuilt (waiting on the outbox, no polling).
    let events = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        b.lab.next_events(&dm, 100),
    )
    .await
    .expect("rebuilt in time")
    .expect("events");
    cancel.cancel();
    task.await.expect("the reconciler stops when cancelled");

    assert!(events.iter().any(|e| matches!(
        e.event,
        LabEvent::VmRebuilt { user_id, .. } if user_id == sam.uid()
    )));
    assert!(b.guests().await.contains_key(&vm.get()));
}
