//! What a consumer of the outbox handles: event ids, consumer names, read events, and how long
//! the outbox keeps them.

use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};

use super::LabEvent;
use crate::types::InvalidValue;

/// How long an event every known consumer acknowledged stays in the outbox (7 days), so people
/// can look back at what was announced and a consumer added later still sees recent events.
pub const KEEP_ACKNOWLEDGED: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The longest any event stays in the outbox (30 days), acknowledged or not, so a consumer that
/// stopped for good (a retired front end) does not make the table grow forever. A consumer that
/// is away longer misses what is older.
pub const KEEP_AT_MOST: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The id of an outbox event. Ids grow with every event and are never reused, even after old
/// events were pruned, so they order events and a consumer may use them to recognise an event
/// it receives a second time (delivery is at least once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(i64);

impl EventId {
    /// Wraps an id (as read from [`EventId::get`], e.g. kept by a front end).
    pub const fn new(id: i64) -> Self {
        Self(id)
    }

    /// The id as a number.
    pub const fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The name under which a front end reads the outbox and keeps its cursor (`discord-dm`,
/// `mailer`). Two processes using the same name share one cursor; two names each see every
/// event.
///
/// 1 to 64 characters, each a lowercase ASCII letter, a digit, `-`, `_` or `.`, so names are
/// the same however a configuration file or a terminal treats case and whitespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsumerName(String);

impl ConsumerName {
    /// The longest accepted name, in characters.
    pub const MAX_CHARS: usize = 64;

    /// Checks a consumer name.
    ///
    /// # Errors
    /// [`InvalidValue`] when the name is empty, longer than 64 characters, or contains a
    /// character other than `a-z`, `0-9`, `-`, `_` and `.`.
    ///
    /// # Examples
    /// ```
    /// use pvelab_core::events::ConsumerName;
    /// assert_eq!(ConsumerName::parse("discord-dm")?.as_str(), "discord-dm");
    /// assert!(ConsumerName::parse("Discord DM").is_err());
    /// # Ok::<(), pvelab_core::types::InvalidValue>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        const ALLOWED: &str = "1 to 64 characters: lowercase letters a-z, digits and - _ .";
        let fine = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c);
        if text.is_empty() || text.len() > Self::MAX_CHARS || !text.chars().all(fine) {
            return Err(InvalidValue::new("event consumer name", text, ALLOWED));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ConsumerName {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ConsumerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ConsumerName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One event as read from the outbox.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OutboxEvent {
    /// Its id: acknowledge up to it once handled; the same event read again has the same id.
    pub id: EventId,
    /// When the change it reports was committed (the lab's clock).
    pub at: Timestamp,
    /// What happened.
    pub event: LabEvent,
}

/// What [`Lab::prune_events`](crate::Lab::prune_events) deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PruneReport {
    /// Events every known consumer had acknowledged, older than [`KEEP_ACKNOWLEDGED`].
    pub acknowledged: usize,
    /// Events older than [`KEEP_AT_MOST`] that some consumer (or, with no consumer at all,
    /// nobody) had not acknowledged. Normally 0; more means a consumer stopped reading.
    pub expired: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_names_are_short_lowercase_words() {
        for good in ["discord-dm", "a", "mail_v2.eu", &"x".repeat(64)] {
            assert_eq!(ConsumerName::parse(good).expect(good).as_str(), good);
        }
        for bad in ["", "Discord", "dm bot", "dm\n", "ü", &"x".repeat(65)] {
            let e = ConsumerName::parse(bad).expect_err(bad);
            assert_eq!(e.field(), "event consumer name");
            assert!(e.allowed().contains("lowercase letters"), "{e}");
        }
    }

    #[test]
    fn event_ids_order_by_number() {
        assert!(EventId::new(2) > EventId::new(1));
        assert_eq!(EventId::new(9).to_string(), "9");
    }

    #[test]
    fn acknowledged_events_are_kept_shorter_than_the_maximum_age() {
        assert!(KEEP_ACKNOWLEDGED < KEEP_AT_MOST);
    }
}
