use std::time::Duration;

use jiff::civil::Time;
use pvelab_core::model::{Action, Requirement};
use pvelab_core::types::{ClusterId, Cores, HoursWindow, VmId};

use super::*;
use crate::render::text::plain;

fn shown(error: Error) -> String {
    plain(&error_reply(&CommandError::Core(error)))
}

#[test]
fn an_unexpected_error_shows_a_reference_and_no_details() {
    let text = shown(Error::Internal {
        reason: "database: /var/lib/secret.db is locked".into(),
    });
    assert!(text.starts_with("Something went wrong (ref "), "{text}");
    assert!(!text.contains("secret.db"));
}

#[test]
fn references_are_six_unambiguous_characters() {
    for _ in 0..100 {
        let r = reference();
        assert_eq!(r.len(), 6);
        assert!(!r.contains(['0', 'O', '1', 'I']), "{r}");
    }
}

#[test]
fn a_refusal_says_what_was_refused_what_it_needs_and_whom_to_ask() {
    let text = shown(Error::NotPermitted {
        action: Action::DeleteClass,
        needed: Requirement::PrimaryTeacher,
    });
    assert!(
        text.starts_with(
            "You may not delete a class: that needs being this class's primary teacher"
        ),
        "{text}"
    );
    assert!(text.ends_with("ask an administrator."), "{text}");
}

#[test]
fn outside_hours_names_window_zone_and_local_time() {
    let text = shown(Error::OutsideHours {
        window: HoursWindow::new(8, 18).unwrap(),
        zone: pvelab_core::types::ClassTimeZone::parse("Europe/Berlin").unwrap(),
        local_time: Time::constant(19, 12, 0, 0),
    });
    assert_eq!(
        text,
        "Your class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now.\nTry again during those hours."
    );
}

#[test]
fn token_errors_tell_the_student_what_to_do() {
    assert!(shown(Error::TokenInvalid).contains("ask your teacher"));
    let at = "2025-01-02T10:00:00Z".parse().unwrap();
    let text = shown(Error::TokenExpired { expired_at: at });
    assert!(
        text.contains("expired on 2025-01-02 10:00 UTC") && text.contains("new one"),
        "{text}"
    );
}

#[test]
fn a_rate_limit_says_when_to_come_back() {
    let text = shown(Error::RateLimited {
        retry_after: Duration::from_secs(40),
    });
    assert!(text.ends_with("Try again in 40 seconds."), "{text}");
}

#[test]
fn the_per_user_command_limit_says_when_to_come_back_rounded_up() {
    let text = plain(&error_reply(&CommandError::RateLimited {
        retry_after: Duration::from_millis(2300),
    }));
    assert_eq!(
        text,
        "You are running commands too quickly.\nTry again in 3 seconds."
    );
    let text = plain(&error_reply(&CommandError::RateLimited {
        retry_after: Duration::from_millis(200),
    }));
    assert!(text.ends_with("Try again in 1 second."), "{text}");
    assert!(
        error_reply(&CommandError::RateLimited {
            retry_after: Duration::from_secs(1)
        })
        .ephemeral
    );
}

#[test]
fn an_invalid_value_names_field_value_and_what_is_allowed() {
    let invalid = Cores::new(99).unwrap_err();
    let text = shown(Error::InvalidValue(invalid));
    assert_eq!(
        text,
        "cpu cores: \"99\" is not allowed.\nAllowed: a whole number from 1 to 64."
    );
}

#[test]
fn cluster_problems_point_administrators_at_the_cause() {
    let text = shown(Error::Cluster {
        cluster: ClusterId::parse("pve1").unwrap(),
        problem: ClusterProblem::Untrusted {
            presented: Some("AB:CD".into()),
            detail: "pin mismatch".into(),
        },
    });
    assert!(text.contains("presented fingerprint AB:CD"), "{text}");
    assert!(text.contains("compare the cluster's fingerprint"), "{text}");
    let text = shown(Error::VmHeld {
        vmid: VmId::new(1201).unwrap(),
    });
    assert!(text.contains("/pool unassign"), "{text}");
}

#[test]
fn usage_and_option_errors_are_shown_as_they_are() {
    let e = crate::parse::OptionError::new("memory", "4X", "a size such as 4G");
    let text = plain(&error_reply(&CommandError::Option(e.clone())));
    assert_eq!(text, e.to_string());
    assert!(error_reply(&CommandError::Option(e)).ephemeral);
}

#[test]
fn missing_checks_submissions_and_own_vms_point_at_the_command_that_lists_them() {
    let text = shown(Error::NotFound {
        entity: pvelab_core::Entity::Check,
        key: "\"nginx\"".into(),
    });
    assert_eq!(
        text,
        "There is no check \"nginx\".\n/check list shows the class's checks."
    );
    let text = shown(Error::NotFound {
        entity: pvelab_core::Entity::Submission,
        key: "submit-20260131T081530Z of bob".into(),
    });
    assert!(
        text.ends_with("/class submissions lists the class's submissions."),
        "{text}"
    );
    let text = shown(Error::NotFound {
        entity: pvelab_core::Entity::Vm,
        key: "held by you in class net101".into(),
    });
    assert_eq!(
        text,
        "There is no VM held by you in class net101.\n/myvm shows your VMs; you get one by \
         joining a class with /join."
    );
}
