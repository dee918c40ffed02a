//! The auto-shutdown decision: has a VM been idle long enough to shut it down?
//!
//! A VM is idle when every CPU sample of the last `idle_minutes` is below the threshold **and**
//! the samples cover that whole span. Missing data is never taken for idleness: after a restart
//! of pvelab, an outage of the monitor or a gap in Proxmox's data the VM keeps running until a
//! full span of low samples has been seen.

use jiff::{SignedDuration, Timestamp};

use crate::types::{IdleMinutes, IdleThreshold, InvalidValue};

/// One CPU measurement of a VM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuSample {
    /// When it was taken.
    pub at: Timestamp,
    /// CPU use in percent of the VM's allocated cores (Proxmox reports a fraction; multiply by
    /// 100).
    pub percent: f64,
}

/// The class's idle rule plus how dense samples must be. Private fields: every value is a
/// policy under which a verdict of "idle" needs samples.
///
/// The longest allowed gap between samples must be positive and shorter than the span: with a
/// gap as long as the span, no samples at all would "cover" it and an unmonitored VM would be
/// shut down as idle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdlePolicy {
    threshold: IdleThreshold,
    span: IdleMinutes,
    max_gap: SignedDuration,
}

impl IdlePolicy {
    /// A policy: samples strictly below `threshold` percent count as idle, the VM must be idle
    /// for `span`, and two samples (or a span's end and the nearest sample) may be at most
    /// `max_gap` apart (typically a little more than the sampling interval); a longer gap is
    /// unknown time.
    ///
    /// # Errors
    /// [`InvalidValue`] when `max_gap` is not positive or not shorter than the span.
    pub fn new(
        threshold: IdleThreshold,
        span: IdleMinutes,
        max_gap: SignedDuration,
    ) -> Result<Self, InvalidValue> {
        let span_length = SignedDuration::from_mins(i64::from(span.get()));
        if !max_gap.is_positive() || max_gap >= span_length {
            return Err(InvalidValue::new(
                "idle sample gap",
                format!("{max_gap:#}"),
                format!(
                    "a gap longer than zero and shorter than the idle span ({:#})",
                    span_length
                ),
            ));
        }
        Ok(Self {
            threshold,
            span,
            max_gap,
        })
    }

    /// Samples strictly below this percentage count as idle.
    pub fn threshold(&self) -> IdleThreshold {
        self.threshold
    }

    /// How long the VM must be idle.
    pub fn span(&self) -> IdleMinutes {
        self.span
    }

    /// The longest allowed distance between two samples.
    pub fn max_gap(&self) -> SignedDuration {
        self.max_gap
    }
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IdleVerdict {
    /// Idle for the whole span: shut the VM down.
    Idle,
    /// A sample in the span was at or above the threshold (or unreadable).
    Busy {
        /// The most recent such sample.
        at: Timestamp,
        /// Its value.
        percent: f64,
    },
    /// The samples do not cover the span; nothing can be concluded yet.
    NotCovered,
}

impl IdleVerdict {
    /// Whether the VM should be shut down.
    pub fn should_shut_down(self) -> bool {
        self == IdleVerdict::Idle
    }
}

/// Decides whether the VM was idle during the policy's span before `now`.
///
/// Samples may come in any order; samples after `now` are ignored. A sample whose value is not
/// a finite number counts as busy.
///
/// # Examples
/// ```
/// use jiff::{SignedDuration, Timestamp};
/// use pvelab_core::rules::idle::{decide, CpuSample, IdlePolicy, IdleVerdict};
/// use pvelab_core::types::{IdleMinutes, IdleThreshold};
/// let policy = IdlePolicy::new(
///     IdleThreshold::new(5)?,
///     IdleMinutes::new(30)?,
///     SignedDuration::from_mins(2),
/// )?;
/// let now: Timestamp = "2026-11-26T12:00:00Z".parse()?;
/// let quiet: Vec<CpuSample> = (0..=30)
///     .map(|m| CpuSample { at: now - SignedDuration::from_mins(m), percent: 1.0 })
///     .collect();
/// assert_eq!(decide(&quiet, &policy, now), IdleVerdict::Idle);
/// assert_eq!(decide(&quiet[..10], &policy, now), IdleVerdict::NotCovered);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decide(samples: &[CpuSample], policy: &IdlePolicy, now: Timestamp) -> IdleVerdict {
    let span_start = now - SignedDuration::from_mins(i64::from(policy.span.get()));
    let mut recent: Vec<&CpuSample> = samples
        .iter()
        .filter(|s| s.at >= span_start && s.at <= now)
        .collect();
    recent.sort_by_key(|s| s.at);

    let threshold = f64::from(policy.threshold.get());
    if let Some(busy) = recent
        .iter()
        .rev()
        .find(|s| !(s.percent.is_finite() && s.percent < threshold))
    {
        return IdleVerdict::Busy {
            at: busy.at,
            percent: busy.percent,
        };
    }

    // Coverage: walk from the span's start through each sample to `now`; every step must be at
    // most `max_gap` long.
    let mut previous = span_start;
    for s in recent.iter().map(|s| s.at).chain(std::iter::once(now)) {
        if s.duration_since(previous) > policy.max_gap {
            return IdleVerdict::NotCovered;
        }
        previous = s;
    }
    IdleVerdict::Idle
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> Timestamp {
        "2026-11-26T12:00:00Z".parse().unwrap()
    }

    fn policy() -> IdlePolicy {
        IdlePolicy::new(
            IdleThreshold::new(10).unwrap(),
            IdleMinutes::new(30).unwrap(),
            SignedDuration::from_mins(2),
        )
        .unwrap()
    }

    #[test]
    fn a_gap_as_long_as_the_span_or_not_positive_is_refused() {
        let (threshold, span) = (
            IdleThreshold::new(10).unwrap(),
            IdleMinutes::new(30).unwrap(),
        );
        for gap in [30, 31, 0, -1] {
            let e = IdlePolicy::new(threshold, span, SignedDuration::from_mins(gap)).unwrap_err();
            assert_eq!(e.field(), "idle sample gap", "{gap}");
        }
        assert!(IdlePolicy::new(threshold, span, SignedDuration::from_secs(29 * 60 + 59)).is_ok());
    }

    /// Samples every minute from `to` up to `from` minutes ago (inclusive), newest first, all at
    /// `percent`.
    fn every_minute(from: i64, to: i64, percent: f64) -> Vec<CpuSample> {
        (to..=from)
            .map(|m| CpuSample {
                at: now() - SignedDuration::from_mins(m),
                percent,
            })
            .collect()
    }

    #[test]
    fn a_vm_quiet_for_the_whole_span_is_idle() {
        assert_eq!(
            decide(&every_minute(30, 0, 2.0), &policy(), now()),
            IdleVerdict::Idle
        );
    }

    #[test]
    fn one_busy_sample_in_the_span_keeps_the_vm_running() {
        let mut s = every_minute(30, 0, 2.0);
        s[7].percent = 10.0; // equal to the threshold is not below it
        let v = decide(&s, &policy(), now());
        assert_eq!(
            v,
            IdleVerdict::Busy {
                at: s[7].at,
                percent: 10.0
            }
        );
        assert!(!v.should_shut_down());
    }

    #[test]
    fn a_busy_sample_before_the_span_does_not_count() {
        let mut s = every_minute(60, 0, 2.0);
        let oldest = s.len() - 1;
        s[oldest].percent = 99.0; // 60 minutes ago
        s[31].percent = 99.0; // 31 minutes ago
        assert_eq!(decide(&s, &policy(), now()), IdleVerdict::Idle);
    }

    #[test]
    fn a_gap_in_the_middle_is_not_idle_time() {
        let mut s = every_minute(30, 16, 1.0);
        s.extend(every_minute(12, 0, 1.0)); // nothing from 15 to 13 minutes ago: a 4-minute gap
        assert_eq!(decide(&s, &policy(), now()), IdleVerdict::NotCovered);
    }

    #[test]
    fn samples_that_start_late_do_not_cover_the_span() {
        // Monitoring began 20 minutes ago: too little evidence for a 30-minute rule.
        assert_eq!(
            decide(&every_minute(20, 0, 1.0), &policy(), now()),
            IdleVerdict::NotCovered
        );
    }

    #[test]
    fn samples_that_stopped_arriving_do_not_cover_the_span() {
        assert_eq!(
            decide(&every_minute(30, 5, 1.0), &policy(), now()),
            IdleVerdict::NotCovered
        );
    }

    #[test]
    fn no_samples_at_all_is_not_idle() {
        assert_eq!(decide(&[], &policy(), now()), IdleVerdict::NotCovered);
    }

    #[test]
    fn an_unreadable_sample_counts_as_busy() {
        let mut s = every_minute(30, 0, 1.0);
        s[3].percent = f64::NAN;
        assert!(matches!(
            decide(&s, &policy(), now()),
            IdleVerdict::Busy { .. }
        ));
    }

    #[test]
    fn samples_in_the_future_are_ignored() {
        let mut s = every_minute(30, 0, 1.0);
        s.push(CpuSample {
            at: now() + SignedDuration::from_mins(1),
            percent: 99.0,
        });
        assert_eq!(decide(&s, &policy(), now()), IdleVerdict::Idle);
    }

    proptest! {
        #[test]
        fn the_order_of_samples_does_not_matter(seed in any::<u64>(), busy_at in 0usize..31) {
            let mut s = every_minute(30, 0, 1.0);
            s[busy_at].percent = 50.0;
            let expected = decide(&s, &policy(), now());
            // A deterministic shuffle from the seed.
            let n = s.len();
            let mut x = seed;
            for i in (1..n).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let j = usize::try_from(x >> 33).unwrap() % (i + 1);
                s.swap(i, j);
            }
            prop_assert_eq!(decide(&s, &policy(), now()), expected);
        }

        #[test]
        fn dropping_samples_never_turns_busy_or_unknown_into_idle(
            keep in proptest::collection::vec(any::<bool>(), 31),
            percent in 0.0f64..20.0
        ) {
            let all = every_minute(30, 0, percent);
            let kept: Vec<CpuSample> =
                all.iter().zip(&keep).filter(|(_, k)| **k).map(|(s, _)| *s).collect();
            if decide(&all, &policy(), now()) != IdleVerdict::Idle {
                prop_assert_ne!(decide(&kept, &policy(), now()), IdleVerdict::Idle);
            }
        }
    }
}
