//! Per-class limits: auto-shutdown thresholds and the usage quota.

use super::bounded::bounded_int;

bounded_int! {
    /// CPU usage in percent below which a VM counts as idle: 1 to 100.
    IdleThreshold(u8), field = "idle CPU threshold (%)", min = 1, max = 100,
    allowed = "a whole percentage from 1 to 100"
}

bounded_int! {
    /// How long a VM must stay idle before it is shut down, in minutes: 5 to 1440 (one day).
    /// Shorter spans would shut down VMs between two keystrokes of a thinking student.
    IdleMinutes(u16), field = "idle minutes", min = 5, max = 1440,
    allowed = "a whole number of minutes from 5 to 1440"
}

bounded_int! {
    /// The running hours a student's VM may use before it is stopped: 0 to 10000, where 0 means
    /// unlimited (as stored in `max_usage_hours`).
    UsageQuota(u16), field = "usage quota (hours)", min = 0, max = 10_000,
    allowed = "a whole number of hours from 0 (unlimited) to 10000"
}

impl UsageQuota {
    /// No limit.
    pub const UNLIMITED: UsageQuota = UsageQuota(0);

    /// The limit in hours, or `None` when unlimited.
    pub fn limit_hours(self) -> Option<u16> {
        (self.0 != 0).then_some(self.0)
    }

    /// Whether there is no limit.
    pub fn is_unlimited(self) -> bool {
        self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_threshold_is_a_percentage_from_one_to_a_hundred() {
        assert!(IdleThreshold::new(0).is_err());
        assert!(IdleThreshold::new(1).is_ok());
        assert!(IdleThreshold::new(100).is_ok());
        assert!(IdleThreshold::new(101).is_err());
    }

    #[test]
    fn idle_minutes_span_five_minutes_to_a_day() {
        assert!(IdleMinutes::new(4).is_err());
        assert!(IdleMinutes::new(5).is_ok());
        assert!(IdleMinutes::new(1440).is_ok());
        assert!(IdleMinutes::new(1441).is_err());
    }

    #[test]
    fn a_zero_quota_means_unlimited() {
        let q = UsageQuota::new(0).unwrap();
        assert!(q.is_unlimited());
        assert_eq!(q.limit_hours(), None);
        assert_eq!(q, UsageQuota::UNLIMITED);
    }

    #[test]
    fn a_quota_above_ten_thousand_hours_is_refused() {
        assert_eq!(UsageQuota::new(10_000).unwrap().limit_hours(), Some(10_000));
        assert!(UsageQuota::new(10_001).is_err());
        assert!(UsageQuota::new(-1).is_err());
    }
}
