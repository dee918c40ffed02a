//! Every error a person can see, in words: what went wrong and what to do.
//!
//! The one place that phrases errors, so the console and Discord say the same thing.

use crate::commands::{CommandError, Reply};

/// A refusal or failure as a reply for the person who ran the command (always ephemeral).
pub fn error_reply(error: &CommandError) -> Reply {
    let text = match error {
        CommandError::Usage(e) => e.to_string(),
        CommandError::Option(e) => e.to_string(),
        CommandError::NotAvailable { command } => format!(
            "{command} is not available in this version of pvelab yet; the other commands work"
        ),
        CommandError::Core(e) => e.to_string(),
    };
    Reply::text(text).ephemeral()
}
