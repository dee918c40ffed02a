//! The decisions of each inventory tick about one running pool VM, as pure functions: restricted
//! hours (warn ahead of the end, shut down outside the window), idle shutdown (warn after the
//! idle span, shut down after the grace time) and the progress of a decided shutdown.
//!
//! The inventory tick feeds them the facts of one tick and the VM's watch row, and writes what
//! they decide (events, watch changes) in its transaction.

use jiff::{SignedDuration, Timestamp};

use crate::rules::hours;
use crate::rules::idle::{decide, CpuSample, IdlePolicy, IdleVerdict};
use crate::store::inventory::GuestState;
use crate::types::{ClassTimeZone, HoursWindow};

/// What restricted hours ask of a running VM at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoursStep {
    /// Nothing to do.
    Nothing,
    /// The window closes at `closes_at`, within the warning lead: warn once for it.
    Warn {
        closes_at: Timestamp,
        in_minutes: u32,
    },
    /// It runs outside the window: shut it down.
    ShutDown,
}

/// Restricted hours for a running VM. `warned_for` is the closing time a warning was already
/// sent for, so each closing is announced once.
pub(crate) fn hours_step(
    window: Option<HoursWindow>,
    zone: &ClassTimeZone,
    now: Timestamp,
    lead: SignedDuration,
    warned_for: Option<Timestamp>,
) -> HoursStep {
    let Some(window) = window else {
        return HoursStep::Nothing;
    };
    if !hours::is_within(window, zone, now) {
        return HoursStep::ShutDown;
    }
    match hours::closes_at(window, zone, now) {
        Some(closes_at)
            if closes_at.duration_since(now) <= lead && warned_for != Some(closes_at) =>
        {
            HoursStep::Warn {
                closes_at,
                in_minutes: minutes_until(now, closes_at),
            }
        }
        _ => HoursStep::Nothing,
    }
}

/// Whole minutes from `now` to `then`, rounded up (a warning never promises more time than
/// there is).
pub(crate) fn minutes_until(now: Timestamp, then: Timestamp) -> u32 {
    let secs = then.duration_since(now).as_secs().max(0);
    u32::try_from((secs + 59) / 60).unwrap_or(u32::MAX)
}

/// What idle shutdown asks of a running VM at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdleStep {
    /// Nothing to do.
    Nothing,
    /// Idle for the whole span and not warned yet: warn (with a way to keep it running).
    Warn,
    /// Warned at least the grace time ago and still idle: shut it down.
    ShutDown,
    /// It was warned but is busy again (or no longer watched): forget the warning.
    ClearWarning,
}

/// Idle shutdown for a running VM. `policy` is `None` when the class or the cluster has idle
/// shutdown off; `warned_at` is when the idle warning was sent.
pub(crate) fn idle_step(
    policy: Option<&IdlePolicy>,
    samples: &[CpuSample],
    now: Timestamp,
    grace: SignedDuration,
    warned_at: Option<Timestamp>,
) -> IdleStep {
    let Some(policy) = policy else {
        return if warned_at.is_some() {
            IdleStep::ClearWarning
        } else {
            IdleStep::Nothing
        };
    };
    match (decide(samples, policy, now), warned_at) {
        (IdleVerdict::Idle, None) => IdleStep::Warn,
        (IdleVerdict::Idle, Some(at)) if now.duration_since(at) >= grace => IdleStep::ShutDown,
        (IdleVerdict::Busy { .. }, Some(_)) => IdleStep::ClearWarning,
        _ => IdleStep::Nothing,
    }
}

/// What to do about a decided shutdown at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShutdownStep {
    /// The VM is seen stopped: announce that it was shut down and forget the decision.
    Done,
    /// The VM is gone: forget the decision without an announcement.
    Gone,
    /// Ask Proxmox to shut it down (`force`: power it off, a graceful attempt already timed out).
    Call { force: bool },
    /// A call is out and has time left, or the state is unknown: wait.
    Wait,
}

/// The progress of a decided shutdown. `requested_at` is when the last call went out; a guest
/// gets `force_after` to shut down gracefully (Proxmox powers it off then), plus a minute.
pub(crate) fn shutdown_step(
    state: Option<GuestState>,
    requested_at: Option<Timestamp>,
    attempts: u32,
    now: Timestamp,
    force_after: SignedDuration,
) -> ShutdownStep {
    match state {
        None => ShutdownStep::Gone,
        Some(GuestState::Stopped) => ShutdownStep::Done,
        Some(GuestState::Unknown) => ShutdownStep::Wait,
        Some(GuestState::Running) => match requested_at {
            Some(at) if now.duration_since(at) < force_after + SignedDuration::from_mins(1) => {
                ShutdownStep::Wait
            }
            _ => ShutdownStep::Call {
                force: attempts > 0,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{IdleMinutes, IdleThreshold};

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn berlin() -> ClassTimeZone {
        ClassTimeZone::parse("Europe/Berlin").unwrap()
    }

    fn window(start: i64, end: i64) -> Option<HoursWindow> {
        Some(HoursWindow::new(start, end).unwrap())
    }

    const LEAD: SignedDuration = SignedDuration::from_mins(10);

    #[test]
    fn a_vm_is_warned_once_within_the_lead_of_the_windows_end() {
        // 17:45 CET, the window 08-18 closes at 18:00 CET = 17:00 UTC.
        let now = at("2027-01-15T16:45:00Z");
        assert_eq!(
            hours_step(window(8, 18), &berlin(), now, LEAD, None),
            HoursStep::Nothing
        );
        let now = at("2027-01-15T16:52:30Z");
        let step = hours_step(window(8, 18), &berlin(), now, LEAD, None);
        assert_eq!(
            step,
            HoursStep::Warn {
                closes_at: at("2027-01-15T17:00:00Z"),
                in_minutes: 8
            }
        );
        assert_eq!(
            hours_step(
                window(8, 18),
                &berlin(),
                now,
                LEAD,
                Some(at("2027-01-15T17:00:00Z"))
            ),
            HoursStep::Nothing
        );
    }

    #[test]
    fn a_vm_running_past_midnight_outside_a_night_window_is_shut_down() {
        // The window 18-00 closes at local midnight; 00:30 CET is outside it.
        let now = at("2027-01-15T23:30:00Z");
        assert_eq!(
            hours_step(window(18, 0), &berlin(), now, LEAD, None),
            HoursStep::ShutDown
        );
        // 23:55 CET: inside, five minutes before the end.
        let now = at("2027-01-15T22:55:00Z");
        assert!(matches!(
            hours_step(window(18, 0), &berlin(), now, LEAD, None),
            HoursStep::Warn { in_minutes: 5, .. }
        ));
    }

    #[test]
    fn without_restricted_hours_nothing_happens() {
        let now = at("2027-01-15T03:00:00Z");
        assert_eq!(
            hours_step(None, &berlin(), now, LEAD, None),
            HoursStep::Nothing
        );
    }

    fn policy() -> IdlePolicy {
        IdlePolicy::new(
            IdleThreshold::new(10).unwrap(),
            IdleMinutes::new(5).unwrap(),
            SignedDuration::from_secs(90),
        )
        .unwrap()
    }

    fn samples(now: Timestamp, percent: f64) -> Vec<CpuSample> {
        (0..=5)
            .map(|m| CpuSample {
                at: now - SignedDuration::from_mins(m),
                percent,
            })
            .collect()
    }

    const GRACE: SignedDuration = SignedDuration::from_mins(10);

    #[test]
    fn an_idle_vm_is_warned_then_shut_down_after_the_grace_time() {
        let now = at("2027-01-15T10:00:00Z");
        let quiet = samples(now, 1.0);
        assert_eq!(
            idle_step(Some(&policy()), &quiet, now, GRACE, None),
            IdleStep::Warn
        );
        let warned = Some(now);
        let later = now + SignedDuration::from_mins(9);
        let quiet = samples(later, 1.0);
        assert_eq!(
            idle_step(Some(&policy()), &quiet, later, GRACE, warned),
            IdleStep::Nothing
        );
        let later = now + GRACE;
        let quiet = samples(later, 1.0);
        assert_eq!(
            idle_step(Some(&policy()), &quiet, later, GRACE, warned),
            IdleStep::ShutDown
        );
    }

    #[test]
    fn a_busy_vm_is_left_alone_and_loses_its_warning() {
        let now = at("2027-01-15T10:00:00Z");
        let busy = samples(now, 60.0);
        assert_eq!(
            idle_step(Some(&policy()), &busy, now, GRACE, None),
            IdleStep::Nothing
        );
        assert_eq!(
            idle_step(Some(&policy()), &busy, now, GRACE, Some(now)),
            IdleStep::ClearWarning
        );
    }

    #[test]
    fn gaps_in_the_samples_never_count_as_idle() {
        let now = at("2027-01-15T10:00:00Z");
        let mut gappy = samples(now, 1.0);
        gappy.retain(|s| {
            s.at != now - SignedDuration::from_mins(2) && s.at != now - SignedDuration::from_mins(3)
        });
        assert_eq!(
            idle_step(Some(&policy()), &gappy, now, GRACE, None),
            IdleStep::Nothing
        );
    }

    #[test]
    fn a_decided_shutdown_is_called_waits_then_forces_and_ends_when_the_vm_stops() {
        let now = at("2027-01-15T10:00:00Z");
        let force = SignedDuration::from_mins(3);
        let running = Some(GuestState::Running);
        assert_eq!(
            shutdown_step(running, None, 0, now, force),
            ShutdownStep::Call { force: false }
        );
        let soon = now + SignedDuration::from_mins(2);
        assert_eq!(
            shutdown_step(running, Some(now), 1, soon, force),
            ShutdownStep::Wait
        );
        let late = now + SignedDuration::from_mins(4);
        assert_eq!(
            shutdown_step(running, Some(now), 1, late, force),
            ShutdownStep::Call { force: true }
        );
        assert_eq!(
            shutdown_step(Some(GuestState::Stopped), Some(now), 1, late, force),
            ShutdownStep::Done
        );
        assert_eq!(
            shutdown_step(None, Some(now), 1, late, force),
            ShutdownStep::Gone
        );
        assert_eq!(
            shutdown_step(Some(GuestState::Unknown), None, 0, late, force),
            ShutdownStep::Wait
        );
    }
}
