//! Enrollment (students of a class) and co-ownership (teachers of a class besides its primary
//! teacher): two many-to-many relations with timestamps. Their lists are single joined queries
//! that return whole records, never one query per row.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Order, Query};

use super::usage::{self, StudentUsage};
use super::users::{self, User};
use super::{execute, execute_hot, pool, query_all, query_opt, HotSql};
use crate::db::schema::{
    ClassCoOwners, ClassEnrollments, Classes, StudentUsage as Usage, Users, VmAssignments, Waitlist,
};
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::Result;
use crate::rules::permissions::ClassRelation;
use crate::store::pool::PoolVm;
use crate::types::{ClassId, UserId};

/// A student of a class as a teacher sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct StudentView {
    /// The student.
    pub user: User,
    /// When they enrolled.
    pub enrolled_at: Timestamp,
    /// Their VM in this class, if they hold one.
    pub vm: Option<PoolVm>,
    /// Their place on the waitlist, if they wait for a VM.
    pub waitlist_position: Option<u32>,
    /// Their usage in this class.
    pub usage: StudentUsage,
}

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
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        Query::insert()
            .into_table(ClassEnrollments::Table)
            .columns([
                ClassEnrollments::UserId,
                ClassEnrollments::ClassId,
                ClassEnrollments::EnrolledAt,
            ])
            .values_panic([0_i64.into(), 0_i64.into(), "".into()])
            .on_conflict(
                OnConflict::columns([ClassEnrollments::UserId, ClassEnrollments::ClassId])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned()
    });
    let params = rusqlite::params![user.get(), class.get(), now_sql()];
    Ok(if execute_hot(conn, sql, params)? == 1 {
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

/// Whether the user is enrolled in the class now.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn is_enrolled(conn: &Connection, user: UserId, class: ClassId) -> Result<bool> {
    let select = Query::select()
        .expr(Expr::val(1))
        .from(ClassEnrollments::Table)
        .and_where(Expr::col(ClassEnrollments::UserId).eq(user.get()))
        .and_where(Expr::col(ClassEnrollments::ClassId).eq(class.get()))
        .to_owned();
    Ok(query_opt(conn, &select, |c| c.next::<i64>())?.is_some())
}

/// The students of a class, earliest enrolled first, each with their VM, waitlist place and
/// usage: one query.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn students(conn: &Connection, class: ClassId) -> Result<Vec<StudentView>> {
    let ahead = Alias::new("ahead");
    // Place on the waitlist: how many entries of the class are not younger than the student's
    // (0, read as "not waiting", when the student has no entry and the comparison is NULL).
    let position = Query::select()
        .expr(Func::count(Expr::col((ahead.clone(), Waitlist::Id))))
        .from_as(Waitlist::Table, ahead.clone())
        .and_where(Expr::col((ahead.clone(), Waitlist::ClassId)).eq(class.get()))
        .and_where(Expr::col((ahead, Waitlist::Id)).lte(Expr::col((Waitlist::Table, Waitlist::Id))))
        .to_owned();
    let e = ClassEnrollments::Table;
    let select = Query::select()
        .columns(users::COLUMNS.map(|c| (Users::Table, c)))
        .column((e, ClassEnrollments::EnrolledAt))
        .columns(pool::COLUMNS.map(|c| (VmAssignments::Table, c)))
        .expr(position)
        .columns(usage::COLUMNS.map(|c| (Usage::Table, c)))
        .from(e)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id)).equals((e, ClassEnrollments::UserId)),
        )
        .left_join(
            VmAssignments::Table,
            Expr::col((VmAssignments::Table, VmAssignments::ClassId))
                .equals((e, ClassEnrollments::ClassId))
                .and(
                    Expr::col((VmAssignments::Table, VmAssignments::AssignedUserId))
                        .equals((e, ClassEnrollments::UserId)),
                ),
        )
        .left_join(
            Waitlist::Table,
            Expr::col((Waitlist::Table, Waitlist::ClassId))
                .equals((e, ClassEnrollments::ClassId))
                .and(
                    Expr::col((Waitlist::Table, Waitlist::UserId))
                        .equals((e, ClassEnrollments::UserId)),
                ),
        )
        .left_join(
            Usage::Table,
            Expr::col((Usage::Table, Usage::ClassId))
                .equals((e, ClassEnrollments::ClassId))
                .and(
                    Expr::col((Usage::Table, Usage::UserId)).equals((e, ClassEnrollments::UserId)),
                ),
        )
        .and_where(Expr::col((e, ClassEnrollments::ClassId)).eq(class.get()))
        .order_by((e, ClassEnrollments::EnrolledAt), Order::Asc)
        .order_by((e, ClassEnrollments::UserId), Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        let user = users::map(c)?;
        let enrolled_at = ts_from_sql(&c.next::<String>()?)?;
        let vm = pool::map_opt(c)?;
        let position = c.next::<i64>()?;
        let usage = usage::map_opt(c)?.unwrap_or_else(|| StudentUsage::none(class, user.id));
        Ok(StudentView {
            user,
            enrolled_at,
            vm,
            waitlist_position: u32::try_from(position).ok().filter(|p| *p > 0),
            usage,
        })
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

/// The co-owners of a class with the time they were added, earliest first: one query.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn co_owners(conn: &Connection, class: ClassId) -> Result<Vec<(User, Timestamp)>> {
    let select = Query::select()
        .columns(users::COLUMNS.map(|c| (Users::Table, c)))
        .column((ClassCoOwners::Table, ClassCoOwners::AddedAt))
        .from(ClassCoOwners::Table)
        .inner_join(
            Users::Table,
            Expr::col((Users::Table, Users::Id))
                .equals((ClassCoOwners::Table, ClassCoOwners::UserId)),
        )
        .and_where(Expr::col((ClassCoOwners::Table, ClassCoOwners::ClassId)).eq(class.get()))
        .order_by((ClassCoOwners::Table, ClassCoOwners::AddedAt), Order::Asc)
        .order_by((ClassCoOwners::Table, ClassCoOwners::UserId), Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        Ok((users::map(c)?, ts_from_sql(&c.next::<String>()?)?))
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
