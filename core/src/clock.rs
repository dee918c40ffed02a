//! The core's clock: every "now" of pvelab-core reads it.
//!
//! Token expiry, allowed hours, usage accounting, the scheduler's ticks and every stored
//! timestamp come from one [`Clock`], given in [`LabConfig`](crate::LabConfig). In production it
//! is the system clock; tests hand in a [`ManualClock`] and move it forward to expire a token,
//! cross the end of a class's hours or accumulate usage, without sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

/// Where "now" comes from. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<ManualClock>,
}

impl Clock {
    /// The system clock (the default).
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            Some(manual) => manual.now(),
            None => Timestamp::now(),
        }
    }

    /// Waits until the clock reads `deadline` or later: a real sleep on the system clock, and
    /// on a manual clock until a test moves it that far (no real time passes).
    pub async fn sleep_until(&self, deadline: Timestamp) {
        match &self.manual {
            None => {
                let left = deadline.duration_since(Timestamp::now());
                if let Ok(left) = std::time::Duration::try_from(left) {
                    tokio::time::sleep(left).await;
                }
            }
            Some(manual) => {
                let mut changes = manual.sender.subscribe();
                while *changes.borrow_and_update() < deadline {
                    if changes.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Whether this is a manual clock (tests).
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

impl From<ManualClock> for Clock {
    fn from(manual: ManualClock) -> Self {
        Self {
            manual: Some(manual),
        }
    }
}

/// A clock that moves only when told to, for tests. Clones share the same time.
///
/// # Examples
/// ```
/// use jiff::{SignedDuration, Timestamp};
/// use pvelab_core::{Clock, ManualClock};
///
/// let manual = ManualClock::new("2027-01-15T08:00:00Z".parse::<Timestamp>().unwrap());
/// let clock = Clock::from(manual.clone());
/// manual.advance(SignedDuration::from_hours(2));
/// assert_eq!(clock.now().to_string(), "2027-01-15T10:00:00Z");
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
    sender: Arc<watch::Sender<Timestamp>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
            sender: Arc::new(watch::Sender::new(start)),
        }
    }

    /// The time it shows.
    pub fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock to `to` (backwards too, to test clock skew) and wakes every
    /// [`Clock::sleep_until`] whose deadline has come.
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
        self.sender.send_replace(to);
    }

    /// Moves the clock forward by `by`.
    ///
    /// # Panics
    /// When the result is outside jiff's supported range (a test bug).
    pub fn advance(&self, by: SignedDuration) {
        let to = self
            .now()
            .checked_add(by)
            .expect("a manual clock moved past the supported range");
        self.set(to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_manual_clock_shows_what_it_was_set_to_through_every_clone() {
        let manual = ManualClock::new(at("2027-01-01T00:00:00Z"));
        let clock = Clock::from(manual.clone());
        manual.advance(SignedDuration::from_mins(90));
        assert_eq!(clock.now(), at("2027-01-01T01:30:00Z"));
        assert!(clock.is_manual());
    }

    #[tokio::test]
    async fn sleeping_on_a_manual_clock_ends_when_the_clock_is_moved_past_the_deadline() {
        let manual = ManualClock::new(at("2027-01-01T00:00:00Z"));
        let clock = Clock::from(manual.clone());
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(at("2027-01-01T00:10:00Z")).await }
        });
        manual.advance(SignedDuration::from_mins(5));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        manual.advance(SignedDuration::from_mins(5));
        sleeper.await.unwrap();
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_does_not_wait() {
        Clock::system()
            .sleep_until(at("2000-01-01T00:00:00Z"))
            .await;
        let manual = ManualClock::new(at("2027-01-01T00:00:00Z"));
        Clock::from(manual)
            .sleep_until(at("2026-01-01T00:00:00Z"))
            .await;
    }
}
