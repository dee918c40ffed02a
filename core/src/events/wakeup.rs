//! The in-process wake-up: "the outbox may hold something new".
//!
//! The outbox in the database is the record of events; this only saves a waiting consumer from
//! polling. It is a tokio `watch` channel carrying no value: a poke never blocks or fails,
//! pokes that arrive while nobody looks collapse into one, and a slow subscriber cannot fall
//! behind and lose anything, because it re-reads the outbox after every wake-up. A poke reaches
//! only the process that made it: events written by another process on the same database file
//! are read on this process's next read of the outbox.

use tokio::sync::watch;

/// The wake-up sender the [`Lab`](crate::Lab) pokes after committing events. Crate-private:
/// front ends subscribe, only the core writes events and pokes.
#[derive(Debug)]
pub(crate) struct EventBus {
    sender: watch::Sender<()>,
}

impl EventBus {
    /// A wake-up with no subscriber yet.
    pub(crate) fn new() -> Self {
        Self {
            sender: watch::Sender::new(()),
        }
    }

    /// Wakes every subscriber: events were committed to the outbox.
    pub(crate) fn poke(&self) {
        self.sender.send_replace(());
    }

    /// A subscription that wakes on every poke from now on.
    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
        }
    }
}

/// A wake-up for one waiting consumer: [`Subscription::changed`] returns once events were
/// committed after the subscription was made (or after the previous `changed`). It carries no
/// events; read them with [`Lab::events_after`](crate::Lab::events_after), which is what
/// [`Lab::next_events`](crate::Lab::next_events) does for you.
///
/// Subscribe BEFORE reading the outbox, then wait: an event committed between the read and the
/// wait still wakes you.
#[derive(Debug)]
pub struct Subscription {
    receiver: watch::Receiver<()>,
}

impl Subscription {
    /// Waits until events were committed since the last wake-up. Returns `false` when every
    /// [`Lab`](crate::Lab) handle is gone, so nothing more can come.
    pub async fn changed(&mut self) -> bool {
        self.receiver.changed().await.is_ok()
    }

    /// Whether events were committed since the last wake-up, without waiting.
    pub fn has_changed(&self) -> bool {
        self.receiver.has_changed().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_poke_after_subscribing_wakes_the_subscriber_once() {
        let bus = EventBus::new();
        let mut sub = bus.subscribe();
        assert!(!sub.has_changed());
        bus.poke();
        bus.poke();
        assert!(sub.has_changed());
        assert!(sub.changed().await);
        assert!(!sub.has_changed(), "two pokes collapse into one wake-up");
    }

    #[test]
    fn a_poke_before_subscribing_is_not_seen() {
        let bus = EventBus::new();
        bus.poke();
        let sub = bus.subscribe();
        assert!(!sub.has_changed());
    }

    #[tokio::test]
    async fn a_subscription_ends_when_the_bus_is_gone() {
        let bus = EventBus::new();
        let mut sub = bus.subscribe();
        drop(bus);
        assert!(!sub.changed().await);
    }

    #[tokio::test]
    async fn a_waiting_subscriber_is_woken_by_a_poke_from_another_task() {
        let bus = std::sync::Arc::new(EventBus::new());
        let mut sub = bus.subscribe();
        let poker = tokio::spawn({
            let bus = std::sync::Arc::clone(&bus);
            async move { bus.poke() }
        });
        assert!(sub.changed().await);
        poker.await.expect("poker");
    }
}
