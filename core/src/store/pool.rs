//! The VMs of a class's pool (`vm_assignments`) and who holds them.
//!
//! Assignment is ONE `UPDATE ... WHERE id = (lowest free clean student slot) RETURNING ...`
//! statement, run inside the caller's IMMEDIATE transaction. Two partial unique indexes back it
//! up whatever the code path: a student holds at most one VM per class, a slot exists once per
//! class; and a CHECK keeps teacher and base VMs out of anyone's hands.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};

use super::{execute, query_all, query_opt, stored, unique_violation, Cols};
use crate::db::schema::VmAssignments as Vm;
use crate::db::time::{now_sql, opt_ts_from_sql, ts_from_sql};
use crate::error::{Error, Result};
use crate::types::{ClassId, ClusterId, NodeName, Slot, UserId, VmId, VmidScheme};

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
    fn as_str(self) -> &'static str {
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
            other => Err(Error::Storage {
                reason: format!("unknown VM status {other:?} stored"),
            }),
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
    pub node: Option<String>,
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
    /// Running hours since the last reset.
    pub usage_hours: f64,
    /// When usage was last reset.
    pub usage_last_reset: Option<Timestamp>,
    /// The highest quota warning already published (0, 80 or 100).
    pub quota_warned_percent: u8,
    /// When the VM was registered.
    pub created_at: Timestamp,
}

pub(crate) const COLUMNS: [Vm; 19] = [
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
    Vm::QuotaWarnedPercent,
    Vm::CreatedAt,
    Vm::ManuallyAdded,
];

pub(crate) fn map(c: &mut Cols<'_, '_>) -> Result<PoolVm> {
    let class_id = ClassId::new(c.next()?);
    let cluster_id = stored(ClusterId::parse(&c.next::<String>()?))?;
    let vmid = stored(VmId::new(c.next()?))?;
    let name = c.next()?;
    let node = c.next()?;
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
    let quota_warned_percent = u8::try_from(c.next::<i64>()?).unwrap_or(0);
    let created_at = ts_from_sql(&c.next::<String>()?)?;
    let _manual = c.flag()?;
    let role = match (slot, teacher, base) {
        (Some(s), _, _) => VmRole::Student {
            slot: u16::try_from(s).unwrap_or(0),
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
        quota_warned_percent,
        created_at,
    })
}

fn select() -> SelectStatement {
    Query::select().columns(COLUMNS).from(Vm::Table).to_owned()
}

/// A VM to register in a class's pool (the orchestration issue creates them on Proxmox).
#[derive(Debug, Clone)]
pub struct NewPoolVm {
    /// The cluster it lives on.
    pub cluster_id: ClusterId,
    /// Its VMID; for a non-manual VM it must lie in the class's VMID plan, and its slot in the
    /// plan decides its role (teacher, base or student slot).
    pub vmid: VmId,
    /// Added by hand (any VMID; never handed out automatically).
    pub manual: bool,
    /// Node, if known.
    pub node: Option<NodeName>,
    /// Name on Proxmox, if known.
    pub name: Option<String>,
    /// MAC address, if known.
    pub mac_address: Option<String>,
}

/// Registers a VM as available in the class's pool.
///
/// # Errors
/// [`Error::InvalidValue`] when a planned VM's VMID is outside the class's plan;
/// [`Error::Conflict`] when the VM or the slot is already registered.
pub(crate) fn register(
    conn: &Connection,
    class: ClassId,
    scheme: VmidScheme,
    new: &NewPoolVm,
) -> Result<PoolVm> {
    let role = if new.manual {
        VmRole::Manual
    } else {
        match scheme.slot_of(new.vmid) {
            Some(Slot::Teacher) => VmRole::Teacher,
            Some(Slot::Base) => VmRole::Base,
            Some(Slot::Student(slot)) => VmRole::Student { slot },
            None => {
                return Err(crate::types::InvalidValue::new(
                    "VMID",
                    new.vmid.get(),
                    format!("a VMID of this class's plan ({scheme}), or a manually added VM"),
                )
                .into())
            }
        }
    };
    let slot = match role {
        VmRole::Student { slot } => Some(i64::from(slot)),
        _ => None,
    };
    let insert = Query::insert()
        .into_table(Vm::Table)
        .columns([
            Vm::ClassId,
            Vm::ClusterId,
            Vm::ProxmoxVmid,
            Vm::VmName,
            Vm::Node,
            Vm::MacAddress,
            Vm::Slot,
            Vm::IsTeacherVm,
            Vm::IsTemplateVm,
            Vm::ManuallyAdded,
            Vm::Status,
            Vm::CreatedAt,
        ])
        .values_panic([
            class.get().into(),
            new.cluster_id.as_str().into(),
            i64::from(new.vmid.get()).into(),
            new.name.clone().into(),
            new.node.as_ref().map(|n| n.as_str().to_owned()).into(),
            new.mac_address.clone().into(),
            slot.into(),
            (role == VmRole::Teacher).into(),
            (role == VmRole::Base).into(),
            new.manual.into(),
            VmStatus::Available.as_str().into(),
            now_sql().into(),
        ])
        .to_owned();
    match execute(conn, &insert) {
        Ok(_) => {}
        Err(e) if unique_violation(&e).is_some() => {
            return Err(Error::Conflict {
                what: format!(
                    "VM {} on cluster {} (or its slot) is already registered",
                    new.vmid,
                    new.cluster_id.as_str()
                ),
            })
        }
        Err(e) => return Err(e),
    }
    by_vmid(conn, &new.cluster_id, new.vmid)?.ok_or_else(|| Error::NotFound {
        what: format!("VM {}", new.vmid),
    })
}

/// The VM with this VMID on this cluster.
///
/// # Errors
/// [`Error::Database`] when SQLite fails.
pub(crate) fn by_vmid(
    conn: &Connection,
    cluster: &ClusterId,
    vmid: VmId,
) -> Result<Option<PoolVm>> {
    let select = select()
        .and_where(Expr::col(Vm::ClusterId).eq(cluster.as_str()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    query_opt(conn, &select, map)
}

/// The class's VM with this VMID.
///
/// # Errors
/// [`Error::NotFound`] when the class has no such VM.
pub(crate) fn in_class(conn: &Connection, class: ClassId, vmid: VmId) -> Result<PoolVm> {
    let select = select()
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    query_opt(conn, &select, map)?.ok_or_else(|| Error::NotFound {
        what: format!("VM {vmid} in class {class}"),
    })
}

/// All VMs of a class: student slots in slot order, then the others by VMID.
///
/// # Errors
/// [`Error::Database`] when SQLite fails.
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
/// [`Error::Database`] when SQLite fails.
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
/// [`Error::Database`] when SQLite fails.
pub(crate) fn held(conn: &Connection, class: ClassId, user: UserId) -> Result<Option<PoolVm>> {
    let select = select()
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::AssignedUserId).eq(user.get()))
        .to_owned();
    query_opt(conn, &select, map)
}

/// Hands the lowest free, clean student slot of the class to `user` in one statement; `None`
/// when no VM is free. The caller must have checked that the user holds none in this class (the
/// unique index refuses a second one anyway).
///
/// # Errors
/// [`Error::Database`] when SQLite fails.
pub(crate) fn assign_next_free(
    conn: &Connection,
    class: ClassId,
    user: UserId,
) -> Result<Option<PoolVm>> {
    let free = Query::select()
        .column(Vm::Id)
        .from(Vm::Table)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::Status).eq(VmStatus::Available.as_str()))
        .and_where(Expr::col(Vm::NeedsReimage).eq(false))
        .and_where(Expr::col(Vm::Slot).is_not_null())
        .order_by(Vm::Slot, Order::Asc)
        .limit(1)
        .to_owned();
    let update = Query::update()
        .table(Vm::Table)
        .values([
            (Vm::Status, VmStatus::Assigned.as_str().into()),
            (Vm::AssignedUserId, user.get().into()),
            (Vm::AssignedAt, now_sql().into()),
        ])
        .and_where(Expr::col(Vm::Id).in_subquery(free))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &update, map)
}

/// Hands a specific VM of the class to `user` (a teacher's choice). Manually added VMs may be
/// chosen here; teacher and base VMs, VMs being deleted and VMs awaiting a reimage may not.
///
/// # Errors
/// [`Error::Conflict`] when the VM is not free for a student or the user already holds a VM here;
/// [`Error::NotFound`] when the class has no such VM.
pub(crate) fn assign_specific(
    conn: &Connection,
    class: ClassId,
    vmid: VmId,
    user: UserId,
) -> Result<PoolVm> {
    let vm = in_class(conn, class, vmid)?;
    let eligible = vm.status == VmStatus::Available
        && !vm.needs_reimage
        && !matches!(vm.role, VmRole::Teacher | VmRole::Base);
    if !eligible {
        return Err(Error::Conflict {
            what: format!(
                "VM {vmid} cannot be given to a student: it is {} ({})",
                vm.status.as_str(),
                match vm.role {
                    VmRole::Teacher => "the teacher VM",
                    VmRole::Base => "the class base VM",
                    _ if vm.needs_reimage => "waiting for a reimage",
                    _ => "a student VM",
                }
            ),
        });
    }
    let update = Query::update()
        .table(Vm::Table)
        .values([
            (Vm::Status, VmStatus::Assigned.as_str().into()),
            (Vm::AssignedUserId, user.get().into()),
            (Vm::AssignedAt, now_sql().into()),
        ])
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .and_where(Expr::col(Vm::Status).eq(VmStatus::Available.as_str()))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    match query_opt(conn, &update, map) {
        Ok(Some(vm)) => Ok(vm),
        Ok(None) => Err(Error::Conflict {
            what: format!("VM {vmid} was taken meanwhile"),
        }),
        Err(e) if unique_violation(&e).is_some() => Err(Error::Conflict {
            what: "this student already holds a VM in this class".into(),
        }),
        Err(e) => Err(e),
    }
}

/// Takes the user's VM in the class back: it stays out of circulation (`needs_reimage`) until it
/// has been reimaged, so the next student never sees the previous one's data. Returns the VM.
///
/// # Errors
/// [`Error::Database`] when SQLite fails.
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

/// Records that a released VM was reimaged: it is clean again, its usage starts from zero, and it
/// can be handed out.
///
/// # Errors
/// [`Error::NotFound`] when the class has no such VM; [`Error::Conflict`] when it is held.
pub(crate) fn mark_reimaged(conn: &Connection, class: ClassId, vmid: VmId) -> Result<PoolVm> {
    let vm = in_class(conn, class, vmid)?;
    if vm.status == VmStatus::Assigned {
        return Err(Error::Conflict {
            what: format!("VM {vmid} is held by a student; a reimage keeps its assignment"),
        });
    }
    let now = now_sql();
    let update = Query::update()
        .table(Vm::Table)
        .values([
            (Vm::NeedsReimage, false.into()),
            (Vm::UsageHours, 0.0f64.into()),
            (Vm::UsageLastReset, now.into()),
            (Vm::QuotaWarnedPercent, 0i64.into()),
        ])
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &update, map)?.ok_or_else(|| Error::NotFound {
        what: format!("VM {vmid} in class {class}"),
    })
}

/// Marks an unassigned VM as being deleted (shrinking); it is never handed out again.
///
/// # Errors
/// [`Error::Conflict`] when a student holds it; [`Error::NotFound`] when there is no such VM.
pub(crate) fn mark_deleting(conn: &Connection, class: ClassId, vmid: VmId) -> Result<PoolVm> {
    let vm = in_class(conn, class, vmid)?;
    if vm.status == VmStatus::Assigned {
        return Err(Error::Conflict {
            what: format!("VM {vmid} is held by a student; unassign it first"),
        });
    }
    let update = Query::update()
        .table(Vm::Table)
        .value(Vm::Status, VmStatus::Deleting.as_str())
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &update, map)?.ok_or_else(|| Error::NotFound {
        what: format!("VM {vmid} in class {class}"),
    })
}
