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
/// message can read "your class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now".
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
            zone: zone.name().to_owned(),
            local_time: local_time(zone, now),
        }),
        _ => Ok(()),
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
                assert_eq!(zone, "Europe/Berlin");
                assert_eq!(*local_time, Time::constant(19, 12, 40, 0));
            }
            other => panic!("expected OutsideHours, got {other:?}"),
        }
        assert_eq!(
            e.to_string(),
            "your class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now"
        );
    }

    #[test]
    fn no_window_means_any_time() {
        assert!(check(None, &berlin(), ts("2026-11-26T03:00:00Z")).is_ok());
    }

    proptest! {
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
