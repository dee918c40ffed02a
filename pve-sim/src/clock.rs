//! The simulated clock: the wall clock plus an offset that tests can grow.
//!
//! The clock never runs faster than real time, so tickets and UPIDs carry times a client can
//! compare with its own clock. Tests that need hours to pass (ticket expiry, rrddata history,
//! idle shutdown) advance it instead of waiting. `time_scale` shortens work, not the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall clock plus a monotonically growing offset (milliseconds).
#[derive(Debug, Default)]
pub(crate) struct SimClock {
    offset_ms: AtomicU64,
}

impl SimClock {
    /// Seconds since the Unix epoch on the simulated clock, with sub-second precision.
    pub(crate) fn now_f64(&self) -> f64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        wall + self.offset_ms.load(Ordering::Relaxed) as f64 / 1000.0
    }

    /// Whole seconds since the Unix epoch on the simulated clock.
    pub(crate) fn now(&self) -> i64 {
        self.now_f64().floor() as i64
    }

    /// Move the clock forward; it never moves back.
    pub(crate) fn advance(&self, secs: f64) {
        let ms = (secs.max(0.0) * 1000.0).round() as u64;
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// How far the clock is ahead of the wall clock, in seconds.
    pub(crate) fn offset_secs(&self) -> f64 {
        self.offset_ms.load(Ordering::Relaxed) as f64 / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_by_an_hour_moves_now_by_an_hour() {
        let c = SimClock::default();
        let before = c.now_f64();
        c.advance(3600.0);
        let moved = c.now_f64() - before;
        assert!((3600.0..3601.0).contains(&moved), "{moved}");
    }
}
