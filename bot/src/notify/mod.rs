//! Delivering the core's outbox to people: "your VM in net101 is ready", quota warnings,
//! shutdown warnings and shutdowns.
//!
//! The core writes events to its outbox in the transaction of each change; a front end reads
//! them as a named consumer and acknowledges each once settled (see [`pvelab_core::events`]).
//! Here:
//! - [`Notifier`]: what a front end implements to reach one person with one message (Discord
//!   direct messages; the console's [`ConsoleNotifier`]).
//! - [`Courier`]: one consumer's events through one notifier: the person and class looked up,
//!   the message worded by [`crate::render::events`], delivered, acknowledged in order.
//!   [`Courier::drain`] settles everything pending (the console, after each command).
//! - [`DeliveryLoop`]: the long-running delivery of a service: waits for events, backs off on
//!   failures, stops on a `CancellationToken` between two events.
//!
//! Delivery is at least once: an event delivered but not yet acknowledged when the process
//! stops is delivered again after the restart, with the same [`EventId`]. Recognising a repeat
//! is the notifier's business ([`Notice::event_id`]).
//!
//! Beside them, [`ClassFeed`]: what a class as a whole hears (session announcements, the audit
//! trail), which the console prints and the Discord bot posts to channels.
//!
//! Layout: `notifier` the trait and its types; `courier` settling events; `delivery_loop` the
//! task; `console` the console's notifier.

mod class_feed;
mod console;
mod courier;
mod delivery_loop;
mod notifier;

pub use class_feed::{announcement, ClassFeed, FeedItem};
pub use console::{dm_lines, ConsoleNotifier};
pub use courier::{Courier, CourierError, Settled};
pub use delivery_loop::{DeliveryLoop, FIRST_RETRY, MAX_RETRY, POLL};
pub use notifier::{Delivery, DeliveryError, Notice, Notifier, Recipient};
pub use pvelab_core::events::{ConsumerName, EventId};

/// The consumer name of the Discord bot's direct messages.
pub const DISCORD_DM: &str = "discord-dm";
/// The consumer name of the console's `[dm to …]` lines. Its own cursor, so a console next to
/// the bot on one database neither takes the bot's messages nor waits for them.
pub const CONSOLE_DM: &str = "console-dm";
