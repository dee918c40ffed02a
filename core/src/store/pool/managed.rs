//! Managed pools: the classes whose pool pvelab builds and keeps on a cluster. A class being
//! deleted is marked on the class itself (`classes.deleting_since`, see
//! [`crate::store::classes`]); its row here goes with the class.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use crate::db::schema::ManagedPools;
use crate::db::time::now_sql;
use crate::error::Result;
use crate::store::{execute, query_all, query_opt, stored};
use crate::types::{ClassId, ClusterId};

/// A class whose pool pvelab keeps on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManagedPool {
    pub(crate) class: ClassId,
    pub(crate) cluster: ClusterId,
}

fn map(c: &mut crate::store::Cols<'_, '_>) -> Result<ManagedPool> {
    Ok(ManagedPool {
        class: ClassId::new(c.next()?),
        cluster: stored(ClusterId::parse(&c.next::<String>()?))?,
    })
}

fn select() -> sea_query::SelectStatement {
    Query::select()
        .columns([ManagedPools::ClassId, ManagedPools::ClusterId])
        .from(ManagedPools::Table)
        .to_owned()
}

/// Records that pvelab manages the class's pool on `cluster` (kept if it already does).
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) fn manage(conn: &Connection, class: ClassId, cluster: &ClusterId) -> Result<()> {
    let insert = Query::insert()
        .into_table(ManagedPools::Table)
        .columns([
            ManagedPools::ClassId,
            ManagedPools::ClusterId,
            ManagedPools::Since,
        ])
        .values_panic([
            class.get().into(),
            cluster.as_str().into(),
            now_sql().into(),
        ])
        .on_conflict(
            OnConflict::column(ManagedPools::ClassId)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// The managed pool of a class, if pvelab manages it.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) fn get(conn: &Connection, class: ClassId) -> Result<Option<ManagedPool>> {
    let select = select()
        .and_where(Expr::col(ManagedPools::ClassId).eq(class.get()))
        .to_owned();
    query_opt(conn, &select, map)
}

/// Every managed pool, by class id.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection) -> Result<Vec<ManagedPool>> {
    let select = select()
        .order_by(ManagedPools::ClassId, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}
