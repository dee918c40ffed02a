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
//! - [`discord`]: the Discord front end (poise): slash commands from the catalogue, buttons,
//!   autocomplete, direct messages.
//! - [`notify`]: the core's outbox delivered to people (direct messages), at least once.
//! - [`http`]: the operations endpoint, `/healthz` and `/metrics`.
//! - [`app`]: what each `pvelab` subcommand does, as functions tests call too, and the
//!   [`app::Service`] of `pvelab run` that front ends plug into; [`cli`] the command line;
//!   [`logging`] tracing setup.
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod discord;
pub mod http;
pub mod logging;
pub mod notify;
pub mod parse;
pub mod render;
