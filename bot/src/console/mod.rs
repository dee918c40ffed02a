//! The console front end: commands typed one per line, as `USER[:ROLE] /command ...`, run
//! through the same command code as Discord.
//!
//! Layout: [`grammar`] reads a line; [`session`] runs lines against a lab and prints replies;
//! [`help`] answers `help` from the catalogue.

pub mod grammar;
pub mod help;
pub mod session;

pub use session::{run_session, SessionOptions, SessionSummary, PROMPT};
