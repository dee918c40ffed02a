//! The console front end: commands typed one per line, as `USER[:ROLE] /command ...`.
//!
//! Layout: [`grammar`] reads a line; `session` runs lines against a lab and prints replies.

pub mod grammar;
