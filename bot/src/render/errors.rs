//! Every error a person can see, in words: what went wrong and what to do.
//!
//! The one place that phrases errors, so the console and Discord say the same thing. An
//! unexpected failure is never shown in detail: the person gets a short reference, and the
//! details go to the log under that reference, where an operator can find them.

use std::fmt::Display;

use crate::commands::{CommandError, Reply};

/// A refusal or failure as a reply for the person who ran the command (always ephemeral).
pub fn error_reply(error: &CommandError) -> Reply {
    let text = match error {
        CommandError::Usage(e) => e.to_string(),
        CommandError::Option(e) => e.to_string(),
        CommandError::NotAvailable { command } => {
            format!("{command} is not available in this version of pvelab yet")
        }
        CommandError::Core(e) => e.to_string(),
    };
    Reply::text(text).ephemeral()
}

/// A reference for people to quote: six characters from an alphabet without look-alikes.
fn reference() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..6)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// "something went wrong (ref K3ZQ7M)", with `details` logged under that reference.
pub fn unexpected(details: &dyn Display) -> Reply {
    let reference = reference();
    tracing::error!(reference = %reference, "unexpected error: {details}");
    Reply::text(format!(
        "something went wrong (ref {reference}); please try again, and if it keeps happening \
         tell an administrator this reference"
    ))
    .ephemeral()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unexpected_error_shows_a_reference_and_no_details() {
        let reply = unexpected(&"database file /var/lib/secret.db is locked");
        let text = &reply.sections[0].lines[0];
        assert!(text.starts_with("something went wrong (ref "), "{text}");
        assert!(!text.contains("secret.db"));
        assert!(reply.ephemeral);
    }

    #[test]
    fn references_are_six_unambiguous_characters() {
        for _ in 0..100 {
            let r = reference();
            assert_eq!(r.len(), 6);
            assert!(!r.contains(['0', 'O', '1', 'I']), "{r}");
        }
    }
}
