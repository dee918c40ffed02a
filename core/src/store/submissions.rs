//! Submissions (`submissions`): snapshots of students' VMs taken as their handed-in work, and
//! the classes' submission deadlines (`class_deadlines`).

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::{ClassDeadlines as Dl, Classes, Submissions as Sub};
use crate::db::time::{now_sql, opt_ts_from_sql, ts_from_sql, ts_to_sql};
use crate::error::Result;
use crate::types::{ClassId, ClusterId, SnapshotName, UserId, VmId, VmRef};

/// A submission: a named snapshot of a student's VM, which pvelab never removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The class.
    pub class_id: ClassId,
    /// The student whose work it is.
    pub student: UserId,
    /// The VM the snapshot belongs to.
    pub vm: VmRef,
    /// The snapshot's name (`submit-20260131T081530Z`).
    pub snapshot: SnapshotName,
    /// When it was taken (the time its name gives, with the fraction of the second).
    pub taken_at: Timestamp,
    /// Taken by the lab at the class's deadline rather than by the student.
    pub automatic: bool,
}

/// A class's submission deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionDeadline {
    /// The class.
    pub class_id: ClassId,
    /// When every student VM of the class is snapshotted.
    pub at: Timestamp,
    /// When the lab took those snapshots; `None` while the deadline is ahead (or not yet
    /// handled).
    pub taken_at: Option<Timestamp>,
}

const COLUMNS: [Sub; 7] = [
    Sub::ClassId,
    Sub::UserId,
    Sub::ClusterId,
    Sub::Vmid,
    Sub::Snapshot,
    Sub::TakenAt,
    Sub::Automatic,
];

fn map(c: &mut Cols<'_, '_>) -> Result<Submission> {
    let class_id = ClassId::new(c.next()?);
    let student = UserId::new(c.next()?);
    let cluster = stored(ClusterId::parse(&c.next::<String>()?))?;
    let vmid = stored(VmId::new(c.next()?))?;
    Ok(Submission {
        class_id,
        student,
        vm: VmRef::new(cluster, vmid),
        snapshot: stored(SnapshotName::parse(&c.next::<String>()?))?,
        taken_at: ts_from_sql(&c.next::<String>()?)?,
        automatic: c.flag()?,
    })
}

/// Records a submission.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails (a snapshot of that name on that VM is recorded
/// already: the caller picked the name against the VM's snapshots).
pub(crate) fn insert(conn: &Connection, submission: &Submission) -> Result<()> {
    let insert = Query::insert()
        .into_table(Sub::Table)
        .columns(COLUMNS)
        .values_panic([
            submission.class_id.get().into(),
            submission.student.get().into(),
            submission.vm.cluster.as_str().into(),
            i64::from(submission.vm.vmid.get()).into(),
            submission.snapshot.as_str().into(),
            ts_to_sql(submission.taken_at).into(),
            i64::from(submission.automatic).into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// The class's submissions (only `student`'s when given), oldest first.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(
    conn: &Connection,
    class: ClassId,
    student: Option<UserId>,
) -> Result<Vec<Submission>> {
    let mut select = Query::select()
        .columns(COLUMNS)
        .from(Sub::Table)
        .and_where(Expr::col(Sub::ClassId).eq(class.get()))
        .order_by(Sub::TakenAt, Order::Asc)
        .order_by(Sub::Id, Order::Asc)
        .to_owned();
    if let Some(student) = student {
        select.and_where(Expr::col(Sub::UserId).eq(student.get()));
    }
    query_all(conn, &select, map)
}

/// The student's submission `snapshot` in the class, if there is one.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn find(
    conn: &Connection,
    class: ClassId,
    student: UserId,
    snapshot: &SnapshotName,
) -> Result<Option<Submission>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Sub::Table)
        .and_where(Expr::col(Sub::ClassId).eq(class.get()))
        .and_where(Expr::col(Sub::UserId).eq(student.get()))
        .and_where(Expr::col(Sub::Snapshot).eq(snapshot.as_str()))
        .to_owned();
    query_opt(conn, &select, map)
}

fn map_deadline(c: &mut Cols<'_, '_>) -> Result<SubmissionDeadline> {
    Ok(SubmissionDeadline {
        class_id: ClassId::new(c.next()?),
        at: ts_from_sql(&c.next::<String>()?)?,
        taken_at: opt_ts_from_sql(c.next()?)?,
    })
}

/// The class's deadline, if it has one.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn deadline(conn: &Connection, class: ClassId) -> Result<Option<SubmissionDeadline>> {
    let select = Query::select()
        .columns([Dl::ClassId, Dl::Deadline, Dl::TakenAt])
        .from(Dl::Table)
        .and_where(Expr::col(Dl::ClassId).eq(class.get()))
        .to_owned();
    query_opt(conn, &select, map_deadline)
}

/// Sets the class's deadline (a new one is not taken yet, even if an earlier one was), or
/// clears it with `None`.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn set_deadline(
    conn: &Connection,
    class: ClassId,
    at: Option<Timestamp>,
) -> Result<Option<SubmissionDeadline>> {
    let Some(at) = at else {
        let delete = Query::delete()
            .from_table(Dl::Table)
            .and_where(Expr::col(Dl::ClassId).eq(class.get()))
            .to_owned();
        execute(conn, &delete)?;
        return Ok(None);
    };
    let upsert = Query::insert()
        .into_table(Dl::Table)
        .columns([Dl::ClassId, Dl::Deadline, Dl::TakenAt])
        .values_panic([
            class.get().into(),
            ts_to_sql(at).into(),
            Option::<String>::None.into(),
        ])
        .on_conflict(
            OnConflict::column(Dl::ClassId)
                .update_columns([Dl::Deadline, Dl::TakenAt])
                .to_owned(),
        )
        .to_owned();
    execute(conn, &upsert)?;
    deadline(conn, class)
}

/// Claims every deadline that has passed and was not taken yet, for live classes: marks each
/// taken now and returns them. Run inside the write transaction, so two callers can never
/// claim the same deadline: each deadline's snapshots are taken exactly once.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn claim_due(conn: &Connection) -> Result<Vec<SubmissionDeadline>> {
    let now = now_sql();
    let live = Query::select()
        .column(Classes::Id)
        .from(Classes::Table)
        .and_where(Expr::col(Classes::DeletingSince).is_null())
        .to_owned();
    let claim = Query::update()
        .table(Dl::Table)
        .value(Dl::TakenAt, now.clone())
        .and_where(Expr::col(Dl::TakenAt).is_null())
        .and_where(Expr::col(Dl::Deadline).lte(now))
        .and_where(Expr::col(Dl::ClassId).in_subquery(live))
        .returning(Query::returning().columns([Dl::ClassId, Dl::Deadline, Dl::TakenAt]))
        .to_owned();
    let mut claimed = query_all(conn, &claim, map_deadline)?;
    claimed.sort_by_key(|d| (d.at, d.class_id.get()));
    Ok(claimed)
}
