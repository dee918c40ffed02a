//! Why a command produced no reply of its own. `crate::render` turns each into words.

use std::time::Duration;

use super::catalogue::LookupError;
use crate::parse::OptionError;

/// A command that could not run or was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The command or an option name does not exist, or a required option is missing.
    #[error(transparent)]
    Usage(#[from] LookupError),
    /// An option value could not be read.
    #[error(transparent)]
    Option(#[from] OptionError),
    /// The core refused or failed.
    #[error(transparent)]
    Core(#[from] pvelab_core::Error),
    /// The person ran too many commands in a short time (the dispatcher's per-user limit, on
    /// top of any limit of the core); they may run the next one after `retry_after`.
    #[error("too many commands; the next one is allowed in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long until the next command is allowed.
        retry_after: Duration,
    },
    /// The command exists but this build cannot run it yet.
    #[error("`{command}` is not available yet")]
    NotAvailable {
        /// The command, as typed (`/pool resize`).
        command: String,
    },
}
