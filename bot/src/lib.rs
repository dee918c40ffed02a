//! pvelab-bot: the Discord front end of pvelab (binary `pvelab`, planned).
//!
//! This crate is a placeholder in the workspace layout. It holds no code yet: the Discord bot,
//! the console front end and `pvelab demo` are a later piece of work. When they arrive they will
//! be a thin layer over [`pvelab_core`]: parse a command's options, call the core (which checks
//! permissions itself), and render the reply. Only this crate will know Discord.
#![warn(missing_docs)]
