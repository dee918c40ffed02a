//! The join rate limit: join attempts per user and minute, in the core, so every front end gets
//! the same protection against token guessing (a student guessing tokens from a web portal is
//! slowed down exactly like one on Discord).
//!
//! A keyed GCRA limiter from `governor`, keyed by user id: with `n` attempts per minute a user may
//! try `n` times in a burst and then once every `60/n` seconds. It runs on the lab's clock, so
//! tests move a [`ManualClock`](crate::ManualClock) instead of sleeping. The quota is the system
//! setting `rate_limit.join_per_minute`, read with every attempt; when an adminer changes it the
//! limiter starts afresh with the new quota.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::types::UserId;

/// Past this many users with recent attempts, users whose limit has fully recovered are dropped
/// (they are indistinguishable from users never seen). After a prune the next one waits until
/// the map has doubled, so a lab whose users all joined recently does not scan them all again
/// with every attempt (the pruning costs O(1) per attempt, amortised).
const PRUNE_ABOVE: usize = 10_000;

/// The lab's clock as governor reads it: nanoseconds since the Unix epoch.
#[derive(Debug, Clone)]
struct LabClock(Clock);

impl GovernorClock for LabClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().as_nanosecond();
        // Before 1970 (a hand-set test clock) counts as the epoch; after 2554 saturates.
        Nanos::from(u64::try_from(nanos.max(0)).unwrap_or(u64::MAX))
    }
}

type Limiter = RateLimiter<UserId, HashMapStateStore<UserId>, LabClock, NoOpMiddleware<Nanos>>;

/// Join attempts per user, shared by all tasks of a lab.
#[derive(Debug)]
pub(crate) struct JoinLimiter {
    clock: LabClock,
    /// The limiter for the current quota, with that quota.
    current: Mutex<Option<(NonZeroU32, Arc<Limiter>)>>,
    /// The number of users at which the next prune runs.
    prune_at: AtomicUsize,
}

impl JoinLimiter {
    pub(crate) fn new(clock: Clock) -> Self {
        Self {
            clock: LabClock(clock),
            current: Mutex::new(None),
            prune_at: AtomicUsize::new(PRUNE_ABOVE),
        }
    }

    /// Counts an attempt of `user` against `per_minute` attempts a minute.
    ///
    /// # Errors
    /// [`Error::RateLimited`] with the time until the next attempt is allowed.
    pub(crate) fn check(&self, user: UserId, per_minute: u32) -> Result<()> {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let limiter = {
            let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            match &*current {
                Some((quota, limiter)) if *quota == per_minute => Arc::clone(limiter),
                _ => {
                    let limiter = Arc::new(RateLimiter::new(
                        Quota::per_minute(per_minute),
                        HashMapStateStore::default(),
                        self.clock.clone(),
                    ));
                    *current = Some((per_minute, Arc::clone(&limiter)));
                    self.prune_at.store(PRUNE_ABOVE, Ordering::Relaxed);
                    limiter
                }
            }
        };
        if limiter.len() > self.prune_at.load(Ordering::Relaxed) {
            limiter.retain_recent();
            let next = limiter.len().saturating_mul(2).max(PRUNE_ABOVE);
            self.prune_at.store(next, Ordering::Relaxed);
        }
        limiter
            .check_key(&user)
            .map_err(|refused| Error::RateLimited {
                retry_after: refused.wait_time_from(self.clock.now()),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    #[test]
    fn a_burst_is_refused_until_the_next_attempt_is_due_on_the_labs_clock() {
        let clock = ManualClock::new("2026-11-26T12:00:00Z".parse().unwrap());
        let limiter = JoinLimiter::new(clock.clone().into());
        let (user, other) = (UserId::new(1), UserId::new(2));
        for _ in 0..3 {
            limiter.check(user, 3).expect("within the burst");
        }
        let Err(Error::RateLimited { retry_after }) = limiter.check(user, 3) else {
            panic!("the fourth attempt in a minute is refused");
        };
        assert_eq!(retry_after, std::time::Duration::from_secs(20));
        limiter
            .check(other, 3)
            .expect("another user is not affected");
        clock.advance(jiff::SignedDuration::from_secs(20));
        limiter.check(user, 3).expect("allowed again once due");
        assert!(limiter.check(user, 3).is_err());
    }

    #[test]
    fn recovered_users_are_pruned_and_the_next_prune_waits_for_the_map_to_double() {
        let clock = ManualClock::new("2026-11-26T12:00:00Z".parse().unwrap());
        let limiter = JoinLimiter::new(clock.clone().into());
        let users = |range: std::ops::Range<i64>| range.map(UserId::new);
        let size = || {
            let current = limiter.current.lock().unwrap();
            current.as_ref().map_or(0, |(_, l)| l.len())
        };
        let prune_at = || limiter.prune_at.load(Ordering::Relaxed);
        for user in users(0..PRUNE_ABOVE as i64 + 1) {
            limiter.check(user, 3).expect("a first attempt");
        }
        // All recent: the prune keeps them, and the next waits until twice as many.
        limiter
            .check(UserId::new(i64::MAX - 1), 3)
            .expect("one more");
        assert_eq!(size(), PRUNE_ABOVE + 2);
        assert_eq!(prune_at(), 2 * (PRUNE_ABOVE + 1));
        limiter
            .check(UserId::new(i64::MAX - 2), 3)
            .expect("and another");
        assert_eq!(prune_at(), 2 * (PRUNE_ABOVE + 1), "no prune in between");
        // A minute later their limits have recovered: once the map has doubled, the prune
        // drops them and keeps the users of the last minute.
        clock.advance(jiff::SignedDuration::from_secs(61));
        for user in users(1_000_000..1_000_000 + PRUNE_ABOVE as i64) {
            limiter.check(user, 3).expect("new users");
        }
        assert_eq!(size(), 2 * PRUNE_ABOVE + 3, "not pruned before doubling");
        limiter.check(UserId::new(7), 3).expect("one more");
        assert_eq!(size(), PRUNE_ABOVE + 1, "the recovered users are dropped");
        assert_eq!(prune_at(), 2 * PRUNE_ABOVE);
    }

    #[test]
    fn a_new_quota_takes_effect_at_once() {
        let clock = ManualClock::new("2026-11-26T12:00:00Z".parse().unwrap());
        let limiter = JoinLimiter::new(clock.into());
        let user = UserId::new(1);
        limiter.check(user, 1).expect("first");
        assert!(limiter.check(user, 1).is_err());
        limiter
            .check(user, 5)
            .expect("a larger quota starts afresh");
    }
}
