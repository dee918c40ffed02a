//! Usage accounting from inventory ticks: only time a VM was seen running is charged.
//!
//! Each tick that sees a student's VM running charges the time since the last tick that saw it
//! running, capped by the tick interval (a scheduler that was down for a night charges nobody
//! for the night) and by the VM's uptime (a VM restarted in between ran only that long). The
//! instant charged up to is stored with the VM in the same transaction as the charge, so a
//! restart continues from it and never charges the same time twice.

use jiff::{SignedDuration, Timestamp};

/// The running time to charge at `now` for a VM seen running now, which was last charged up to
/// `accounted_at` (`None`: the last tick did not see it running, so nothing is charged yet).
pub(crate) fn running_time(
    accounted_at: Option<Timestamp>,
    now: Timestamp,
    uptime_secs: Option<u64>,
    cap: SignedDuration,
) -> SignedDuration {
    let Some(since) = accounted_at else {
        return SignedDuration::ZERO;
    };
    let mut ran = now.duration_since(since).min(cap);
    if let Some(uptime) = uptime_secs.and_then(|u| i64::try_from(u).ok()) {
        ran = ran.min(SignedDuration::from_secs(uptime));
    }
    ran.max(SignedDuration::ZERO)
}

/// Hours in a duration, for `usage_hours`.
pub(crate) fn hours(ran: SignedDuration) -> f64 {
    ran.as_secs_f64().max(0.0) / 3600.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    const CAP: SignedDuration = SignedDuration::from_secs(66);

    #[test]
    fn the_first_tick_that_sees_a_vm_running_charges_nothing() {
        assert_eq!(
            running_time(None, at("2027-01-01T10:00:00Z"), Some(5000), CAP),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn time_between_two_ticks_that_saw_it_running_is_charged() {
        let ran = running_time(
            Some(at("2027-01-01T10:00:00Z")),
            at("2027-01-01T10:01:00Z"),
            Some(5000),
            CAP,
        );
        assert_eq!(ran, SignedDuration::from_secs(60));
        assert!((hours(ran) - 1.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn a_long_gap_between_ticks_is_capped_by_the_interval() {
        let ran = running_time(
            Some(at("2027-01-01T10:00:00Z")),
            at("2027-01-01T18:00:00Z"),
            Some(100_000),
            CAP,
        );
        assert_eq!(ran, CAP);
    }

    #[test]
    fn a_vm_restarted_between_ticks_is_charged_its_uptime_only() {
        let ran = running_time(
            Some(at("2027-01-01T10:00:00Z")),
            at("2027-01-01T10:01:00Z"),
            Some(20),
            CAP,
        );
        assert_eq!(ran, SignedDuration::from_secs(20));
    }

    #[test]
    fn a_clock_that_went_backwards_charges_nothing() {
        let ran = running_time(
            Some(at("2027-01-01T10:01:00Z")),
            at("2027-01-01T10:00:00Z"),
            None,
            CAP,
        );
        assert_eq!(ran, SignedDuration::ZERO);
    }
}
