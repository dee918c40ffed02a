//! The Discord front end, on poise and serenity.
//!
//! A thin adapter: the slash commands are built at run time from the command catalogue (the
//! one list of commands), every invocation becomes the front-end-neutral
//! [`Invocation`](crate::commands::Invocation) and runs through the
//! [`Dispatcher`](crate::commands::Dispatcher) exactly as in the console, and the
//! [`Reply`](crate::commands::Reply) is laid out as Discord messages within its limits.
//!
//! - Who: the invoker is `discord:<user id>`, with the role their server's configured role
//!   ids grant (adminer, teacher, else user); the scope of classes is the server's id. A
//!   server that is not configured is refused. In a direct message only `/myvm` and `/vm ...`
//!   run (the rest belongs to a server's classes); `/join` needs the configured student role.
//! - Answers: personal ones (`/myvm`, tokens, errors) only to the caller; commands that may
//!   call Proxmox are deferred at once and answered by an edit, with progress edits at most
//!   once a second; long answers are paged with buttons; buttons run their command line as
//!   whoever presses them; allowed mentions are always empty and text is sanitised.
//! - Class options autocomplete from the classes the caller sees in that server.
//! - Direct messages from the core's outbox go through [`DiscordNotifier`].
//!
//! Layout: [`bot`](DiscordBot) shared state and the poise framework; `registry` the commands
//! from the catalogue; `slash` the one slash action; `components` button presses;
//! `autocomplete`; `caller` roles and refusals; `options` option types and values;
//! `execute` running a command and answering; `message` replies laid out (pure); `respond`
//! serenity's builders and REST calls; `progress` throttled progress edits; `stash` long
//! button lines and pages; [`notifier`](DiscordNotifier) direct messages;
//! [`client`](run_client) connecting and reconnecting; [`register`] command registration.

mod autocomplete;
mod bot;
mod caller;
mod channels;
mod client;
mod components;
mod execute;
mod message;
mod notifier;
mod options;
mod progress;
mod register;
mod registry;
mod respond;
mod slash;
mod stash;

pub use autocomplete::matching as matching_class_names;
pub use bot::{DiscordBot, Framework};
pub use caller::{role_in, Caller, GuildRoles, Origin, Refusal};
pub use channels::ChannelPoster;
pub use client::{run_client, Connection, FIRST_RETRY, MAX_RETRY};
pub use message::{ButtonId, Message, Page};
pub use notifier::{DiscordNotifier, DMS_CLOSED};
pub use options::{discord_kind, invocation, DiscordKind, OptionInput};
pub use progress::{progress_editor, EDIT_EVERY};
pub use register::{register, Target};
pub use registry::{application_commands, slash_commands};
pub use respond::{Outgoing, Responder};
pub use stash::Stash;

/// What can go wrong between the bot and Discord.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscordError {
    /// Discord refused a request, could not be reached, or the gateway failed.
    #[error("Discord: {0}")]
    Serenity(Box<serenity::Error>),
    /// The configured origin is a local stand-in but its gateway is elsewhere.
    #[error(
        "the Discord stand-in at {api} names the gateway {gateway}, which is not on this \
         machine; refusing to connect there"
    )]
    ForeignGateway {
        /// The gateway URL it named.
        gateway: String,
        /// The configured origin.
        api: String,
    },
}

impl From<serenity::Error> for DiscordError {
    fn from(error: serenity::Error) -> Self {
        Self::Serenity(Box::new(error))
    }
}
