//! pvelab-bot: the front ends of pvelab and the `pvelab` command line.
//!
//! A thin layer over [`pvelab_core`]: it reads what people type, calls the core (which checks
//! permissions itself) and renders the answer. The same command code serves the terminal
//! console and the Discord bot. Only this crate knows Discord.
//!
//! # Layout
//! - [`commands`]: the front-end-neutral command layer: the catalogue of every command, the
//!   context a command runs in, its [`commands::Reply`], progress of long work, dispatch.
//! - [`parse`]: option values people type (`4G`, `08-18`, `7d`, `<@123>`) into the core's types.
//! - [`render`]: replies and errors into text within Discord's limits; mention sanitising.
//! - [`console`]: the console's line grammar and session.
#![warn(missing_docs)]

pub mod commands;
pub mod console;
pub mod parse;
pub mod render;
