//! The outbox: events written in the transaction of the change they report, and the durable
//! cursors of the consumers that read them (see [`crate::events`] for the delivery contract).

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Func, OnConflict, Order, Query};

use super::{execute, query_all, query_opt, query_opt_hot, HotSql};
use crate::db::schema::{Outbox, OutboxCursors, SqliteSequence};
use crate::db::time::{now_sql, ts_from_sql, ts_to_sql};
use crate::error::{Entity, Error, Result};
use crate::events::{ConsumerName, EventId, LabEvent, OutboxEvent, PruneReport};

/// Writes `event` to the outbox inside the caller's transaction; it becomes visible to
/// consumers exactly when that transaction commits. Returns its id.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails or the event cannot be serialized (only
/// [`LabEvent::Unrecognized`], which the core never writes).
pub(crate) fn append(conn: &Connection, event: &LabEvent) -> Result<EventId> {
    let payload = serde_json::to_value(event)
        .map_err(|e| Error::internal(format!("an event cannot be stored: {e}")))?;
    let kind = payload
        .get("kind")
        .and_then(|kind| kind.as_str())
        .ok_or_else(|| Error::internal("a stored event has no kind"))?
        .to_owned();
    // Every join that waits, and every student served from the waitlist, writes one.
    static SQL: HotSql = HotSql::new();
    let sql = SQL.text(|| {
        Query::insert()
            .into_table(Outbox::Table)
            .columns([
                Outbox::Kind,
                Outbox::RecipientId,
                Outbox::ClassId,
                Outbox::Payload,
                Outbox::CreatedAt,
            ])
            .values_panic([
                "".into(),
                Some(0_i64).into(),
                Some(0_i64).into(),
                "".into(),
                "".into(),
            ])
            .returning_col(Outbox::Id)
            .to_owned()
    });
    let params = rusqlite::params![
        kind,
        event.recipient().map(|u| u.get()),
        event.class_id().map(|c| c.get()),
        payload.to_string(),
        now_sql(),
    ];
    let id = query_opt_hot(conn, sql, params, |c| c.next::<i64>())?
        .map(EventId::new)
        .ok_or_else(|| Error::internal("the outbox returned no id for a new event"))?;
    tracing::debug!(%id, kind, "event written to the outbox");
    Ok(id)
}

/// Up to `limit` events with an id above `after`, oldest first.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn after(conn: &Connection, after: EventId, limit: u32) -> Result<Vec<OutboxEvent>> {
    let select = Query::select()
        .columns([Outbox::Id, Outbox::CreatedAt, Outbox::Kind, Outbox::Payload])
        .from(Outbox::Table)
        .and_where(Expr::col(Outbox::Id).gt(after.get()))
        .order_by(Outbox::Id, Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    query_all(conn, &select, |c| {
        let id = EventId::new(c.next()?);
        let at = ts_from_sql(&c.next::<String>()?)?;
        let kind: String = c.next()?;
        let payload: String = c.next()?;
        Ok(OutboxEvent {
            id,
            at,
            event: decode(id, kind, &payload),
        })
    })
}

/// Reads a stored event. One this build cannot read (written by a newer pvelab, or damaged) is
/// logged and handed out as [`LabEvent::Unrecognized`], so it cannot block its consumers.
fn decode(id: EventId, kind: String, payload: &str) -> LabEvent {
    match serde_json::from_str(payload) {
        Ok(event) => event,
        Err(e) => {
            tracing::error!(%id, kind, error = %e, "an outbox event cannot be read");
            LabEvent::Unrecognized { kind }
        }
    }
}

/// The consumer's cursor (the last event it acknowledged; 0 before any), or `None` for a
/// consumer never seen.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn cursor(conn: &Connection, consumer: &ConsumerName) -> Result<Option<EventId>> {
    let select = Query::select()
        .column(OutboxCursors::AckedId)
        .from(OutboxCursors::Table)
        .and_where(Expr::col(OutboxCursors::Consumer).eq(consumer.as_str()))
        .to_owned();
    query_opt(conn, &select, |c| Ok(EventId::new(c.next()?)))
}

/// Makes the consumer known with nothing acknowledged (a no-op if it is known): from now on
/// pruning keeps events until it acknowledged them (or they reach the maximum age).
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn register(conn: &Connection, consumer: &ConsumerName) -> Result<()> {
    let insert = Query::insert()
        .into_table(OutboxCursors::Table)
        .columns([
            OutboxCursors::Consumer,
            OutboxCursors::AckedId,
            OutboxCursors::UpdatedAt,
        ])
        .values_panic([consumer.as_str().into(), 0i64.into(), now_sql().into()])
        .on_conflict(
            OnConflict::column(OutboxCursors::Consumer)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    execute(conn, &insert)?;
    Ok(())
}

/// The highest event id ever issued (0 before the first event). Read from SQLite's
/// AUTOINCREMENT record, which outlives pruned rows.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn last_issued(conn: &Connection) -> Result<EventId> {
    let select = Query::select()
        .column(SqliteSequence::Seq)
        .from(SqliteSequence::Table)
        .and_where(Expr::col(SqliteSequence::Name).eq("outbox"))
        .to_owned();
    let seq = query_opt(conn, &select, |c| c.next::<Option<i64>>())?.flatten();
    Ok(EventId::new(seq.unwrap_or(0)))
}

/// Moves the consumer's cursor forward to `up_to` (registering the consumer if needed) and
/// returns the cursor afterwards. A cursor never moves back: acknowledging below it changes
/// nothing. Run it in a write transaction, which makes the read and the move one step.
///
/// # Errors
/// [`Error::NotFound`] for an id that was never issued (acknowledging it would silently skip
/// events not written yet); [`Error::Internal`] when SQLite fails.
pub(crate) fn ack(conn: &Connection, consumer: &ConsumerName, up_to: EventId) -> Result<EventId> {
    if up_to.get() < 0 || up_to > last_issued(conn)? {
        return Err(Error::not_found(Entity::Event, up_to));
    }
    let current = cursor(conn, consumer)?;
    let moved = current.map_or(up_to, |current| current.max(up_to));
    if current == Some(moved) {
        return Ok(moved);
    }
    let upsert = Query::insert()
        .into_table(OutboxCursors::Table)
        .columns([
            OutboxCursors::Consumer,
            OutboxCursors::AckedId,
            OutboxCursors::UpdatedAt,
        ])
        .values_panic([
            consumer.as_str().into(),
            moved.get().into(),
            now_sql().into(),
        ])
        .on_conflict(
            OnConflict::column(OutboxCursors::Consumer)
                .update_columns([OutboxCursors::AckedId, OutboxCursors::UpdatedAt])
                .to_owned(),
        )
        .to_owned();
    execute(conn, &upsert)?;
    Ok(moved)
}

/// Deletes events every known consumer acknowledged that were written before
/// `acknowledged_before`, then every event written before `all_before`. With no consumer at all
/// nothing counts as acknowledged.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn prune(
    conn: &Connection,
    acknowledged_before: Timestamp,
    all_before: Timestamp,
) -> Result<PruneReport> {
    let slowest = Query::select()
        .expr(Func::min(Expr::col(OutboxCursors::AckedId)))
        .from(OutboxCursors::Table)
        .to_owned();
    let slowest = query_opt(conn, &slowest, |c| c.next::<Option<i64>>())?.flatten();
    let mut report = PruneReport::default();
    if let Some(slowest) = slowest {
        let done = Query::delete()
            .from_table(Outbox::Table)
            .and_where(Expr::col(Outbox::Id).lte(slowest))
            .and_where(Expr::col(Outbox::CreatedAt).lt(ts_to_sql(acknowledged_before)))
            .to_owned();
        report.acknowledged = execute(conn, &done)?;
    }
    let expired = Query::delete()
        .from_table(Outbox::Table)
        .and_where(Expr::col(Outbox::CreatedAt).lt(ts_to_sql(all_before)))
        .to_owned();
    report.expired = execute(conn, &expired)?;
    Ok(report)
}
