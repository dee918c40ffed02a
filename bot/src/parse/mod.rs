//! Option values people type, read into the core's types (pure, no I/O).
//!
//! Every function takes the option's name (for the error) and the text, and returns the typed
//! value or an [`OptionError`] naming the option, the value and what is allowed. Both front
//! ends use them: the console reads `name:value` text, and the Discord adapter hands over the
//! same text for string options, so a value means the same thing everywhere.
//!
//! Layout: [`sizes`] memory and disk, [`numbers`] counts and switches, [`durations`] `expires`
//! and `idle`, [`time`] `hours` and `timezone`, [`names`] classes, clusters, templates,
//! tokens, [`people`] Discord ids, console names and the `user` option, [`checks`] in-VM checks'
//! names, commands, timeouts and patterns, snapshot names and submission deadlines.

mod error;

pub mod checks;
pub mod durations;
pub mod names;
pub mod numbers;
pub mod people;
pub mod sizes;
pub mod time;

pub use error::OptionError;
