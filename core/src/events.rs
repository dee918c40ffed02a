//! Events the core publishes for front ends: a student got a VM from the waitlist, a quota
//! warning, a VM shut down and why. The bot turns them into direct messages; other front ends
//! can mail, log or display them.
//!
//! The bus is a tokio broadcast channel: publishing never blocks and never fails (an event with
//! no subscriber is dropped), and a subscriber that falls far behind loses the oldest events,
//! which it can see in [`Subscription::missed`]. Events are notifications, never the record of
//! truth: that is the database.

use tokio::sync::broadcast;

use crate::types::{ClassId, ClassName, HoursWindow, UserId, VmId};

/// Something a person should hear about.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LabEvent {
    /// A student found no free VM and waits in line.
    Waitlisted {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// The class's name, for the message.
        class_name: ClassName,
        /// Their place in line, from 1.
        position: u32,
    },
    /// A waiting student was given a VM (pool growth or someone leaving).
    AssignedFromWaitlist {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// The class's name.
        class_name: ClassName,
        /// Their VM.
        vmid: VmId,
    },
    /// A student's usage reached the warning share of the quota (80 %).
    QuotaWarning {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// Whole percent used.
        percent: u32,
        /// Hours used.
        used: f64,
        /// The limit in hours.
        limit: u16,
    },
    /// A student's usage reached the quota: their VM is stopped and cannot be started.
    QuotaExhausted {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// Hours used.
        used: f64,
        /// The limit in hours.
        limit: u16,
    },
    /// A VM is about to be shut down automatically.
    ShutdownWarning {
        /// The VM's student, if it is assigned.
        user_id: Option<UserId>,
        /// The class.
        class_id: ClassId,
        /// The VM.
        vmid: VmId,
        /// Why.
        reason: ShutdownReason,
        /// Minutes until the shutdown.
        in_minutes: u32,
    },
    /// A student's VM was built anew from the class's template: it vanished from Proxmox, or a
    /// teacher reimaged it. Its data is gone; the student keeps the VM.
    VmRebuilt {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// The VM.
        vmid: VmId,
        /// Why.
        reason: RebuildReason,
    },
    /// A student's VM was taken away: the pool was shrunk by force, or the class deleted.
    VmRemoved {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// The VM.
        vmid: VmId,
    },
    /// A VM was shut down automatically.
    VmShutDown {
        /// The VM's student, if it is assigned.
        user_id: Option<UserId>,
        /// The class.
        class_id: ClassId,
        /// The VM.
        vmid: VmId,
        /// Why.
        reason: ShutdownReason,
    },
}

impl LabEvent {
    /// The person the event is addressed to, if any.
    pub fn recipient(&self) -> Option<UserId> {
        match self {
            LabEvent::Waitlisted { user_id, .. }
            | LabEvent::AssignedFromWaitlist { user_id, .. }
            | LabEvent::QuotaWarning { user_id, .. }
            | LabEvent::QuotaExhausted { user_id, .. }
            | LabEvent::VmRebuilt { user_id, .. }
            | LabEvent::VmRemoved { user_id, .. } => Some(*user_id),
            LabEvent::ShutdownWarning { user_id, .. } | LabEvent::VmShutDown { user_id, .. } => {
                *user_id
            }
        }
    }
}

/// Why a student's VM was rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RebuildReason {
    /// It disappeared from Proxmox (deleted behind pvelab's back).
    Vanished,
    /// A teacher (or the student) reimaged it.
    Reimaged,
}

impl std::fmt::Display for RebuildReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RebuildReason::Vanished => "it disappeared from Proxmox and was built again",
            RebuildReason::Reimaged => "it was reimaged",
        })
    }
}

/// Why a VM was (or will be) shut down automatically.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ShutdownReason {
    /// Its CPU stayed below the class threshold for the idle span.
    Idle {
        /// The threshold in percent.
        threshold: u8,
        /// The idle span in minutes.
        minutes: u16,
    },
    /// It ran outside the class's allowed hours.
    OutsideHours {
        /// The allowed hours.
        window: HoursWindow,
        /// The zone's IANA name.
        zone: String,
    },
    /// The usage quota is used up.
    QuotaExhausted {
        /// The limit in hours.
        limit: u16,
    },
}

impl std::fmt::Display for ShutdownReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShutdownReason::Idle { threshold, minutes } => {
                write!(f, "its CPU stayed below {threshold}% for {minutes} minutes")
            }
            ShutdownReason::OutsideHours { window, zone } => {
                write!(f, "your class allows VMs only {window} {zone}")
            }
            ShutdownReason::QuotaExhausted { limit } => {
                write!(f, "its usage quota of {limit} hours is used up")
            }
        }
    }
}

/// The channel events are published on. Cheap to clone; every clone publishes to the same
/// subscribers.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<LabEvent>,
}

impl EventBus {
    /// Events a slow subscriber may fall behind by before it loses the oldest ones.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// A bus whose subscribers may each fall `capacity` events behind (at least 1).
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// Publishes `event` to every current subscriber and returns how many there are. Never blocks;
    /// with no subscriber the event is dropped.
    pub fn publish(&self, event: LabEvent) -> usize {
        self.sender.send(event).unwrap_or(0)
    }

    /// A new subscription that receives every event published from now on.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::events::{EventBus, LabEvent};
    /// use pvelab_core::types::{ClassId, UserId};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let bus = EventBus::default();
    /// let mut inbox = bus.subscribe();
    /// bus.publish(LabEvent::QuotaExhausted {
    ///     user_id: UserId::new(7), class_id: ClassId::new(1), used: 20.0, limit: 20,
    /// });
    /// let event = inbox.recv().await.expect("the bus is open");
    /// assert_eq!(event.recipient(), Some(UserId::new(7)));
    /// # });
    /// ```
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
            missed: 0,
        }
    }

    /// How many subscriptions are open.
    pub fn subscriber_count(&self) -> usize {
        self.sender.receiver_count()
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

/// One subscriber's view of the bus.
#[derive(Debug)]
pub struct Subscription {
    receiver: broadcast::Receiver<LabEvent>,
    missed: u64,
}

impl Subscription {
    /// The next event, waiting for one; `None` once every [`EventBus`] clone is dropped. Events
    /// lost because this subscriber fell behind are skipped and counted in [`Self::missed`].
    pub async fn recv(&mut self) -> Option<LabEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => self.note_missed(n),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<LabEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.note_missed(n),
                Err(_) => return None,
            }
        }
    }

    /// How many events this subscriber lost by falling behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    fn note_missed(&mut self, n: u64) {
        self.missed += n;
        tracing::warn!(
            missed = n,
            "an event subscriber fell behind and lost events"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exhausted(user: i64) -> LabEvent {
        LabEvent::QuotaExhausted {
            user_id: UserId::new(user),
            class_id: ClassId::new(1),
            used: 10.0,
            limit: 10,
        }
    }

    #[tokio::test]
    async fn every_subscriber_receives_every_event_in_order() {
        let bus = EventBus::default();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        assert_eq!(bus.publish(exhausted(1)), 2);
        assert_eq!(bus.publish(exhausted(2)), 2);
        for sub in [&mut a, &mut b] {
            assert_eq!(sub.recv().await, Some(exhausted(1)));
            assert_eq!(sub.recv().await, Some(exhausted(2)));
        }
    }

    #[test]
    fn publishing_without_subscribers_is_not_an_error() {
        let bus = EventBus::default();
        assert_eq!(bus.publish(exhausted(1)), 0);
    }

    #[test]
    fn a_subscriber_sees_only_events_after_it_subscribed() {
        let bus = EventBus::default();
        bus.publish(exhausted(1));
        let mut late = bus.subscribe();
        assert_eq!(late.try_recv(), None);
        bus.publish(exhausted(2));
        assert_eq!(late.try_recv(), Some(exhausted(2)));
    }

    #[test]
    fn a_slow_subscriber_loses_the_oldest_events_and_knows_how_many() {
        let bus = EventBus::new(4);
        let mut slow = bus.subscribe();
        for user in 0..10 {
            bus.publish(exhausted(user));
        }
        let got: Vec<LabEvent> = std::iter::from_fn(|| slow.try_recv()).collect();
        assert_eq!(got, (6..10).map(exhausted).collect::<Vec<_>>());
        assert_eq!(slow.missed(), 6);
    }

    #[tokio::test]
    async fn a_subscription_ends_when_the_bus_is_gone() {
        let bus = EventBus::default();
        let mut sub = bus.subscribe();
        let publisher = bus.clone();
        drop(bus);
        publisher.publish(exhausted(3));
        drop(publisher);
        assert_eq!(sub.recv().await, Some(exhausted(3)));
        assert_eq!(sub.recv().await, None);
    }

    #[test]
    fn shutdown_reasons_read_as_explanations() {
        let r = ShutdownReason::OutsideHours {
            window: HoursWindow::new(8, 18).unwrap(),
            zone: "Europe/Berlin".into(),
        };
        assert_eq!(
            r.to_string(),
            "your class allows VMs only 08:00-18:00 Europe/Berlin"
        );
        let idle = ShutdownReason::Idle {
            threshold: 5,
            minutes: 30,
        };
        assert_eq!(idle.to_string(), "its CPU stayed below 5% for 30 minutes");
    }

    #[test]
    fn shutdowns_of_unassigned_vms_have_no_recipient() {
        let e = LabEvent::VmShutDown {
            user_id: None,
            class_id: ClassId::new(1),
            vmid: VmId::new(1201).unwrap(),
            reason: ShutdownReason::QuotaExhausted { limit: 5 },
        };
        assert_eq!(e.recipient(), None);
    }
}
