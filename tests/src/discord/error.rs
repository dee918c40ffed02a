//! Why the fake Discord could not do what a test asked.

use std::fmt;
use std::time::Duration;

/// A failure of the fake Discord.
///
/// `Debug` prints the same text as `Display`, so `.expect(..)` and `.unwrap()` in a test show
/// the full listing of what the fake received instead of an escaped one-line struct.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum FakeDiscordError {
    /// Binding a loopback port failed.
    #[error("the fake Discord could not listen on 127.0.0.1: {0}")]
    Bind(#[source] std::io::Error),
    /// What a test waited for did not happen in time.
    #[error("waited {waited:?} for {what}, in vain; the fake received:\n{seen}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
        /// Everything received meanwhile, one line each.
        seen: String,
    },
    /// A dispatch could not go out: no bot had identified on the gateway in time.
    #[error("no bot identified on the fake gateway within {waited:?}, so {what} was not sent")]
    NotConnected {
        /// The dispatch that could not be sent.
        what: String,
        /// How long the fake waited for a session.
        waited: Duration,
    },
    /// The gateway session closed while a dispatch was handed to it.
    #[error("the bot's gateway session closed before {what} could be sent")]
    SessionClosed {
        /// The dispatch that could not be sent.
        what: String,
    },
}

impl fmt::Debug for FakeDiscordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Renders a listing: one numbered line per entry, or a note that there was none.
pub(crate) fn listing(lines: &[String]) -> String {
    if lines.is_empty() {
        return "  (nothing)".to_string();
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| format!("  {:>3}. {line}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}
