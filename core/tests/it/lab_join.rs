//! Joining and leaving: enrollment, assignment, waitlist order, release for reimage.

use std::time::Duration;

use jiff::SignedDuration;
use pvelab_core::model::Enrollment;
use pvelab_core::model::VmOutcome;
use pvelab_core::model::{JoinToken, SettingKey};
use pvelab_core::model::{NewPoolVm, VmRole};
use pvelab_core::types::VmId;
use pvelab_core::Error;

use crate::support::{
    assert_token_invalid, class_with_vms, planned, register_slot, world, ActorId,
};

#[tokio::test]
async fn joining_assigns_the_lowest_free_student_vm_and_twice_is_a_no_op_that_says_so() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 2).await;
    let student = w.student("s").await;

    let first = w.join(&student, &token).await;
    let again = w.lab.join(&student, &token).await.expect("join again");

    assert_eq!(first.enrollment, Enrollment::Enrolled);
    let VmOutcome::Assigned(vm) = first.vm else {
        panic!("expected a VM, got {:?}", first.vm)
    };
    assert_eq!(vm.role, VmRole::Student { slot: 1 });
    assert_eq!(vm.vmid, class.scheme.student_vmid(1).expect("slot"));
    assert_eq!(again.enrollment, Enrollment::AlreadyEnrolled);
    assert_eq!(again.vm, VmOutcome::AlreadyAssigned(vm));
}

#[tokio::test]
async fn teacher_base_and_manual_vms_are_never_handed_to_students() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 0).await;
    w.register_teacher_and_base_vms(&class).await;
    let manual = NewPoolVm {
        manual: true,
        ..planned(VmId::new(4242).expect("vmid"))
    };
    w.lab
        .register_vm(&w.teacher, class.id, manual)
        .await
        .expect("manual");
    let a = w.student("a").await;

    let joined = w.join(&a, &token).await;

    assert_eq!(joined.vm, VmOutcome::Waitlisted { position: 1 });
    let pool = w.lab.pool(&w.teacher, class.id).await.expect("pool");
    assert_eq!(pool.len(), 3);
    assert!(pool.iter().all(|vm| vm.assigned_to.is_none()));
}

#[tokio::test]
async fn the_waitlist_is_served_first_come_first_served_when_the_pool_grows() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 10, 1).await;
    let mut students = Vec::new();
    for i in 0..4 {
        let s = w.student(&format!("s{i}")).await;
        w.join(&s, &token).await;
        students.push(s);
    }
    // s0 holds slot 1; s1, s2, s3 wait in that order.
    register_slot(&w, &class, 2).await;
    register_slot(&w, &class, 3).await;

    let view = w
        .lab
        .students(&w.teacher, class.id)
        .await
        .expect("students");
    let holder = |i: usize| {
        view.iter()
            .find(|v| v.user.id == students[i].uid())
            .expect("enrolled")
            .clone()
    };
    assert_eq!(
        holder(1).vm.map(|vm| vm.role),
        Some(VmRole::Student { slot: 2 })
    );
    assert_eq!(
        holder(2).vm.map(|vm| vm.role),
        Some(VmRole::Student { slot: 3 })
    );
    assert_eq!(holder(3).vm, None);
    assert_eq!(holder(3).waitlist_position, Some(1));
}

#[tokio::test]
async fn leaving_releases_the_vm_for_reimaging_before_anyone_else_gets_it() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    let leaver = w.student("leaver").await;
    let waiter = w.student("waiter").await;
    w.join(&leaver, &token).await;
    w.join(&waiter, &token).await;

    let left = w.lab.leave(&leaver, class.id).await.expect("leave");

    let released = left.released.expect("a VM was released");
    assert!(left.was_enrolled);
    assert!(released.needs_reimage);
    assert!(
        w.lab.my_vms(&waiter).await.expect("vms").is_empty(),
        "not before the reimage"
    );
    let late = w.student("late").await;
    assert_eq!(
        w.join(&late, &token).await.vm,
        VmOutcome::Waitlisted { position: 2 }
    );

    w.lab
        .mark_reimaged(&w.teacher, class.id, &released.vm_ref())
        .await
        .expect("reimaged");

    let got = w.lab.my_vms(&waiter).await.expect("vms");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].vmid, released.vmid);
    assert_eq!(got[0].usage_hours, 0.0);
    assert!(w.lab.my_vms(&late).await.expect("vms").is_empty());
    let students = w
        .lab
        .students(&w.teacher, class.id)
        .await
        .expect("students");
    assert!(students.iter().all(|s| s.user.id != leaver.uid()));
}

#[tokio::test]
async fn join_attempts_are_limited_per_user_and_the_refusal_says_when_to_retry() {
    let w = world().await;
    let (_, token) = class_with_vms(&w, "c", 5, 1).await;
    let guesser = w.student("guesser").await;
    let other = w.student("other").await;

    // The default quota is 5 attempts a minute: a burst of 5, then one every 12 s.
    for _ in 0..5 {
        assert_token_invalid(w.lab.join(&guesser, &JoinToken::generate()).await);
    }
    let refused = w.lab.join(&guesser, &token).await;
    let retry_after = match refused {
        Err(Error::RateLimited { retry_after }) => retry_after,
        other => panic!("expected RateLimited even with the right token, got {other:?}"),
    };
    assert_eq!(retry_after, Duration::from_secs(12));
    w.join(&other, &token).await;

    w.clock
        .advance(SignedDuration::try_from(retry_after).expect("duration"));
    let joined = w.join(&guesser, &token).await;
    assert_eq!(joined.enrollment, Enrollment::Enrolled);
    assert!(matches!(
        w.lab.join(&guesser, &token).await,
        Err(Error::RateLimited { .. })
    ));
}

#[tokio::test]
async fn the_join_rate_limit_follows_its_system_setting() {
    let w = world().await;
    w.lab
        .set_setting(&w.admin, SettingKey::JoinRateLimit.name(), "1")
        .await
        .expect("one a minute");
    let guesser = w.student("guesser").await;

    assert_token_invalid(w.lab.join(&guesser, &JoinToken::generate()).await);
    let refused = w.lab.join(&guesser, &JoinToken::generate()).await;

    let minute = Duration::from_secs(60);
    assert!(
        matches!(refused, Err(Error::RateLimited { retry_after }) if retry_after == minute),
        "{refused:?}"
    );
}
