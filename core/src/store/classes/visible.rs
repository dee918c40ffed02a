//! Who sees a class: its primary teacher, its co-owners and its students. Everyone else is told
//! it does not exist (class ids are sequential, so a "not permitted" would confirm them); the
//! facade lets adminers and the system see every class without asking here.

use rusqlite::Connection;
use sea_query::{Cond, Expr, ExprTrait, Order, Query};

use super::{map, scope_to_sql, select, Class};
use crate::db::schema::{ClassCoOwners, ClassEnrollments, Classes};
use crate::error::Result;
use crate::store::{query_all, query_opt};
use crate::types::{ClassId, Scope, UserId};

/// "The class teaches, is co-owned by or enrols `user`", for the class in the query.
fn related(user: UserId) -> Cond {
    let co_owned = Query::select()
        .column(ClassCoOwners::ClassId)
        .from(ClassCoOwners::Table)
        .and_where(Expr::col(ClassCoOwners::UserId).eq(user.get()))
        .to_owned();
    let enrolled = Query::select()
        .column(ClassEnrollments::ClassId)
        .from(ClassEnrollments::Table)
        .and_where(Expr::col(ClassEnrollments::UserId).eq(user.get()))
        .to_owned();
    Cond::any()
        .add(Expr::col((Classes::Table, Classes::TeacherId)).eq(user.get()))
        .add(Expr::col((Classes::Table, Classes::Id)).in_subquery(co_owned))
        .add(Expr::col((Classes::Table, Classes::Id)).in_subquery(enrolled))
}

/// Whether `user` teaches, co-owns or is enrolled in the live class `class`.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn visible(conn: &Connection, user: UserId, class: ClassId) -> Result<bool> {
    let select = Query::select()
        .column((Classes::Table, Classes::Id))
        .from(Classes::Table)
        .and_where(Expr::col((Classes::Table, Classes::Id)).eq(class.get()))
        .and_where(Expr::col((Classes::Table, Classes::DeletingSince)).is_null())
        .cond_where(related(user))
        .to_owned();
    Ok(query_opt(conn, &select, |c| c.next::<i64>())?.is_some())
}

/// The classes of `scope` that `user` teaches, co-owns or is enrolled in, by name.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn list_visible(
    conn: &Connection,
    user: UserId,
    scope: Option<&Scope>,
) -> Result<Vec<Class>> {
    let select = select()
        .and_where(Expr::col((Classes::Table, Classes::ScopeId)).eq(scope_to_sql(scope)))
        .cond_where(related(user))
        .order_by((Classes::Table, Classes::Name), Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}
