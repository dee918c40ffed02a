//! The period of a report: days in the class's time zone, resolved to instants. Pure.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use crate::types::{ClassTimeZone, InvalidValue};

/// The days a report covers, both ends included, read in the class's time zone. `from` left
/// out starts at the oldest history kept (or 7 days back when there is none); `to` left out
/// ends now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The first day.
    pub from: Option<Date>,
    /// The last day.
    pub to: Option<Date>,
}

impl ReportPeriod {
    /// Every day up to now.
    pub fn all() -> Self {
        Self::default()
    }

    /// The instants `[from, to)` of the period: `from` at midnight of its day, `to` at the
    /// midnight after its day, never past `now`.
    ///
    /// # Errors
    /// [`InvalidValue`] when `from` is after `to`, or `from` lies in the future.
    pub(crate) fn resolve(
        self,
        zone: &ClassTimeZone,
        now: Timestamp,
        oldest: Option<Timestamp>,
    ) -> Result<(Timestamp, Timestamp), InvalidValue> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(InvalidValue::new(
                    "from",
                    from.to_string(),
                    format!("a day no later than to ({to})"),
                ));
            }
        }
        let midnight = |day: Date| {
            day.to_zoned(zone.tz().clone())
                .map(|z| z.timestamp())
                .map_err(|e| InvalidValue::new("date", day.to_string(), e.to_string()))
        };
        let to = match self.to {
            Some(day) => match day.tomorrow() {
                Ok(next) => midnight(next)?.min(now),
                Err(_) => now,
            },
            None => now,
        };
        let from = match self.from {
            Some(day) => midnight(day)?,
            None => oldest
                .unwrap_or(to - SignedDuration::from_hours(7 * 24))
                .min(to),
        };
        if from > now {
            return Err(InvalidValue::new(
                "from",
                self.from.map(|d| d.to_string()).unwrap_or_default(),
                "a day that has begun",
            ));
        }
        Ok((from, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn days_are_read_in_the_class_zone_and_to_includes_its_day() {
        let berlin = ClassTimeZone::parse("Europe/Berlin").unwrap();
        let period = ReportPeriod {
            from: Some(day("2027-01-11")),
            to: Some(day("2027-01-12")),
        };
        let (from, to) = period
            .resolve(&berlin, at("2027-02-01T00:00:00Z"), None)
            .unwrap();
        assert_eq!(from, at("2027-01-10T23:00:00Z"));
        assert_eq!(to, at("2027-01-12T23:00:00Z"));
    }

    #[test]
    fn the_end_is_never_past_now_and_the_start_defaults_to_the_oldest_history() {
        let utc = ClassTimeZone::utc();
        let now = at("2027-01-15T10:00:00Z");
        let (from, to) = ReportPeriod::all()
            .resolve(&utc, now, Some(at("2027-01-02T08:00:00Z")))
            .unwrap();
        assert_eq!((from, to), (at("2027-01-02T08:00:00Z"), now));
        let (from, _) = ReportPeriod::all().resolve(&utc, now, None).unwrap();
        assert_eq!(from, at("2027-01-08T10:00:00Z"));
    }

    #[test]
    fn a_backwards_or_future_period_is_refused_naming_the_day() {
        let utc = ClassTimeZone::utc();
        let now = at("2027-01-15T10:00:00Z");
        let backwards = ReportPeriod {
            from: Some(day("2027-01-12")),
            to: Some(day("2027-01-11")),
        };
        let e = backwards.resolve(&utc, now, None).unwrap_err();
        assert!(e.to_string().contains("2027-01-12"), "{e}");
        let future = ReportPeriod {
            from: Some(day("2027-02-01")),
            to: None,
        };
        assert!(future.resolve(&utc, now, None).is_err());
    }
}
