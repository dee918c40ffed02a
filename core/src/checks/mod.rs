//! In-VM checks, the pure part: what a check is and how its end is judged.
//!
//! A teacher defines a check for a class: a name, a command run inside each student's VM
//! through the QEMU guest agent, a timeout, and what counts as passing (an exit code, output
//! matching a pattern, or both). The facade (`lab/checks.rs`) runs checks on VMs and stores
//! what happened; everything here is free of I/O so the rules can be tested on their own.
//!
//! - [`definition`](CheckDefinition): the validated definition and its parts ([`CheckName`],
//!   [`CheckCommand`], [`CheckTimeout`]).
//! - [`PassRule`] and [`OutputPattern`]: what counts as passing, judged on a [`CommandEnd`].
//! - [`CheckOutcome`] and [`summary_line`]: how a run on one VM ended, and the one line of
//!   output a table shows for it.
//!
//! The command runs as the guest agent does, which is root on Linux guests: that is why only
//! a class's teachers and adminers may define checks, and why the bot shows a definition back
//! before it is saved.

mod definition;
mod outcome;
mod pass_rule;

pub use definition::{CheckCommand, CheckDefinition, CheckName, CheckTimeout};
pub(crate) use outcome::clean_line;
pub use outcome::{summary_line, CheckOutcome, CommandEnd};
pub use pass_rule::{ExitCode, OutputPattern, PassRule};
