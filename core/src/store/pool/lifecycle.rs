//! A pool VM's life in the database: registered as available, held for a reimage after a
//! student leaves, marked reimaged, marked for deletion when the pool shrinks.

use rusqlite::Connection;
use sea_query::Query;

use super::{by_vmid, in_class, map, update_vm, PoolVm, VmRole, VmStatus};
use crate::db::schema::VmAssignments as Vm;
use crate::db::time::now_sql;
use crate::error::{Entity, Error, Result};
use crate::store::{execute, query_opt};
use crate::types::{ClassId, ClusterId, NodeName, Slot, VmId, VmidScheme};

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
/// a typed conflict error when the VM or the slot is already registered.
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
    let slot_taken = match role {
        VmRole::Student { slot } => super::list(conn, class)?
            .iter()
            .any(|vm| vm.role == VmRole::Student { slot }),
        _ => false,
    };
    if slot_taken || by_vmid(conn, &new.cluster_id, new.vmid)?.is_some() {
        return Err(Error::VmRegistered {
            vmid: new.vmid,
            cluster: new.cluster_id.clone(),
        });
    }
    execute(conn, &insert)?;
    by_vmid(conn, &new.cluster_id, new.vmid)?.ok_or_else(|| Error::not_found(Entity::Vm, new.vmid))
}

/// Records that a released VM was reimaged: it is clean again, its usage starts from zero, and it
/// can be handed out.
///
/// # Errors
/// [`Error::NotFound`] when the class has no such VM; a typed conflict error when it is held.
pub(crate) fn mark_reimaged(conn: &Connection, class: ClassId, vmid: VmId) -> Result<PoolVm> {
    let vm = in_class(conn, class, vmid)?;
    if vm.status == VmStatus::Assigned {
        return Err(Error::VmHeld { vmid });
    }
    let now = now_sql();
    let update = update_vm(class, vmid)
        .values([
            (Vm::NeedsReimage, false.into()),
            (Vm::UsageHours, 0.0f64.into()),
            (Vm::UsageLastReset, now.into()),
            (Vm::QuotaWarnedPercent, 0i64.into()),
        ])
        .to_owned();
    query_opt(conn, &update, map)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vmid} in class {class}")))
}

/// Marks an unassigned VM as being deleted (shrinking); it is never handed out again.
///
/// # Errors
/// a typed conflict error when a student holds it; [`Error::NotFound`] when there is no such VM.
pub(crate) fn mark_deleting(conn: &Connection, class: ClassId, vmid: VmId) -> Result<PoolVm> {
    let vm = in_class(conn, class, vmid)?;
    if vm.status == VmStatus::Assigned {
        return Err(Error::VmHeld { vmid });
    }
    let update = update_vm(class, vmid)
        .value(Vm::Status, VmStatus::Deleting.as_str())
        .to_owned();
    query_opt(conn, &update, map)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vmid} in class {class}")))
}
