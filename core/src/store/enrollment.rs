//! Enrollment (students of a class) and co-ownership (teachers of a class besides its primary
//! teacher): two many-to-many relations with timestamps.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::{execute, query_all, query_opt};
use crate::db::schema::{ClassCoOwners, ClassEnrollments, Classes};
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::Result;
use crate::rules::permissions::ClassRelation;
use crate::types::{ClassId, UserId};

/// What enrolling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrollment {
    /// The user is now enrolled.
    Enrolled,
    /// The user already was; nothing changed.
    AlreadyEnrolled,
}

/// Enrolls a user; enrolling twice is a no-op that says so.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails (e.g. unknown user or class).
pub(crate) fn enroll(conn: &Connection, user: UserId, class: ClassId) -> Result<Enrollment> {
    let insert = Query::insert()
        .into_table(ClassEnrollments::Table)
        .columns([
            ClassEnrollments::UserId,
            ClassEnrollments::ClassId,
            ClassEnrollments::EnrolledAt,
        ])
        .values_panic([user.get().into(), class.get().into(), now_sql().into()])
        .on_conflict(
            OnConflict::columns([ClassEnrollments::UserId, ClassEnrollments::ClassId])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(if execute(conn, &insert)? == 1 {
        Enrollment::Enrolled
    } else {
        Enrollment::AlreadyEnrolled
    })
}

/// Removes an enrollment; returns whether there was one.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn unenroll(conn: &Connection, user: UserId, class: ClassId) -> Result<bool> {
    let delete = Query::delete()
        .from_table(ClassEnrollments::Table)
        .and_where(Expr::col(ClassEnrollments::UserId).eq(user.get()))
        .and_where(Expr::col(ClassEnrollments::ClassId).eq(class.get()))
        .to_owned();
    Ok(execute(conn, &delete)? == 1)
}

/// The students of a class with their enrollment time, earliest first.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn students(conn: &Connection, class: ClassId) -> Result<Vec<(UserId, Timestamp)>> {
    let select = Query::select()
        .columns([ClassEnrollments::UserId, ClassEnrollments::EnrolledAt])
        .from(ClassEnrollments::Table)
        .and_where(Expr::col(ClassEnrollments::ClassId).eq(class.get()))
        .order_by(ClassEnrollments::EnrolledAt, Order::Asc)
        .order_by(ClassEnrollments::UserId, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        Ok((UserId::new(c.next()?), ts_from_sql(&c.next::<String>()?)?))
    })
}

/// Adds a co-owner; returns false when they already were one.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn add_co_owner(conn: &Connection, user: UserId, class: ClassId) -> Result<bool> {
    let insert = Query::insert()
        .into_table(ClassCoOwners::Table)
        .columns([
            ClassCoOwners::UserId,
            ClassCoOwners::ClassId,
            ClassCoOwners::AddedAt,
        ])
        .values_panic([user.get().into(), class.get().into(), now_sql().into()])
        .on_conflict(
            OnConflict::columns([ClassCoOwners::UserId, ClassCoOwners::ClassId])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(execute(conn, &insert)? == 1)
}

/// Removes a co-owner; returns whether they were one.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn remove_co_owner(conn: &Connection, user: UserId, class: ClassId) -> Result<bool> {
    let delete = Query::delete()
        .from_table(ClassCoOwners::Table)
        .and_where(Expr::col(ClassCoOwners::UserId).eq(user.get()))
        .and_where(Expr::col(ClassCoOwners::ClassId).eq(class.get()))
        .to_owned();
    Ok(execute(conn, &delete)? == 1)
}

/// The co-owners of a class with the time they were added.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn co_owners(conn: &Connection, class: ClassId) -> Result<Vec<(UserId, Timestamp)>> {
    let select = Query::select()
        .columns([ClassCoOwners::UserId, ClassCoOwners::AddedAt])
        .from(ClassCoOwners::Table)
        .and_where(Expr::col(ClassCoOwners::ClassId).eq(class.get()))
        .order_by(ClassCoOwners::AddedAt, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        Ok((UserId::new(c.next()?), ts_from_sql(&c.next::<String>()?)?))
    })
}

/// How a user relates to a class, for permission checks: primary teacher, co-owner or none.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn relation(conn: &Connection, user: UserId, class: ClassId) -> Result<ClassRelation> {
    let primary = Query::select()
        .column(Classes::Id)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::Id).eq(class.get()))
        .and_where(Expr::col(Classes::TeacherId).eq(user.get()))
        .to_owned();
    if query_opt(conn, &primary, |c| c.next::<i64>())?.is_some() {
        return Ok(ClassRelation::PrimaryTeacher);
    }
    let co = Query::select()
        .column(ClassCoOwners::UserId)
        .from(ClassCoOwners::Table)
        .and_where(Expr::col(ClassCoOwners::ClassId).eq(class.get()))
        .and_where(Expr::col(ClassCoOwners::UserId).eq(user.get()))
        .to_owned();
    Ok(if query_opt(conn, &co, |c| c.next::<i64>())?.is_some() {
        ClassRelation::CoOwner
    } else {
        ClassRelation::None
    })
}
