//! The stored form of events is a format kept forever: these tests pin every kind and field
//! name, so renaming one fails here before it strands events already in an outbox.

use proptest::prelude::*;

use super::*;

fn vmid(n: i64) -> VmId {
    VmId::new(n).expect("vmid")
}

/// Every kind of event with its exact stored form.
fn pinned() -> Vec<(LabEvent, &'static str)> {
    let net = ClassName::parse("Networks 101").expect("name");
    vec![
        (
            LabEvent::Waitlisted {
                user_id: UserId::new(7),
                class_id: ClassId::new(3),
                class_name: net.clone(),
                position: 2,
            },
            r#"{"kind":"waitlisted","user_id":7,"class_id":3,"class_name":"Networks 101","position":2}"#,
        ),
        (
            LabEvent::AssignedFromWaitlist {
                user_id: UserId::new(7),
                class_id: ClassId::new(3),
                class_name: net,
                vmid: vmid(4101),
            },
            r#"{"kind":"assigned_from_waitlist","user_id":7,"class_id":3,"class_name":"Networks 101","vmid":4101}"#,
        ),
        (
            LabEvent::QuotaWarning {
                user_id: UserId::new(7),
                class_id: ClassId::new(3),
                percent: 80,
                used: 8.5,
                limit: 10,
            },
            r#"{"kind":"quota_warning","user_id":7,"class_id":3,"percent":80,"used_hours":8.5,"limit_hours":10}"#,
        ),
        (
            LabEvent::QuotaExhausted {
                user_id: UserId::new(7),
                class_id: ClassId::new(3),
                used: 10.0,
                limit: 10,
            },
            r#"{"kind":"quota_exhausted","user_id":7,"class_id":3,"used_hours":10.0,"limit_hours":10}"#,
        ),
        (
            LabEvent::ShutdownWarning {
                user_id: Some(UserId::new(7)),
                class_id: ClassId::new(3),
                vmid: vmid(4101),
                reason: ShutdownReason::Idle {
                    threshold: 5,
                    minutes: 30,
                },
                in_minutes: 10,
            },
            r#"{"kind":"shutdown_warning","user_id":7,"class_id":3,"vmid":4101,"reason":{"kind":"idle","threshold_percent":5,"idle_minutes":30},"in_minutes":10}"#,
        ),
        (
            LabEvent::VmShutDown {
                user_id: None,
                class_id: ClassId::new(3),
                vmid: vmid(4100),
                reason: ShutdownReason::OutsideHours {
                    window: HoursWindow::new(8, 18).expect("window"),
                    zone: "Europe/Berlin".into(),
                },
            },
            r#"{"kind":"vm_shut_down","user_id":null,"class_id":3,"vmid":4100,"reason":{"kind":"outside_hours","window":"08:00-18:00","zone":"Europe/Berlin"}}"#,
        ),
        (
            LabEvent::VmShutDown {
                user_id: Some(UserId::new(8)),
                class_id: ClassId::new(3),
                vmid: vmid(4102),
                reason: ShutdownReason::QuotaExhausted { limit: 5 },
            },
            r#"{"kind":"vm_shut_down","user_id":8,"class_id":3,"vmid":4102,"reason":{"kind":"quota_exhausted","limit_hours":5}}"#,
        ),
        (
            LabEvent::VmRebuilt {
                user_id: UserId::new(7),
                class_id: ClassId::new(3),
                vmid: vmid(4101),
                reason: RebuildReason::Vanished,
            },
            r#"{"kind":"vm_rebuilt","user_id":7,"class_id":3,"vmid":4101,"reason":"vanished"}"#,
        ),
        (
            LabEvent::VmRemoved {
                user_id: UserId::new(7),
                class_id: ClassId::new(3),
                vmid: vmid(4101),
            },
            r#"{"kind":"vm_removed","user_id":7,"class_id":3,"vmid":4101}"#,
        ),
    ]
}

#[test]
fn every_kind_has_its_pinned_stored_form_and_reads_back() {
    for (event, json) in pinned() {
        assert_eq!(serde_json::to_string(&event).expect("serialize"), json);
        let back: LabEvent = serde_json::from_str(json).expect(json);
        assert_eq!(back, event);
    }
}

#[test]
fn a_missing_optional_field_and_an_unknown_extra_field_still_read() {
    // A newer pvelab may add optional fields; an older entry may lack an optional one.
    let json = r#"{"kind":"vm_shut_down","class_id":3,"vmid":4100,"extra":1,
        "reason":{"kind":"quota_exhausted","limit_hours":5}}"#;
    let event: LabEvent = serde_json::from_str(json).expect("reads");
    assert_eq!(event.recipient(), None);
    assert_eq!(event.class_id(), Some(ClassId::new(3)));
}

#[test]
fn stored_values_are_checked_by_their_types_when_read() {
    let json = r#"{"kind":"assigned_from_waitlist","user_id":7,"class_id":3,
        "class_name":"@everyone","vmid":4101}"#;
    assert!(serde_json::from_str::<LabEvent>(json).is_err());
    let json = r#"{"kind":"assigned_from_waitlist","user_id":7,"class_id":3,
        "class_name":"net","vmid":42}"#;
    assert!(serde_json::from_str::<LabEvent>(json).is_err());
}

#[test]
fn an_unrecognized_entry_is_never_written() {
    let e = LabEvent::Unrecognized {
        kind: "future".into(),
    };
    assert!(serde_json::to_string(&e).is_err());
    assert_eq!(e.recipient(), None);
    assert_eq!(e.class_id(), None);
    let unknown = r#"{"kind":"unrecognized","kind_was":"x"}"#;
    assert!(serde_json::from_str::<LabEvent>(unknown).is_err());
}

proptest! {
    /// Hours used are fractional; the stored form must give back the very same number.
    #[test]
    fn hours_used_read_back_exactly(used in 0.0f64..1.0e6, limit in 1u16..10_000) {
        let event = LabEvent::QuotaExhausted {
            user_id: UserId::new(1),
            class_id: ClassId::new(1),
            used,
            limit,
        };
        let json = serde_json::to_string(&event).expect("serialize");
        prop_assert_eq!(serde_json::from_str::<LabEvent>(&json).expect("read"), event);
    }
}

#[test]
fn shutdown_reasons_read_as_explanations() {
    let r = ShutdownReason::OutsideHours {
        window: HoursWindow::new(8, 18).expect("window"),
        zone: "Europe/Berlin".into(),
    };
    assert_eq!(
        r.to_string(),
        "your class allows VMs only 08:00-18:00 Europe/Berlin"
    );
    let idle = ShutdownReason::Idle {
        threshold: 5,
        minutes: 30,
    };
    assert_eq!(idle.to_string(), "its CPU stayed below 5% for 30 minutes");
}

#[test]
fn shutdowns_of_unassigned_vms_have_no_recipient() {
    let e = LabEvent::VmShutDown {
        user_id: None,
        class_id: ClassId::new(1),
        vmid: vmid(1201),
        reason: ShutdownReason::QuotaExhausted { limit: 5 },
    };
    assert_eq!(e.recipient(), None);
}
