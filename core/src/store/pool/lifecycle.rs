//! A pool VM's life in the database: registered as available, held for a reimage after a
//! student leaves, marked reimaged, marked for deletion when the pool shrinks, and forgotten
//! once the orchestration has deleted it on Proxmox.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Query};

use super::{by_ref, in_class, map, update_vm, PoolVm, VmRole, VmStatus};
use crate::db::schema::VmAssignments as Vm;
use crate::db::time::now_sql;
use crate::error::{Entity, Error, Result};
use crate::store::classes::vmid_owner;
use crate::store::{execute, query_opt};
use crate::types::{ClassId, ClusterId, InvalidValue, NodeName, Slot, VmId, VmRef, VmidScheme};

/// A VM to register in a class's pool (the orchestration issue creates them on Proxmox).
#[derive(Debug, Clone)]
pub struct NewPoolVm {
    /// The cluster it lives on.
    pub cluster_id: ClusterId,
    /// Its VMID; for a non-manual VM it must lie in the class's VMID plan, and its slot in the
    /// plan decides its role (teacher, base or student slot).
    pub vmid: VmId,
    /// Added by hand: never handed out automatically, only by a teacher's choice. Its VMID must
    /// lie outside every other class's VMID range, and may not be this class's teacher or base
    /// VMID.
    pub manual: bool,
    /// Node, if known.
    pub node: Option<NodeName>,
    /// Name on Proxmox, if known.
    pub name: Option<String>,
    /// MAC address, if known.
    pub mac_address: Option<String>,
}

/// Checks where a manually added VM may lie: not in another class's VMID range (that class's
/// VMs are created there), and not on this class's teacher or base VMID (they would become
/// student-assignable).
///
/// # Errors
/// [`Error::VmidOfAnotherClass`] naming the owner; [`Error::InvalidValue`] for the class's own
/// teacher or base VMID.
fn check_manual(conn: &Connection, class: ClassId, scheme: VmidScheme, vmid: VmId) -> Result<()> {
    if let Some((owner_id, owner)) = vmid_owner(conn, vmid)? {
        if owner_id != class {
            return Err(Error::VmidOfAnotherClass { vmid, owner });
        }
    }
    match scheme.slot_of(vmid) {
        Some(slot @ (Slot::Teacher | Slot::Base)) => {
            let which = if slot == Slot::Teacher {
                "teacher"
            } else {
                "base"
            };
            Err(InvalidValue::new(
                "VMID",
                vmid.get(),
                format!(
                    "for a manually added VM, a VMID other than this class's {which} VMID \
                     ({scheme}); the {which} VM is registered as a planned VM"
                ),
            )
            .into())
        }
        _ => Ok(()),
    }
}

/// Registers a VM as available in the class's pool.
///
/// # Errors
/// [`Error::InvalidValue`] when a planned VM's VMID is outside the class's plan or a manual VM
/// sits on the class's teacher or base VMID; [`Error::VmidOfAnotherClass`] for a manual VM in
/// another class's range; [`Error::VmRegistered`] when the VM or the slot is registered already.
pub(crate) fn register(
    conn: &Connection,
    class: ClassId,
    scheme: VmidScheme,
    new: &NewPoolVm,
) -> Result<PoolVm> {
    let role = if new.manual {
        check_manual(conn, class, scheme, new.vmid)?;
        VmRole::Manual
    } else {
        match scheme.slot_of(new.vmid) {
            Some(Slot::Teacher) => VmRole::Teacher,
            Some(Slot::Base) => VmRole::Base,
            Some(Slot::Student(slot)) => VmRole::Student { slot },
            None => {
                return Err(InvalidValue::new(
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
        VmRole::Student { slot } => slot_registered(conn, class, slot)?,
        _ => false,
    };
    let key = VmRef::new(new.cluster_id.clone(), new.vmid);
    if slot_taken || by_ref(conn, &key)?.is_some() {
        return Err(Error::VmRegistered {
            vmid: new.vmid,
            cluster: new.cluster_id.clone(),
        });
    }
    execute(conn, &insert)?;
    by_ref(conn, &key)?.ok_or_else(|| Error::not_found(Entity::Vm, key))
}

/// Whether the class has a VM on student slot `slot`: one look-up in the unique index of slots,
/// not a read of the class's pool, so registering a class's VMs one by one does not cost the
/// square of its size.
fn slot_registered(conn: &Connection, class: ClassId, slot: u16) -> Result<bool> {
    let select = Query::select()
        .column(Vm::Id)
        .from(Vm::Table)
        .and_where(Expr::col(Vm::ClassId).eq(class.get()))
        .and_where(Expr::col(Vm::Slot).eq(i64::from(slot)))
        .to_owned();
    Ok(query_opt(conn, &select, |c| c.next::<i64>())?.is_some())
}

/// Records that a released VM was reimaged: it is clean again, its own running hours start
/// from zero, and it can be handed out. The usage of the students who held it is theirs and
/// stays.
///
/// # Errors
/// [`Error::NotFound`] when the class has no such VM; [`Error::VmHeld`] when it is held.
pub(crate) fn mark_reimaged(conn: &Connection, class: ClassId, vm: &VmRef) -> Result<PoolVm> {
    let found = in_class(conn, class, vm)?;
    if found.status == VmStatus::Assigned {
        return Err(Error::VmHeld { vmid: vm.vmid });
    }
    let now = now_sql();
    let update = update_vm(class, vm)
        .values([
            (Vm::NeedsReimage, false.into()),
            (Vm::UsageHours, 0.0f64.into()),
            (Vm::UsageLastReset, now.into()),
        ])
        .to_owned();
    query_opt(conn, &update, map)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vm} in class {class}")))
}

/// Marks an unassigned VM as being deleted (shrinking); it is never handed out again.
///
/// # Errors
/// [`Error::VmHeld`] when a student holds it; [`Error::NotFound`] when there is no such VM.
pub(crate) fn mark_deleting(conn: &Connection, class: ClassId, vm: &VmRef) -> Result<PoolVm> {
    let found = in_class(conn, class, vm)?;
    if found.status == VmStatus::Assigned {
        return Err(Error::VmHeld { vmid: vm.vmid });
    }
    let update = update_vm(class, vm)
        .value(Vm::Status, VmStatus::Deleting.as_str())
        .to_owned();
    query_opt(conn, &update, map)?
        .ok_or_else(|| Error::not_found(Entity::Vm, format!("{vm} in class {class}")))
}

/// Forgets a VM marked for deletion once it is gone from Proxmox (the pool orchestration's
/// hook; a class being deleted is finished when its last VM is forgotten). Returns whether a
/// row went.
///
/// # Errors
/// [`Error::InvalidValue`] when the VM is not marked for deletion (a VM in use is never
/// forgotten).
// The pool orchestration's hook; until it lands, only the tests call it.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn forget(conn: &Connection, vm: &VmRef) -> Result<bool> {
    match by_ref(conn, vm)? {
        None => Ok(false),
        Some(found) if found.status != VmStatus::Deleting => Err(InvalidValue::new(
            "VM state",
            format!("VM {vm}: {}", found.status.as_str()),
            "a VM marked for deletion",
        )
        .into()),
        Some(_) => {
            let delete = Query::delete()
                .from_table(Vm::Table)
                .and_where(Expr::col(Vm::ClusterId).eq(vm.cluster.as_str()))
                .and_where(Expr::col(Vm::ProxmoxVmid).eq(i64::from(vm.vmid.get())))
                .and_where(Expr::col(Vm::Status).eq(VmStatus::Deleting.as_str()))
                .to_owned();
            Ok(execute(conn, &delete)? == 1)
        }
    }
}
