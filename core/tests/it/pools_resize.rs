//! Changing a pool: growing, shrinking with and without force, changed specs.

use std::collections::BTreeSet;

use pvelab_core::events::{ConsumerName, LabEvent};
use pvelab_core::model::{Class, VmRole};
use pvelab_core::types::{Cores, PoolSize, Role, UserId, VmId};
use pvelab_core::{Actor, Error};

use crate::pools_support::{assert_all_ready, bed, finish, Bed};
use crate::support::{user, ActorId};

fn size(n: u16) -> PoolSize {
    PoolSize::new(i64::from(n)).expect("size")
}

/// The student slots the class has now.
async fn slots(b: &Bed, class: &Class) -> BTreeSet<u16> {
    b.status(class)
        .await
        .iter()
        .filter_map(|s| match s.vm.role {
            VmRole::Student { slot } => Some(slot),
            _ => None,
        })
        .collect()
}

/// A provisioned class of `n` students with students holding the VMs of `held` slots.
async fn pool_with_holders(b: &Bed, name: &str, n: u16, held: &[u16]) -> (Class, Vec<Actor>) {
    let (class, op) = b.launch(name, n).await;
    finish(op).await;
    let mut students = Vec::new();
    for slot in held {
        let s = user(&b.lab, &format!("{name}-s{slot}"), Role::User).await;
        let vmid = class.scheme.student_vmid(*slot).expect("slot");
        let vm = pvelab_core::types::VmRef::new(b.cluster.clone(), vmid);
        b.lab
            .assign(&b.teacher, class.id, s.uid(), Some(&vm))
            .await
            .expect("assign");
        students.push(s);
    }
    (class, students)
}

fn vmid(class: &Class, slot: u16) -> u32 {
    class.scheme.student_vmid(slot).expect("slot").get()
}

#[tokio::test]
async fn growing_adds_vms_at_the_next_free_slots() {
    let b = bed().await;
    let (class, op) = b.launch("grow", 2).await;
    finish(op).await;

    let op = b
        .lab
        .resize_pool(&b.teacher, class.id, size(4), false)
        .await
        .expect("resize");
    let (_, summary) = finish(op).await;

    assert_eq!(summary.ready, 2, "{summary:?}");
    assert_eq!(slots(&b, &class).await, BTreeSet::from([1, 2, 3, 4]));
    assert_all_ready(&b.status(&class).await);
    let guests = b.guests().await;
    assert!(guests.contains_key(&vmid(&class, 4)));
}

#[tokio::test]
async fn shrinking_deletes_the_free_vms_beyond_the_size_and_keeps_held_ones() {
    let b = bed().await;
    let (class, _) = pool_with_holders(&b, "shrink", 5, &[2, 5]).await;

    let op = b
        .lab
        .resize_pool(&b.teacher, class.id, size(1), false)
        .await
        .expect("resize");
    let (_, summary) = finish(op).await;

    // Slots 3 and 4 go; slots 2 and 5 are held and stay (5 goes when its student leaves).
    assert_eq!(summary.deleted, 2, "{summary:?}");
    assert_eq!(slots(&b, &class).await, BTreeSet::from([1, 2, 5]));
    let guests = b.guests().await;
    for gone in [3, 4] {
        assert!(!guests.contains_key(&vmid(&class, gone)), "slot {gone}");
    }
    for kept in [1, 2, 5] {
        assert!(guests.contains_key(&vmid(&class, kept)), "slot {kept}");
    }
    let audit = b.lab.audit_pool(&b.teacher, class.id).await.expect("audit");
    assert!(
        audit.is_clean(),
        "a held VM beyond the size is no discrepancy: {audit:?}"
    );
}

#[tokio::test]
async fn a_forced_shrink_takes_held_vms_and_tells_their_students() {
    let b = bed().await;
    let (class, students) = pool_with_holders(&b, "force", 4, &[3, 4]).await;
    let dm = ConsumerName::parse("dm").expect("name");
    let seen = b.lab.events_after(&dm, 1000).await.expect("events");
    if let Some(last) = seen.last() {
        b.lab.ack_events(&dm, last.id).await.expect("ack");
    }

    let op = b
        .lab
        .resize_pool(&b.teacher, class.id, size(1), true)
        .await
        .expect("resize");
    let (_, summary) = finish(op).await;

    assert_eq!(summary.deleted, 3, "{summary:?}");
    assert_eq!(slots(&b, &class).await, BTreeSet::from([1]));
    let removed: Vec<(UserId, VmId)> = b
        .lab
        .events_after(&dm, 1000)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match e.event {
            LabEvent::VmRemoved { user_id, vmid, .. } => Some((user_id, vmid)),
            _ => None,
        })
        .collect();
    let three = class.scheme.student_vmid(3).expect("slot");
    let four = class.scheme.student_vmid(4).expect("slot");
    assert_eq!(
        removed,
        [(students[0].uid(), three), (students[1].uid(), four)]
    );
    for student in &students {
        assert!(b.lab.my_vms(student).await.expect("my vms").is_empty());
    }
}

#[tokio::test]
async fn a_classic_class_cannot_outgrow_98_students() {
    let b = bed().await;
    let (class, op) = b.launch("small", 1).await;
    finish(op).await;
    let refused = b
        .lab
        .resize_pool(&b.teacher, class.id, size(99), false)
        .await
        .expect_err("beyond the plan");
    assert!(
        matches!(&refused, Error::InvalidValue(v) if v.allowed().contains("at most 98")),
        "{refused:?}"
    );
    assert_eq!(slots(&b, &class).await.len(), 1, "nothing changed");
}

#[tokio::test]
async fn changed_specs_reach_stopped_vms_now_and_running_ones_as_a_pending_change() {
    let b = bed().await;
    let (class, op) = b.launch("specs", 2).await;
    finish(op).await;
    let running = vmid(&class, 1);
    let stopped = vmid(&class, 2);
    b.sim.start_guest(running).expect("start behind our back");

    let op = b
        .lab
        .change_vm_specs(
            &b.teacher,
            class.id,
            Some(Cores::new(6).expect("cores")),
            None,
            None,
        )
        .await
        .expect("change");
    let (_, summary) = finish(op).await;

    assert!(summary.failed.is_empty(), "{summary:?}");
    assert_eq!(b.config(stopped).await.cores(), Some(6));
    let node = b.guests().await[&running].clone();
    let pending = b
        .client()
        .node(node)
        .qemu(running)
        .pending()
        .await
        .expect("pending");
    let cores = pending.iter().find(|p| p.key == "cores").expect("cores");
    assert_eq!(cores.pending.as_deref(), Some("6"), "{cores:?}");
    assert_eq!(cores.value.as_deref(), Some("4"), "still running with 4");
    assert_all_ready(&b.status(&class).await);
}
