//! The orchestration's record of each pool VM: the step its creation (or deletion) has reached
//! on Proxmox, the task of that step, why it last failed, and the run state last seen.
//!
//! Every call to Proxmox is bracketed by two of these writes, each its own transaction: the
//! intent before the call, the result after it. A restart therefore resumes every VM from its
//! recorded step (see `migrations/0008_pool_steps.sql` for the meaning of each step).

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};

use super::{map, select, PoolVm, VmRole, VmStatus};
use crate::db::schema::{PoolSteps, VmAssignments as Vm};
use crate::db::time::{now_sql, opt_ts_from_sql, ts_to_sql};
use crate::error::{Entity, Error, Result};
use crate::store::{execute, query_all, query_opt, Cols};
use crate::types::{ClassId, ClusterId, UserId, VmId, VmRef};

/// How far a pool VM has come on Proxmox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VmStep {
    /// Nothing asked of Proxmox yet; its node is chosen.
    Planned,
    /// The clone was requested (its task is recorded once known).
    Cloning,
    /// Cores, memory, disk and tags are set and the MAC address is recorded.
    Configured,
    /// The `baseline` snapshot exists.
    Snapshotted,
    /// Ready: a student VM can be handed out.
    Ready,
    /// Creation failed; it is tried again later (see the error and the next try).
    Failed,
    /// Our VM at this VMID is being replaced (reimage, or it vanished); the holder keeps it.
    Rebuilding,
    /// Being deleted; the record goes once Proxmox no longer has the VM.
    Deleting,
}

impl VmStep {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            VmStep::Planned => "planned",
            VmStep::Cloning => "cloning",
            VmStep::Configured => "configured",
            VmStep::Snapshotted => "snapshotted",
            VmStep::Ready => "ready",
            VmStep::Failed => "failed",
            VmStep::Rebuilding => "rebuilding",
            VmStep::Deleting => "deleting",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "planned" => VmStep::Planned,
            "cloning" => VmStep::Cloning,
            "configured" => VmStep::Configured,
            "snapshotted" => VmStep::Snapshotted,
            "ready" => VmStep::Ready,
            "failed" => VmStep::Failed,
            "rebuilding" => VmStep::Rebuilding,
            "deleting" => VmStep::Deleting,
            other => return Err(Error::internal(format!("unknown VM step {other:?} stored"))),
        })
    }
}

impl std::fmt::Display for VmStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The run state of a VM as Proxmox last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PowerState {
    /// Running.
    Running,
    /// Stopped.
    Stopped,
    /// Proxmox did not know (its node was offline).
    Unknown,
}

impl PowerState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PowerState::Running => "running",
            PowerState::Stopped => "stopped",
            PowerState::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "running" => PowerState::Running,
            "stopped" => PowerState::Stopped,
            "unknown" => PowerState::Unknown,
            other => return Err(Error::internal(format!("unknown power state {other:?}"))),
        })
    }
}

/// A pool VM with its orchestration record.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolVmState {
    /// The VM as the pool knows it (role, holder, usage).
    pub vm: PoolVm,
    /// How far it has come on Proxmox.
    pub step: VmStep,
    /// The Proxmox task (UPID) of the current step, while one runs.
    pub task: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// Attempts of the current step so far.
    pub attempts: u32,
    /// When a failed step is tried again.
    pub next_try_at: Option<Timestamp>,
    /// The run state last seen on Proxmox.
    pub power: Option<PowerState>,
    /// When it was seen.
    pub power_seen_at: Option<Timestamp>,
}

const STEP_COLUMNS: [PoolSteps; 7] = [
    PoolSteps::Step,
    PoolSteps::StepUpid,
    PoolSteps::StepError,
    PoolSteps::StepAttempts,
    PoolSteps::NextTryAt,
    PoolSteps::Power,
    PoolSteps::PowerSeenAt,
];

fn map_state(c: &mut Cols<'_, '_>) -> Result<PoolVmState> {
    let vm = map(c)?;
    let step = VmStep::parse(&c.next::<String>()?)?;
    let task = c.next()?;
    let error = c.next()?;
    let attempts = u32::try_from(c.next::<i64>()?).unwrap_or(u32::MAX);
    let next_try_at = opt_ts_from_sql(c.next()?)?;
    let power = c
        .next::<Option<String>>()?
        .map(|p| PowerState::parse(&p))
        .transpose()?;
    let power_seen_at = opt_ts_from_sql(c.next()?)?;
    Ok(PoolVmState {
        vm,
        step,
        task,
        error,
        attempts,
        next_try_at,
        power,
        power_seen_at,
    })
}

fn select_states(class: ClassId) -> sea_query::SelectStatement {
    select()
        .columns(STEP_COLUMNS)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .to_owned()
}

/// Every VM of the class with its record: student slots in slot order, then the others.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn states(conn: &Connection, class: ClassId) -> Result<Vec<PoolVmState>> {
    let select = select_states(class)
        .order_by_expr(Expr::col(Vm::Slot).is_null(), Order::Asc)
        .order_by(Vm::Slot, Order::Asc)
        .order_by(Vm::ProxmoxVmid, Order::Asc)
        .to_owned();
    query_all(conn, &select, map_state)
}

/// One VM of the class with its record.
///
/// # Errors
/// [`Error::NotFound`] when the class has no such VM.
pub(crate) fn state(conn: &Connection, class: ClassId, vmid: VmId) -> Result<PoolVmState> {
    find(conn, class, vmid)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vmid} in class {class}")))
}

/// One VM of the class with its record, if the class has it.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn find(conn: &Connection, class: ClassId, vmid: VmId) -> Result<Option<PoolVmState>> {
    let select = select_states(class)
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    query_opt(conn, &select, map_state)
}

/// The step of one VM of the class, if the class has it (the assignment guard's question).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn step_of(conn: &Connection, class: ClassId, vmid: VmId) -> Result<Option<VmStep>> {
    Ok(find(conn, class, vmid)?.map(|s| s.step))
}

/// A new pool VM to record: before anything is asked of Proxmox (`planned`), or an existing VM
/// adopted by an import (`configured`, once marked).
#[derive(Debug, Clone)]
pub(crate) struct Planned<'a> {
    pub(crate) cluster: &'a ClusterId,
    pub(crate) vmid: VmId,
    pub(crate) role: VmRole,
    pub(crate) node: &'a str,
    pub(crate) name: &'a str,
    pub(crate) step: VmStep,
    pub(crate) mac: Option<&'a str>,
}

/// Records a new pool VM at its step on its node (available, but never handed out before it
/// is ready).
///
/// # Errors
/// [`Error::VmRegistered`] when the VMID or the slot is recorded already.
pub(crate) fn insert_planned(
    conn: &Connection,
    class: ClassId,
    new: &Planned<'_>,
) -> Result<PoolVmState> {
    let slot = match new.role {
        VmRole::Student { slot } => Some(i64::from(slot)),
        _ => None,
    };
    if find(conn, class, new.vmid)?.is_some()
        || super::by_ref(conn, &VmRef::new(new.cluster.clone(), new.vmid))?.is_some()
    {
        return Err(Error::VmRegistered {
            vmid: new.vmid,
            cluster: new.cluster.clone(),
        });
    }
    let now = now_sql();
    let insert = Query::insert()
        .into_table(Vm::Table)
        .columns(insert_columns())
        .values_panic([
            class.get().into(),
            new.cluster.as_str().into(),
            i64::from(new.vmid.get()).into(),
            new.name.into(),
            new.node.into(),
            slot.into(),
            (new.role == VmRole::Teacher).into(),
            (new.role == VmRole::Base).into(),
            VmStatus::Available.as_str().into(),
            now.clone().into(),
            new.mac.map(str::to_owned).into(),
            new.step.as_str().into(),
            now.into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    state(conn, class, new.vmid)
}

fn insert_columns() -> Vec<sea_query::DynIden> {
    let vm = [
        Vm::ClassId,
        Vm::ClusterId,
        Vm::ProxmoxVmid,
        Vm::VmName,
        Vm::Node,
        Vm::Slot,
        Vm::IsTeacherVm,
        Vm::IsTemplateVm,
        Vm::Status,
        Vm::CreatedAt,
        Vm::MacAddress,
    ];
    let steps = [PoolSteps::Step, PoolSteps::StepChangedAt];
    vm.into_iter()
        .map(sea_query::IntoIden::into_iden)
        .chain(steps.into_iter().map(sea_query::IntoIden::into_iden))
        .collect()
}

/// What a step's record changes besides the step itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepChange<'a> {
    /// The task of the new step (`None` clears it).
    pub(crate) task: Option<&'a str>,
    /// The VM's node, when it is known anew.
    pub(crate) node: Option<&'a str>,
    /// The VM's MAC address, when it is known anew.
    pub(crate) mac: Option<&'a str>,
    /// Keep the error and attempt count (a retry of the same step) instead of clearing them.
    pub(crate) keep_attempts: bool,
}

/// Moves a VM to `step`. Returns the record after the change.
///
/// # Errors
/// [`Error::NotFound`] when the class no longer has the VM (deleted meanwhile).
pub(crate) fn set_step(
    conn: &Connection,
    class: ClassId,
    vmid: VmId,
    step: VmStep,
    change: &StepChange<'_>,
) -> Result<PoolVmState> {
    let mut values: Vec<(sea_query::DynIden, SimpleExpr)> = vec![
        (PoolSteps::Step.into(), step.as_str().into()),
        (
            PoolSteps::StepUpid.into(),
            change.task.map(str::to_owned).into(),
        ),
        (PoolSteps::StepChangedAt.into(), now_sql().into()),
    ];
    if !change.keep_attempts {
        values.push((PoolSteps::StepError.into(), Option::<String>::None.into()));
        values.push((PoolSteps::StepAttempts.into(), 0i64.into()));
        values.push((PoolSteps::NextTryAt.into(), Option::<String>::None.into()));
    }
    if let Some(node) = change.node {
        values.push((Vm::Node.into(), node.into()));
    }
    if let Some(mac) = change.mac {
        values.push((Vm::MacAddress.into(), mac.into()));
    }
    update(conn, class, vmid, values)
}

/// Records a failed attempt: the error, one more attempt, and when to try again. With
/// `step = Some(Failed)` a creation gives up until then; deletions and rebuilds keep their step.
///
/// # Errors
/// [`Error::NotFound`] when the class no longer has the VM.
pub(crate) fn record_failure(
    conn: &Connection,
    class: ClassId,
    vmid: VmId,
    step: Option<VmStep>,
    error: &str,
    next_try_at: Timestamp,
) -> Result<PoolVmState> {
    let mut values: Vec<(sea_query::DynIden, SimpleExpr)> = vec![
        (PoolSteps::StepError.into(), error.into()),
        (
            PoolSteps::StepAttempts.into(),
            Expr::col(PoolSteps::StepAttempts).add(1),
        ),
        (PoolSteps::NextTryAt.into(), ts_to_sql(next_try_at).into()),
    ];
    if let Some(step) = step {
        values.push((PoolSteps::Step.into(), step.as_str().into()));
        values.push((PoolSteps::StepUpid.into(), Option::<String>::None.into()));
        values.push((PoolSteps::StepChangedAt.into(), now_sql().into()));
    }
    update(conn, class, vmid, values)
}

/// Records the run state Proxmox reported.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn set_power(
    conn: &Connection,
    class: ClassId,
    vmid: VmId,
    power: PowerState,
) -> Result<()> {
    let update = Query::update()
        .table(Vm::Table)
        .values([
            (PoolSteps::Power, power.as_str().into()),
            (PoolSteps::PowerSeenAt, now_sql().into()),
        ])
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    execute(conn, &update)?;
    Ok(())
}

/// Marks a VM for deletion (status and step `deleting`). A held VM is taken from its student
/// only with `force`; returns the student who lost it, if any.
///
/// # Errors
/// [`Error::VmHeld`] when a student holds it and `force` is not set; [`Error::NotFound`].
pub(crate) fn mark_deleting(
    conn: &Connection,
    class: ClassId,
    vmid: VmId,
    force: bool,
) -> Result<Option<UserId>> {
    let current = state(conn, class, vmid)?;
    let holder = current.vm.assigned_to;
    if holder.is_some() && !force {
        return Err(Error::VmHeld { vmid });
    }
    update(
        conn,
        class,
        vmid,
        vec![
            (Vm::Status.into(), VmStatus::Deleting.as_str().into()),
            (Vm::AssignedUserId.into(), Option::<i64>::None.into()),
            (Vm::AssignedAt.into(), Option::<String>::None.into()),
            (PoolSteps::Step.into(), VmStep::Deleting.as_str().into()),
            (PoolSteps::StepUpid.into(), Option::<String>::None.into()),
            (PoolSteps::StepError.into(), Option::<String>::None.into()),
            (PoolSteps::StepAttempts.into(), 0i64.into()),
            (PoolSteps::NextTryAt.into(), Option::<String>::None.into()),
            (PoolSteps::StepChangedAt.into(), now_sql().into()),
        ],
    )?;
    Ok(holder)
}

/// Removes a VM's record (its VM is gone from Proxmox, or was never ours).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn remove(conn: &Connection, class: ClassId, vmid: VmId) -> Result<bool> {
    let delete = Query::delete()
        .from_table(Vm::Table)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    Ok(execute(conn, &delete)? > 0)
}

fn update(
    conn: &Connection,
    class: ClassId,
    vmid: VmId,
    values: Vec<(sea_query::DynIden, SimpleExpr)>,
) -> Result<PoolVmState> {
    let update = Query::update()
        .table(Vm::Table)
        .values(values)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vmid.get())))
        .to_owned();
    if execute(conn, &update)? == 0 {
        return Err(Error::not_found(
            Entity::Vm,
            format!("{vmid} in class {class}"),
        ));
    }
    state(conn, class, vmid)
}

/// Turns a pool VM into a [`PoolVmState`] view for tests of the pure planner.
#[cfg(test)]
pub(crate) fn test_state(vm: PoolVm, step: VmStep) -> PoolVmState {
    PoolVmState {
        vm,
        step,
        task: None,
        error: None,
        attempts: 0,
        next_try_at: None,
        power: None,
        power_seen_at: None,
    }
}
