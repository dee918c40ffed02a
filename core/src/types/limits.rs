//! Per-class limits: auto-shutdown thresholds, the usage quota and the quota warning already
//! given.

use std::fmt;

use super::bounded::bounded_int;
use super::InvalidValue;

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

/// The highest quota alert already sent to a student for their current usage period, so each
/// alert is sent once. Stored as the percentage it stands for (0, 80 or 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum QuotaWarnedLevel {
    /// No alert yet.
    #[default]
    None,
    /// The 80 % warning was sent.
    Warning,
    /// The "quota used up" alert was sent.
    Exhausted,
}

impl QuotaWarnedLevel {
    /// The stored percentage: 0, 80 or 100.
    pub fn percent(self) -> u8 {
        match self {
            QuotaWarnedLevel::None => 0,
            QuotaWarnedLevel::Warning => 80,
            QuotaWarnedLevel::Exhausted => 100,
        }
    }

    /// Reads a stored percentage.
    ///
    /// # Errors
    /// [`InvalidValue`] for anything but 0, 80 or 100.
    pub fn from_percent(percent: i64) -> Result<Self, InvalidValue> {
        match percent {
            0 => Ok(QuotaWarnedLevel::None),
            80 => Ok(QuotaWarnedLevel::Warning),
            100 => Ok(QuotaWarnedLevel::Exhausted),
            other => Err(InvalidValue::new(
                "quota warning level",
                other,
                "0, 80 or 100 (percent)",
            )),
        }
    }
}

impl fmt::Display for QuotaWarnedLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.percent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warned_levels_round_trip_through_their_percentages_in_order() {
        let all = [
            QuotaWarnedLevel::None,
            QuotaWarnedLevel::Warning,
            QuotaWarnedLevel::Exhausted,
        ];
        for level in all {
            let percent = i64::from(level.percent());
            assert_eq!(QuotaWarnedLevel::from_percent(percent), Ok(level));
        }
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(QuotaWarnedLevel::from_percent(50).is_err());
    }

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
