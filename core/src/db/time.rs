//! Timestamps as stored in SQLite.
//!
//! Always UTC with exactly six fractional digits (`2026-01-31T08:15:00.000000Z`): a fixed width
//! makes text order equal time order, so SQL can compare and sort timestamps as strings.

use std::cell::Cell;

use jiff::Timestamp;

use crate::error::{Error, Result};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// A timestamp in the stored form.
pub(crate) fn ts_to_sql(ts: Timestamp) -> String {
    ts.strftime(FORMAT).to_string()
}

thread_local! {
    /// "Now" of the transaction running on this thread, from the lab's clock. Set by
    /// [`with_now`] around every transaction, so a transaction stamps ONE time everywhere it
    /// writes one, and store functions need not carry a clock through every signature.
    static NOW: Cell<Option<Timestamp>> = const { Cell::new(None) };
}

/// Runs `work` (one transaction, on this thread) with `now` as the current time.
pub(crate) fn with_now<T>(now: Timestamp, work: impl FnOnce() -> T) -> T {
    let outer = NOW.replace(Some(now));
    let value = work();
    NOW.set(outer);
    value
}

/// The current time of the running transaction (the lab's clock). Outside a transaction (no
/// code of the facade does that) it falls back to the system clock.
pub(crate) fn now() -> Timestamp {
    NOW.get().unwrap_or_else(Timestamp::now)
}

/// The current time in the stored form.
pub(crate) fn now_sql() -> String {
    ts_to_sql(now())
}

/// Reads a stored timestamp back.
///
/// # Errors
/// [`Error::Internal`] when the column holds something that is not a timestamp (a database edited
/// by hand), naming the text.
pub(crate) fn ts_from_sql(text: &str) -> Result<Timestamp> {
    text.parse::<Timestamp>()
        .map_err(|e| Error::internal(format!("stored timestamp {text:?} is unreadable: {e}")))
}

/// Like [`ts_from_sql`] for nullable columns.
///
/// # Errors
/// As [`ts_from_sql`].
pub(crate) fn opt_ts_from_sql(text: Option<String>) -> Result<Option<Timestamp>> {
    text.as_deref().map(ts_from_sql).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_timestamps_sort_as_text_in_time_order() {
        let a: Timestamp = "2026-01-01T10:00:00Z".parse().expect("ts");
        let b: Timestamp = "2026-01-01T10:00:00.5Z".parse().expect("ts");
        let c: Timestamp = "2026-01-01T10:00:01Z".parse().expect("ts");
        let (sa, sb, sc) = (ts_to_sql(a), ts_to_sql(b), ts_to_sql(c));
        assert!(sa < sb && sb < sc, "{sa} {sb} {sc}");
        assert_eq!(ts_from_sql(&sb).expect("parse"), b);
    }
}
