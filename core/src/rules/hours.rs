//! Restricted hours: may a class's VMs run at this instant?
//!
//! The window is read on the wall clock of the class's time zone, so on daylight-saving days it
//! follows local time: a `08-18` window in Europe/Berlin opens at 07:00 UTC in winter and at
//! 06:00 UTC in summer, and on the spring-forward day the skipped hour 02:00-03:00 simply does
//! not occur.

use jiff::civil::Time;
use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::types::{ClassTimeZone, HoursWindow};

/// The wall-clock time in `zone` at `now`.
pub fn local_time(zone: &ClassTimeZone, now: Timestamp) -> Time {
    now.to_zoned(zone.tz().clone()).time()
}

/// Whether `now` lies inside `window` on the wall clock of `zone`.
pub fn is_within(window: HoursWindow, zone: &ClassTimeZone, now: Timestamp) -> bool {
    let hour = local_time(zone, now).hour();
    // `hour()` is 0-23, so the conversion cannot fail; treat the impossible case as outside.
    u8::try_from(hour).is_ok_and(|h| window.contains(h))
}

/// Accepts `now` when the class has no restricted hours (`window` is `None`) or `now` is inside
/// them.
///
/// # Errors
/// [`Error::OutsideHours`] with the window, the zone's name and the current local time, so the
/// message can read "the class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now".
///
/// # Examples
/// ```
/// use pvelab_core::rules::hours::check;
/// use pvelab_core::types::{ClassTimeZone, HoursWindow};
/// let berlin = ClassTimeZone::parse("Europe/Berlin")?;
/// let window = HoursWindow::new(8, 18)?;
/// let evening: jiff::Timestamp = "2026-11-26T18:12:00Z".parse()?; // 19:12 in Berlin
/// let refusal = check(Some(window), &berlin, evening).unwrap_err();
/// assert!(refusal.to_string().contains("it is 19:12 there now"));
/// assert!(check(None, &berlin, evening).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check(window: Option<HoursWindow>, zone: &ClassTimeZone, now: Timestamp) -> Result<()> {
    match window {
        Some(w) if !is_within(w, zone, now) => Err(Error::OutsideHours {
            window: w,
            zone: zone.clone(),
            local_time: local_time(zone, now),
        }),
        _ => Ok(()),
    }
}

/// The next instant after `now` at which the wall clock of `zone` reaches `hour`:00. When a
/// daylight-saving jump skips that hour, it is the instant of the jump; when the hour happens
/// twice, the first one. `None` only at the far end of the representable time range.
pub fn next_local_hour(hour: u8, zone: &ClassTimeZone, now: Timestamp) -> Option<Timestamp> {
    let mut date = now.to_zoned(zone.tz().clone()).date();
    let hour = i8::try_from(hour).ok().filter(|h| *h < 24)?;
    // Today's occurrence may have passed; tomorrow's cannot have, and a DST jump moves a local
    // hour by at most a few hours, so two days always suffice (three for safety).
    for _ in 0..3 {
        let candidate = date.at(hour, 0, 0, 0).to_zoned(zone.tz().clone()).ok()?;
        if candidate.timestamp() > now {
            return Some(candidate.timestamp());
        }
        date = date.tomorrow().ok()?;
    }
    None
}

/// When the window closes, if `now` is inside it: the moment to warn before (and then shut
/// down) student VMs. `None` when `now` is outside the window.
pub fn closes_at(window: HoursWindow, zone: &ClassTimeZone, now: Timestamp) -> Option<Timestamp> {
    if is_within(window, zone, now) {
        next_local_hour(window.end(), zone, now)
    } else {
        None
    }
}

/// When the window next opens, if `now` is outside it, so a refusal can say when to come back.
/// `None` when `now` is inside the window.
pub fn opens_at(window: HoursWindow, zone: &ClassTimeZone, now: Timestamp) -> Option<Timestamp> {
    if is_within(window, zone, now) {
        None
    } else {
        next_local_hour(window.start(), zone, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn berlin() -> ClassTimeZone {
        ClassTimeZone::parse("Europe/Berlin").unwrap()
    }

    fn w(start: i64, end: i64) -> HoursWindow {
        HoursWindow::new(start, end).unwrap()
    }

    #[test]
    fn a_day_window_opens_at_local_eight_in_winter() {
        // CET = UTC+1
        assert!(!is_within(w(8, 18), &berlin(), ts("2026-01-15T06:59:59Z")));
        assert!(is_within(w(8, 18), &berlin(), ts("2026-01-15T07:00:00Z")));
        assert!(is_within(w(8, 18), &berlin(), ts("2026-01-15T16:59:59Z")));
        assert!(!is_within(w(8, 18), &berlin(), ts("2026-01-15T17:00:00Z")));
    }

    #[test]
    fn a_day_window_opens_an_hour_earlier_in_utc_in_summer() {
        // CEST = UTC+2
        assert!(is_within(w(8, 18), &berlin(), ts("2026-07-15T06:00:00Z")));
        assert!(!is_within(w(8, 18), &berlin(), ts("2026-07-15T16:00:00Z")));
    }

    #[test]
    fn a_window_that_wraps_past_midnight_allows_two_am() {
        assert!(is_within(w(22, 6), &berlin(), ts("2026-01-15T01:00:00Z"))); // 02:00 local
        assert!(!is_within(w(22, 6), &berlin(), ts("2026-01-15T11:00:00Z"))); // 12:00 local
        assert!(is_within(w(22, 6), &berlin(), ts("2026-01-15T21:00:00Z"))); // 22:00 local
        assert!(!is_within(w(22, 6), &berlin(), ts("2026-01-15T05:00:00Z"))); // 06:00 local
    }

    #[test]
    fn on_the_spring_forward_day_the_local_clock_jumps_from_two_to_three() {
        // 2026-03-29 in Berlin: 01:59:59 CET (00:59:59Z) is followed by 03:00 CEST (01:00Z).
        let before = ts("2026-03-29T00:59:59Z");
        let after = ts("2026-03-29T01:00:00Z");
        assert_eq!(local_time(&berlin(), before), Time::constant(1, 59, 59, 0));
        assert_eq!(local_time(&berlin(), after), Time::constant(3, 0, 0, 0));
        // A window 03-05 opens at once at the jump; the hour 02 never happens that night.
        assert!(!is_within(w(3, 5), &berlin(), before));
        assert!(is_within(w(3, 5), &berlin(), after));
        assert!(!is_within(w(2, 3), &berlin(), before));
        assert!(!is_within(w(2, 3), &berlin(), after));
        // After the jump the day window already follows summer time (UTC+2).
        assert!(is_within(w(8, 18), &berlin(), ts("2026-03-29T06:00:00Z")));
        assert!(!is_within(w(8, 18), &berlin(), ts("2026-03-29T16:00:00Z")));
    }

    #[test]
    fn on_the_fall_back_day_the_hour_from_two_to_three_happens_twice() {
        // 2026-10-25 in Berlin: 02:00-03:00 CEST (00:00Z-01:00Z), then again in CET (01:00Z-02:00Z).
        for instant in ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"] {
            assert_eq!(local_time(&berlin(), ts(instant)).hour(), 2, "{instant}");
            assert!(is_within(w(2, 3), &berlin(), ts(instant)), "{instant}");
        }
        assert!(!is_within(w(2, 3), &berlin(), ts("2026-10-25T02:00:00Z"))); // 03:00 CET
                                                                             // A night window 22-03 therefore lasts six real hours that night.
        let open = (0..24 * 4)
            .map(|q| ts("2026-10-24T12:00:00Z") + jiff::SignedDuration::from_mins(15 * q))
            .filter(|t| is_within(w(22, 3), &berlin(), *t))
            .count();
        assert_eq!(open, 6 * 4);
    }

    #[test]
    fn the_refusal_names_window_zone_and_local_time() {
        let e = check(Some(w(8, 18)), &berlin(), ts("2026-11-26T18:12:40Z")).unwrap_err();
        match &e {
            Error::OutsideHours {
                window,
                zone,
                local_time,
            } => {
                assert_eq!(*window, w(8, 18));
                assert_eq!(zone.name(), "Europe/Berlin");
                assert_eq!(*local_time, Time::constant(19, 12, 40, 0));
            }
            other => panic!("expected OutsideHours, got {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "the class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now"
        );
    }

    #[test]
    fn no_window_means_any_time() {
        assert!(check(None, &berlin(), ts("2026-11-26T03:00:00Z")).is_ok());
    }

    #[test]
    fn a_day_window_closes_at_local_six_pm_and_reopens_next_morning() {
        let now = ts("2026-11-26T09:30:00Z"); // 10:30 CET
        assert_eq!(
            closes_at(w(8, 18), &berlin(), now),
            Some(ts("2026-11-26T17:00:00Z"))
        );
        assert_eq!(opens_at(w(8, 18), &berlin(), now), None);
        let evening = ts("2026-11-26T18:12:00Z"); // 19:12 CET
        assert_eq!(closes_at(w(8, 18), &berlin(), evening), None);
        assert_eq!(
            opens_at(w(8, 18), &berlin(), evening),
            Some(ts("2026-11-27T07:00:00Z"))
        );
    }

    #[test]
    fn a_night_window_closes_the_next_morning() {
        let now = ts("2026-11-26T22:00:00Z"); // 23:00 CET
        assert_eq!(
            closes_at(w(22, 6), &berlin(), now),
            Some(ts("2026-11-27T05:00:00Z"))
        );
    }

    #[test]
    fn a_window_ending_in_the_skipped_hour_closes_at_the_jump() {
        // 2026-03-29: local 02:00 does not exist; the clock jumps from 02:00 CET to 03:00 CEST
        // at 01:00Z, and that is when a window ending at 02 closes.
        let now = ts("2026-03-28T23:30:00Z"); // 00:30 CET
        assert_eq!(
            closes_at(w(22, 2), &berlin(), now),
            Some(ts("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn a_window_opening_in_the_repeated_hour_opens_at_its_first_occurrence() {
        // 2026-10-25: local 02:00 happens at 00:00Z (CEST) and again at 01:00Z (CET).
        let now = ts("2026-10-24T20:00:00Z"); // 22:00 CEST
        assert_eq!(
            opens_at(w(2, 5), &berlin(), now),
            Some(ts("2026-10-25T00:00:00Z"))
        );
        // Across the fall-back night a 02-05 window therefore stays open four real hours.
        let close = closes_at(w(2, 5), &berlin(), ts("2026-10-25T00:00:00Z")).unwrap();
        assert_eq!(close, ts("2026-10-25T04:00:00Z"));
    }

    proptest! {
        #[test]
        fn the_window_changes_state_exactly_at_its_next_boundary(
            start in 0i64..24, end in 0i64..24, secs in 1_700_000_000i64..1_900_000_000
        ) {
            prop_assume!(start != end);
            let (win, zone) = (w(start, end), berlin());
            let now = Timestamp::from_second(secs).unwrap();
            let inside = is_within(win, &zone, now);
            let boundary = if inside { closes_at(win, &zone, now) } else { opens_at(win, &zone, now) };
            let boundary = boundary.unwrap();
            prop_assert!(boundary > now);
            // Skipped hours can make a boundary coincide with the other one (e.g. a 02-03
            // window on the spring-forward night never opens), so compare states only when the
            // boundary really flips it.
            let just_before = boundary - jiff::SignedDuration::from_secs(1);
            prop_assert_eq!(is_within(win, &zone, just_before), inside);
            // Whenever the boundary hour really occurs on the wall clock, the state flips there.
            let target = if inside { win.end() } else { win.start() };
            if local_time(&zone, boundary).hour() == i8::try_from(target).unwrap() {
                prop_assert_ne!(is_within(win, &zone, boundary), inside);
            }
        }

        #[test]
        fn a_window_and_its_complement_split_every_instant(
            start in 0i64..24, end in 0i64..24, secs in 1_700_000_000i64..1_900_000_000
        ) {
            prop_assume!(start != end);
            let now = Timestamp::from_second(secs).unwrap();
            let inside = is_within(w(start, end), &berlin(), now);
            let outside = is_within(w(end, start), &berlin(), now);
            prop_assert!(inside != outside);
        }

        #[test]
        fn a_window_allows_exactly_its_hours_of_a_utc_day(start in 0i64..24, end in 0i64..24) {
            prop_assume!(start != end);
            let day = ts("2026-05-05T00:00:00Z");
            let open = (0..24)
                .filter(|h| is_within(w(start, end), &ClassTimeZone::utc(),
                    day + jiff::SignedDuration::from_hours(*h)))
                .count();
            prop_assert_eq!(open, usize::from(w(start, end).allowed_hours()));
        }
    }
}
