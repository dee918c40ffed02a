//! Usage: running hours of student VMs, accumulated by the monitor and reset by teachers.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Query};

use super::pool::{map, PoolVm, COLUMNS};
use super::{execute, query_opt};
use crate::db::schema::VmAssignments as Vm;
use crate::db::time::now_sql;
use crate::error::{Entity, Error, Result};
use crate::types::{ClassId, ClusterId, UserId, VmId};

/// Adds running hours to a VM's usage; returns the VM after the change.
///
/// # Errors
/// [`Error::NotFound`] when there is no such VM.
pub(crate) fn add(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
    hours: f64,
) -> Result<PoolVm> {
    let update = Query::update()
        .table(Vm::Table)
        .value(Vm::UsageHours, Expr::col(Vm::UsageHours).add(hours))
        .and_where(Expr::col(Vm::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &update, map)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vmid} on cluster {cluster}")))
}

/// Records which quota warning was published last for a VM (so each is published once).
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn set_warned(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
    percent: u8,
) -> Result<()> {
    let update = Query::update()
        .table(Vm::Table)
        .value(Vm::QuotaWarnedPercent, i64::from(percent))
        .and_where(Expr::col(Vm::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    execute(conn, &update)?;
    Ok(())
}

/// Resets usage of one student's VM in the class, or of every VM of the class; returns how many
/// VMs were reset. `usage_last_reset` records when.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn reset(conn: &Connection, class: ClassId, student: Option<UserId>) -> Result<usize> {
    let mut update = Query::update();
    update
        .table(Vm::Table)
        .values([
            (Vm::UsageHours, 0.0f64.into()),
            (Vm::UsageLastReset, now_sql().into()),
            (Vm::QuotaWarnedPercent, 0i64.into()),
        ])
        .and_where(Expr::col(Vm::ClassId).eq(class.get()));
    if let Some(student) = student {
        update.and_where(Expr::col(Vm::AssignedUserId).eq(student.get()));
    }
    execute(conn, &update)
}
