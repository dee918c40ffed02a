//! Teacher assignment, usage and the start decision through the facade.

use jiff::SignedDuration;
use pvelab_core::model::ClassSettings;
use pvelab_core::model::QuotaLevel;
use pvelab_core::model::{StartDecision, StartRefusal};
use pvelab_core::types::{HoursWindow, UsageQuota};
use pvelab_core::Error;

use crate::support::{class_with_vms, vm_of, world, ActorId};

#[tokio::test]
async fn a_teacher_assigns_and_unassigns_and_the_vm_then_waits_for_a_reimage() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 2).await;
    let s = w.student("s").await;
    let vmid = class.scheme.student_vmid(2).expect("slot");

    let vm = w
        .lab
        .assign(&w.teacher, class.id, s.uid(), Some(&vm_of(vmid)))
        .await
        .expect("assign");
    assert_eq!(vm.vmid, vmid);
    let twice = w.lab.assign(&w.teacher, class.id, s.uid(), None).await;
    assert!(
        matches!(twice, Err(Error::AlreadyHoldsVm { vmid: held }) if held == vmid),
        "{twice:?}"
    );
    let teacher_vm = w
        .lab
        .assign(
            &w.teacher,
            class.id,
            s.uid(),
            Some(&vm_of(class.scheme.teacher_vmid())),
        )
        .await;
    assert!(teacher_vm.is_err());

    let released = w
        .lab
        .unassign(&w.teacher, class.id, s.uid())
        .await
        .expect("unassign");
    assert!(released.needs_reimage);
    let other = w.student("o").await;
    let refused = w
        .lab
        .assign(&w.teacher, class.id, other.uid(), Some(&vm_of(vmid)))
        .await;
    assert!(
        matches!(
            refused,
            Err(Error::VmNotAssignable {
                reason: pvelab_core::error::NotAssignable::AwaitsReimage,
                ..
            })
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn usage_crosses_the_quota_once_per_level_blocks_starts_and_resets() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    w.lab
        .update_class(
            &w.teacher,
            class.id,
            ClassSettings {
                max_usage: Some(UsageQuota::new(10).expect("quota")),
                ..ClassSettings::default()
            },
        )
        .await
        .expect("quota");
    let s = w.student("s").await;
    w.join(&s, &token).await;
    let vmid = class.scheme.student_vmid(1).expect("slot");
    let hours = |h: i64| SignedDuration::from_hours(h);

    let normal = w
        .lab
        .record_usage(&w.admin, &vm_of(vmid), hours(7))
        .await
        .expect("7h");
    let warn = w
        .lab
        .record_usage(&w.admin, &vm_of(vmid), hours(1))
        .await
        .expect("8h");
    let quiet = w
        .lab
        .record_usage(&w.admin, &vm_of(vmid), hours(1))
        .await
        .expect("9h");
    assert_eq!(
        w.lab
            .may_start(&s, class.id, &vm_of(vmid))
            .await
            .expect("decision"),
        StartDecision::Allowed
    );
    let done = w
        .lab
        .record_usage(&w.admin, &vm_of(vmid), hours(1))
        .await
        .expect("10h");

    assert_eq!(normal.newly_reached, None);
    assert_eq!(warn.newly_reached, Some(QuotaLevel::Warning));
    assert_eq!(quiet.newly_reached, None);
    assert_eq!(done.newly_reached, Some(QuotaLevel::Exhausted));
    assert!(matches!(
        w.lab
            .may_start(&s, class.id, &vm_of(vmid))
            .await
            .expect("decision"),
        StartDecision::Refused(StartRefusal::QuotaExhausted { limit: 10, .. })
    ));
    assert_eq!(
        w.lab
            .may_start(&w.teacher, class.id, &vm_of(vmid))
            .await
            .expect("decision"),
        StartDecision::Allowed,
        "teachers are not bound by the student quota"
    );

    let reset = w
        .lab
        .reset_usage(&w.teacher, class.id, Some(s.uid()))
        .await
        .expect("reset");
    assert_eq!(reset, 1);
    let usage = w.lab.my_usage(&s, class.id).await.expect("usage");
    assert_eq!(usage.hours, 0.0);
    assert!(usage.last_reset.is_some());
    let vm = &w.lab.my_vms(&s).await.expect("vms")[0];
    assert_eq!(
        vm.usage_hours, 10.0,
        "the VM's own hours are not the student's quota"
    );
    assert_eq!(
        w.lab
            .may_start(&s, class.id, &vm_of(vmid))
            .await
            .expect("decision"),
        StartDecision::Allowed
    );
    let again = w
        .lab
        .record_usage(&w.admin, &vm_of(vmid), hours(9))
        .await
        .expect("9h");
    assert_eq!(
        again.newly_reached,
        Some(QuotaLevel::Warning),
        "warned again after a reset"
    );
}

#[tokio::test]
async fn a_student_may_not_start_someone_elses_vm() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 2).await;
    let a = w.student("a").await;
    let b = w.student("b").await;
    w.join(&a, &token).await;
    w.join(&b, &token).await;
    let a_vm = w.lab.my_vms(&a).await.expect("vms")[0].vmid;

    let decision = w
        .lab
        .may_start(&b, class.id, &vm_of(a_vm))
        .await
        .expect("decision");

    assert!(matches!(
        decision,
        StartDecision::Refused(StartRefusal::NotPermitted { .. })
    ));
}

#[tokio::test]
async fn starting_outside_the_class_hours_is_refused_with_the_window_and_local_time() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    // A window that starts one hour from now (UTC, the default zone) never contains now.
    let hour = i64::from(
        jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .hour(),
    );
    let window = HoursWindow::new((hour + 1) % 24, (hour + 2) % 24).expect("window");
    let change = ClassSettings {
        hours: Some(Some(window)),
        ..ClassSettings::default()
    };
    w.lab
        .update_class(&w.teacher, class.id, change)
        .await
        .expect("hours");
    let s = w.student("s").await;
    w.join(&s, &token).await;
    let vmid = class.scheme.student_vmid(1).expect("slot");

    let decision = w
        .lab
        .may_start(&s, class.id, &vm_of(vmid))
        .await
        .expect("decision");

    let StartDecision::Refused(refusal) = decision else {
        panic!("expected a refusal, got {decision:?}")
    };
    assert!(
        matches!(refusal, StartRefusal::OutsideHours { .. }),
        "{refusal:?}"
    );
    let text = refusal.to_string();
    assert!(
        text.contains(&window.to_string()) && text.contains("UTC"),
        "{text}"
    );
}

#[tokio::test]
async fn a_vm_being_deleted_is_never_handed_out_and_a_held_vm_cannot_be_marked_for_deletion() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 2).await;
    let first = w.student("first").await;
    w.join(&first, &token).await;
    let held = class.scheme.student_vmid(1).expect("slot");
    let free = class.scheme.student_vmid(2).expect("slot");

    let refused = w
        .lab
        .mark_deleting(&w.teacher, class.id, &vm_of(held))
        .await;
    let deleting = w
        .lab
        .mark_deleting(&w.teacher, class.id, &vm_of(free))
        .await
        .expect("mark");
    let second = w.student("second").await;
    let joined = w.join(&second, &token).await;

    assert!(matches!(refused, Err(Error::VmHeld { .. })), "{refused:?}");
    assert_eq!(deleting.status, pvelab_core::model::VmStatus::Deleting);
    assert_eq!(
        joined.vm,
        pvelab_core::model::VmOutcome::Waitlisted { position: 1 }
    );
}

#[tokio::test]
async fn a_vm_on_an_unknown_cluster_or_outside_the_plan_is_refused_by_name() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 0).await;
    let mut elsewhere = crate::support::planned(class.scheme.student_vmid(1).expect("slot"));
    elsewhere.cluster_id = pvelab_core::types::ClusterId::parse("nowhere").expect("id");
    let outside = crate::support::planned(pvelab_core::types::VmId::new(99_999).expect("vmid"));

    let unknown = w.lab.register_vm(&w.teacher, class.id, elsewhere).await;
    let beyond = w.lab.register_vm(&w.teacher, class.id, outside).await;

    assert!(
        matches!(&unknown, Err(Error::NotFound { entity: pvelab_core::Entity::Cluster, key }) if key.contains("nowhere")),
        "{unknown:?}"
    );
    assert!(matches!(beyond, Err(Error::InvalidValue(_))), "{beyond:?}");
}

#[tokio::test]
async fn a_teacher_picking_a_vm_no_student_may_have_is_told_why() {
    let w = world().await;
    let (class, _) = class_with_vms(&w, "c", 5, 3).await;
    w.register_teacher_and_base_vms(&class).await;
    let slot = |n| class.scheme.student_vmid(n).expect("slot");
    let holder = w.student("holder").await.uid();
    let leaver = w.student("leaver").await.uid();
    let picked = w.student("picked").await.uid();
    w.lab
        .assign(&w.teacher, class.id, holder, Some(&vm_of(slot(1))))
        .await
        .expect("holder");
    w.lab
        .assign(&w.teacher, class.id, leaver, Some(&vm_of(slot(2))))
        .await
        .expect("leaver");
    w.lab
        .unassign(&w.teacher, class.id, leaver)
        .await
        .expect("unassign");
    w.lab
        .mark_deleting(&w.teacher, class.id, &vm_of(slot(3)))
        .await
        .expect("deleting");

    let cases = [
        (
            class.scheme.teacher_vmid(),
            "the class's teacher VM".to_owned(),
        ),
        (class.scheme.base_vmid(), "the class's base VM".to_owned()),
        (slot(1), "another student holds it".to_owned()),
        (slot(2), "waits for a reimage".to_owned()),
        (slot(3), "being deleted".to_owned()),
    ];
    for (vmid, reason) in cases {
        let refused = w
            .lab
            .assign(&w.teacher, class.id, picked, Some(&vm_of(vmid)))
            .await
            .expect_err("not for students");
        let text = refused.to_string();
        assert!(
            matches!(refused, Error::VmNotAssignable { vmid: v, .. } if v == vmid),
            "{refused:?}"
        );
        assert!(
            text.contains(&format!("VM {vmid} cannot be given")) && text.contains(&reason),
            "{vmid}: {text}"
        );
    }
}

#[tokio::test]
async fn a_student_slot_is_registered_once_whatever_the_cluster_and_the_refusal_names_the_vm() {
    let w = world().await;
    let other = pvelab_core::types::ClusterId::parse("pve2").expect("id");
    w.lab
        .add_cluster(
            &w.admin,
            pvelab_core::model::NewCluster::new(
                other.clone(),
                pvelab_core::types::Host::parse("10.0.0.2").expect("host"),
                pvelab_core::model::ClusterCredential::Password {
                    user: pvelab_core::types::PveUser::parse("root@pam").expect("user"),
                    password: secrecy::SecretString::from("pw".to_owned()),
                },
            ),
        )
        .await
        .expect("add cluster");
    let (class, _) = class_with_vms(&w, "c", 5, 2).await;
    let vmid = class.scheme.student_vmid(2).expect("slot");
    let mut elsewhere = crate::support::planned(vmid);
    elsewhere.cluster_id = other.clone();

    let refused = w.lab.register_vm(&w.teacher, class.id, elsewhere).await;
    let free_slot = crate::support::planned(class.scheme.student_vmid(3).expect("slot"));
    let third = w.lab.register_vm(&w.teacher, class.id, free_slot).await;

    assert!(
        matches!(&refused, Err(Error::VmRegistered { vmid: v, cluster }) if *v == vmid && *cluster == other),
        "{refused:?}"
    );
    assert!(third.is_ok(), "{third:?}");
    assert_eq!(
        w.lab.pool(&w.teacher, class.id).await.expect("pool").len(),
        3
    );
}

#[tokio::test]
async fn resetting_the_usage_of_someone_who_never_was_a_student_is_refused_naming_them() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 2, 1).await;
    let outsider = w.student("outsider").await;
    let refused = w
        .lab
        .reset_usage(&w.teacher, class.id, Some(outsider.uid()))
        .await
        .unwrap_err();
    let text = refused.to_string();
    assert!(matches!(refused, Error::InvalidValue(_)), "{refused:?}");
    assert!(
        text.contains("outsider") && text.contains("a student of class c"),
        "{text}"
    );

    // A student, and one who left with usage recorded (it is kept), are reset.
    let s = w.student("s").await;
    let joined = w.join(&s, &token).await;
    let pvelab_core::model::VmOutcome::Assigned(vm) = joined.vm else {
        panic!("a VM: {joined:?}")
    };
    assert!(w
        .lab
        .reset_usage(&w.teacher, class.id, Some(s.uid()))
        .await
        .is_ok());
    w.lab
        .record_usage(&w.admin, &vm.vm_ref(), SignedDuration::from_hours(1))
        .await
        .expect("usage");
    w.lab.leave(&s, class.id).await.expect("leave");
    assert_eq!(
        w.lab
            .reset_usage(&w.teacher, class.id, Some(s.uid()))
            .await
            .expect("a former student's usage"),
        1
    );
}
