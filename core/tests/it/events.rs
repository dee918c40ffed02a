//! Events reach the outbox with the change they report, and wake waiting consumers.

use std::time::Duration;

use jiff::SignedDuration;
use pvelab_core::events::{ConsumerName, LabEvent, OutboxEvent};
use pvelab_core::model::ClassSettings;
use pvelab_core::model::VmOutcome;
use pvelab_core::types::UsageQuota;
use pvelab_core::Lab;

use crate::support::{class_with_vms, register_slot, vm_of, world, ActorId};

pub fn consumer(name: &str) -> ConsumerName {
    ConsumerName::parse(name).expect("valid consumer name")
}

/// Every event the consumer has not acknowledged, without acknowledging.
pub async fn pending(lab: &Lab, name: &str) -> Vec<OutboxEvent> {
    lab.events_after(&consumer(name), 1000)
        .await
        .expect("read the outbox")
}

/// A wait that must end; if it does not, the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn waiting_and_being_served_from_the_waitlist_are_announced_to_the_student() {
    let w = world().await;
    // Stored times have microseconds; a whole second compares exactly.
    w.clock.set("2027-01-15T08:00:00Z".parse().expect("time"));
    let (class, token) = class_with_vms(&w, "c", 5, 0).await;
    let student = w.student("s").await;

    let joined = w.join(&student, &token).await;
    assert_eq!(joined.vm, VmOutcome::Waitlisted { position: 1 });
    let vmid = register_slot(&w, &class, 1).await;

    let events = pending(&w.lab, "dm").await;
    assert_eq!(events.len(), 2, "{events:?}");
    match &events[0].event {
        LabEvent::Waitlisted {
            user_id,
            position,
            class_name,
            class_id,
        } => {
            assert_eq!(*user_id, student.uid());
            assert_eq!(*position, 1);
            assert_eq!(*class_name, class.name);
            assert_eq!(*class_id, class.id);
        }
        other => panic!("expected Waitlisted, got {other:?}"),
    }
    match &events[1].event {
        LabEvent::AssignedFromWaitlist {
            user_id, vmid: got, ..
        } => {
            assert_eq!(*user_id, student.uid());
            assert_eq!(*got, vmid);
        }
        other => panic!("expected AssignedFromWaitlist, got {other:?}"),
    }
    assert!(events[0].id < events[1].id, "ids grow in commit order");
    assert_eq!(events[0].at, w.clock.now(), "stamped with the lab's clock");
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

    for _ in 0..12 {
        w.lab
            .record_usage(&w.admin, &vm_of(vmid), SignedDuration::from_hours(1))
            .await
            .expect("usage");
    }

    let events: Vec<LabEvent> = pending(&w.lab, "dm")
        .await
        .into_iter()
        .map(|e| e.event)
        .collect();
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

#[tokio::test]
async fn a_waiting_consumer_wakes_when_an_event_is_committed() {
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    let student = w.student("s").await;
    let waiting = tokio::spawn({
        let lab = w.lab.clone();
        async move { lab.next_events(&consumer("dm"), 10).await }
    });
    // Changes that announce nothing do not end the wait.
    w.class("other", 5).await;
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());

    w.join(&student, &token).await;

    let got = tokio::time::timeout(PATIENCE, waiting)
        .await
        .expect("woken")
        .expect("task")
        .expect("read");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event.recipient(), Some(student.uid()));
}

#[tokio::test]
async fn next_events_returns_at_once_when_events_are_waiting() {
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 0).await;
    w.join(&w.student("s").await, &token).await;
    let got = tokio::time::timeout(PATIENCE, w.lab.next_events(&consumer("dm"), 10))
        .await
        .expect("no wait")
        .expect("read");
    assert_eq!(got.len(), 1);
}

#[tokio::test]
async fn a_subscription_is_poked_only_by_commits_that_wrote_events() {
    let w = world().await;
    let (_class, token) = class_with_vms(&w, "c", 5, 1).await;
    let mut wakeup = w.lab.subscribe();

    // Gets the free VM: no event.
    w.join(&w.student("a").await, &token).await;
    assert!(!wakeup.has_changed());
    // Waits: an event.
    w.join(&w.student("b").await, &token).await;
    assert!(wakeup.has_changed());
    assert!(wakeup.changed().await);
    assert!(!wakeup.has_changed());
}
