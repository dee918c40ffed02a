//! The long-running delivery of one consumer's events: wait for events, settle them in order,
//! back off on failures, stop at a safe point when told to.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::courier::{Courier, CourierError, BATCH};
use super::notifier::Notifier;

/// The first wait after a failure; it doubles with each failure in a row.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between tries.
pub const MAX_RETRY: Duration = Duration::from_secs(300);
/// How often the outbox is read even without a wake-up: the wake-up only reaches this process,
/// and events written by another process on the same database (a `pvelab console --config`
/// next to the bot) are seen on the next read.
pub const POLL: Duration = Duration::from_secs(30);

/// Runs a [`Courier`] until stopped.
#[derive(Debug)]
pub struct DeliveryLoop<N> {
    courier: Courier<N>,
    first_retry: Duration,
    max_retry: Duration,
    poll: Duration,
}

impl<N: Notifier> DeliveryLoop<N> {
    /// A loop over `courier` with the default waits.
    pub fn new(courier: Courier<N>) -> Self {
        Self {
            courier,
            first_retry: FIRST_RETRY,
            max_retry: MAX_RETRY,
            poll: POLL,
        }
    }

    /// Waits `first` after a failure, doubling up to `max` while failures go on.
    pub fn retry(mut self, first: Duration, max: Duration) -> Self {
        self.first_retry = first;
        self.max_retry = max.max(first);
        self
    }

    /// Reads the outbox at least this often.
    pub fn poll_every(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    /// Delivers events as they come until `stop` is cancelled, then returns. It stops between
    /// two events (a delivery in hand is finished and acknowledged first), so a stop loses
    /// nothing and repeats nothing. Failures are logged and retried after a growing wait; they
    /// never end the loop.
    pub async fn run(self, stop: CancellationToken) {
        let consumer = self.courier.consumer().clone();
        tracing::info!(%consumer, "delivering direct messages");
        let mut wait = self.first_retry;
        'outer: while !stop.is_cancelled() {
            let read = tokio::select! {
                biased;
                () = stop.cancelled() => break,
                read = tokio::time::timeout(
                    self.poll,
                    self.courier.lab().next_events(&consumer, BATCH),
                ) => read,
            };
            let failure = match read {
                // Nothing within the poll interval: read again (next_events reads first).
                Err(_elapsed) => continue,
                Ok(Err(e)) => CourierError::Lab(e),
                Ok(Ok(events)) => {
                    let mut failure = None;
                    for event in &events {
                        if stop.is_cancelled() {
                            break 'outer;
                        }
                        if let Err(e) = self.courier.settle(event).await {
                            failure = Some(e);
                            break;
                        }
                    }
                    match failure {
                        None => {
                            wait = self.first_retry;
                            continue;
                        }
                        Some(failure) => failure,
                    }
                }
            };
            tracing::warn!(%consumer, retry_in = ?wait, "direct messages wait: {failure}");
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
            wait = (wait * 2).min(self.max_retry);
        }
        tracing::info!(%consumer, "direct messages stopped");
    }
}
