//! Deterministic fault injection.
//!
//! One seeded random generator decides, request by request and task by task, whether a fault
//! happens. With the same seed and the same sequence of calls the same faults happen; parallel
//! callers interleave differently, so tests assert on convergence, not on which call failed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which faults to inject. Rates are probabilities from 0 to 1 per request (or per task).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the fault generator; the simulator's `seed` when absent.
    pub seed: Option<u64>,
    /// Share of API requests answered with a transient 500 before they are executed.
    pub error_500_rate: f64,
    /// Share of API requests answered with 595 ("No route to host") before they are executed.
    pub error_595_rate: f64,
    /// Share of API requests answered with 596 ("Connection timed out") before they are executed.
    pub error_596_rate: f64,
    /// Latency added to every API request, in real milliseconds (not scaled).
    pub latency_ms: u64,
    /// Extra random latency, uniformly 0 to this many real milliseconds.
    pub latency_jitter_ms: u64,
    /// Share of tasks that fail at their end (the work is undone, as PVE cleans up).
    pub task_failure_rate: f64,
    /// Share of successful tasks that end with `WARNINGS: 1`.
    pub task_warning_rate: f64,
    /// The guest agent of every VM never answers (calls time out with PVE's text).
    pub agent_never_answers: bool,
}

impl FaultConfig {
    /// Check that every rate is a probability.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] naming the rate.
    pub fn validate(&self) -> Result<()> {
        for (what, v) in [
            ("faults.error_500_rate", self.error_500_rate),
            ("faults.error_595_rate", self.error_595_rate),
            ("faults.error_596_rate", self.error_596_rate),
            ("faults.task_failure_rate", self.task_failure_rate),
            ("faults.task_warning_rate", self.task_warning_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::InvalidValue {
                    what,
                    value: v.to_string(),
                    allowed: "a probability from 0 to 1",
                });
            }
        }
        if self.error_500_rate + self.error_595_rate + self.error_596_rate > 1.0 {
            return Err(Error::InvalidValue {
                what: "faults.error_*_rate",
                value: (self.error_500_rate + self.error_595_rate + self.error_596_rate)
                    .to_string(),
                allowed: "the three request fault rates together at most 1",
            });
        }
        Ok(())
    }
}

/// A request-level fault decided before the request runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestFault {
    Error500,
    Unreachable595,
    Timeout596,
}

/// The outcome drawn for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskFault {
    None,
    Warning,
    Failure,
}

pub(crate) struct FaultInjector {
    config: FaultConfig,
    rng: StdRng,
}

impl FaultInjector {
    pub(crate) fn new(config: FaultConfig, default_seed: u64) -> Self {
        let rng = StdRng::seed_from_u64(config.seed.unwrap_or(default_seed));
        Self { config, rng }
    }

    pub(crate) fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replace the configuration and restart the generator from its seed, so that a test that
    /// sets faults gets the same sequence every run.
    pub(crate) fn set(&mut self, config: FaultConfig, default_seed: u64) {
        *self = Self::new(config, default_seed);
    }

    /// Draw the latency and the fault (if any) of one request.
    pub(crate) fn draw_request(&mut self) -> (std::time::Duration, Option<RequestFault>) {
        let c = &self.config;
        let jitter = if c.latency_jitter_ms > 0 {
            self.rng.gen_range(0..=c.latency_jitter_ms)
        } else {
            0
        };
        let latency = std::time::Duration::from_millis(c.latency_ms + jitter);
        let (r500, r595, r596) = (c.error_500_rate, c.error_595_rate, c.error_596_rate);
        if r500 + r595 + r596 <= 0.0 {
            return (latency, None);
        }
        let x: f64 = self.rng.gen();
        let fault = if x < r500 {
            Some(RequestFault::Error500)
        } else if x < r500 + r595 {
            Some(RequestFault::Unreachable595)
        } else if x < r500 + r595 + r596 {
            Some(RequestFault::Timeout596)
        } else {
            None
        };
        (latency, fault)
    }

    pub(crate) fn draw_task(&mut self) -> TaskFault {
        let (fail, warn) = (self.config.task_failure_rate, self.config.task_warning_rate);
        if fail <= 0.0 && warn <= 0.0 {
            return TaskFault::None;
        }
        let x: f64 = self.rng.gen();
        if x < fail {
            TaskFault::Failure
        } else if x < fail + warn * (1.0 - fail) {
            TaskFault::Warning
        } else {
            TaskFault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_rate(rate: f64) -> FaultInjector {
        FaultInjector::new(
            FaultConfig {
                error_500_rate: rate,
                ..FaultConfig::default()
            },
            7,
        )
    }

    #[test]
    fn the_same_seed_injects_the_same_faults() {
        let (mut a, mut b) = (with_rate(0.3), with_rate(0.3));
        let xs: Vec<_> = (0..200).map(|_| a.draw_request().1).collect();
        let ys: Vec<_> = (0..200).map(|_| b.draw_request().1).collect();
        assert_eq!(xs, ys);
    }

    #[test]
    fn a_ten_percent_rate_injects_about_one_request_in_ten() {
        let mut f = with_rate(0.1);
        let n = (0..10_000).filter(|_| f.draw_request().1.is_some()).count();
        assert!((800..1200).contains(&n), "{n} faults in 10000 requests");
    }

    #[test]
    fn a_rate_above_one_is_refused_with_its_name() {
        let err = FaultConfig {
            task_failure_rate: 1.5,
            ..FaultConfig::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            err.to_string().contains("faults.task_failure_rate"),
            "{err}"
        );
    }
}
