//! The one error type of pvelab-core. Each variant is something a caller can act on; front ends
//! turn them into user-facing text (the `Display` forms here are plain English defaults).

use jiff::civil::Time;
use jiff::Timestamp;

use crate::rules::permissions::{Action, Requirement};
use crate::types::{HoursWindow, InvalidValue};

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

    /// A referenced record does not exist (or is not visible to the actor).
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `class "net101"`.
        what: String,
    },

    /// A join token matches no class. Says nothing about which classes exist.
    #[error("this join token is not valid; check it with your teacher")]
    TokenInvalid,

    /// A join token matched a class but is past its expiry.
    #[error("this join token expired at {expired_at}; ask your teacher for a new one")]
    TokenExpired {
        /// When it expired.
        expired_at: Timestamp,
    },

    /// The student's VM has used up its usage quota.
    #[error(
        "usage quota exhausted: {used:.1} of {limit} hours used; ask your teacher to reset it"
    )]
    QuotaExhausted {
        /// Hours used.
        used: f64,
        /// The limit in hours.
        limit: u16,
    },

    /// Starting is not allowed at this local time of the class.
    #[error("your class allows VMs {window} {zone}; it is {} there now", local_time.strftime("%H:%M"))]
    OutsideHours {
        /// The class's allowed hours.
        window: HoursWindow,
        /// The IANA name of the class's time zone.
        zone: String,
        /// The current wall-clock time in that zone.
        local_time: Time,
    },

    /// The operation collides with the current state (a name taken, a VMID range in use, a
    /// concurrent change).
    #[error("conflict: {what}")]
    Conflict {
        /// What collided.
        what: String,
    },

    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),

    /// A local login failed: unknown user name or wrong password (deliberately not saying
    /// which, so user names cannot be probed).
    #[error("unknown user name or wrong password")]
    LoginFailed,

    /// The database was written by a newer pvelab (it records a schema version this build does
    /// not know); it is left untouched. Upgrade pvelab, or restore a backup made for this version.
    #[error(
        "the database has schema version {found} but this pvelab understands up to {supported}; \
         it was written by a newer pvelab: upgrade, or use a backup made for this version"
    )]
    SchemaTooNew {
        /// The version recorded in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// Storage failed outside SQLite itself: a stored value that does not read back (a database
    /// edited by hand), or a database task that died.
    #[error("storage error: {reason}")]
    Storage {
        /// What failed, naming the value or the task.
        reason: String,
    },

    /// A secret must be stored but no sealing key was configured.
    #[error(
        "no sealing key is configured, so credentials cannot be stored; \
         configure the sealing key (a key file or an environment variable) and try again"
    )]
    NoSealingKey,

    /// Sealing or unsealing a stored secret failed (wrong key or damaged data).
    #[error("stored secret could not be sealed or unsealed: {reason}")]
    Sealing {
        /// Why, without any secret material.
        reason: String,
    },
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
            zone: "Europe/Berlin".into(),
            local_time: Time::constant(19, 12, 30, 0),
        };
        assert_eq!(
            e.to_string(),
            "your class allows VMs 08:00-18:00 Europe/Berlin; it is 19:12 there now"
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
}
