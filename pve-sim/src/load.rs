//! CPU load of a guest over simulated time.

use serde::{Deserialize, Serialize};

/// CPU use of an idle guest (fraction of its vCPUs).
pub const IDLE_CPU: f64 = 0.01;
/// CPU use of a busy guest.
pub const BUSY_CPU: f64 = 0.95;

/// What CPU load a running guest shows; a stopped guest always shows 0.
///
/// In JSON (control API): `"idle"`, `"busy"`, `{"fixed": 0.4}` or
/// `{"schedule": [{"after_secs": -3600, "cpu": 0.9}, {"after_secs": 0, "cpu": 0.01}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuLoad {
    /// About 1 %.
    Idle,
    /// About 95 %.
    Busy,
    /// A fixed fraction from 0 to 1.
    Fixed(f64),
    /// Steps relative to the moment the load is set; negative offsets write history, so rrddata
    /// of the past hour can show a load without waiting an hour. Before the first step: idle.
    Schedule(Vec<LoadStep>),
}

/// One step of a [`CpuLoad::Schedule`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadStep {
    /// Seconds after the moment the schedule is set (may be negative).
    pub after_secs: i64,
    /// CPU fraction from that moment on.
    pub cpu: f64,
}

impl CpuLoad {
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let ok = |v: f64| (0.0..=1.0).contains(&v);
        let fine = match self {
            CpuLoad::Fixed(v) => ok(*v),
            CpuLoad::Schedule(steps) => steps.iter().all(|s| ok(s.cpu)),
            _ => true,
        };
        if fine {
            Ok(())
        } else {
            Err(crate::Error::InvalidValue {
                what: "cpu load",
                value: format!("{self:?}"),
                allowed: "fractions from 0 to 1",
            })
        }
    }
}

/// A load anchored at the simulated time it was set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AnchoredLoad {
    pub(crate) load: CpuLoad,
    pub(crate) anchor: i64,
}

impl AnchoredLoad {
    pub(crate) fn idle() -> Self {
        Self {
            load: CpuLoad::Idle,
            anchor: 0,
        }
    }

    /// CPU fraction at simulated time `t` for a running guest, with a small deterministic
    /// wobble per guest and minute so that graphs do not look flat.
    pub(crate) fn at(&self, t: i64, vmid: u32) -> f64 {
        let base = match &self.load {
            CpuLoad::Idle => IDLE_CPU,
            CpuLoad::Busy => BUSY_CPU,
            CpuLoad::Fixed(v) => *v,
            CpuLoad::Schedule(steps) => steps
                .iter()
                .filter(|s| self.anchor + s.after_secs <= t)
                .max_by_key(|s| s.after_secs)
                .map_or(IDLE_CPU, |s| s.cpu),
        };
        let h = (u64::from(vmid).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t / 60) as u64)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let wobble = ((h >> 40) % 1000) as f64 / 1000.0 * 0.1 - 0.05; // -5 % .. +5 %
        (base * (1.0 + wobble)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_switches_from_busy_to_idle_at_its_step() {
        let l = AnchoredLoad {
            load: CpuLoad::Schedule(vec![
                LoadStep {
                    after_secs: -600,
                    cpu: 0.9,
                },
                LoadStep {
                    after_secs: 0,
                    cpu: 0.02,
                },
            ]),
            anchor: 10_000,
        };
        assert!(l.at(9_500, 1) > 0.8);
        assert!(l.at(10_100, 1) < 0.05);
        assert!((l.at(9_000, 1) - IDLE_CPU).abs() < 0.01);
    }
}
