//! Handing pool VMs to students and taking them back. Every change is one guarded `UPDATE`
//! (a free, clean VM only) inside the caller's transaction; the unique index on
//! (class, assigned user) refuses a second VM per student whatever the code path.
//!
//! A slot beyond the class's pool size is never handed out: when a teacher shrinks the pool,
//! its upper slots wait for the orchestration to delete them.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};

use super::steps::{self, VmStep};
use super::{in_class, map, update_vm, PoolVm, VmRole, VmStatus, COLUMNS};
use crate::db::schema::{Classes, PoolSteps, VmAssignments as Vm};
use crate::db::time::now_sql;
use crate::error::{Error, NotAssignable, Result};
use crate::store::{query_opt, query_opt_hot, HotSql};
use crate::types::{ClassId, PoolSize, UserId, VmRef};

/// The columns that record `user` holding a VM from now on.
fn held_by(user: UserId) -> [(Vm, SimpleExpr); 3] {
    [
        (Vm::Status, VmStatus::Assigned.as_str().into()),
        (Vm::AssignedUserId, user.get().into()),
        (Vm::AssignedAt, now_sql().into()),
    ]
}

/// Why a teacher may not hand this VM to a student of a class with `pool_size`, if they may not.
fn not_for_students(vm: &PoolVm, pool_size: PoolSize) -> Option<NotAssignable> {
    Some(match (vm.role, vm.status) {
        (VmRole::Teacher, _) => NotAssignable::TeacherVm,
        (VmRole::Base, _) => NotAssignable::BaseVm,
        (VmRole::Student { slot }, _) if slot > pool_size.get() => NotAssignable::BeyondPoolSize,
        (_, VmStatus::Deleting) => NotAssignable::Deleting,
        (_, VmStatus::Assigned) => NotAssignable::Held,
        (_, VmStatus::Available) if vm.needs_reimage => NotAssignable::AwaitsReimage,
        (_, VmStatus::Available) => return None,
    })
}

/// Hands the lowest free, clean student slot within the class's pool size to `user` in one
/// statement; `None` when no VM is free. The caller must have checked that the user holds none
/// in this class (the unique index refuses a second one anyway).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn assign_next_free(
    conn: &Connection,
    class: ClassId,
    user: UserId,
) -> Result<Option<PoolVm>> {
    // The heart of every join: built once (see `HotSql`); its values are bound below in the
    // order the text names them.
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| next_free_update(ClassId::new(0), UserId::new(0)));
    let params = rusqlite::params![
        VmStatus::Assigned.as_str(),
        user.get(),
        now_sql(),
        class.get(),
        VmStep::Ready.as_str(),
        class.get(),
        1_i64,
    ];
    query_opt_hot(conn, sql, params, map)
}

/// The `UPDATE` that hands the lowest free, clean, ready student slot within the pool size to
/// `user`. Its values, in the order of its text: the three of [`held_by`], the class, the
/// step `ready`, the class (for the pool size), the limit 1.
fn next_free_update(class: ClassId, user: UserId) -> sea_query::UpdateStatement {
    let free = Query::select()
        .column(Vm::Id)
        .from(Vm::Table)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        // Literals, not bound values, exactly as in the partial index `vm_assignments_free_slots`:
        // only then can SQLite use that index without looking at bound values, which would make
        // it prepare the statement again on every run.
        .and_where(Expr::col(Vm::Status).eq(Expr::Constant(VmStatus::Available.as_str().into())))
        .and_where(Expr::col(Vm::NeedsReimage).eq(Expr::Constant(0_i64.into())))
        .and_where(Expr::col(Vm::Slot).is_not_null())
        // Only VMs that are ready on Proxmox are handed out, never one still being built.
        .and_where(Expr::col(PoolSteps::Step).eq(VmStep::Ready.as_str()))
        .and_where(Expr::col(Vm::Slot).lte(pool_size(class)))
        .order_by(Vm::Slot, Order::Asc)
        .limit(1)
        .to_owned();
    Query::update()
        .table(Vm::Table)
        .values(held_by(user))
        .and_where(Expr::col(Vm::Id).in_subquery(free))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned()
}

/// The class's pool size, as a subquery.
fn pool_size(class: ClassId) -> sea_query::SelectStatement {
    Query::select()
        .column(Classes::PoolSize)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::Id).eq(class.get()))
        .to_owned()
}

/// Hands a specific VM of the class to `user` (a teacher's choice). Manually added VMs may be
/// chosen here; teacher and base VMs, VMs being deleted or awaiting a reimage, and slots beyond
/// the pool size may not.
///
/// # Errors
/// [`Error::VmNotAssignable`] when the VM is not free for a student; [`Error::AlreadyHoldsVm`]
/// when the user already holds a VM here; [`Error::NotFound`] when the class has no such VM.
pub(crate) fn assign_specific(
    conn: &Connection,
    class: ClassId,
    pool_size: PoolSize,
    vm_ref: &VmRef,
    user: UserId,
) -> Result<PoolVm> {
    let vm = in_class(conn, class, vm_ref)?;
    let vmid = vm.vmid;
    if let Some(reason) = not_for_students(&vm, pool_size) {
        return Err(Error::VmNotAssignable { vmid, reason });
    }
    if steps::step_of(conn, class, vmid)? != Some(VmStep::Ready) {
        return Err(Error::VmNotAssignable {
            vmid,
            reason: NotAssignable::NotReady,
        });
    }
    if let Some(held) = super::held(conn, class, user)? {
        return Err(Error::AlreadyHoldsVm { vmid: held.vmid });
    }
    // Inside the caller's IMMEDIATE transaction the checks above cannot go stale; the guard
    // below and the unique index stay as the last line of defence.
    let update = update_vm(class, vm_ref)
        .values(held_by(user))
        .and_where(Expr::col(Vm::Status).eq(VmStatus::Available.as_str()))
        .to_owned();
    query_opt(conn, &update, map)?.ok_or(Error::VmNotAssignable {
        vmid,
        reason: NotAssignable::Held,
    })
}

/// Takes the user's VM in the class back: it stays out of circulation (`needs_reimage`) until it
/// has been reimaged, so the next student never sees the previous one's data. Returns the VM.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn release(conn: &Connection, class: ClassId, user: UserId) -> Result<Option<PoolVm>> {
    let update = Query::update()
        .table(Vm::Table)
        .values([
            (Vm::Status, VmStatus::Available.as_str().into()),
            (Vm::AssignedUserId, Option::<i64>::None.into()),
            (Vm::AssignedAt, Option::<String>::None.into()),
            (Vm::NeedsReimage, true.into()),
        ])
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::AssignedUserId).eq(user.get()))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &update, map)
}
