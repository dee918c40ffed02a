//! The core's events as the messages people receive (direct messages on Discord, `[dm to …]`
//! lines in the console): the one place they are worded.
//!
//! A message is a [`Reply`] like any command's answer, so each front end shows it its own way,
//! buttons included (Discord components; command lines in the console). Buttons are offered
//! only for commands this build runs.

use pvelab_core::events::{LabEvent, ShutdownReason};

use crate::commands::{ButtonStyle, Reply};

/// The message for `event`, or `None` when it is addressed to nobody (a VM nobody holds, an
/// event this build cannot read). `class` is the class's name when the event does not carry it
/// (the delivery looks it up); `None` when the class is gone.
pub fn event_message(event: &LabEvent, class: Option<&str>) -> Option<Reply> {
    event.recipient()?;
    let class = class.unwrap_or("your class");
    let reply = match event {
        LabEvent::Waitlisted {
            class_name,
            position,
            ..
        } => Reply::text(format!(
            "No VM of {class_name} is free yet: you are number {position} on the waitlist."
        ))
        .line("You will get a message here as soon as a VM is yours."),
        LabEvent::AssignedFromWaitlist {
            class_name, vmid, ..
        } => Reply::text(format!("Your VM in {class_name} is ready (VM {vmid}).")).button(
            "My VM",
            format!("/myvm class:{class_name}"),
            ButtonStyle::Primary,
        ),
        LabEvent::QuotaWarning {
            percent,
            used,
            limit,
            ..
        } => Reply::text(format!(
            "Your VM in {class} has used {percent} % of its quota: {used:.1} of {limit} hours."
        ))
        .line(
            "When the quota is used up, the VM is stopped and cannot be started until your \
             teacher resets your usage.",
        ),
        LabEvent::QuotaExhausted { used, limit, .. } => Reply::text(format!(
            "Your VM in {class} has used its whole quota: {used:.1} of {limit} hours."
        ))
        .line("It cannot be started again until your teacher resets your usage."),
        LabEvent::ShutdownWarning {
            vmid,
            reason,
            in_minutes,
            ..
        } => Reply::text(format!(
            "Your VM in {class} (VM {vmid}) will be shut down in {in_minutes} minute{}: {}.",
            if *in_minutes == 1 { "" } else { "s" },
            reason_words(reason)
        ))
        // No "Keep running" button yet: the core offers no call to keep a VM running.
        .line("Save your work now."),
        LabEvent::VmShutDown { vmid, reason, .. } => Reply::text(format!(
            "Your VM in {class} (VM {vmid}) was shut down because {}.",
            reason_words(reason)
        )),
        LabEvent::VmStartedForSession { vmid, .. } => Reply::text(format!(
            "Your VM in {class} (VM {vmid}) was started for the class session that opens soon."
        ))
        .line("Time in the session does not count against your quota."),
        // `recipient()` is `None` for these, handled above; new kinds get no message until
        // they are worded here.
        _ => return None,
    };
    Some(reply)
}

/// Why a VM is (or was) shut down, as the end of a sentence.
fn reason_words(reason: &ShutdownReason) -> String {
    match reason {
        ShutdownReason::Idle { threshold, minutes } => {
            format!("its CPU stayed below {threshold} % for {minutes} minutes")
        }
        ShutdownReason::OutsideHours { window, zone } => {
            format!("your class allows VMs only {window} {zone}")
        }
        ShutdownReason::QuotaExhausted { limit } => {
            format!("its usage quota of {limit} hours is used up")
        }
        ShutdownReason::SessionEnded { .. } => "your class's session ended".to_owned(),
        // A reason added to the core later: its own wording until it gets one here.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use pvelab_core::types::{ClassId, ClassName, HoursWindow, UserId, VmId};

    use super::*;
    use crate::render::text::plain;

    fn net101() -> ClassName {
        ClassName::parse("net101").unwrap()
    }

    fn shown(event: &LabEvent) -> String {
        plain(&event_message(event, Some("net101")).expect("a message"))
    }

    const ALICE: UserId = UserId::new(7);
    const CLASS: ClassId = ClassId::new(3);

    #[test]
    fn a_student_served_from_the_waitlist_hears_their_vm_is_ready_with_a_button_to_see_it() {
        let text = shown(&LabEvent::AssignedFromWaitlist {
            user_id: ALICE,
            class_id: CLASS,
            class_name: net101(),
            vmid: VmId::new(4105).unwrap(),
        });
        assert_eq!(
            text,
            "Your VM in net101 is ready (VM 4105).\n[My VM] /myvm class:net101"
        );
    }

    #[test]
    fn a_waitlisted_student_hears_their_place_in_line() {
        let text = shown(&LabEvent::Waitlisted {
            user_id: ALICE,
            class_id: CLASS,
            class_name: net101(),
            position: 2,
        });
        assert!(
            text.starts_with("No VM of net101 is free yet: you are number 2 on the waitlist."),
            "{text}"
        );
    }

    #[test]
    fn quota_messages_say_how_much_is_used_and_what_follows() {
        let warning = shown(&LabEvent::QuotaWarning {
            user_id: ALICE,
            class_id: CLASS,
            percent: 80,
            used: 32.04,
            limit: 40,
        });
        assert!(
            warning.starts_with("Your VM in net101 has used 80 % of its quota: 32.0 of 40 hours."),
            "{warning}"
        );
        let exhausted = shown(&LabEvent::QuotaExhausted {
            user_id: ALICE,
            class_id: CLASS,
            used: 40.0,
            limit: 40,
        });
        assert_eq!(
            exhausted,
            "Your VM in net101 has used its whole quota: 40.0 of 40 hours.\n\
             It cannot be started again until your teacher resets your usage."
        );
    }

    #[test]
    fn shutdown_messages_give_the_reason_in_words() {
        let idle = ShutdownReason::Idle {
            threshold: 5,
            minutes: 30,
        };
        let warning = shown(&LabEvent::ShutdownWarning {
            user_id: Some(ALICE),
            class_id: CLASS,
            vmid: VmId::new(4105).unwrap(),
            reason: idle.clone(),
            in_minutes: 1,
        });
        assert_eq!(
            warning,
            "Your VM in net101 (VM 4105) will be shut down in 1 minute: its CPU stayed below 5 % \
             for 30 minutes.\nSave your work now."
        );
        let hours = ShutdownReason::OutsideHours {
            window: HoursWindow::parse("08-18").unwrap(),
            zone: "Europe/Berlin".into(),
        };
        let down = shown(&LabEvent::VmShutDown {
            user_id: Some(ALICE),
            class_id: CLASS,
            vmid: VmId::new(4105).unwrap(),
            reason: hours,
        });
        assert_eq!(
            down,
            "Your VM in net101 (VM 4105) was shut down because your class allows VMs only \
             08:00-18:00 Europe/Berlin."
        );
    }

    #[test]
    fn a_class_that_is_gone_is_called_your_class() {
        let event = LabEvent::QuotaExhausted {
            user_id: ALICE,
            class_id: CLASS,
            used: 40.0,
            limit: 40,
        };
        let text = plain(&event_message(&event, None).unwrap());
        assert!(text.starts_with("Your VM in your class has used"), "{text}");
    }

    #[test]
    fn events_addressed_to_nobody_have_no_message() {
        let unheld = LabEvent::VmShutDown {
            user_id: None,
            class_id: CLASS,
            vmid: VmId::new(4105).unwrap(),
            reason: ShutdownReason::QuotaExhausted { limit: 40 },
        };
        assert_eq!(event_message(&unheld, Some("net101")), None);
        let unknown = LabEvent::Unrecognized {
            kind: "from_the_future".into(),
        };
        assert_eq!(event_message(&unknown, None), None);
    }
}
