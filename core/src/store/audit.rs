//! The audit trail (`audit_log`): one row per change (or refused or failed attempt) by a person
//! or the system, written in the transaction of the change where there is one.

use rusqlite::Connection;
use sea_query::{Cond, Expr, ExprTrait, OnConflict, Order, Query};

use super::{query_all, query_opt, stored};
use crate::db::schema::{AuditCursors as Cur, AuditLog as Log, Classes, PoolOperations as Ops};
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::{Error, Result};
use crate::events::{LabEvent, RebuildReason};
use crate::model::{AuditEntry, AuditOutcome};
use crate::pools::OperationKind;
use crate::types::{ClassId, ClassName, Role, UserId};

/// The longest detail kept; longer text is cut (an error message can be long).
const DETAIL_LIMIT: usize = 500;

/// One entry to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NewEntry {
    /// A person and the role they acted with; `None` for the system.
    pub(crate) actor: Option<(UserId, Role)>,
    pub(crate) action: String,
    pub(crate) class: Option<ClassId>,
    pub(crate) subject: Option<UserId>,
    pub(crate) detail: String,
    pub(crate) outcome: AuditOutcome,
}

const COLUMNS: [Log; 10] = [
    Log::Id,
    Log::At,
    Log::ActorId,
    Log::ActorRole,
    Log::Action,
    Log::ClassId,
    Log::ClassName,
    Log::SubjectId,
    Log::Detail,
    Log::Outcome,
];

fn map(c: &mut crate::store::Cols<'_, '_>) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: c.next()?,
        at: ts_from_sql(&c.next::<String>()?)?,
        actor: c.next::<Option<i64>>()?.map(UserId::new),
        actor_role: c
            .next::<Option<String>>()?
            .map(|r| stored(Role::parse(&r)))
            .transpose()?,
        action: c.next()?,
        class_id: c.next::<Option<i64>>()?.map(ClassId::new),
        class_name: c
            .next::<Option<String>>()?
            .and_then(|n| ClassName::parse(&n).ok()),
        subject: c.next::<Option<i64>>()?.map(UserId::new),
        actor_name: None,
        subject_name: None,
        detail: c.next()?,
        outcome: {
            let text: String = c.next()?;
            AuditOutcome::parse(&text)
                .ok_or_else(|| Error::internal(format!("stored audit outcome {text:?}")))?
        },
    })
}

/// Writes an entry inside the caller's transaction, so it exists exactly when the change was
/// committed.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn append(conn: &Connection, entry: &NewEntry) -> Result<AuditEntry> {
    let class_name = match entry.class {
        Some(class) => {
            let select = Query::select()
                .column(Classes::Name)
                .from(Classes::Table)
                .and_where(Expr::col(Classes::Id).eq(class.get()))
                .to_owned();
            query_opt(conn, &select, |c| c.next::<String>())?
        }
        None => None,
    };
    let mut detail = entry.detail.clone();
    if detail.chars().count() > DETAIL_LIMIT {
        detail = detail.chars().take(DETAIL_LIMIT - 1).collect::<String>() + "…";
    }
    let insert = Query::insert()
        .into_table(Log::Table)
        .columns(COLUMNS[1..].iter().copied())
        .values_panic([
            now_sql().into(),
            entry.actor.map(|(u, _)| u.get()).into(),
            entry.actor.map(|(_, r)| r.as_str()).into(),
            entry.action.clone().into(),
            entry.class.map(ClassId::get).into(),
            class_name.into(),
            entry.subject.map(UserId::get).into(),
            detail.into(),
            entry.outcome.as_str().into(),
        ])
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    // Without names: the writers need only the entry's number (readers fill names in).
    query_opt(conn, &insert, map)?
        .ok_or_else(|| Error::internal("a new audit entry was not returned"))
}

/// Fills in the names of the entries' actors and subjects (one read per person): a trail that
/// says `tom (teacher) · about sam` reads better than user numbers. Names are today's, not
/// those of the day of the entry; a person pvelab no longer knows keeps their number.
fn with_names(conn: &Connection, mut entries: Vec<AuditEntry>) -> Result<Vec<AuditEntry>> {
    let mut names: std::collections::HashMap<UserId, Option<String>> =
        std::collections::HashMap::new();
    let mut name_of = |user: UserId| -> Result<Option<String>> {
        if let Some(name) = names.get(&user) {
            return Ok(name.clone());
        }
        let name = match super::users::get(conn, user) {
            Ok(person) => Some(person.shown_name().to_owned()),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        names.insert(user, name.clone());
        Ok(name)
    };
    for entry in &mut entries {
        if let Some(actor) = entry.actor {
            entry.actor_name = name_of(actor)?;
        }
        if let Some(subject) = entry.subject {
            entry.subject_name = name_of(subject)?;
        }
    }
    Ok(entries)
}

/// The newest entries, newest first: of `class` when given (else of every class and none), by
/// or about `user` when given.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn latest(
    conn: &Connection,
    class: Option<ClassId>,
    user: Option<UserId>,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    let mut select = Query::select()
        .columns(COLUMNS)
        .from(Log::Table)
        .order_by(Log::Id, Order::Desc)
        .limit(u64::from(limit))
        .to_owned();
    if let Some(class) = class {
        select.and_where(Expr::col(Log::ClassId).eq(class.get()));
    }
    if let Some(user) = user {
        select.cond_where(
            Cond::any()
                .add(Expr::col(Log::ActorId).eq(user.get()))
                .add(Expr::col(Log::SubjectId).eq(user.get())),
        );
    }
    with_names(conn, query_all(conn, &select, map)?)
}

thread_local! {
    /// Who acts in the transaction running on this thread, and the note its work left for the
    /// audit entry. Set by the facade around a transaction (like the transaction's "now"), so
    /// entries derived from events deep in the store know their actor without every store
    /// function carrying it.
    static ACTING: std::cell::RefCell<Option<Acting>> = const { std::cell::RefCell::new(None) };
}

/// The actor of the running transaction and what its work noted.
#[derive(Debug, Clone, Default)]
struct Acting {
    actor: Option<(UserId, Role)>,
    note: Note,
}

/// What the work of a change noted for its audit entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Note {
    /// Whom the change concerns.
    pub(crate) subject: Option<UserId>,
    /// What it did (`size 30 -> 40`); `None`: the entry names the action only.
    pub(crate) detail: Option<String>,
    /// The change found everything as asked (a co-owner added twice): it changed nothing, so
    /// it has no entry.
    pub(crate) unchanged: bool,
}

/// Runs `work` (one transaction's work, on this thread) as `actor` (`None`: the system).
pub(crate) fn acting_as<T>(actor: Option<(UserId, Role)>, work: impl FnOnce() -> T) -> T {
    let outer = ACTING.replace(Some(Acting {
        actor,
        ..Acting::default()
    }));
    let value = work();
    ACTING.set(outer);
    value
}

/// Notes, for the audit entry of the running change, whom it concerns and what it did
/// (`size 30 -> 40`). Without a note the entry names the action only.
pub(crate) fn note(subject: Option<UserId>, detail: impl Into<String>) {
    ACTING.with_borrow_mut(|acting| {
        if let Some(acting) = acting {
            acting.note.subject = subject.or(acting.note.subject);
            acting.note.detail = Some(detail.into());
        }
    });
}

/// Notes that the running change found nothing to do, so the trail does not record it as a
/// change (the caller still says so to the person who asked).
pub(crate) fn note_unchanged() {
    ACTING.with_borrow_mut(|acting| {
        if let Some(acting) = acting {
            acting.note.unchanged = true;
        }
    });
}

/// The note the running transaction's work left, taken (an empty one outside any facade
/// call).
pub(crate) fn take_note() -> Note {
    ACTING.with_borrow_mut(|acting| match acting {
        Some(acting) => std::mem::take(&mut acting.note),
        None => Note::default(),
    })
}

fn current_actor() -> Option<(UserId, Role)> {
    ACTING.with_borrow(|acting| acting.as_ref().and_then(|a| a.actor))
}

/// The audit entry an outbox event implies, written in the event's transaction: the changes the
/// outbox reports (assignments from the waitlist, rebuilds, removals, automatic shutdowns, VMs
/// started for a session) are audited from the one path every event takes, so none is missed.
/// Events that only inform (warnings, waitlist places, announcements) imply none.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn from_event(conn: &Connection, event: &LabEvent) -> Result<()> {
    let (action, subject, detail) = match event {
        LabEvent::AssignedFromWaitlist { user_id, vmid, .. } => (
            "assign_from_waitlist",
            Some(*user_id),
            format!("VM {vmid} given to the first in line"),
        ),
        LabEvent::VmRebuilt {
            user_id,
            class_id,
            vmid,
            reason,
        } => {
            if *reason == RebuildReason::Reimaged && reimaging_own_vm(conn, *class_id, *user_id)? {
                return Ok(());
            }
            ("vm_rebuilt", Some(*user_id), format!("VM {vmid}: {reason}"))
        }
        LabEvent::VmRemoved { user_id, vmid, .. } => (
            "vm_removed",
            Some(*user_id),
            format!("VM {vmid} taken from its student"),
        ),
        LabEvent::VmShutDown {
            user_id,
            vmid,
            reason,
            ..
        } => (
            "vm_shut_down",
            *user_id,
            format!("VM {vmid} shut down automatically: {reason}"),
        ),
        LabEvent::QuotaExhausted {
            user_id,
            used,
            limit,
            ..
        } => (
            "quota_exhausted",
            Some(*user_id),
            format!("{used:.1} of {limit} hours used"),
        ),
        LabEvent::VmStartedForSession {
            user_id,
            vmid,
            session,
            ..
        } => (
            "vm_started_for_session",
            *user_id,
            format!("VM {vmid} started for session {session}"),
        ),
        _ => return Ok(()),
    };
    append(
        conn,
        &NewEntry {
            actor: current_actor(),
            action: action.to_owned(),
            class: event.class_id(),
            subject,
            detail,
            outcome: AuditOutcome::Done,
        },
    )?;
    Ok(())
}

/// Whether `holder` runs a reimage in `class` (an operation they started that has not ended):
/// then the rebuild of the VM they hold there is their own doing on their own VM, which the
/// trail leaves out like their other actions on it. A student holds one VM per class, so their
/// running reimage there is of that VM. The rebuilds the system does (a VM that vanished, a
/// published template's reimages) and those a teacher asked for are still recorded.
fn reimaging_own_vm(conn: &Connection, class: ClassId, holder: UserId) -> Result<bool> {
    let select = Query::select()
        .expr(Expr::val(1))
        .from(Ops::Table)
        .and_where(Expr::col(Ops::ClassId).eq(class.get()))
        .and_where(Expr::col(Ops::Kind).eq(OperationKind::Reimage.as_str()))
        .and_where(Expr::col(Ops::StartedBy).eq(holder.get()))
        .and_where(Expr::col(Ops::FinishedAt).is_null())
        .limit(1)
        .to_owned();
    Ok(query_opt(conn, &select, |c| c.next::<i64>())?.is_some())
}

/// Up to `limit` entries after `consumer`'s cursor, oldest first.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn after_cursor(
    conn: &Connection,
    consumer: &str,
    limit: u32,
) -> Result<Vec<AuditEntry>> {
    let cursor = Query::select()
        .column(Cur::AckedId)
        .from(Cur::Table)
        .and_where(Expr::col(Cur::Consumer).eq(consumer))
        .to_owned();
    let after = query_opt(conn, &cursor, |c| c.next::<i64>())?.unwrap_or(0);
    let select = Query::select()
        .columns(COLUMNS)
        .from(Log::Table)
        .and_where(Expr::col(Log::Id).gt(after))
        .order_by(Log::Id, Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    with_names(conn, query_all(conn, &select, map)?)
}

/// Moves `consumer`'s cursor forward to `up_to` (never back).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn ack(conn: &Connection, consumer: &str, up_to: i64) -> Result<()> {
    let upsert = Query::insert()
        .into_table(Cur::Table)
        .columns([Cur::Consumer, Cur::AckedId, Cur::UpdatedAt])
        .values_panic([
            consumer.into(),
            std::cmp::max(up_to, 0).into(),
            now_sql().into(),
        ])
        .on_conflict(
            OnConflict::column(Cur::Consumer)
                .value(
                    Cur::AckedId,
                    Expr::cust("max(audit_cursors.acked_id, excluded.acked_id)"),
                )
                .value(Cur::UpdatedAt, Expr::cust("excluded.updated_at"))
                .to_owned(),
        )
        .to_owned();
    super::execute(conn, &upsert)?;
    Ok(())
}
