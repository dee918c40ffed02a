//! Usage: running hours, kept twice for two questions.
//!
//! - The student's usage in a class (`student_usage`): what the class quota is measured
//!   against. It belongs to the (class, student) pair, so leaving, a reimage and rejoining leave
//!   it alone; only a teacher's reset zeroes it.
//! - The VM's own running hours (`vm_assignments.usage_hours`) since it was registered or last
//!   reimaged: what the pool shows about the machine.
//!
//! The monitor's running time goes to both: to the VM, and to whoever holds it.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Query};

use super::pool::{map as map_vm, PoolVm, COLUMNS as VM_COLUMNS};
use super::{execute, query_opt, stored, Cols};
use crate::db::schema::{StudentUsage as Usage, VmAssignments as Vm};
use crate::db::time::{now_sql, opt_ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::types::{ClassId, QuotaWarnedLevel, UserId, VmRef};

/// A student's usage in one class.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentUsage {
    /// The class.
    pub class_id: ClassId,
    /// The student.
    pub user_id: UserId,
    /// Running hours of the VMs they held in this class since a teacher last reset them.
    pub hours: f64,
    /// The quota alert already sent for these hours and the class's current limit.
    pub alerted: QuotaWarnedLevel,
    /// When a teacher last reset them; `None` if never.
    pub last_reset: Option<Timestamp>,
}

impl StudentUsage {
    /// No usage yet.
    pub(crate) fn none(class_id: ClassId, user_id: UserId) -> Self {
        Self {
            class_id,
            user_id,
            hours: 0.0,
            alerted: QuotaWarnedLevel::None,
            last_reset: None,
        }
    }
}

/// The columns [`map_opt`] reads, in its order (qualify them with the table in joins).
pub(crate) const COLUMNS: [Usage; 5] = [
    Usage::ClassId,
    Usage::UserId,
    Usage::UsageHours,
    Usage::QuotaWarnedPercent,
    Usage::UsageLastReset,
];

/// Maps a usage row, or `None` for the NULL columns of a `LEFT JOIN` that found none.
pub(crate) fn map_opt(c: &mut Cols<'_, '_>) -> Result<Option<StudentUsage>> {
    let Some(class_id) = c.next::<Option<i64>>()? else {
        c.skip(COLUMNS.len() - 1);
        return Ok(None);
    };
    Ok(Some(StudentUsage {
        class_id: ClassId::new(class_id),
        user_id: UserId::new(c.next()?),
        hours: c.next()?,
        alerted: stored(QuotaWarnedLevel::from_percent(c.next()?))?,
        last_reset: opt_ts_from_sql(c.next()?)?,
    }))
}

fn is(class: ClassId, user: UserId) -> [sea_query::Expr; 2] {
    [
        Expr::col(Usage::ClassId).eq(class.get()),
        Expr::col(Usage::UserId).eq(user.get()),
    ]
}

/// Adds running hours to the VM's own counter; returns the VM after the change.
///
/// # Errors
/// [`Error::NotFound`] when there is no such VM.
pub(crate) fn add_vm_hours(conn: &Connection, vm: &VmRef, hours: f64) -> Result<PoolVm> {
    let update = Query::update()
        .table(Vm::Table)
        .value(Vm::UsageHours, Expr::col(Vm::UsageHours).add(hours))
        .and_where(Expr::col(Vm::ClusterId).eq(vm.cluster.as_str()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vm.vmid.get())))
        .returning(Query::returning().columns(VM_COLUMNS))
        .to_owned();
    query_opt(conn, &update, map_vm)?.ok_or_else(|| Error::not_found(Entity::Vm, vm))
}

/// A student's usage in a class (none used yet when they never ran a VM there).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn get(conn: &Connection, class: ClassId, user: UserId) -> Result<StudentUsage> {
    let [in_class, of_user] = is(class, user);
    let select = Query::select()
        .columns(COLUMNS)
        .from(Usage::Table)
        .and_where(in_class)
        .and_where(of_user)
        .to_owned();
    Ok(query_opt(conn, &select, map_opt)?
        .flatten()
        .unwrap_or_else(|| StudentUsage::none(class, user)))
}

/// Adds running hours to a student's usage in a class; returns it after the change.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn add(
    conn: &Connection,
    class: ClassId,
    user: UserId,
    hours: f64,
) -> Result<StudentUsage> {
    let first = Query::insert()
        .into_table(Usage::Table)
        .columns([Usage::ClassId, Usage::UserId])
        .values_panic([class.get().into(), user.get().into()])
        .on_conflict(
            OnConflict::columns([Usage::ClassId, Usage::UserId])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    execute(conn, &first)?;
    // The report history keeps when the hours were used (this row only keeps how many).
    super::usage_history::add_hours(conn, class, user, hours)?;
    let [in_class, of_user] = is(class, user);
    let update = Query::update()
        .table(Usage::Table)
        .value(Usage::UsageHours, Expr::col(Usage::UsageHours).add(hours))
        .and_where(in_class)
        .and_where(of_user)
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &update, map_opt)?
        .flatten()
        .ok_or_else(|| Error::internal(format!("no usage row for user {user} in class {class}")))
}

/// Records the quota alert sent to a student for their current usage (so each is sent once).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn set_alerted(
    conn: &Connection,
    class: ClassId,
    user: UserId,
    level: QuotaWarnedLevel,
) -> Result<()> {
    let [in_class, of_user] = is(class, user);
    let update = Query::update()
        .table(Usage::Table)
        .value(Usage::QuotaWarnedPercent, i64::from(level.percent()))
        .and_where(in_class)
        .and_where(of_user)
        .to_owned();
    execute(conn, &update)?;
    Ok(())
}

/// Resets the usage of one student of the class, or of every student (`None`); returns how
/// many students had usage recorded. `last_reset` records when.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn reset(conn: &Connection, class: ClassId, student: Option<UserId>) -> Result<usize> {
    let mut update = Query::update();
    update
        .table(Usage::Table)
        .values([
            (Usage::UsageHours, 0.0f64.into()),
            (Usage::UsageLastReset, now_sql().into()),
            (Usage::QuotaWarnedPercent, 0i64.into()),
        ])
        .and_where(Expr::col(Usage::ClassId).eq(class.get()));
    if let Some(student) = student {
        update.and_where(Expr::col(Usage::UserId).eq(student.get()));
    }
    execute(conn, &update)
}

/// Forgets the quota alerts sent in a class (its limit changed: they were about the old one),
/// so the next usage update tells each student where they stand against the new limit.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn clear_alerts(conn: &Connection, class: ClassId) -> Result<()> {
    let update = Query::update()
        .table(Usage::Table)
        .value(Usage::QuotaWarnedPercent, 0i64)
        .and_where(Expr::col(Usage::ClassId).eq(class.get()))
        .to_owned();
    execute(conn, &update)?;
    Ok(())
}
