//! The VMs of a class's pool (`vm_assignments`) and who holds them: the record and its reads
//! here, registration and the reimage / delete lifecycle in `lifecycle`, handing VMs to students
//! and taking them back in `assign`. The orchestration's record of each VM (its step on
//! Proxmox) is `steps`; the pools pvelab manages and its operations are `managed` and
//! `operations`.
//!
//! Assignment is ONE `UPDATE ... WHERE id = (lowest free clean student slot) RETURNING ...`
//! statement, run inside the caller's IMMEDIATE transaction. Two partial unique indexes back it
//! up whatever the code path: a student holds at most one VM per class, a slot exists once per
//! class; and a CHECK keeps teacher and base VMs out of anyone's hands.

mod assign;
mod lifecycle;
pub(crate) mod managed;
pub(crate) mod operations;
pub(crate) mod steps;

pub(crate) use assign::{assign_next_free, assign_specific, release};
#[cfg_attr(not(test), allow(unused_imports))]
pub(crate) use lifecycle::forget;
pub use lifecycle::NewPoolVm;
pub(crate) use lifecycle::{mark_deleting, mark_reimaged, register};
pub use steps::{PoolVmState, PowerState, VmStep};

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SelectStatement, UpdateStatement};

use super::{query_all, query_opt, query_opt_hot, stored, Cols, HotSql};
use crate::db::schema::VmAssignments as Vm;
use crate::db::time::{opt_ts_from_sql, ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::types::{ClassId, ClusterId, InvalidValue, NodeName, UserId, VmId, VmRef};

/// What a pool VM is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmRole {
    /// A student VM in this slot of the class's VMID plan.
    Student {
        /// The slot number (1-98 classic, 1-998 wide).
        slot: u16,
    },
    /// The class's teacher VM (never handed to a student).
    Teacher,
    /// The class's base VM (never handed to a student).
    Base,
    /// A VM added by hand; never handed out automatically.
    Manual,
}

/// The lifecycle state of a pool VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmStatus {
    /// Nobody holds it.
    Available,
    /// A student holds it.
    Assigned,
    /// It is being deleted (shrinking); never handed out.
    Deleting,
}

impl VmStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            VmStatus::Available => "available",
            VmStatus::Assigned => "assigned",
            VmStatus::Deleting => "deleting",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "available" => Ok(VmStatus::Available),
            "assigned" => Ok(VmStatus::Assigned),
            "deleting" => Ok(VmStatus::Deleting),
            other => Err(Error::internal(format!(
                "unknown VM status {other:?} stored"
            ))),
        }
    }
}

/// A VM of a class's pool.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolVm {
    /// The class it belongs to.
    pub class_id: ClassId,
    /// The cluster it lives on.
    pub cluster_id: ClusterId,
    /// Its VMID on that cluster.
    pub vmid: VmId,
    /// Its name on Proxmox, if known.
    pub name: Option<String>,
    /// Its node, if known.
    pub node: Option<NodeName>,
    /// Its MAC address, if known.
    pub mac_address: Option<String>,
    /// Its last known address.
    pub cached_ip: Option<String>,
    /// Student slot, teacher, base or manual.
    pub role: VmRole,
    /// Available, assigned or deleting.
    pub status: VmStatus,
    /// The student holding it.
    pub assigned_to: Option<UserId>,
    /// When they got it.
    pub assigned_at: Option<Timestamp>,
    /// Released by a student and not yet reimaged: not handed to anyone before that.
    pub needs_reimage: bool,
    /// The VM's own running hours since it was registered or last reimaged. Quota is not
    /// measured here: a student's usage belongs to them in the class
    /// ([`StudentUsage`](crate::model::StudentUsage)) and survives a reimage.
    pub usage_hours: f64,
    /// When the VM's running hours were last zeroed (its last reimage).
    pub usage_last_reset: Option<Timestamp>,
    /// When the VM was registered.
    pub created_at: Timestamp,
}

impl PoolVm {
    /// The VM's key: its cluster and VMID.
    pub fn vm_ref(&self) -> VmRef {
        VmRef::new(self.cluster_id.clone(), self.vmid)
    }
}

pub(crate) const COLUMNS: [Vm; 18] = [
    Vm::ClassId,
    Vm::ClusterId,
    Vm::ProxmoxVmid,
    Vm::VmName,
    Vm::Node,
    Vm::MacAddress,
    Vm::CachedIp,
    Vm::Slot,
    Vm::IsTeacherVm,
    Vm::IsTemplateVm,
    Vm::Status,
    Vm::AssignedUserId,
    Vm::AssignedAt,
    Vm::NeedsReimage,
    Vm::UsageHours,
    Vm::UsageLastReset,
    Vm::CreatedAt,
    Vm::ManuallyAdded,
];

pub(crate) fn map(c: &mut Cols<'_, '_>) -> Result<PoolVm> {
    let class_id = ClassId::new(c.next()?);
    map_rest(c, class_id)
}

/// Maps the VM columns of a `LEFT JOIN` that may have found no VM (its first column is NULL).
pub(crate) fn map_opt(c: &mut Cols<'_, '_>) -> Result<Option<PoolVm>> {
    match c.next::<Option<i64>>()? {
        Some(class_id) => Ok(Some(map_rest(c, ClassId::new(class_id))?)),
        None => {
            c.skip(COLUMNS.len() - 1);
            Ok(None)
        }
    }
}

fn map_rest(c: &mut Cols<'_, '_>, class_id: ClassId) -> Result<PoolVm> {
    let cluster_id = stored(ClusterId::parse(&c.next::<String>()?))?;
    let vmid = stored(VmId::new(c.next()?))?;
    let name = c.next()?;
    let node = c
        .next::<Option<String>>()?
        .map(|n| stored(NodeName::parse(&n)))
        .transpose()?;
    let mac_address = c.next()?;
    let cached_ip = c.next()?;
    let slot: Option<i64> = c.next()?;
    let teacher = c.flag()?;
    let base = c.flag()?;
    let status = VmStatus::parse(&c.next::<String>()?)?;
    let assigned_to = c.next::<Option<i64>>()?.map(UserId::new);
    let assigned_at = opt_ts_from_sql(c.next()?)?;
    let needs_reimage = c.flag()?;
    let usage_hours = c.next()?;
    let usage_last_reset = opt_ts_from_sql(c.next()?)?;
    let created_at = ts_from_sql(&c.next::<String>()?)?;
    let _manual = c.flag()?;
    let role = match (slot, teacher, base) {
        (Some(s), _, _) => VmRole::Student {
            slot: stored(u16::try_from(s).map_err(|_| {
                InvalidValue::new("student slot", s, "1 to 998 (the class's VMID plan)")
            }))?,
        },
        (None, true, _) => VmRole::Teacher,
        (None, false, true) => VmRole::Base,
        (None, false, false) => VmRole::Manual,
    };
    Ok(PoolVm {
        class_id,
        cluster_id,
        vmid,
        name,
        node,
        mac_address,
        cached_ip,
        role,
        status,
        assigned_to,
        assigned_at,
        needs_reimage,
        usage_hours,
        usage_last_reset,
        created_at,
    })
}

pub(crate) fn select() -> SelectStatement {
    Query::select()
        .columns(COLUMNS.map(|c| (Vm::Table, c)))
        .from(Vm::Table)
        .to_owned()
}

/// "The row of `vm`".
fn is(vm: &VmRef) -> Cond {
    Cond::all()
        .add(Expr::col((Vm::Table, Vm::ClusterId)).eq(vm.cluster.as_str()))
        .add(Expr::col((Vm::Table, Vm::ProxmoxVmid)).eq(i64::from(vm.vmid.get())))
}

/// An `UPDATE` of the class's VM `vm` that returns the changed row; the caller adds the values
/// and any further guard.
pub(crate) fn update_vm(class: ClassId, vm: &VmRef) -> UpdateStatement {
    Query::update()
        .table(Vm::Table)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .cond_where(is(vm))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned()
}

/// The VM `vm`, in whichever class's pool it is.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn by_ref(conn: &Connection, vm: &VmRef) -> Result<Option<PoolVm>> {
    let select = select().cond_where(is(vm)).to_owned();
    query_opt(conn, &select, map)
}

/// The class's VM `vm`.
///
/// # Errors
/// [`Error::NotFound`] when the class has no such VM.
pub(crate) fn in_class(conn: &Connection, class: ClassId, vm: &VmRef) -> Result<PoolVm> {
    let select = select()
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .cond_where(is(vm))
        .to_owned();
    query_opt(conn, &select, map)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vm} in class {class}")))
}

/// All VMs of a class: student slots in slot order, then the others by VMID.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection, class: ClassId) -> Result<Vec<PoolVm>> {
    let select = select()
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .order_by_expr(Expr::col(Vm::Slot).is_null(), Order::Asc)
        .order_by(Vm::Slot, Order::Asc)
        .order_by(Vm::ProxmoxVmid, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// The VMs a user holds, across classes.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn held_by_user(conn: &Connection, user: UserId) -> Result<Vec<PoolVm>> {
    let select = select()
        .and_where(Expr::col(Vm::AssignedUserId).eq(user.get()))
        .order_by(Vm::ClassId, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// The VM a user holds in a class, if any.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn held(conn: &Connection, class: ClassId, user: UserId) -> Result<Option<PoolVm>> {
    // Every join asks (and once more per student it serves from the waitlist).
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        select()
            .and_where(Expr::col(Vm::ClassId).eq(0_i64))
            .and_where(Expr::col(Vm::AssignedUserId).eq(0_i64))
            .to_owned()
    });
    query_opt_hot(conn, sql, [class.get(), user.get()], map)
}
