//! Repositories: one file per aggregate, each a set of functions over a `rusqlite::Connection`
//! (usually the open transaction of one facade call) that build their SQL with
//! sea-query and return domain records, never raw rows.
//!
//! They are synchronous and do no permission checks: the [`Lab`](crate::lab::Lab) facade checks
//! permissions and calls several of them inside ONE transaction, so a check and the change it
//! guards can never be separated by another writer.

pub(crate) mod checks;
pub(crate) mod class_settings;
pub(crate) mod classes;
pub(crate) mod clone_sources;
pub(crate) mod cluster_jobs;
pub(crate) mod clusters;
pub(crate) mod enrollment;
pub(crate) mod inventory;
pub(crate) mod ips;
pub(crate) mod isos;
pub(crate) mod outbox;
pub(crate) mod pool;
pub(crate) mod settings;
pub(crate) mod submissions;
pub(crate) mod templates;
pub(crate) mod tokens;
pub(crate) mod usage;
pub(crate) mod users;
pub(crate) mod vm_watch;
pub(crate) mod waitlist;

use std::sync::OnceLock;

use rusqlite::types::FromSql;
use rusqlite::{Connection, Params, Row};
use sea_query::SqliteQueryBuilder;
use sea_query_rusqlite::RusqliteBinder;

use crate::error::{DbResultExt, Error, Result};
use crate::types::InvalidValue;

/// Executes a built statement; returns the number of changed rows.
pub(crate) fn execute<S: RusqliteBinder>(conn: &Connection, statement: &S) -> Result<usize> {
    let (sql, values) = statement.build_rusqlite(SqliteQueryBuilder);
    conn.prepare_cached(&sql)
        .db()?
        .execute(&*values.as_params())
        .db()
}

/// The SQL text of a hot statement (one a join runs), built by sea-query the first time and
/// reused after: building a statement's tree and writing its text anew on every run cost about
/// as much as SQLite running it. The text has a `?` for every value the builder was given, in
/// the order the text names them; each run binds its own values in that order
/// ([`query_opt_hot`], [`execute_hot`]). Statements whose shape depends on their values (an
/// optional condition, a list of varying length) are not hot statements.
pub(crate) struct HotSql(OnceLock<String>);

impl HotSql {
    /// Nothing built yet.
    pub(crate) const fn new() -> Self {
        Self(OnceLock::new())
    }

    /// The text; `shape` builds the statement (with any values of the right kinds) the first
    /// time only.
    pub(crate) fn text<S: RusqliteBinder>(&self, shape: impl FnOnce() -> S) -> &str {
        self.0
            .get_or_init(|| shape().build_rusqlite(SqliteQueryBuilder).0)
    }
}

/// Executes a hot statement's text with `params`; returns the number of changed rows.
pub(crate) fn execute_hot(conn: &Connection, sql: &str, params: impl Params) -> Result<usize> {
    conn.prepare_cached(sql).db()?.execute(params).db()
}

/// Runs a hot query's text with `params` and maps its first row, if any.
pub(crate) fn query_opt_hot<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&mut Cols<'_, '_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut prepared = conn.prepare_cached(sql).db()?;
    let mut rows = prepared.query(params).db()?;
    match rows.next().db()? {
        Some(row) => Ok(Some(map(&mut Cols { row, next: 0 })?)),
        None => Ok(None),
    }
}

/// Runs a hot query's text with `params` and maps every row.
pub(crate) fn query_all_hot<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    mut map: impl FnMut(&mut Cols<'_, '_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut prepared = conn.prepare_cached(sql).db()?;
    let mut rows = prepared.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(map(&mut Cols { row, next: 0 })?);
    }
    Ok(out)
}

/// Runs a built query and maps every row.
pub(crate) fn query_all<S, T>(
    conn: &Connection,
    statement: &S,
    mut map: impl FnMut(&mut Cols<'_, '_>) -> Result<T>,
) -> Result<Vec<T>>
where
    S: RusqliteBinder,
{
    let (sql, values) = statement.build_rusqlite(SqliteQueryBuilder);
    let mut prepared = conn.prepare_cached(&sql).db()?;
    let mut rows = prepared.query(&*values.as_params()).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(map(&mut Cols { row, next: 0 })?);
    }
    Ok(out)
}

/// Runs a built query and maps its first row, if any.
pub(crate) fn query_opt<S, T>(
    conn: &Connection,
    statement: &S,
    mut map: impl FnMut(&mut Cols<'_, '_>) -> Result<T>,
) -> Result<Option<T>>
where
    S: RusqliteBinder,
{
    let (sql, values) = statement.build_rusqlite(SqliteQueryBuilder);
    let mut prepared = conn.prepare_cached(&sql).db()?;
    let mut rows = prepared.query(&*values.as_params()).db()?;
    match rows.next().db()? {
        Some(row) => Ok(Some(map(&mut Cols { row, next: 0 })?)),
        None => Ok(None),
    }
}

/// Reads the columns of a row in the order the query selected them, so the column list of a
/// query and its mapping are written once, side by side.
pub(crate) struct Cols<'a, 'r> {
    row: &'a Row<'r>,
    next: usize,
}

impl Cols<'_, '_> {
    /// The next column.
    pub(crate) fn next<T: FromSql>(&mut self) -> Result<T> {
        let value = self.row.get(self.next).db()?;
        self.next += 1;
        Ok(value)
    }

    /// The next column as a 0/1 boolean.
    pub(crate) fn flag(&mut self) -> Result<bool> {
        Ok(self.next::<i64>()? != 0)
    }

    /// Skips `n` columns (the rest of a record a `LEFT JOIN` found no row for).
    pub(crate) fn skip(&mut self, n: usize) {
        self.next += n;
    }
}

/// A stored value that no longer passes its type's rules (a database edited by hand).
pub(crate) fn stored<T>(parsed: Result<T, InvalidValue>) -> Result<T> {
    parsed.map_err(|e| Error::internal(format!("a stored value is invalid: {e}")))
}
