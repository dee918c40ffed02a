//! Events the core reports to front ends: a student got a VM from the waitlist, a quota warning,
//! a VM shut down and why. The bot turns them into direct messages; other front ends can mail,
//! log or display them.
//!
//! # The outbox
//! Every event is written to the database's outbox in the SAME transaction as the change it
//! reports, so an event exists exactly when its change was committed: a rolled-back change
//! announces nothing, and a crash between a change and the message about it loses nothing. The
//! outbox is the only way events leave the core; nothing depends on the memory of one process,
//! so a second process on the same database file sees the same events.
//!
//! A front end reads events as a named consumer ([`ConsumerName`], e.g. `discord-dm`) with
//! [`Lab::events_after`](crate::Lab::events_after) or
//! [`Lab::next_events`](crate::Lab::next_events), handles them, and acknowledges them with
//! [`Lab::ack_events`](crate::Lab::ack_events). Its cursor is stored in the database, so after a
//! restart it continues after the last acknowledged event. Delivery is at least once: an event
//! handled but not yet acknowledged when the process stopped comes again, with the same
//! [`EventId`], which a consumer may use to recognise it. Each consumer has its own cursor.
//!
//! Front ends only read events: the core writes them, and nothing public can add one.
//!
//! # Stored form
//! Events are stored as JSON tagged by `kind` (`{"kind":"assigned_from_waitlist","user_id":7,
//! ...}`); the kinds and field names are a stable format, pinned by tests. A field added later
//! must be optional, so older events still read. An entry this build cannot read (written by a
//! newer pvelab, or damaged) comes back as [`LabEvent::Unrecognized`] rather than blocking the
//! consumer.

mod delivery;
mod wakeup;

pub use delivery::{
    ConsumerName, EventId, OutboxEvent, PruneReport, KEEP_ACKNOWLEDGED, KEEP_AT_MOST,
};
pub(crate) use wakeup::EventBus;
pub use wakeup::Subscription;

use serde::{Deserialize, Serialize};

use crate::model::SessionId;
use crate::types::{ClassId, ClassName, HoursWindow, UserId, VmId};

/// Something a person should hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        #[serde(rename = "used_hours")]
        used: f64,
        /// The limit in hours.
        #[serde(rename = "limit_hours")]
        limit: u16,
    },
    /// A student's usage reached the quota: their VM is stopped and cannot be started.
    QuotaExhausted {
        /// The student.
        user_id: UserId,
        /// The class.
        class_id: ClassId,
        /// Hours used.
        #[serde(rename = "used_hours")]
        used: f64,
        /// The limit in hours.
        #[serde(rename = "limit_hours")]
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
    /// A session of a class opens soon: its student VMs are being started. Addressed to the
    /// class (front ends post it where the class lives), not to a person.
    SessionOpening {
        /// The class.
        class_id: ClassId,
        /// The class's name.
        class_name: ClassName,
        /// The session.
        session: SessionId,
        /// When it starts.
        starts_at: jiff::Timestamp,
        /// When it ends.
        ends_at: jiff::Timestamp,
        /// The class's time zone (IANA name), to show the times in.
        zone: String,
    },
    /// A student's VM was started for a session of their class.
    VmStartedForSession {
        /// The VM's student, if it is assigned.
        user_id: Option<UserId>,
        /// The class.
        class_id: ClassId,
        /// The VM.
        vmid: VmId,
        /// The session.
        session: SessionId,
    },
    /// An outbox entry this build cannot read: written by a newer pvelab sharing the database
    /// (a kind or field this build does not know), or damaged. It has no recipient; acknowledge
    /// it like any other so it does not hold the consumer up. This build never writes one.
    #[serde(skip)]
    Unrecognized {
        /// The entry's `kind` as stored (empty when it has none).
        kind: String,
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
            LabEvent::ShutdownWarning { user_id, .. }
            | LabEvent::VmShutDown { user_id, .. }
            | LabEvent::VmStartedForSession { user_id, .. } => *user_id,
            LabEvent::SessionOpening { .. } | LabEvent::Unrecognized { .. } => None,
        }
    }

    /// The class the event is about, if it could be read.
    pub fn class_id(&self) -> Option<ClassId> {
        match self {
            LabEvent::Waitlisted { class_id, .. }
            | LabEvent::AssignedFromWaitlist { class_id, .. }
            | LabEvent::QuotaWarning { class_id, .. }
            | LabEvent::QuotaExhausted { class_id, .. }
            | LabEvent::ShutdownWarning { class_id, .. }
            | LabEvent::VmRebuilt { class_id, .. }
            | LabEvent::VmRemoved { class_id, .. }
            | LabEvent::VmShutDown { class_id, .. }
            | LabEvent::SessionOpening { class_id, .. }
            | LabEvent::VmStartedForSession { class_id, .. } => Some(*class_id),
            LabEvent::Unrecognized { .. } => None,
        }
    }
}

/// Why a student's VM was rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ShutdownReason {
    /// Its CPU stayed below the class threshold for the idle span.
    Idle {
        /// The threshold in percent.
        #[serde(rename = "threshold_percent")]
        threshold: u8,
        /// The idle span in minutes.
        #[serde(rename = "idle_minutes")]
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
        #[serde(rename = "limit_hours")]
        limit: u16,
    },
    /// The class's session it was running for ended.
    SessionEnded {
        /// The session.
        session: SessionId,
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
            ShutdownReason::SessionEnded { session } => {
                write!(f, "the class's session {session} ended")
            }
        }
    }
}

#[cfg(test)]
mod format_tests;
