//! Per-user rate limits on commands: a burst, then one command per interval, for each person
//! separately (governor's keyed GCRA limiter, keyed by the person's external id).
//!
//! They sit in the [`Dispatcher`](super::Dispatcher), so every command and every button press
//! of every front end counts the same way, before any work is done; the core keeps its own,
//! narrower limits (join attempts) on top. The console runs without them: whoever types at it
//! may act as anyone anyway.
//!
//! Time comes from the lab's [`Clock`], like every other "now" of pvelab, so tests move a
//! manual clock instead of sleeping.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use pvelab_core::Clock;

/// How many commands one person may run: `burst` at once, then one more every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandQuota {
    burst: NonZeroU32,
    every: Duration,
}

impl CommandQuota {
    /// The default for Discord: 10 commands at once, then one every 2 seconds (30 a minute).
    /// Generous for a person clicking through their VM's buttons, far below what a script
    /// hammering the bot would send.
    pub const DEFAULT: CommandQuota = CommandQuota {
        burst: NonZeroU32::new(10).expect("10 is not zero"),
        every: Duration::from_secs(2),
    };

    /// `burst` commands at once, then one every `every`; `None` when `burst` is 0 or `every`
    /// is zero (neither is a limit anyone means).
    pub fn new(burst: u32, every: Duration) -> Option<Self> {
        let burst = NonZeroU32::new(burst)?;
        (!every.is_zero()).then_some(Self { burst, every })
    }

    /// Commands allowed at once.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    /// Time until one more command is allowed.
    pub fn every(&self) -> Duration {
        self.every
    }
}

/// The lab's clock as governor reads it: nanoseconds since the Unix epoch.
#[derive(Debug, Clone)]
struct LabClock(Clock);

impl GovernorClock for LabClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().as_nanosecond();
        // Before 1970 or after 2554: not a clock pvelab runs on; 0 only makes the limit stricter.
        Nanos::from(u64::try_from(nanos).unwrap_or(0))
    }
}

type Limiter = RateLimiter<String, DefaultKeyedStateStore<String>, LabClock, NoOpMiddleware<Nanos>>;

/// How often the limiter forgets people whose limit is back to full (every this many checks),
/// so its memory follows the active people rather than everyone ever seen.
const FORGET_EVERY: u64 = 4096;

/// The per-user limits, or none. Cheap to clone; clones share the counts.
#[derive(Clone)]
pub struct RateLimits {
    limiter: Option<Arc<Limiter>>,
    checks: Arc<AtomicU64>,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("on", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

impl RateLimits {
    /// No limits (the console).
    pub fn off() -> Self {
        Self {
            limiter: None,
            checks: Arc::default(),
        }
    }

    /// `quota` for each person, on `clock` (the lab's: [`pvelab_core::Lab::clock`]).
    pub fn per_user(quota: CommandQuota, clock: Clock) -> Self {
        let quota = Quota::with_period(quota.every)
            .expect("CommandQuota's period is not zero")
            .allow_burst(quota.burst);
        Self {
            limiter: Some(Arc::new(RateLimiter::new(
                quota,
                DefaultKeyedStateStore::default(),
                LabClock(clock),
            ))),
            checks: Arc::default(),
        }
    }

    /// Counts one command of the person known by `external_id`: `Ok` when it may run,
    /// `Err(wait)` with the time until the next one is allowed (at least one second, as people
    /// read it).
    ///
    /// # Errors
    /// The wait, when the person used up their burst.
    pub fn check(&self, external_id: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&external_id.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(limiter.clock().now());
                wait.max(Duration::from_secs(1))
            })
    }
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use pvelab_core::ManualClock;

    use super::*;

    fn limits(burst: u32, every_secs: u64) -> (RateLimits, ManualClock) {
        let clock = ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap());
        let quota = CommandQuota::new(burst, Duration::from_secs(every_secs)).unwrap();
        (RateLimits::per_user(quota, clock.clone().into()), clock)
    }

    #[test]
    fn a_burst_passes_then_the_next_command_waits_for_the_interval() {
        let (limits, clock) = limits(3, 4);
        for _ in 0..3 {
            assert_eq!(limits.check("discord:1"), Ok(()));
        }
        assert_eq!(limits.check("discord:1"), Err(Duration::from_secs(4)));
        clock.advance(SignedDuration::from_secs(1));
        assert_eq!(limits.check("discord:1"), Err(Duration::from_secs(3)));
        clock.advance(SignedDuration::from_secs(3));
        assert_eq!(limits.check("discord:1"), Ok(()));
        assert!(limits.check("discord:1").is_err());
    }

    #[test]
    fn each_person_has_their_own_count() {
        let (limits, _clock) = limits(1, 60);
        assert_eq!(limits.check("discord:1"), Ok(()));
        assert!(limits.check("discord:1").is_err());
        assert_eq!(limits.check("discord:2"), Ok(()));
    }

    #[test]
    fn a_wait_is_at_least_a_second_as_people_read_it() {
        let (limits, clock) = limits(1, 2);
        limits.check("a").unwrap();
        clock.advance(SignedDuration::from_millis(1900));
        assert_eq!(limits.check("a"), Err(Duration::from_secs(1)));
    }

    #[test]
    fn without_limits_everything_passes() {
        let limits = RateLimits::off();
        for _ in 0..1000 {
            assert_eq!(limits.check("console:alice"), Ok(()));
        }
    }

    #[test]
    fn a_quota_needs_a_burst_and_an_interval() {
        assert!(CommandQuota::new(0, Duration::from_secs(1)).is_none());
        assert!(CommandQuota::new(1, Duration::ZERO).is_none());
        let q = CommandQuota::DEFAULT;
        assert_eq!((q.burst(), q.every()), (10, Duration::from_secs(2)));
    }
}
