//! From outbox events to delivered messages: find the person and the class, word the message,
//! hand it to the [`Notifier`], and acknowledge the event once it is settled.
//!
//! An event is settled when it was delivered, when its person cannot be reached
//! ([`Delivery::Unreachable`]), or when it is addressed to nobody; each is acknowledged at
//! once, in outbox order, so a restart repeats at most the event that was in hand. A transient
//! failure stops at that event without acknowledging it: it and everything after it come again
//! on the next read.

use pvelab_core::events::{ConsumerName, EventId, OutboxEvent};
use pvelab_core::{Actor, Error, Lab};
use tokio::sync::OnceCell;

use super::notifier::{Delivery, DeliveryError, Notice, Notifier, Recipient};
use crate::http::metrics::Metrics;
use crate::render::events::event_message;

/// The most events read at once.
pub(super) const BATCH: u32 = 100;

/// Why handling stopped before the outbox was done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CourierError {
    /// The lab could not be read or the acknowledgement written.
    #[error("the outbox could not be read or acknowledged: {0}")]
    Lab(#[from] Error),
    /// The notifier failed for now; the event is not acknowledged.
    #[error("event {event} could not be delivered for now: {error}")]
    Delivery {
        /// The event that failed (it and those after it come again).
        event: EventId,
        /// The notifier's reason.
        error: DeliveryError,
    },
}

/// How one event was settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Delivered.
    Delivered,
    /// The person cannot be reached; the reason was logged.
    Unreachable,
    /// Addressed to nobody (a VM nobody holds, an event this build cannot read, a person the
    /// lab no longer knows).
    NoRecipient,
}

impl Settled {
    fn as_str(&self) -> &'static str {
        match self {
            Settled::Delivered => "delivered",
            Settled::Unreachable => "unreachable",
            Settled::NoRecipient => "no_recipient",
        }
    }
}

/// Delivers one consumer's events through one notifier.
pub struct Courier<N> {
    lab: Lab,
    consumer: ConsumerName,
    notifier: N,
    metrics: Option<Metrics>,
    actor: OnceCell<Actor>,
}

impl<N> std::fmt::Debug for Courier<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courier")
            .field("consumer", &self.consumer)
            .finish_non_exhaustive()
    }
}

impl<N: Notifier> Courier<N> {
    /// Delivers the events of `consumer` (its cursor in the lab) through `notifier`.
    pub fn new(lab: Lab, consumer: ConsumerName, notifier: N) -> Self {
        Self {
            lab,
            consumer,
            notifier,
            metrics: None,
            actor: OnceCell::new(),
        }
    }

    /// Counts each settled or failed event in `metrics` (`pvelab_notifications_total`).
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The notifier.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// The consumer name.
    pub fn consumer(&self) -> &ConsumerName {
        &self.consumer
    }

    /// The lab.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// Reads and settles events until the outbox holds none for this consumer; returns how
    /// many were settled. Deterministic: it sees exactly what was committed before the call
    /// (the console calls it after each command).
    ///
    /// # Errors
    /// [`CourierError`] at the first event that could not be settled; the events before it
    /// stay acknowledged.
    pub async fn drain(&self) -> Result<usize, CourierError> {
        let mut settled = 0;
        loop {
            let events = self.lab.events_after(&self.consumer, BATCH).await?;
            if events.is_empty() {
                return Ok(settled);
            }
            for event in &events {
                self.settle(event).await?;
                settled += 1;
            }
        }
    }

    /// Settles one event and acknowledges it.
    ///
    /// # Errors
    /// [`CourierError::Delivery`] when the notifier failed for now (not acknowledged);
    /// [`CourierError::Lab`] when the lab failed (the event may come again).
    pub async fn settle(&self, event: &OutboxEvent) -> Result<Settled, CourierError> {
        let settled = match self.notice(event).await? {
            None => Settled::NoRecipient,
            Some(notice) => match self.notifier.deliver(&notice).await {
                Ok(Delivery::Delivered) => {
                    tracing::debug!(event = %event.id, to = %notice.to.name, "message delivered");
                    Settled::Delivered
                }
                Ok(Delivery::Unreachable { reason }) => {
                    tracing::info!(event = %event.id, to = %notice.to.name, %reason,
                        "message not delivered: the person cannot be reached");
                    Settled::Unreachable
                }
                Err(error) => {
                    self.count("failed");
                    return Err(CourierError::Delivery {
                        event: event.id,
                        error,
                    });
                }
            },
        };
        self.lab.ack_events(&self.consumer, event.id).await?;
        self.count(settled.as_str());
        Ok(settled)
    }

    fn count(&self, outcome: &'static str) {
        if let Some(metrics) = &self.metrics {
            metrics.count_notification(self.consumer.as_str(), outcome);
        }
    }

    /// The message for `event` with its person, or `None` when it is addressed to nobody.
    async fn notice(&self, event: &OutboxEvent) -> Result<Option<Notice>, Error> {
        let Some(user_id) = event.event.recipient() else {
            return Ok(None);
        };
        let actor = self
            .actor
            .get_or_try_init(|| crate::app::clusters::program_actor(&self.lab))
            .await?;
        let user = match self.lab.user(actor, user_id).await {
            Ok(user) => user,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let class = match event.event.class_id() {
            Some(id) => match self.lab.class(actor, id).await {
                Ok(class) => Some(class.name.to_string()),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let Some(message) = event_message(&event.event, class.as_deref()) else {
            return Ok(None);
        };
        Ok(Some(Notice {
            event_id: event.id,
            at: event.at,
            to: Recipient {
                user_id,
                external_id: user.external_id.as_deref().map(str::to_owned),
                name: user.shown_name().to_owned(),
            },
            message,
        }))
    }
}
