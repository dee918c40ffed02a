//! Join tokens: only the SHA-256 hash of a class's current token is stored (in the data model's
//! `classes.join_token` column) with its expiry; rotating replaces the hash, which revokes the
//! old token.

use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Query};

use super::classes::{map, select, Class};
use super::{execute, query_opt_hot, HotSql};
use crate::db::schema::Classes;
use crate::db::time::{now_sql, ts_to_sql};
use crate::error::{Entity, Error, Result};
use crate::token::{JoinTokenHash, TokenExpiry};
use crate::types::ClassId;

/// Stores a new token hash and expiry, replacing (and so revoking) the previous token.
///
/// # Errors
/// [`Error::NotFound`] when the class does not exist.
pub(crate) fn set_token(
    conn: &Connection,
    id: ClassId,
    hash: Option<&JoinTokenHash>,
    expiry: TokenExpiry,
) -> Result<()> {
    let never = hash.is_some() && expiry == TokenExpiry::Never;
    let expires_at = match (hash, expiry) {
        (Some(_), TokenExpiry::At(at)) => Some(ts_to_sql(at)),
        _ => None,
    };
    let update = Query::update()
        .table(Classes::Table)
        .values([
            (Classes::JoinToken, hash.map(JoinTokenHash::to_hex).into()),
            (Classes::TokenNeverExpires, never.into()),
            (Classes::TokenExpiresAt, expires_at.into()),
            (Classes::UpdatedAt, now_sql().into()),
        ])
        .and_where(Expr::col(Classes::Id).eq(id.get()))
        .to_owned();
    if execute(conn, &update)? == 0 {
        return Err(Error::not_found(Entity::Class, id));
    }
    Ok(())
}

/// The class whose current token has this hash, if any.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn by_token_hash(conn: &Connection, hash: &JoinTokenHash) -> Result<Option<Class>> {
    // Every join looks its token up twice (before queueing for the writer, and in its write).
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        select()
            .and_where(Expr::col((Classes::Table, Classes::JoinToken)).eq(""))
            .to_owned()
    });
    query_opt_hot(conn, sql, [hash.to_hex()], map)
}
