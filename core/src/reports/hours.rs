//! Running time split into UTC hours, the unit the report history is kept in. Pure.

use jiff::{SignedDuration, Timestamp};

/// The start of the UTC hour that holds `at`.
pub(crate) fn hour_of(at: Timestamp) -> Timestamp {
    let secs = at.as_second();
    Timestamp::from_second(secs - secs.rem_euclid(3600)).unwrap_or(at)
}

/// The span `[start, end]` as `(hour start, hours in that hour)`, oldest first; empty when
/// `end` is not after `start`. The parts add up to the span's length.
pub(crate) fn split_by_hour(start: Timestamp, end: Timestamp) -> Vec<(Timestamp, f64)> {
    let mut parts = Vec::new();
    let mut at = start;
    while at < end {
        let hour = hour_of(at);
        let next = (hour + SignedDuration::from_hours(1)).min(end);
        parts.push((hour, next.duration_since(at).as_secs_f64() / 3600.0));
        at = next;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_span_inside_one_hour_is_one_part() {
        let parts = split_by_hour(at("2027-01-15T10:10:00Z"), at("2027-01-15T10:40:00Z"));
        assert_eq!(parts, vec![(at("2027-01-15T10:00:00Z"), 0.5)]);
    }

    #[test]
    fn a_span_across_hours_is_split_at_each_hour_and_adds_up() {
        let parts = split_by_hour(at("2027-01-15T10:45:00Z"), at("2027-01-15T13:15:00Z"));
        let hours: Vec<Timestamp> = parts.iter().map(|p| p.0).collect();
        assert_eq!(
            hours,
            [
                at("2027-01-15T10:00:00Z"),
                at("2027-01-15T11:00:00Z"),
                at("2027-01-15T12:00:00Z"),
                at("2027-01-15T13:00:00Z")
            ]
        );
        assert_eq!(parts[0].1, 0.25);
        assert_eq!(parts[1].1, 1.0);
        assert_eq!(parts[3].1, 0.25);
        let total: f64 = parts.iter().map(|p| p.1).sum();
        assert!((total - 2.5).abs() < 1e-12);
    }

    #[test]
    fn an_empty_or_backwards_span_has_no_parts() {
        let t = at("2027-01-15T10:00:00Z");
        assert!(split_by_hour(t, t).is_empty());
        assert!(split_by_hour(t, t - SignedDuration::from_mins(5)).is_empty());
    }
}
