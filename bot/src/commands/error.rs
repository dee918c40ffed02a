//! Why a command produced no reply of its own. `crate::render` turns each into words.

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
    /// The command exists but this build cannot run it yet.
    #[error("`{command}` is not available yet")]
    NotAvailable {
        /// The command, as typed (`/pool resize`).
        command: String,
    },
}
