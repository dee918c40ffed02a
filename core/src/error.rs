//! The one error type of pvelab-core. Each variant is something a caller can act on, and each
//! carries the facts a front end needs to render it in its own words without parsing English.
//!
//! The `Display` forms are plain statements of fact (which value, what is allowed, which window
//! and what time it is there). They give no advice to people ("ask your teacher"): what a person
//! should do next depends on who they are and where they typed the command, so front ends write
//! that, in one place of their own.
//!
//! No foreign error type appears here: storage failures become [`Error::Internal`] with the
//! reason as text (the details are logged where they happen), so embedders do not depend on the
//! storage library pvelab happens to use.

use std::fmt;
use std::time::Duration;

use jiff::civil::Time;
use jiff::Timestamp;

use crate::rules::permissions::{Action, Requirement};
use crate::types::{ClassName, ClassTimeZone, ClusterId, HoursWindow, InvalidValue, VmId};

/// The kinds of records an operation can look up; [`Error::NotFound`] and
/// [`Error::NameTaken`] name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A person known to pvelab.
    User,
    /// A class.
    Class,
    /// A Proxmox VE cluster.
    Cluster,
    /// A VM of a class's pool (or one a student holds).
    Vm,
    /// A template.
    Template,
    /// A system setting.
    Setting,
    /// An event of the outbox.
    Event,
    /// An in-VM check of a class.
    Check,
    /// A submission (a student's snapshot).
    Submission,
    /// A scheduled session of a class.
    Session,
}

impl Entity {
    /// The entity's name in plain English ("class").
    pub fn describe(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Class => "class",
            Entity::Cluster => "cluster",
            Entity::Vm => "VM",
            Entity::Template => "template",
            Entity::Setting => "setting",
            Entity::Event => "event",
            Entity::Check => "check",
            Entity::Submission => "submission",
            Entity::Session => "session",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why a VM cannot be handed to a student ([`Error::VmNotAssignable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAssignable {
    /// It is the class's teacher VM.
    TeacherVm,
    /// It is the class's base VM (its own template copy).
    BaseVm,
    /// Another student holds it.
    Held,
    /// Its last holder left and it has not been reimaged yet.
    AwaitsReimage,
    /// It is being deleted.
    Deleting,
    /// It is not ready on Proxmox yet (being created, or its creation failed).
    NotReady,
    /// Its student slot lies beyond the class's pool size (the pool shrank).
    BeyondPoolSize,
}

impl fmt::Display for NotAssignable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotAssignable::TeacherVm => "it is the class's teacher VM",
            NotAssignable::BaseVm => "it is the class's base VM",
            NotAssignable::Held => "another student holds it",
            NotAssignable::AwaitsReimage => "it waits for a reimage after its last holder left",
            NotAssignable::Deleting => "it is being deleted",
            NotAssignable::NotReady => "it is not ready on Proxmox yet",
            NotAssignable::BeyondPoolSize => "its slot lies beyond the class's pool size",
        })
    }
}

/// Everything that can go wrong in pvelab-core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input broke a type's rules; the inner value names field, value and what is allowed.
    #[error(transparent)]
    InvalidValue(#[from] InvalidValue),

    /// The acting user lacks the right an operation needs.
    #[error("you may not {action}: that needs {needed}")]
    NotPermitted {
        /// What was attempted.
        action: Action,
        /// The missing right.
        needed: Requirement,
    },

    /// A referenced record does not exist, or is not visible to the actor (a class a student is
    /// not enrolled in is "not found", so ids cannot be probed).
    #[error("no {entity} {key}")]
    NotFound {
        /// What kind of record was looked for.
        entity: Entity,
        /// The key it was looked for by, as text (`"net101"`, `7`, `VM 101 on pve1`).
        key: String,
    },

    /// A name that must be unique is taken (a class name in its scope, a user name, a cluster
    /// id).
    #[error("a {entity} named {name:?} exists already")]
    NameTaken {
        /// What kind of record holds the name.
        entity: Entity,
        /// The name.
        name: String,
    },

    /// A join token matches no class. Says nothing about which classes exist.
    #[error("no class has this join token")]
    TokenInvalid,

    /// A join token matched a class but is past its expiry.
    #[error("this join token expired at {expired_at}")]
    TokenExpired {
        /// When it expired.
        expired_at: Timestamp,
    },

    /// Too many attempts in a short time (join tokens are rate-limited per user, so guessing is
    /// hopeless); the caller may try again after `retry_after`.
    #[error("too many attempts; the next one is allowed in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long until the next attempt is allowed.
        retry_after: Duration,
    },

    /// The student already holds a VM in this class (one VM per student per class).
    #[error("this student already holds VM {vmid} in this class")]
    AlreadyHoldsVm {
        /// The VM they hold.
        vmid: VmId,
    },

    /// This VM cannot be given to a student.
    #[error("VM {vmid} cannot be given to a student: {reason}")]
    VmNotAssignable {
        /// The VM.
        vmid: VmId,
        /// Why.
        reason: NotAssignable,
    },

    /// No student VM of the class is free.
    #[error("no student VM of this class is free")]
    NoFreeVm,

    /// The VM is being deleted (the pool shrank or the class is going away).
    #[error("VM {vmid} is being deleted")]
    VmDeleting {
        /// The VM.
        vmid: VmId,
    },

    /// The VM (or, for a student slot, the slot) is registered already.
    #[error("VM {vmid} on cluster {cluster} (or its slot) is registered already")]
    VmRegistered {
        /// The VM.
        vmid: VmId,
        /// Its cluster.
        cluster: ClusterId,
    },

    /// A student holds the VM, which the operation would take away.
    #[error("VM {vmid} is held by a student")]
    VmHeld {
        /// The VM.
        vmid: VmId,
    },

    /// A VMID lies in the range another class reserved.
    #[error("VM {vmid} lies in the VMID range of class {owner}")]
    VmidOfAnotherClass {
        /// The VMID.
        vmid: VmId,
        /// The class that reserved it.
        owner: ClassName,
    },

    /// The requested VMID range overlaps another class's range, or guests exist in it.
    #[error("the VMIDs {range} are in use: {by}")]
    VmidRangeTaken {
        /// The range, e.g. `4100-4199`.
        range: String,
        /// What uses it (another class, or guests on a cluster).
        by: String,
    },

    /// No free VMID range is left for a plan of this kind.
    #[error("no free VMID range is left for a {kind} plan")]
    VmidRangeExhausted {
        /// `classic` or `wide`.
        kind: String,
    },

    /// A VM at one of the class's VMIDs does not carry pvelab's marker for that slot, so
    /// pvelab leaves it alone (it never changes or deletes a VM it did not create).
    #[error("VM {vmid} on {node} exists and was not created by pvelab for this slot")]
    VmNotOurs {
        /// The VM.
        vmid: VmId,
        /// Its node.
        node: String,
    },

    /// The VM is being built, rebuilt or deleted by pvelab, or its creation failed.
    #[error("VM {vmid} is not ready on Proxmox: it is {step}")]
    VmNotReady {
        /// The VM.
        vmid: VmId,
        /// How far it has come (`cloning`, `failed`, ...).
        step: String,
    },

    /// The record is still used by another and cannot go (a template a class still uses).
    #[error("{entity} {key} is still used by {by}")]
    InUse {
        /// What kind of record.
        entity: Entity,
        /// Which one.
        key: String,
        /// What uses it.
        by: String,
    },

    /// Another cluster is the default already; one cluster is the default at most.
    #[error("cluster {current} is the default already")]
    DefaultClusterTaken {
        /// The current default.
        current: ClusterId,
    },

    /// The usage quota of the student's VM is used up.
    #[error("usage quota exhausted: {used:.1} of {limit} hours used")]
    QuotaExhausted {
        /// Hours used.
        used: f64,
        /// The limit in hours.
        limit: u16,
    },

    /// Starting is not allowed at this local time of the class.
    #[error("the class allows VMs {window} {zone}; it is {} there now", local_time.strftime("%H:%M"))]
    OutsideHours {
        /// The class's allowed hours.
        window: HoursWindow,
        /// The class's time zone.
        zone: ClassTimeZone,
        /// The current wall-clock time in that zone.
        local_time: Time,
    },

    /// A Proxmox VE cluster could not be reached, refused pvelab's credentials, or presented a
    /// certificate pvelab does not trust.
    #[error("cluster {cluster}: {problem}")]
    Cluster {
        /// The cluster.
        cluster: ClusterId,
        /// What went wrong.
        problem: ClusterProblem,
    },

    /// A local login failed: unknown user name or wrong password (deliberately not saying
    /// which, so user names cannot be probed).
    #[error("unknown user name or wrong password")]
    LoginFailed,

    /// The database was written by a newer pvelab (it records a schema version this build does
    /// not know); it is left untouched.
    #[error(
        "the database has schema version {found} but this pvelab understands up to {supported}"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// A secret must be stored or read but no sealing key was configured.
    #[error("no sealing key is configured, so credentials cannot be stored or read")]
    NoSealingKey,

    /// Sealing or unsealing a stored secret failed (wrong key or damaged data).
    #[error("stored secret could not be sealed or unsealed: {reason}")]
    Sealing {
        /// Why, without any secret material.
        reason: String,
    },

    /// A class's pool would need more memory than its cluster's nodes may give at the
    /// `capacity.memory_overcommit_percent` setting; nothing was changed. The plan says by how
    /// much, and which nodes still have room.
    #[error(
        "the pool of {} VMs does not fit: {} VMs ({} MiB of memory) find no node within {}% of its memory",
        plan.size, plan.unplaced_vms, plan.short_mb, plan.overcommit_percent
    )]
    Overcommitted {
        /// The estimate that was refused.
        plan: Box<crate::capacity::CapacityPlan>,
    },

    /// A bug or a storage failure: nothing the caller did. The reason is for logs, not people.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: String,
    },
}

/// What went wrong with a cluster ([`Error::Cluster`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterProblem {
    /// It did not answer (network, DNS, timeout, node down).
    Unreachable {
        /// What the connection attempt reported.
        detail: String,
    },
    /// Its TLS certificate is not the pinned one (or not trusted by the configured CA).
    Untrusted {
        /// The SHA-256 fingerprint it presented, when known, to compare with the node's.
        presented: Option<String>,
        /// What the TLS check reported.
        detail: String,
    },
    /// It refused the credentials.
    AuthenticationFailed {
        /// What Proxmox said.
        detail: String,
    },
    /// The credentials lack a Proxmox permission.
    PermissionDenied {
        /// What Proxmox said.
        detail: String,
    },
    /// Proxmox refused or failed the request (a lock, a missing VM, a failed task).
    Refused {
        /// What Proxmox said.
        detail: String,
    },
}

impl fmt::Display for ClusterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterProblem::Unreachable { detail } => write!(f, "unreachable ({detail})"),
            ClusterProblem::Untrusted {
                presented: Some(fp),
                detail,
            } => write!(
                f,
                "its certificate is not trusted ({detail}); it presented fingerprint {fp}"
            ),
            ClusterProblem::Untrusted {
                presented: None,
                detail,
            } => write!(f, "its certificate is not trusted ({detail})"),
            ClusterProblem::AuthenticationFailed { detail } => {
                write!(f, "authentication failed ({detail})")
            }
            ClusterProblem::PermissionDenied { detail } => {
                write!(f, "permission denied ({detail})")
            }
            ClusterProblem::Refused { detail } => write!(f, "Proxmox refused: {detail}"),
        }
    }
}

impl Error {
    /// A "not found" error for `entity` looked up by `key`.
    pub(crate) fn not_found(entity: Entity, key: impl fmt::Display) -> Self {
        Error::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// An internal error with its reason (logged by the caller where useful).
    pub(crate) fn internal(reason: impl fmt::Display) -> Self {
        Error::Internal {
            reason: reason.to_string(),
        }
    }
}

/// SQLite failures are internal: the details are logged here, once, and the caller gets a typed
/// [`Error::Internal`]. Crate-private so that no storage type appears in the public API.
pub(crate) fn db_error(e: rusqlite::Error) -> Error {
    tracing::error!(error = %e, "database error");
    Error::internal(format!("database: {e}"))
}

/// `?` on SQLite results inside the crate.
pub(crate) trait DbResultExt<T> {
    /// Converts the SQLite error into [`Error::Internal`].
    fn db(self) -> Result<T>;
}

impl<T> DbResultExt<T> for std::result::Result<T, rusqlite::Error> {
    fn db(self) -> Result<T> {
        self.map_err(db_error)
    }
}

/// The result type of pvelab-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outside_hours_message_shows_window_zone_and_local_time() {
        let e = Error::OutsideHours {
            window: HoursWindow::new(8, 18).unwrap(),
            zone: ClassTimeZone::parse("Europe/Berlin").unwrap(),
            local_time: Time::constant(19, 12, 30, 0),
        };
        assert_eq!(
            e.to_string(),
            "the class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now"
        );
    }

    #[test]
    fn a_refusal_names_the_action_and_the_missing_right() {
        let e = Error::NotPermitted {
            action: Action::DeleteClass,
            needed: Requirement::PrimaryTeacher,
        };
        assert_eq!(
            e.to_string(),
            "you may not delete a class: that needs being this class's primary teacher, \
             or the adminer role"
        );
    }

    #[test]
    fn not_found_names_the_entity_and_the_key() {
        let e = Error::not_found(Entity::Class, "\"net101\"");
        assert_eq!(e.to_string(), "no class \"net101\"");
    }

    #[test]
    fn an_untrusted_cluster_shows_the_presented_fingerprint() {
        let e = Error::Cluster {
            cluster: ClusterId::parse("pve1").unwrap(),
            problem: ClusterProblem::Untrusted {
                presented: Some("AB:CD".into()),
                detail: "pin mismatch".into(),
            },
        };
        assert!(e.to_string().contains("presented fingerprint AB:CD"));
    }

    #[test]
    fn the_rate_limit_says_when_to_retry() {
        let e = Error::RateLimited {
            retry_after: Duration::from_millis(2500),
        };
        assert_eq!(
            e.to_string(),
            "too many attempts; the next one is allowed in 2 s"
        );
    }
}
