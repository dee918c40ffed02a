//! Events through the facade: writing them to the outbox inside the transaction of the change
//! they report, and reading them as a named consumer (see [`crate::events`]).
//!
//! Every `announce_*` takes the open transaction, so an event is committed with its change or
//! not at all. After the commit the caller pokes the wake-up ([`Lab::wake_consumers`]) so a
//! consumer waiting in [`Lab::next_events`] reads at once.

use rusqlite::Connection;

use super::Lab;
use crate::error::{Error, Result};
use crate::events::{ConsumerName, EventId, LabEvent, OutboxEvent, PruneReport, Subscription};
use crate::events::{KEEP_ACKNOWLEDGED, KEEP_AT_MOST};
use crate::rules::quota::{QuotaLevel, QuotaStatus};
use crate::store::outbox;
use crate::store::pool::PoolVm;
use crate::types::{ClassId, ClassName, InvalidValue, UserId};

/// The most events one read returns.
const MAX_BATCH: u32 = 1000;

/// Students served from the waitlist got a VM; returns how many events were written.
pub(crate) fn announce_assignments(
    tx: &Connection,
    class_id: ClassId,
    class_name: &ClassName,
    promoted: &[(UserId, PoolVm)],
) -> Result<usize> {
    for (user_id, vm) in promoted {
        tracing::info!(%class_id, %user_id, vmid = %vm.vmid, "assigned from the waitlist");
        outbox::append(
            tx,
            &LabEvent::AssignedFromWaitlist {
                user_id: *user_id,
                class_id,
                class_name: class_name.clone(),
                vmid: vm.vmid,
            },
        )?;
    }
    Ok(promoted.len())
}

/// A student was put on the waitlist.
pub(super) fn announce_waitlisted(
    tx: &Connection,
    class_id: ClassId,
    class_name: &ClassName,
    user_id: UserId,
    position: u32,
) -> Result<()> {
    outbox::append(
        tx,
        &LabEvent::Waitlisted {
            user_id,
            class_id,
            class_name: class_name.clone(),
            position,
        },
    )?;
    Ok(())
}

/// A student's VM reached a quota level; returns whether an event was written (levels below
/// the warning and classes without a quota announce nothing).
pub(super) fn announce_quota(
    tx: &Connection,
    user_id: UserId,
    vm: &PoolVm,
    level: QuotaLevel,
    status: QuotaStatus,
) -> Result<bool> {
    let Some(limit) = status.limit else {
        return Ok(false);
    };
    let event = match level {
        QuotaLevel::Warning => LabEvent::QuotaWarning {
            user_id,
            class_id: vm.class_id,
            percent: status.percent.unwrap_or(0),
            used: status.used,
            limit,
        },
        QuotaLevel::Exhausted => LabEvent::QuotaExhausted {
            user_id,
            class_id: vm.class_id,
            used: status.used,
            limit,
        },
        QuotaLevel::Unlimited | QuotaLevel::Normal => return Ok(false),
    };
    tracing::info!(%user_id, vmid = %vm.vmid, ?level, "quota level reached");
    outbox::append(tx, &event)?;
    Ok(true)
}

fn batch_size(limit: u32) -> Result<u32> {
    if (1..=MAX_BATCH).contains(&limit) {
        Ok(limit)
    } else {
        Err(InvalidValue::new("event batch size", limit, "a whole number from 1 to 1000").into())
    }
}

impl Lab {
    /// Wakes consumers waiting in [`Lab::next_events`] (and every [`Subscription`]); called
    /// after a transaction that wrote `written` events committed.
    pub(crate) fn wake_consumers(&self, written: usize) {
        if written > 0 {
            self.events().poke();
        }
    }

    /// Up to `limit` events after `consumer`'s cursor, oldest first, without waiting. The same
    /// events come again on every call until they are acknowledged with [`Lab::ack_events`],
    /// also after a restart: delivery is at least once, and an event keeps its [`EventId`].
    ///
    /// A consumer name never seen before starts at the oldest event the outbox still holds (see
    /// [`Lab::prune_events`]), so nothing written before a front end's first start is lost; the
    /// first call records the name, and from then on pruning keeps events until it acknowledged
    /// them.
    ///
    /// Takes no actor: reading the outbox is for the embedding program itself (it delivers
    /// events to the people they name), which is trusted like in [`Lab::ensure_user`]. Events
    /// carry user ids, not secrets.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] unless `limit` is 1 to 1000; [`Error::Internal`] when SQLite
    /// fails.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::events::{ConsumerName, LabEvent};
    /// use pvelab_core::model::{NewClass, TokenExpiry};
    /// use pvelab_core::types::{ClassName, ExternalId, PoolSize, Role};
    /// use pvelab_core::Lab;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> pvelab_core::Result<()> {
    /// let lab = Lab::open_in_memory().await?;
    /// let teacher = lab.ensure_user(&pvelab_core::types::ExternalId::parse("discord:1")?, None).await?;
    /// let teacher = lab.actor_with_role(teacher.id, Role::Teacher);
    /// let class = lab
    ///     .create_class(&teacher, NewClass::new(ClassName::parse("net101")?, PoolSize::new(5)?))
    ///     .await?;
    /// let token = lab.rotate_token(&teacher, class.id, TokenExpiry::Never).await?.token;
    /// let student = lab.ensure_user(&pvelab_core::types::ExternalId::parse("discord:2")?, None).await?;
    /// lab.join(&lab.actor(student.id).await?, &token).await?; // no VM yet: Sam waits
    ///
    /// let dm = ConsumerName::parse("discord-dm")?;
    /// let events = lab.events_after(&dm, 100).await?;
    /// assert!(matches!(
    ///     &events[0].event,
    ///     LabEvent::Waitlisted { user_id, position: 1, .. } if *user_id == student.id
    /// ));
    /// // Not acknowledged yet: the next read returns it again.
    /// assert_eq!(lab.events_after(&dm, 100).await?, events);
    /// lab.ack_events(&dm, events[0].id).await?;
    /// assert!(lab.events_after(&dm, 100).await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn events_after(
        &self,
        consumer: &ConsumerName,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>> {
        let limit = batch_size(limit)?;
        let name = consumer.clone();
        let (known, events) = self
            .db()
            .read(move |tx| {
                let cursor = outbox::cursor(tx, &name)?;
                let from = cursor.unwrap_or(EventId::new(0));
                Ok((cursor.is_some(), outbox::after(tx, from, limit)?))
            })
            .await?;
        if !known {
            // Once per consumer name: from now on pruning waits for it.
            let name = consumer.clone();
            self.db()
                .write(move |tx| outbox::register(tx, &name))
                .await?;
        }
        Ok(events)
    }

    /// Like [`Lab::events_after`], but waits until there is at least one event. Waiting costs
    /// nothing: it sleeps on the wake-up the core pokes after committing events (no polling).
    /// Cancel-safe: dropping the future loses nothing, as nothing is acknowledged.
    ///
    /// The wake-up is in-process: events another process writes to the same database file are
    /// returned by the next read, e.g. when this process writes an event or the front end calls
    /// [`Lab::events_after`] on its own schedule.
    ///
    /// # Errors
    /// As [`Lab::events_after`].
    ///
    /// # Examples
    /// A front end's delivery loop (here it stops after the first batch):
    /// ```
    /// use pvelab_core::events::ConsumerName;
    /// # use pvelab_core::model::{NewClass, TokenExpiry};
    /// # use pvelab_core::types::{ClassName, ExternalId, PoolSize, Role};
    /// use pvelab_core::Lab;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> pvelab_core::Result<()> {
    /// let lab = Lab::open_in_memory().await?;
    /// let consumer = tokio::spawn({
    ///     let lab = lab.clone();
    ///     async move {
    ///         let me = ConsumerName::parse("mailer")?;
    ///         let batch = lab.next_events(&me, 50).await?;
    ///         for delivered in &batch {
    ///             // Deliver `delivered.event` to its recipient; on a crash before the ack
    ///             // below it comes again with the same `delivered.id`.
    ///             assert!(delivered.event.recipient().is_some());
    ///         }
    ///         lab.ack_events(&me, batch[batch.len() - 1].id).await?;
    ///         Ok::<_, pvelab_core::Error>(batch.len())
    ///     }
    /// });
    /// # let teacher = lab.ensure_user(&pvelab_core::types::ExternalId::parse("discord:1")?, None).await?;
    /// # let teacher = lab.actor_with_role(teacher.id, Role::Teacher);
    /// # let class = lab
    /// #     .create_class(&teacher, NewClass::new(ClassName::parse("net101")?, PoolSize::new(5)?))
    /// #     .await?;
    /// # let token = lab.rotate_token(&teacher, class.id, TokenExpiry::Never).await?.token;
    /// # let student = lab.ensure_user(&pvelab_core::types::ExternalId::parse("discord:2")?, None).await?;
    /// // A student joins a class with no free VM: the consumer wakes with "waitlisted".
    /// lab.join(&lab.actor(student.id).await?, &token).await?;
    /// assert_eq!(consumer.await.expect("consumer task")?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next_events(
        &self,
        consumer: &ConsumerName,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>> {
        // Subscribe before reading: a commit after this point wakes the wait below even if it
        // lands between the read and the wait.
        let mut wakeup = self.subscribe();
        loop {
            let events = self.events_after(consumer, limit).await?;
            if !events.is_empty() {
                return Ok(events);
            }
            if !wakeup.changed().await {
                // Unreachable while `self` holds the lab; kept as a clear error.
                return Err(Error::internal("the lab's event wake-up closed"));
            }
        }
    }

    /// Acknowledges every event up to and including `up_to` for `consumer`: they are not
    /// returned to it again. A cursor only moves forward, so acknowledging an older id (a
    /// batch handled twice) changes nothing. Returns the consumer's cursor afterwards.
    ///
    /// Takes no actor, like [`Lab::events_after`].
    ///
    /// # Errors
    /// [`Error::NotFound`] for an id the outbox never issued (acknowledging it would skip
    /// events not written yet); [`Error::Internal`] when SQLite fails.
    pub async fn ack_events(&self, consumer: &ConsumerName, up_to: EventId) -> Result<EventId> {
        let name = consumer.clone();
        self.db()
            .write(move |tx| outbox::ack(tx, &name, up_to))
            .await
    }

    /// A wake-up that fires after events were committed by this process (see
    /// [`Subscription`]). For front ends that wait on several things at once; a plain delivery
    /// loop uses [`Lab::next_events`]. Front ends subscribe; only the core writes events.
    pub fn subscribe(&self) -> Subscription {
        self.events().subscribe()
    }

    /// Deletes old events: those every known consumer acknowledged, once older than
    /// [`KEEP_ACKNOWLEDGED`] (7 days), and any event older than [`KEEP_AT_MOST`] (30 days)
    /// even if some consumer never acknowledged it, so a consumer that stopped for good cannot
    /// make the outbox grow forever (such deletions are logged as a warning). Ages are read on
    /// the lab's clock. Cursors are kept, so a consumer that comes back continues where it
    /// stopped. Meant to be called periodically (the scheduler does); calling it more often
    /// only costs a query.
    ///
    /// Takes no actor: it is housekeeping of the embedding program and changes nothing a person
    /// could see that was not already delivered or expired.
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn prune_events(&self) -> Result<PruneReport> {
        let now = self.now();
        let acknowledged_before = now
            .checked_sub(KEEP_ACKNOWLEDGED)
            .map_err(|e| Error::internal(format!("the clock is out of range: {e}")))?;
        let all_before = now
            .checked_sub(KEEP_AT_MOST)
            .map_err(|e| Error::internal(format!("the clock is out of range: {e}")))?;
        let report = self
            .db()
            .write(move |tx| outbox::prune(tx, acknowledged_before, all_before))
            .await?;
        if report.expired > 0 {
            tracing::warn!(
                expired = report.expired,
                "outbox events older than the maximum age were deleted before every consumer \
                 acknowledged them"
            );
        }
        tracing::debug!(acknowledged = report.acknowledged, "outbox pruned");
        Ok(report)
    }
}
