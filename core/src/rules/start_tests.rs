use super::*;

use crate::types::{Role, UserId};

fn zone() -> ClassTimeZone {
    ClassTimeZone::parse("Europe/Berlin").unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// 10:30 in Berlin, inside 08-18.
const DAYTIME: &str = "2026-11-26T09:30:00Z";
/// 19:12 in Berlin, outside 08-18.
const EVENING: &str = "2026-11-26T18:12:00Z";

fn request<'a>(actor: &'a Actor, zone: &'a ClassTimeZone, now: &str) -> StartRequest<'a> {
    StartRequest {
        actor,
        owns_vm: true,
        class_relation: ClassRelation::None,
        vm_deleting: false,
        hours: Some(HoursWindow::new(8, 18).unwrap()),
        zone,
        quota: UsageQuota::new(20).unwrap(),
        used_hours: 3.0,
        now: ts(now),
    }
}

fn student() -> Actor {
    Actor::new(UserId::new(7), Role::User)
}

#[test]
fn a_student_may_start_their_vm_in_hours_and_under_quota() {
    let (a, z) = (student(), zone());
    assert_eq!(may_start(&request(&a, &z, DAYTIME)), StartDecision::Allowed);
}

#[test]
fn a_student_is_refused_outside_hours_with_window_and_local_time() {
    let (a, z) = (student(), zone());
    let d = may_start(&request(&a, &z, EVENING));
    assert_eq!(
        d,
        StartDecision::Refused(StartRefusal::OutsideHours {
            window: HoursWindow::new(8, 18).unwrap(),
            zone: zone(),
            local_time: Time::constant(19, 12, 0, 0),
        })
    );
    let err = d.into_result().unwrap_err();
    assert!(matches!(err, Error::OutsideHours { .. }));
    assert!(err.to_string().contains("it is 19:12 there now"), "{err}");
}

#[test]
fn a_student_with_an_exhausted_quota_is_refused() {
    let (a, z) = (student(), zone());
    let r = StartRequest {
        used_hours: 20.0,
        ..request(&a, &z, DAYTIME)
    };
    assert_eq!(
        may_start(&r),
        StartDecision::Refused(StartRefusal::QuotaExhausted {
            used: 20.0,
            limit: 20
        })
    );
}

#[test]
fn an_unrestricted_class_with_unlimited_quota_allows_any_time() {
    let (a, z) = (student(), zone());
    let r = StartRequest {
        hours: None,
        quota: UsageQuota::UNLIMITED,
        used_hours: 5000.0,
        ..request(&a, &z, EVENING)
    };
    assert_eq!(may_start(&r), StartDecision::Allowed);
}

#[test]
fn a_student_may_not_start_someone_elses_vm() {
    let (a, z) = (student(), zone());
    let r = StartRequest {
        owns_vm: false,
        ..request(&a, &z, DAYTIME)
    };
    assert!(matches!(
        may_start(&r),
        StartDecision::Refused(StartRefusal::NotPermitted {
            action: Action::ControlStudentVm,
            ..
        })
    ));
}

#[test]
fn a_teacher_of_another_class_may_not_start_its_students_vms() {
    let z = zone();
    let t = Actor::new(UserId::new(2), Role::Teacher);
    let r = StartRequest {
        owns_vm: false,
        ..request(&t, &z, DAYTIME)
    };
    assert!(matches!(
        may_start(&r),
        StartDecision::Refused(StartRefusal::NotPermitted { .. })
    ));
}

#[test]
fn class_teachers_and_adminers_are_not_bound_by_student_limits() {
    let z = zone();
    let teacher = Actor::new(UserId::new(2), Role::Teacher);
    let adminer = Actor::new(UserId::new(1), Role::Adminer);
    for (actor, rel) in [
        (&teacher, ClassRelation::PrimaryTeacher),
        (&teacher, ClassRelation::CoOwner),
        (&adminer, ClassRelation::None),
    ] {
        let r = StartRequest {
            owns_vm: false,
            class_relation: rel,
            used_hours: 99.0,
            ..request(actor, &z, EVENING)
        };
        assert_eq!(may_start(&r), StartDecision::Allowed, "{rel:?}");
    }
}

#[test]
fn a_teacher_enrolled_as_student_elsewhere_is_bound_by_that_classes_limits() {
    let z = zone();
    let t = Actor::new(UserId::new(2), Role::Teacher);
    assert!(matches!(
        may_start(&request(&t, &z, EVENING)),
        StartDecision::Refused(StartRefusal::OutsideHours { .. })
    ));
}

#[test]
fn a_vm_being_deleted_cannot_be_started_by_anyone() {
    let z = zone();
    let adminer = Actor::new(UserId::new(1), Role::Adminer);
    let r = StartRequest {
        vm_deleting: true,
        ..request(&adminer, &z, DAYTIME)
    };
    assert_eq!(
        may_start(&r),
        StartDecision::Refused(StartRefusal::VmBeingDeleted)
    );
    assert!(matches!(
        may_start(&r).into_result(),
        Err(Error::InvalidValue(_))
    ));
}

#[test]
fn hours_are_checked_before_the_quota() {
    let (a, z) = (student(), zone());
    let r = StartRequest {
        used_hours: 50.0,
        ..request(&a, &z, EVENING)
    };
    assert!(matches!(
        may_start(&r),
        StartDecision::Refused(StartRefusal::OutsideHours { .. })
    ));
}
