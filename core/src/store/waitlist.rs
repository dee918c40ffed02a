//! The waitlist: students who joined a class when no VM was free, served first come first served.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Func, OnConflict, Order, Query};

use super::users::{self, User};
use super::{execute, execute_hot, query_all, query_opt_hot, HotSql};
use crate::db::schema::{Users, Waitlist};
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::Result;
use crate::types::{ClassId, UserId};

/// Puts a user at the end of the class's waitlist (a no-op if they are on it); returns their
/// 1-based position.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn enqueue(conn: &Connection, class: ClassId, user: UserId) -> Result<u32> {
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        Query::insert()
            .into_table(Waitlist::Table)
            .columns([Waitlist::ClassId, Waitlist::UserId, Waitlist::EnqueuedAt])
            .values_panic([0_i64.into(), 0_i64.into(), "".into()])
            .on_conflict(
                OnConflict::columns([Waitlist::ClassId, Waitlist::UserId])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned()
    });
    execute_hot(
        conn,
        sql,
        rusqlite::params![class.get(), user.get(), now_sql()],
    )?;
    Ok(position(conn, class, user)?.unwrap_or(0))
}

/// A user's 1-based position on the class's waitlist, if they are on it.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn position(conn: &Connection, class: ClassId, user: UserId) -> Result<Option<u32>> {
    // Asked by every join that waits.
    static MINE: HotSql = HotSql::new();
    static AHEAD: HotSql = HotSql::new();
    let mine = MINE.text(|| {
        Query::select()
            .column(Waitlist::Id)
            .from(Waitlist::Table)
            .and_where(Expr::col(Waitlist::ClassId).eq(0_i64))
            .and_where(Expr::col(Waitlist::UserId).eq(0_i64))
            .to_owned()
    });
    let Some(id) = query_opt_hot(conn, mine, [class.get(), user.get()], |c| c.next::<i64>())?
    else {
        return Ok(None);
    };
    let ahead = AHEAD.text(|| {
        Query::select()
            .expr(Func::count(Expr::col(Waitlist::Id)))
            .from(Waitlist::Table)
            .and_where(Expr::col(Waitlist::ClassId).eq(0_i64))
            .and_where(Expr::col(Waitlist::Id).lte(0_i64))
            .to_owned()
    });
    let count = query_opt_hot(conn, ahead, [class.get(), id], |c| c.next::<i64>())?.unwrap_or(0);
    Ok(Some(u32::try_from(count).unwrap_or(u32::MAX)))
}

/// Every class whose waitlist `user` is on, with their 1-based position there, by class.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn places_of(conn: &Connection, user: UserId) -> Result<Vec<(ClassId, u32)>> {
    let select = Query::select()
        .column(Waitlist::ClassId)
        .from(Waitlist::Table)
        .and_where(Expr::col(Waitlist::UserId).eq(user.get()))
        .order_by(Waitlist::ClassId, Order::Asc)
        .to_owned();
    let classes = query_all(conn, &select, |c| c.next::<i64>())?;
    let mut places = Vec::with_capacity(classes.len());
    for class in classes.into_iter().map(ClassId::new) {
        if let Some(place) = position(conn, class, user)? {
            places.push((class, place));
        }
    }
    Ok(places)
}

/// Removes a user from the class's waitlist; returns whether they were on it.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn remove(conn: &Connection, class: ClassId, user: UserId) -> Result<bool> {
    let delete = Query::delete()
        .from_table(Waitlist::Table)
        .and_where(Expr::col(Waitlist::ClassId).eq(class.get()))
        .and_where(Expr::col(Waitlist::UserId).eq(user.get()))
        .to_owned();
    Ok(execute(conn, &delete)? == 1)
}

/// The user who has waited longest for this class, if anyone waits.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn first(conn: &Connection, class: ClassId) -> Result<Option<UserId>> {
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        Query::select()
            .column(Waitlist::UserId)
            .from(Waitlist::Table)
            .and_where(Expr::col(Waitlist::ClassId).eq(0_i64))
            .order_by(Waitlist::Id, Order::Asc)
            .limit(1)
            .to_owned()
    });
    // The class, then the limit.
    query_opt_hot(conn, sql, [class.get(), 1], |c| Ok(UserId::new(c.next()?)))
}

/// The class's waitlist in order, each user with the time they joined it: one query.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn list(conn: &Connection, class: ClassId) -> Result<Vec<(User, Timestamp)>> {
    let select = Query::select()
        .columns(users::COLUMNS.map(|c| (Users::Table, c)))
        .column((Waitlist::Table, Waitlist::EnqueuedAt))
        .from(Waitlist::Table)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id)).equals((Waitlist::Table, Waitlist::UserId)),
        )
        .and_where(Expr::col((Waitlist::Table, Waitlist::ClassId)).eq(class.get()))
        .order_by((Waitlist::Table, Waitlist::Id), Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        Ok((users::map(c)?, ts_from_sql(&c.next::<String>()?)?))
    })
}
