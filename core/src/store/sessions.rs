//! Class sessions (`class_sessions`), what the sessions job did for each occurrence
//! (`session_runs`) and the running hours students spent inside sessions (`session_usage`).

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::{ClassSessions as Cs, SessionRuns as Runs, SessionUsage as Su};
use crate::db::time::{now_sql, ts_from_sql, ts_to_sql};
use crate::error::{Error, Result};
use crate::model::{ClassSession, SessionDay, SessionId, SessionPlan, SessionSpan, SessionTime};
use crate::types::{ClassId, UserId};

const COLUMNS: [Cs; 8] = [
    Cs::Id,
    Cs::ClassId,
    Cs::Weekday,
    Cs::OnDate,
    Cs::StartMinute,
    Cs::EndMinute,
    Cs::CreatedBy,
    Cs::CreatedAt,
];

fn map(c: &mut Cols<'_, '_>) -> Result<ClassSession> {
    let id = SessionId::new(c.next()?);
    let class_id = ClassId::new(c.next()?);
    let weekday: Option<i64> = c.next()?;
    let date: Option<String> = c.next()?;
    let day = match (weekday, date) {
        (Some(n), None) => SessionDay::from_weekday_number(n)
            .ok_or_else(|| Error::internal(format!("stored weekday {n} is invalid")))?,
        (None, Some(date)) => stored(SessionDay::parse_date(&date))?,
        _ => return Err(Error::internal("a stored session has no day or both")),
    };
    let start = stored(SessionTime::from_minutes("start", c.next()?))?;
    let end = stored(SessionTime::from_minutes("end", c.next()?))?;
    Ok(ClassSession {
        id,
        class_id,
        plan: stored(SessionPlan::new(day, start, end))?,
        created_by: c.next::<Option<i64>>()?.map(UserId::new),
        created_at: ts_from_sql(&c.next::<String>()?)?,
    })
}

/// Adds a session to a class; returns it as stored.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn insert(
    conn: &Connection,
    class: ClassId,
    plan: &SessionPlan,
    by: Option<UserId>,
) -> Result<ClassSession> {
    let (weekday, date) = match plan.day() {
        SessionDay::Weekly(_) => (plan.day().weekday_number().map(i64::from), None),
        SessionDay::Once(date) => (None, Some(date.to_string())),
    };
    let insert = Query::insert()
        .into_table(Cs::Table)
        .columns([
            Cs::ClassId,
            Cs::Weekday,
            Cs::OnDate,
            Cs::StartMinute,
            Cs::EndMinute,
            Cs::CreatedBy,
            Cs::CreatedAt,
        ])
        .values_panic([
            class.get().into(),
            weekday.into(),
            date.into(),
            i64::from(plan.start().minutes()).into(),
            i64::from(plan.end().minutes()).into(),
            by.map(UserId::get).into(),
            now_sql().into(),
        ])
        .returning(Query::returning().columns(COLUMNS))
        .to_owned();
    query_opt(conn, &insert, map)?.ok_or_else(|| Error::internal("a new session was not returned"))
}

/// The class's sessions, by number.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection, class: ClassId) -> Result<Vec<ClassSession>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Cs::Table)
        .and_where(Expr::col(Cs::ClassId).eq(class.get()))
        .order_by(Cs::Id, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// Every session of every class (the sessions job reads them all at once).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn all(conn: &Connection) -> Result<Vec<ClassSession>> {
    let select = Query::select()
        .columns(COLUMNS)
        .from(Cs::Table)
        .order_by(Cs::ClassId, Order::Asc)
        .order_by(Cs::Id, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// Removes session `id` of `class`; whether it existed there.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn remove(conn: &Connection, class: ClassId, id: SessionId) -> Result<bool> {
    let delete = Query::delete()
        .from_table(Cs::Table)
        .and_where(Expr::col(Cs::ClassId).eq(class.get()))
        .and_where(Expr::col(Cs::Id).eq(id.get()))
        .to_owned();
    Ok(execute(conn, &delete)? > 0)
}

/// The steps of one run, as columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStep {
    Announced,
    Started,
    Warned,
    Ended,
}

impl RunStep {
    fn column(self) -> Runs {
        match self {
            RunStep::Announced => Runs::AnnouncedAt,
            RunStep::Started => Runs::StartedAt,
            RunStep::Warned => Runs::WarnedAt,
            RunStep::Ended => Runs::EndedAt,
        }
    }
}

/// Records `step` as done now for the occurrence, once: returns `false` when it was recorded
/// already (another run claimed it), so each step happens once per occurrence.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn claim(
    conn: &Connection,
    id: SessionId,
    span: SessionSpan,
    step: RunStep,
) -> Result<bool> {
    let insert = Query::insert()
        .into_table(Runs::Table)
        .columns([Runs::SessionId, Runs::StartsAt, Runs::EndsAt])
        .values_panic([
            id.get().into(),
            ts_to_sql(span.starts_at).into(),
            ts_to_sql(span.ends_at).into(),
        ])
        .on_conflict(
            OnConflict::columns([Runs::SessionId, Runs::StartsAt])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    let column = step.column();
    let update = Query::update()
        .table(Runs::Table)
        .value(column, now_sql())
        .and_where(Expr::col(Runs::SessionId).eq(id.get()))
        .and_where(Expr::col(Runs::StartsAt).eq(ts_to_sql(span.starts_at)))
        .and_where(Expr::col(column).is_null())
        .to_owned();
    Ok(execute(conn, &update)? == 1)
}

/// Forgets runs of occurrences that ended before `before` (they can never act again).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn prune_runs(conn: &Connection, before: Timestamp) -> Result<usize> {
    let delete = Query::delete()
        .from_table(Runs::Table)
        .and_where(Expr::col(Runs::EndsAt).lt(ts_to_sql(before)))
        .to_owned();
    execute(conn, &delete)
}

/// Adds running hours inside a session to a student's session usage.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn add_hours(conn: &Connection, class: ClassId, user: UserId, hours: f64) -> Result<()> {
    let upsert = Query::insert()
        .into_table(Su::Table)
        .columns([Su::ClassId, Su::UserId, Su::SessionHours])
        .values_panic([class.get().into(), user.get().into(), hours.max(0.0).into()])
        .on_conflict(
            OnConflict::columns([Su::ClassId, Su::UserId])
                .value(
                    Su::SessionHours,
                    Expr::col((Su::Table, Su::SessionHours)).add(hours.max(0.0)),
                )
                .to_owned(),
        )
        .to_owned();
    execute(conn, &upsert)?;
    Ok(())
}

/// Hours inside sessions per student of the class (students with none are absent).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn hours(conn: &Connection, class: ClassId) -> Result<Vec<(UserId, f64)>> {
    let select = Query::select()
        .columns([Su::UserId, Su::SessionHours])
        .from(Su::Table)
        .and_where(Expr::col(Su::ClassId).eq(class.get()))
        .order_by(Su::UserId, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| Ok((UserId::new(c.next()?), c.next()?)))
}
