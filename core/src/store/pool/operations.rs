//! The record of pool operations: what kind, who started it, when it ended and what it did.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Query};

use crate::db::schema::PoolOperations;
use crate::db::time::now_sql;
use crate::error::Result;
use crate::store::execute;
use crate::types::{ClassId, UserId};

/// Records the start of an operation; returns its id.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) fn start(
    conn: &Connection,
    class: ClassId,
    kind: &str,
    by: Option<UserId>,
) -> Result<i64> {
    let insert = Query::insert()
        .into_table(PoolOperations::Table)
        .columns([
            PoolOperations::ClassId,
            PoolOperations::Kind,
            PoolOperations::StartedBy,
            PoolOperations::StartedAt,
        ])
        .values_panic([
            class.get().into(),
            kind.into(),
            by.map(UserId::get).into(),
            now_sql().into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    Ok(conn.last_insert_rowid())
}

/// Records the end of an operation with its counts and a one-line summary.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) fn finish(
    conn: &Connection,
    id: i64,
    total: usize,
    ready: usize,
    failed: usize,
    summary: &str,
) -> Result<()> {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let update = Query::update()
        .table(PoolOperations::Table)
        .values([
            (PoolOperations::FinishedAt, now_sql().into()),
            (PoolOperations::Total, count(total).into()),
            (PoolOperations::Ready, count(ready).into()),
            (PoolOperations::Failed, count(failed).into()),
            (PoolOperations::Summary, summary.into()),
        ])
        .and_where(Expr::col(PoolOperations::Id).eq(id))
        .to_owned();
    execute(conn, &update)?;
    Ok(())
}

/// Closes every operation a crash left open (the reconciler finishes their work from the VMs'
/// recorded steps); returns how many there were.
///
/// # Errors
/// [`crate::Error::Internal`] when SQLite fails.
pub(crate) fn close_interrupted(conn: &Connection, started_before: &str) -> Result<usize> {
    let update = Query::update()
        .table(PoolOperations::Table)
        .values([
            (PoolOperations::FinishedAt, now_sql().into()),
            (
                PoolOperations::Summary,
                "interrupted; its VMs are finished by reconciliation".into(),
            ),
        ])
        .and_where(Expr::col(PoolOperations::FinishedAt).is_null())
        .and_where(Expr::col(PoolOperations::StartedAt).lt(started_before))
        .to_owned();
    execute(conn, &update)
}
