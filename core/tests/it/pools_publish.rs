//! A published template reaches the students' VMs of a managed pool: at once, or each at its
//! next stop; the students keep their VMs throughout.

use pvelab_core::events::ConsumerName;
use pvelab_core::model::{PoolVmState, PublishMode};
use pvelab_core::types::{Role, VmId};
use pvelab_proxmox::ConfigUpdate;

use crate::pools_support::{bed, finish, Bed};
use crate::support::{user, ActorId};

/// Sets one config key on a VM, as a person would in the Proxmox UI.
async fn set(b: &Bed, vmid: VmId, key: &str, value: &str) {
    let node = b.guests().await[&vmid.get()].clone();
    b.client()
        .node(&node)
        .qemu(vmid.get())
        .update_config(&ConfigUpdate::new().set(key, value))
        .await
        .expect("a change on the VM");
}

async fn inventory(b: &Bed) {
    b.sync_inventory().await;
}

async fn reconcile(b: &Bed) {
    let report = b.lab.reconcile().await.expect("reconcile");
    for cluster in &report.clusters {
        assert!(cluster.result.is_ok(), "{report:?}");
    }
}

fn row(states: &[PoolVmState], vmid: VmId) -> &PoolVmState {
    states.iter().find(|s| s.vm.vmid == vmid).expect("row")
}

#[tokio::test]
async fn at_the_next_stop_each_vm_gets_the_new_template_and_keeps_its_student() {
    let b = bed().await;
    let (class, op) = b.launch("publish", 2).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let bea = user(&b.lab, "bea", Role::User).await;
    let running = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("sam")
        .vmid;
    let stopped = b
        .lab
        .assign(&b.teacher, class.id, bea.uid(), None)
        .await
        .expect("bea")
        .vmid;
    b.lab
        .start_vm(&sam, class.id, running)
        .await
        .expect("start");
    // The teacher prepares the next version; the students change their own VMs.
    let teacher_vm = class.scheme.teacher_vmid();
    set(&b, teacher_vm, "onboot", "1").await;
    for vm in [running, stopped] {
        set(&b, vm, "startup", "order=3").await;
    }
    inventory(&b).await;

    let outcome = b
        .lab
        .publish_template(&b.teacher, class.id, PublishMode::AtNextStop)
        .await
        .expect("publish");
    assert_eq!((outcome.vms.len(), outcome.due_now), (2, 1), "{outcome:?}");
    reconcile(&b).await;

    // The stopped VM was rebuilt from the new version; the running one is left alone.
    let fresh = b.config(stopped.get()).await;
    assert_eq!(
        fresh.get("onboot").as_deref(),
        Some("1"),
        "cloned from the new version"
    );
    assert_eq!(fresh.get("startup"), None, "the student's change is gone");
    assert_eq!(b.snapshots(stopped.get()).await, ["baseline"]);
    let untouched = b.config(running.get()).await;
    assert_eq!(
        untouched.get("startup").as_deref(),
        Some("order=3"),
        "a running VM waits"
    );
    let waits = b
        .lab
        .pending_reimages(&b.teacher, class.id)
        .await
        .expect("waits");
    assert_eq!(
        waits.iter().map(|w| w.vm.vmid).collect::<Vec<_>>(),
        [running]
    );

    // Once its student stops it, the next inventory and reconciliation rebuild it too.
    b.lab.stop_vm(&sam, class.id, running).await.expect("stop");
    inventory(&b).await;
    reconcile(&b).await;
    let fresh = b.config(running.get()).await;
    assert_eq!(fresh.get("onboot").as_deref(), Some("1"));
    assert_eq!(fresh.get("startup"), None);
    assert!(b
        .lab
        .pending_reimages(&b.teacher, class.id)
        .await
        .expect("waits")
        .is_empty());

    let states = b.status(&class).await;
    assert_eq!(row(&states, running).vm.assigned_to, Some(sam.uid()));
    assert_eq!(row(&states, stopped).vm.assigned_to, Some(bea.uid()));
    let audit = b.lab.audit_pool(&b.teacher, class.id).await.expect("audit");
    assert!(audit.is_clean(), "{audit:?}");
}

#[tokio::test]
async fn now_rebuilds_running_vms_too_and_their_students_hear_of_it() {
    let b = bed().await;
    let (class, op) = b.launch("publish-now", 1).await;
    finish(op).await;
    let sam = user(&b.lab, "sam", Role::User).await;
    let vm = b
        .lab
        .assign(&b.teacher, class.id, sam.uid(), None)
        .await
        .expect("sam")
        .vmid;
    b.lab.start_vm(&sam, class.id, vm).await.expect("start");
    set(&b, class.scheme.teacher_vmid(), "onboot", "1").await;
    set(&b, vm, "startup", "order=3").await;
    inventory(&b).await;
    let dm = ConsumerName::parse("dm").expect("name");
    let seen = b.lab.events_after(&dm, 1000).await.expect("events");
    if let Some(last) = seen.last() {
        b.lab.ack_events(&dm, last.id).await.expect("ack");
    }

    let outcome = b
        .lab
        .publish_template(&b.teacher, class.id, PublishMode::Now)
        .await
        .expect("publish");
    assert_eq!(outcome.due_now, 1);
    reconcile(&b).await;

    let fresh = b.config(vm.get()).await;
    assert_eq!(fresh.get("onboot").as_deref(), Some("1"));
    assert_eq!(fresh.get("startup"), None);
    assert_eq!(
        row(&b.status(&class).await, vm).vm.assigned_to,
        Some(sam.uid())
    );
    let events = b.lab.events_after(&dm, 1000).await.expect("events");
    assert!(
        events.iter().any(|e| matches!(
            e.event,
            pvelab_core::events::LabEvent::VmRebuilt { user_id, .. } if user_id == sam.uid()
        )),
        "{events:?}"
    );
}
