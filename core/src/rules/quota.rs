//! Usage quota arithmetic: how much of a student's running-time allowance is used, when to warn
//! (80 %) and when starting is blocked and a running VM is shut down (100 %).

use jiff::SignedDuration;

use crate::error::{Error, Result};
use crate::types::{QuotaWarnedLevel, UsageQuota};

/// The share of the quota at which the student is warned.
pub const WARNING_PERCENT: u32 = 80;

/// Where a student stands against their quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuotaLevel {
    /// No limit is set.
    Unlimited,
    /// Below 80 % of the limit.
    Normal,
    /// At or above 80 % and below 100 %.
    Warning,
    /// The limit is reached: starts are refused and a running VM is shut down.
    Exhausted,
}

impl QuotaLevel {
    /// The alert a student at this level has been sent once told: none below 80 %.
    pub fn alert(self) -> QuotaWarnedLevel {
        match self {
            QuotaLevel::Unlimited | QuotaLevel::Normal => QuotaWarnedLevel::None,
            QuotaLevel::Warning => QuotaWarnedLevel::Warning,
            QuotaLevel::Exhausted => QuotaWarnedLevel::Exhausted,
        }
    }
}

/// The level a usage update newly reached, given the alert already sent for the current usage
/// period and limit: the moment to tell the student (once per level).
pub fn newly_reached(level: QuotaLevel, already: QuotaWarnedLevel) -> Option<QuotaLevel> {
    (level.alert() > already).then_some(level)
}

/// A student's usage measured against the class quota.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaStatus {
    /// Hours used (negative or non-finite stored values count as zero).
    pub used: f64,
    /// The limit in hours, `None` when unlimited.
    pub limit: Option<u16>,
    /// Whole percent of the limit used (rounded down), `None` when unlimited.
    pub percent: Option<u32>,
    /// The resulting level.
    pub level: QuotaLevel,
}

/// Measures `used_hours` against `quota`.
///
/// # Examples
/// ```
/// use pvelab_core::rules::quota::{status, QuotaLevel};
/// use pvelab_core::types::UsageQuota;
/// let s = status(8.5, UsageQuota::new(10)?);
/// assert_eq!(s.percent, Some(85));
/// assert_eq!(s.level, QuotaLevel::Warning);
/// # Ok::<(), pvelab_core::types::InvalidValue>(())
/// ```
pub fn status(used_hours: f64, quota: UsageQuota) -> QuotaStatus {
    let used = sanitize(used_hours);
    let Some(limit) = quota.limit_hours() else {
        return QuotaStatus {
            used,
            limit: None,
            percent: None,
            level: QuotaLevel::Unlimited,
        };
    };
    // Usage grows by many small fractions of an hour, which binary floats cannot all hold
    // exactly (six charges of 10 minutes sum to 0.9999999999999999): a share within a
    // millionth of a percent of a level counts as reached.
    const DRIFT: f64 = 1e-9;
    // Saturating float-to-int cast: `used` is finite and non-negative here.
    let percent = (used * 100.0 / f64::from(limit) + DRIFT).floor() as u32;
    let level = if used + DRIFT >= f64::from(limit) {
        QuotaLevel::Exhausted
    } else if percent >= WARNING_PERCENT {
        QuotaLevel::Warning
    } else {
        QuotaLevel::Normal
    };
    QuotaStatus {
        used,
        limit: Some(limit),
        percent: Some(percent),
        level,
    }
}

/// Accepts a start while the quota is not exhausted.
///
/// # Errors
/// [`Error::QuotaExhausted`] with the hours used and the limit.
pub fn check(used_hours: f64, quota: UsageQuota) -> Result<()> {
    let s = status(used_hours, quota);
    match (s.level, s.limit) {
        (QuotaLevel::Exhausted, Some(limit)) => Err(Error::QuotaExhausted {
            used: s.used,
            limit,
        }),
        _ => Ok(()),
    }
}

/// The usage after a VM ran for `ran` more (negative durations add nothing).
pub fn add_running_time(used_hours: f64, ran: SignedDuration) -> f64 {
    sanitize(used_hours) + ran.as_secs_f64().max(0.0) / 3600.0
}

/// The level a usage update newly reached, if it crossed into [`QuotaLevel::Warning`] or
/// [`QuotaLevel::Exhausted`]: the moments a student is told. A jump straight past both reports
/// only exhaustion; staying at a level reports nothing, so each alert is sent once.
pub fn crossed(before_hours: f64, after_hours: f64, quota: UsageQuota) -> Option<QuotaLevel> {
    let before = status(before_hours, quota).level;
    let after = status(after_hours, quota).level;
    (after > before && after >= QuotaLevel::Warning).then_some(after)
}

fn sanitize(hours: f64) -> f64 {
    if hours.is_finite() && hours > 0.0 {
        hours
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(hours: i64) -> UsageQuota {
        UsageQuota::new(hours).unwrap()
    }

    #[test]
    fn usage_summed_from_ten_minute_charges_reaches_the_quota() {
        let used = (0..6).fold(0.0, |sum, _| sum + 600.0 / 3600.0);
        assert!(used < 1.0, "the sum drifts below one hour: {used}");
        let s = status(used, q(1));
        assert_eq!((s.level, s.percent), (QuotaLevel::Exhausted, Some(100)));
    }

    #[test]
    fn an_unlimited_quota_never_warns_or_blocks() {
        let s = status(1e6, UsageQuota::UNLIMITED);
        assert_eq!(s.level, QuotaLevel::Unlimited);
        assert_eq!(s.percent, None);
        assert!(check(1e6, UsageQuota::UNLIMITED).is_ok());
    }

    #[test]
    fn levels_change_at_eighty_and_a_hundred_percent() {
        assert_eq!(status(7.99, q(10)).level, QuotaLevel::Normal);
        assert_eq!(status(8.0, q(10)).level, QuotaLevel::Warning);
        assert_eq!(status(9.99, q(10)).level, QuotaLevel::Warning);
        assert_eq!(status(10.0, q(10)).level, QuotaLevel::Exhausted);
        assert_eq!(status(12.0, q(10)).percent, Some(120));
    }

    #[test]
    fn an_exhausted_quota_refuses_with_used_and_limit() {
        match check(20.25, q(20)) {
            Err(Error::QuotaExhausted { used, limit }) => {
                assert!((used - 20.25).abs() < 1e-9);
                assert_eq!(limit, 20);
            }
            other => panic!("expected QuotaExhausted, got {other:?}"),
        }
        assert!(check(19.9, q(20)).is_ok());
    }

    #[test]
    fn running_time_adds_up_in_hours() {
        let used = add_running_time(1.5, SignedDuration::from_mins(45));
        assert!((used - 2.25).abs() < 1e-9);
        assert!((add_running_time(1.0, SignedDuration::from_mins(-30)) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_corrupt_stored_usage_counts_as_zero() {
        assert_eq!(status(f64::NAN, q(10)).used, 0.0);
        assert_eq!(status(-3.0, q(10)).level, QuotaLevel::Normal);
    }

    #[test]
    fn crossing_eighty_percent_warns_once() {
        assert_eq!(crossed(7.9, 8.1, q(10)), Some(QuotaLevel::Warning));
        assert_eq!(crossed(8.1, 8.5, q(10)), None);
        assert_eq!(crossed(9.9, 10.0, q(10)), Some(QuotaLevel::Exhausted));
        assert_eq!(crossed(10.0, 11.0, q(10)), None);
        assert_eq!(crossed(1.0, 30.0, q(10)), Some(QuotaLevel::Exhausted));
        assert_eq!(crossed(1.0, 30.0, UsageQuota::UNLIMITED), None);
    }

    #[test]
    fn a_level_is_reached_once_until_the_sent_alert_is_cleared() {
        let sent = QuotaWarnedLevel::None;
        assert_eq!(newly_reached(QuotaLevel::Normal, sent), None);
        assert_eq!(
            newly_reached(QuotaLevel::Warning, sent),
            Some(QuotaLevel::Warning)
        );
        let sent = QuotaLevel::Warning.alert();
        assert_eq!(newly_reached(QuotaLevel::Warning, sent), None);
        assert_eq!(
            newly_reached(QuotaLevel::Exhausted, sent),
            Some(QuotaLevel::Exhausted)
        );
        assert_eq!(
            newly_reached(QuotaLevel::Warning, QuotaWarnedLevel::Exhausted),
            None
        );
    }

    #[test]
    fn a_reset_after_exhaustion_is_not_an_alert() {
        assert_eq!(crossed(10.0, 0.0, q(10)), None);
    }
}
