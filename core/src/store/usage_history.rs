//! The usage history behind reports (`usage_hourly`, `shutdown_log`): running hours per student
//! and UTC hour, and every automatic shutdown with its reason's kind.
//!
//! Written where the facts arise, inside their transactions: hours where a student's usage is
//! charged ([`super::usage::add`]), shutdowns where their event is written
//! ([`super::outbox::append`]). Bounded by the `reports.history_retention` setting: whenever a
//! charge reaches a new hour, rows older than the retention are deleted, so the tables never
//! grow past what reports may ask for.

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

use super::{execute, query_all, query_opt, settings};
use crate::db::schema::{ShutdownLog as Log, UsageHourly as Hourly};
use crate::db::time::{now, ts_from_sql, ts_to_sql};
use crate::error::Result;
use crate::reports::hours::split_by_hour;
use crate::types::{ClassId, UserId, VmId};

/// Running hours of one student in one UTC hour.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HourRow {
    pub(crate) user: UserId,
    /// The start of the hour.
    pub(crate) hour: Timestamp,
    /// Hours charged to the quota.
    pub(crate) hours: f64,
    /// Hours inside the class's sessions (not charged).
    pub(crate) session_hours: f64,
}

/// One automatic shutdown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShutdownRow {
    pub(crate) user: Option<UserId>,
    /// The reason's kind (`idle`, `outside_hours`, `quota_exhausted`, ...).
    pub(crate) reason: String,
    pub(crate) at: Timestamp,
}

/// Records `hours` of running time that ended now, charged to `user` in `class`: spread over
/// the UTC hours the span `[now - hours, now]` covers. Prunes old history when the span reaches
/// into a new hour.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn add_hours(conn: &Connection, class: ClassId, user: UserId, hours: f64) -> Result<()> {
    add(conn, class, user, hours, Hourly::Hours)
}

/// Records `hours` of running time inside the class's sessions that ended now (not charged to
/// the quota), spread like [`add_hours`].
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn add_session_hours(
    conn: &Connection,
    class: ClassId,
    user: UserId,
    hours: f64,
) -> Result<()> {
    add(conn, class, user, hours, Hourly::SessionHours)
}

fn add(conn: &Connection, class: ClassId, user: UserId, hours: f64, column: Hourly) -> Result<()> {
    if !hours.is_finite() || hours <= 0.0 {
        return Ok(());
    }
    let end = now();
    let start = end - SignedDuration::from_secs_f64(hours * 3600.0);
    let parts = split_by_hour(start, end);
    for (hour, part) in &parts {
        let insert = Query::insert()
            .into_table(Hourly::Table)
            .columns([Hourly::ClassId, Hourly::UserId, Hourly::Hour, column])
            .values_panic([
                class.get().into(),
                user.get().into(),
                ts_to_sql(*hour).into(),
                (*part).into(),
            ])
            .on_conflict(
                OnConflict::columns([Hourly::ClassId, Hourly::Hour, Hourly::UserId])
                    .value(
                        column,
                        Expr::col((Hourly::Table, column))
                            .add(Expr::col((sea_query::Alias::new("excluded"), column))),
                    )
                    .to_owned(),
            )
            .to_owned();
        execute(conn, &insert)?;
    }
    let new_hour = parts.len() > 1 || parts.first().is_some_and(|(hour, _)| *hour == start);
    if new_hour {
        let keep = settings::load(conn)?.report_retention();
        let keep = SignedDuration::try_from(keep).unwrap_or(SignedDuration::MAX);
        prune(conn, end.checked_sub(keep).unwrap_or(Timestamp::MIN))?;
    }
    Ok(())
}

/// Records an automatic shutdown announced now.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn add_shutdown(
    conn: &Connection,
    class: ClassId,
    user: Option<UserId>,
    vmid: VmId,
    reason: &str,
) -> Result<()> {
    let insert = Query::insert()
        .into_table(Log::Table)
        .columns([Log::ClassId, Log::UserId, Log::Vmid, Log::Reason, Log::At])
        .values_panic([
            class.get().into(),
            user.map(|u| u.get()).into(),
            vmid.get().into(),
            reason.into(),
            ts_to_sql(now()).into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// Deletes the history from before `before`; returns the rows deleted.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn prune(conn: &Connection, before: Timestamp) -> Result<usize> {
    let cut = ts_to_sql(before);
    let hours = Query::delete()
        .from_table(Hourly::Table)
        .and_where(Expr::col(Hourly::Hour).lt(cut.clone()))
        .to_owned();
    let logs = Query::delete()
        .from_table(Log::Table)
        .and_where(Expr::col(Log::At).lt(cut))
        .to_owned();
    Ok(execute(conn, &hours)? + execute(conn, &logs)?)
}

/// The hourly rows of `class` whose hour starts in `[from, to)`, oldest first.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn hours_in(
    conn: &Connection,
    class: ClassId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<HourRow>> {
    let select = Query::select()
        .columns([
            Hourly::UserId,
            Hourly::Hour,
            Hourly::Hours,
            Hourly::SessionHours,
        ])
        .from(Hourly::Table)
        .and_where(Expr::col(Hourly::ClassId).eq(class.get()))
        .and_where(Expr::col(Hourly::Hour).gte(ts_to_sql(from)))
        .and_where(Expr::col(Hourly::Hour).lt(ts_to_sql(to)))
        .order_by(Hourly::Hour, Order::Asc)
        .order_by(Hourly::UserId, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        Ok(HourRow {
            user: UserId::new(c.next()?),
            hour: ts_from_sql(&c.next::<String>()?)?,
            hours: c.next()?,
            session_hours: c.next()?,
        })
    })
}

/// The shutdowns of `class` in `[from, to)`, oldest first.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn shutdowns_in(
    conn: &Connection,
    class: ClassId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ShutdownRow>> {
    let select = Query::select()
        .columns([Log::UserId, Log::Reason, Log::At])
        .from(Log::Table)
        .and_where(Expr::col(Log::ClassId).eq(class.get()))
        .and_where(Expr::col(Log::At).gte(ts_to_sql(from)))
        .and_where(Expr::col(Log::At).lt(ts_to_sql(to)))
        .order_by(Log::At, Order::Asc)
        .to_owned();
    query_all(conn, &select, |c| {
        Ok(ShutdownRow {
            user: c.next::<Option<i64>>()?.map(UserId::new),
            reason: c.next()?,
            at: ts_from_sql(&c.next::<String>()?)?,
        })
    })
}

/// When the oldest hour of `class`'s kept history starts, if it has any.
///
/// # Errors
/// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
pub(crate) fn oldest(conn: &Connection, class: ClassId) -> Result<Option<Timestamp>> {
    let select = Query::select()
        .expr(Expr::col(Hourly::Hour).min())
        .from(Hourly::Table)
        .and_where(Expr::col(Hourly::ClassId).eq(class.get()))
        .to_owned();
    query_opt(conn, &select, |c| c.next::<Option<String>>())?
        .flatten()
        .map(|text| ts_from_sql(&text))
        .transpose()
}
