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
    /// The command layer refused on its own, before or after asking the core: the caller holds
    /// VMs in several classes and named none, a template nobody recorded, a VM without a known
    /// address. `crate::render::errors` shows `what` and then `todo`.
    #[error("{what}")]
    Refused {
        /// What went wrong, as one sentence.
        what: String,
        /// What to do about it, as one sentence.
        todo: String,
    },
}

impl CommandError {
    /// A refusal of the command layer: `what` went wrong, and `todo` says what to do.
    pub fn refused(what: impl Into<String>, todo: impl Into<String>) -> Self {
        Self::Refused {
            what: what.into(),
            todo: todo.into(),
        }
    }
}
