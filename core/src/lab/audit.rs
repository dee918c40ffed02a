//! The audit trail through the facade: what is recorded, and who may read it.
//!
//! # What is recorded, and where
//! - Every change a person makes to a class goes through [`Lab::class_write`], which records an
//!   entry for the actions the trail covers ([`audited`]) in the SAME transaction as the change:
//!   the entry exists exactly when the change was committed. A change that found nothing to do
//!   (a co-owner added twice) has no entry ([`store::note_unchanged`]). An attempt that is
//!   refused or fails is recorded after its transaction rolled back, with the reason.
//! - Changes outside classes (roles, accounts, system settings, clusters, class creation) record
//!   their entry in their own transaction ([`record`], [`record_in_class`]). Starting the pool
//!   work a change asks for (building, resizing, reconfiguring) is not another entry.
//! - The changes the outbox reports (assignments from the waitlist, rebuilds, removals,
//!   automatic shutdowns, VMs started for sessions) are derived from the event writing path in
//!   `store::outbox::append`, which every event takes, with the transaction's actor (the system
//!   for background work); the rebuild of a VM its holder reimaged is left out, as their own
//!   doing.
//!
//! Audit channels of front ends read the trail as a feed with a durable cursor per consumer
//! ([`Lab::audit_after`], [`Lab::ack_audit`]), the way the outbox is read: at least once, woken
//! by the same signal as the outbox's consumers. A feed has its own table of cursors, so the
//! outbox's pruning and numbering stay as they are.

use super::{class_for, Lab};
use crate::error::{Entity, Error, Result};
use crate::model::{AuditEntry, AuditOutcome, AuditQuery};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::audit::{self as store, NewEntry};
use crate::types::{ClassId, Role, UserId};

/// Entries returned when the query names no limit.
const DEFAULT_LIMIT: u32 = 20;
/// The most entries returned at once.
const MAX_LIMIT: u32 = 200;

/// Whether an action changes something the trail records (reads, and students' own doings, do
/// not: joining, their own VM, their submissions).
pub(crate) fn audited(action: Action) -> bool {
    use Action::*;
    matches!(
        action,
        CreateClass
            | EditClassSettings
            | ManageJoinToken
            | ResizePool
            | AssignVm
            | ResetUsage
            | PublishTemplate
            | ControlStudentVm
            | DeleteClass
            | ManageCoOwners
            | ManageClusters
            | ManageSettings
            | ManageRoles
            | ManageAccounts
            | ManageTemplates
            | DefineChecks
            | RunChecks
            | RollbackSubmission
            | SetDeadline
            | ManageSessions
    )
}

/// The stable name of an action in the trail (`ResizePool` -> `resize_pool`).
pub(crate) fn action_name(action: Action) -> String {
    let mut name = String::new();
    for (i, ch) in format!("{action:?}").chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                name.push('_');
            }
            name.push(ch.to_ascii_lowercase());
        } else {
            name.push(ch);
        }
    }
    name
}

/// The actor as the trail stores it: a person with their role, or `None` for the system.
pub(crate) fn who(actor: &Actor) -> Option<(UserId, Role)> {
    actor.user_id().map(|user| (user, actor.role()))
}

/// `1 student VM`, `30 student VMs`: a pool's size as an entry's detail says it.
pub(crate) fn student_vms(size: crate::types::PoolSize) -> String {
    match size.get() {
        1 => "1 student VM".to_owned(),
        n => format!("{n} student VMs"),
    }
}

/// Records a done change inside the caller's transaction, with the note its work left; a
/// change whose work noted it changed nothing is not recorded.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn record_done(
    tx: &rusqlite::Connection,
    actor: &Actor,
    action: Action,
    class: Option<ClassId>,
) -> Result<()> {
    let note = store::take_note();
    if note.unchanged {
        return Ok(());
    }
    append_done(
        tx,
        actor,
        action,
        class,
        note.subject,
        note.detail.unwrap_or_default(),
    )
}

/// Records a change of a class made outside [`Lab::class_write`] (a VM of its pool acted on by
/// a teacher, a class created with its pool) inside its transaction.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn record_in_class(
    tx: &rusqlite::Connection,
    actor: &Actor,
    action: Action,
    class: ClassId,
    subject: Option<UserId>,
    detail: impl Into<String>,
) -> Result<()> {
    append_done(tx, actor, action, Some(class), subject, detail.into())
}

/// Records a change outside a class (roles, settings, clusters) inside its transaction.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn record(
    tx: &rusqlite::Connection,
    actor: &Actor,
    action: Action,
    subject: Option<UserId>,
    detail: impl Into<String>,
) -> Result<()> {
    append_done(tx, actor, action, None, subject, detail.into())
}

fn append_done(
    tx: &rusqlite::Connection,
    actor: &Actor,
    action: Action,
    class: Option<ClassId>,
    subject: Option<UserId>,
    detail: String,
) -> Result<()> {
    store::append(
        tx,
        &NewEntry {
            actor: who(actor),
            action: action_name(action),
            class,
            subject,
            detail,
            outcome: AuditOutcome::Done,
        },
    )?;
    Ok(())
}

impl Lab {
    /// Records an audited attempt that did not happen (its transaction rolled back): refused by
    /// the permission table, or failed. Attempts on a class that does not exist, and the system's
    /// own retries, are not recorded. A failure to record is logged, never returned: the caller
    /// reports the original error.
    pub(crate) async fn audit_failure(
        &self,
        actor: &Actor,
        action: Action,
        class: Option<ClassId>,
        error: &Error,
    ) {
        if !audited(action) || actor.is_system() {
            return;
        }
        if matches!(
            error,
            Error::NotFound {
                entity: Entity::Class,
                ..
            }
        ) {
            return;
        }
        let outcome = if matches!(error, Error::NotPermitted { .. }) {
            AuditOutcome::Refused
        } else {
            AuditOutcome::Failed
        };
        let entry = NewEntry {
            actor: who(actor),
            action: action_name(action),
            class,
            subject: None,
            detail: error.to_string(),
            outcome,
        };
        match self.db().write(move |tx| store::append(tx, &entry)).await {
            Ok(_) => self.wake_consumers(1),
            Err(e) => tracing::error!(error = %e, "an attempt could not be audited"),
        }
    }

    /// Up to `limit` entries of the trail after `consumer`'s cursor, oldest first: what an audit
    /// channel has not delivered yet. Takes no actor: it serves the embedding program, which
    /// decides where the entries go (its audit channels). The same entries come again until
    /// [`Lab::ack_audit`].
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn audit_after(
        &self,
        consumer: &crate::events::ConsumerName,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let name = consumer.as_str().to_owned();
        self.db()
            .read(move |tx| store::after_cursor(tx, &name, limit))
            .await
    }

    /// Marks the trail up to entry `up_to` as delivered by `consumer` (a cursor never moves
    /// back).
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn ack_audit(
        &self,
        consumer: &crate::events::ConsumerName,
        up_to: i64,
    ) -> Result<()> {
        let name = consumer.as_str().to_owned();
        self.db()
            .write(move |tx| store::ack(tx, &name, up_to))
            .await
    }

    /// The newest entries of the audit trail, newest first. Adminers read everything (and may
    /// leave out the class); teachers read their classes' entries only, so they must name the
    /// class.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] for a teacher without a class, or for a class they do not teach;
    /// [`Error::NotFound`] for a class the actor cannot see; [`Error::InvalidValue`] for a limit
    /// of 0.
    pub async fn audit(&self, actor: &Actor, query: AuditQuery) -> Result<Vec<AuditEntry>> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 {
            return Err(crate::types::InvalidValue::new(
                "limit",
                0,
                format!("a number of entries from 1 to {MAX_LIMIT}"),
            )
            .into());
        }
        let limit = limit.min(MAX_LIMIT);
        let actor = *actor;
        self.db()
            .read(move |tx| {
                match query.class {
                    Some(class) => {
                        class_for(tx, &actor, Action::ViewAudit, class)?;
                    }
                    None => authorize(&actor, Action::ViewAllAudit, ClassRelation::None)?,
                }
                store::latest(tx, query.class, query.user, limit)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_snake_case() {
        assert_eq!(action_name(Action::ResizePool), "resize_pool");
        assert_eq!(action_name(Action::ManageSessions), "manage_sessions");
    }
}
