//! Events reach subscribers after the change they report was committed.

use jiff::SignedDuration;
use pvelab_core::events::LabEvent;
use pvelab_core::model::ClassSettings;
use pvelab_core::model::VmOutcome;
use pvelab_core::types::UsageQuota;

use crate::support::{class_with_vms, register_slot, vm_of, world, ActorId};

#[tokio::test]
async fn waiting_and_being_served_from_the_waitlist_are_announced_to_the_student() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 0).await;
    let student = w.student("s").await;
    let mut inbox = w.lab.subscribe();

    let joined = w.join(&student, &token).await;
    assert_eq!(joined.vm, VmOutcome::Waitlisted { position: 1 });
    let vmid = register_slot(&w, &class, 1).await;

    match inbox.try_recv() {
        Some(LabEvent::Waitlisted {
            user_id,
            position,
            class_name,
            ..
        }) => {
            assert_eq!(user_id, student.uid());
            assert_eq!(position, 1);
            assert_eq!(class_name, class.name);
        }
        other => panic!("expected Waitlisted, got {other:?}"),
    }
    match inbox.try_recv() {
        Some(LabEvent::AssignedFromWaitlist {
            user_id, vmid: got, ..
        }) => {
            assert_eq!(user_id, student.uid());
            assert_eq!(got, vmid);
        }
        other => panic!("expected AssignedFromWaitlist, got {other:?}"),
    }
    assert_eq!(inbox.try_recv(), None);
}

#[tokio::test]
async fn quota_warnings_at_80_and_100_percent_are_announced_once_each() {
    let w = world().await;
    let (class, token) = class_with_vms(&w, "c", 5, 1).await;
    let change = ClassSettings {
        max_usage: Some(UsageQuota::new(10).expect("quota")),
        ..ClassSettings::default()
    };
    w.lab
        .update_class(&w.teacher, class.id, change)
        .await
        .expect("quota");
    let student = w.student("s").await;
    w.join(&student, &token).await;
    let vmid = class.scheme.student_vmid(1).expect("slot");
    let mut inbox = w.lab.subscribe();

    for _ in 0..12 {
        w.lab
            .record_usage(&w.admin, &vm_of(vmid), SignedDuration::from_hours(1))
            .await
            .expect("usage");
    }

    let mut events = Vec::new();
    while let Some(event) = inbox.try_recv() {
        events.push(event);
    }
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(matches!(
        events[0],
        LabEvent::QuotaWarning {
            percent: 80,
            limit: 10,
            ..
        }
    ));
    assert!(matches!(
        events[1],
        LabEvent::QuotaExhausted { limit: 10, .. }
    ));
    assert!(events.iter().all(|e| e.recipient() == Some(student.uid())));
}
