//! Deleting a class. A class whose pool has no VMs goes at once, with everything that hangs on
//! it. A class with VMs may still have them on Proxmox, so its VMID range must stay reserved
//! until they are gone: it is marked as being deleted (hidden from everyone, its token revoked,
//! its VMs released and marked for deletion), and the pool orchestration deletes the VMs on
//! Proxmox, forgets their pool rows ([`crate::store::pool::forget`]) and then calls
//! [`finish_delete`], which removes the row and frees the range.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Func, Order, Query};

use crate::db::schema::{Classes, VmAssignments, Waitlist};
use crate::db::time::now_sql;
use crate::error::{Entity, Error, Result};
use crate::store::pool::VmStatus;
use crate::store::{execute, query_all, query_opt};
use crate::types::ClassId;

/// What deleting a class did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassDeletion {
    /// The class had no VMs and is gone, its VMID range free again.
    Deleted,
    /// The class is gone for everyone, but its VMs may still exist on Proxmox: its VMID range
    /// (and its name in its scope) stay reserved until the pool orchestration has removed them.
    VmsPending {
        /// How many VMs of its pool remain to be removed.
        vms: usize,
    },
}

/// The number of VMs in a class's pool (any state).
fn pool_rows(conn: &Connection, id: ClassId) -> Result<usize> {
    let count = Query::select()
        .expr(Func::count(Expr::col(VmAssignments::Id)))
        .from(VmAssignments::Table)
        .and_where(Expr::col(VmAssignments::ClassId).eq(id.get()))
        .to_owned();
    let n = query_opt(conn, &count, |c| c.next::<i64>())?.unwrap_or(0);
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Deletes the row; its VMID blocks, enrollments, co-owners, waitlist, usage and templates go
/// with it (the schema's cascades).
fn delete_row(conn: &Connection, id: ClassId) -> Result<()> {
    let delete = Query::delete()
        .from_table(Classes::Table)
        .and_where(Expr::col(Classes::Id).eq(id.get()))
        .to_owned();
    if execute(conn, &delete)? == 0 {
        return Err(Error::not_found(Entity::Class, id));
    }
    Ok(())
}

/// Deletes a class at once when its pool is empty, else marks it as being deleted.
///
/// # Errors
/// [`Error::NotFound`] when there is no such class.
pub(crate) fn delete_or_mark(conn: &Connection, id: ClassId) -> Result<ClassDeletion> {
    match pool_rows(conn, id)? {
        0 => {
            delete_row(conn, id)?;
            Ok(ClassDeletion::Deleted)
        }
        vms => {
            mark_deleting(conn, id)?;
            Ok(ClassDeletion::VmsPending { vms })
        }
    }
}

/// Marks a class as being deleted: hidden from every read of the facade, its token revoked, its
/// waitlist emptied, and every VM of its pool taken from its holder and marked for deletion, so
/// nobody uses them any more. The row and its VMID blocks stay until [`finish_delete`].
///
/// # Errors
/// [`Error::NotFound`] when there is no such live class.
pub(crate) fn mark_deleting(conn: &Connection, id: ClassId) -> Result<()> {
    let now = now_sql();
    let mark = Query::update()
        .table(Classes::Table)
        .values([
            (Classes::DeletingSince, now.clone().into()),
            (Classes::JoinToken, Option::<String>::None.into()),
            (Classes::TokenNeverExpires, false.into()),
            (Classes::TokenExpiresAt, Option::<String>::None.into()),
            (Classes::UpdatedAt, now.into()),
        ])
        .and_where(Expr::col(Classes::Id).eq(id.get()))
        .and_where(Expr::col(Classes::DeletingSince).is_null())
        .to_owned();
    if execute(conn, &mark)? == 0 {
        return Err(Error::not_found(Entity::Class, id));
    }
    let vms = Query::update()
        .table(VmAssignments::Table)
        .values([
            (VmAssignments::Status, VmStatus::Deleting.as_str().into()),
            (VmAssignments::AssignedUserId, Option::<i64>::None.into()),
            (VmAssignments::AssignedAt, Option::<String>::None.into()),
        ])
        .and_where(Expr::col(VmAssignments::ClassId).eq(id.get()))
        .to_owned();
    execute(conn, &vms)?;
    let waitlist = Query::delete()
        .from_table(Waitlist::Table)
        .and_where(Expr::col(Waitlist::ClassId).eq(id.get()))
        .to_owned();
    execute(conn, &waitlist)?;
    Ok(())
}

/// Completes the deletion of a class marked as being deleted once its pool is empty: the row
/// goes and its VMID range is free. Returns whether it went (`false`: VMs remain).
///
/// # Errors
/// [`Error::NotFound`] when no class of this id is being deleted.
pub(crate) fn finish_delete(conn: &Connection, id: ClassId) -> Result<bool> {
    let marked = Query::select()
        .column(Classes::Id)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::Id).eq(id.get()))
        .and_where(Expr::col(Classes::DeletingSince).is_not_null())
        .to_owned();
    if query_opt(conn, &marked, |c| c.next::<i64>())?.is_none() {
        return Err(Error::not_found(
            Entity::Class,
            format!("{id} being deleted"),
        ));
    }
    if pool_rows(conn, id)? > 0 {
        return Ok(false);
    }
    delete_row(conn, id)?;
    Ok(true)
}

/// The classes being deleted, oldest first: the pool orchestration's work list.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn deleting(conn: &Connection) -> Result<Vec<ClassId>> {
    let select = Query::select()
        .column(Classes::Id)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::DeletingSince).is_not_null())
        .order_by(Classes::DeletingSince, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| Ok(ClassId::new(c.next()?)))
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::{ClassDeletion, VmStatus};
    use crate::store::classes::{
        delete_or_mark, deleting, finish_delete, get, insert, mark_deleting, NewClass,
    };
    use crate::store::pool::{self, NewPoolVm};
    use crate::store::users;
    use crate::types::{ClassName, ClusterId, ExternalId, PoolSize, VmRef};

    fn database() -> Connection {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.pragma_update(None, "foreign_keys", true).expect("fk");
        crate::db::migrate::run(&mut conn).expect("migrate");
        conn.execute(
            "INSERT INTO clusters (cluster_id, name, host, user, password, created_at, \
             updated_at) VALUES ('pve1', 'pve1', '10.0.0.1', 'root@pam', x'00', 'x', 'x')",
            [],
        )
        .expect("cluster");
        conn
    }

    fn class(conn: &Connection, name: &str, prefix: u32) -> crate::store::classes::Class {
        let teacher =
            users::ensure_external(conn, &ExternalId::parse("t").unwrap(), None).expect("teacher");
        let mut new = NewClass::new(ClassName::parse(name).unwrap(), PoolSize::new(5).unwrap());
        new.vmid_prefix = Some(prefix);
        insert(conn, teacher.id, &new).expect("class")
    }

    #[test]
    fn a_class_with_vms_keeps_its_range_until_the_orchestration_forgot_them_all() {
        let conn = database();
        let first = class(&conn, "first", 3);
        let mut vms = Vec::new();
        for slot in 1..=2 {
            let vmid = first.scheme.student_vmid(slot).unwrap();
            let new = NewPoolVm {
                cluster_id: ClusterId::parse("pve1").unwrap(),
                vmid,
                manual: false,
                node: None,
                name: None,
                mac_address: None,
            };
            vms.push(
                pool::register(&conn, first.id, first.scheme, &new)
                    .unwrap()
                    .vm_ref(),
            );
        }

        assert_eq!(
            delete_or_mark(&conn, first.id).unwrap(),
            ClassDeletion::VmsPending { vms: 2 }
        );
        assert!(get(&conn, first.id).is_err(), "hidden at once");
        assert_eq!(deleting(&conn).unwrap(), [first.id]);
        assert!(pool::list(&conn, first.id)
            .unwrap()
            .iter()
            .all(|vm| vm.status == VmStatus::Deleting && vm.assigned_to.is_none()));
        assert!(!finish_delete(&conn, first.id).unwrap(), "VMs remain");

        assert!(pool::forget(&conn, &vms[0]).unwrap());
        assert!(!finish_delete(&conn, first.id).unwrap(), "one VM remains");
        assert!(pool::forget(&conn, &vms[1]).unwrap());
        assert!(finish_delete(&conn, first.id).unwrap());

        assert!(deleting(&conn).unwrap().is_empty());
        let again = class(&conn, "first", 3);
        assert_eq!(again.scheme, first.scheme, "name and range are free again");
    }

    #[test]
    fn a_vm_in_use_is_never_forgotten_and_only_a_class_being_deleted_is_finished() {
        let conn = database();
        let live = class(&conn, "live", 4);
        let vmid = live.scheme.student_vmid(1).unwrap();
        let new = NewPoolVm {
            cluster_id: ClusterId::parse("pve1").unwrap(),
            vmid,
            manual: false,
            node: None,
            name: None,
            mac_address: None,
        };
        let vm: VmRef = pool::register(&conn, live.id, live.scheme, &new)
            .unwrap()
            .vm_ref();

        assert!(pool::forget(&conn, &vm).is_err());
        assert!(finish_delete(&conn, live.id).is_err());
        mark_deleting(&conn, live.id).unwrap();
        assert!(mark_deleting(&conn, live.id).is_err(), "marked once");
    }
}
