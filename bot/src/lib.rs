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
//! - [`config`]: the configuration file and environment, read once into typed settings.
//! - [`console`]: the console's line grammar and session.
//! - [`app`]: what each `pvelab` subcommand does, as functions tests call too;
//!   [`cli`] the command line; [`logging`] tracing setup.
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod logging;
pub mod parse;
pub mod render;
