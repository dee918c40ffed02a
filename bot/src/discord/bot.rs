//! The bot's shared state (poise's user data) and the poise framework around it: the slash
//! commands of the catalogue, button presses and connection state from the event handler,
//! and an error handler that answers instead of leaving a person with "the application did
//! not respond".

use std::sync::Arc;
use std::time::Duration;

use poise::{BoxFuture, FrameworkContext, FrameworkError};
use pvelab_core::Lab;
use serenity::all::{CreateAllowedMentions, FullEvent, GuildId, Interaction};
use serenity::gateway::ConnectionStage;

use super::components::on_press;
use super::progress::EDIT_EVERY;
use super::registry::slash_commands;
use super::respond::{Outgoing, Responder};
use super::stash::Stash;
use super::{caller::GuildRoles, message::Message, DiscordError};
use crate::commands::Dispatcher;
use crate::config::GuildSettings;
use crate::http::Health;
use crate::render::errors::unexpected;

/// The poise framework of the bot.
pub type Framework = poise::Framework<DiscordBot, DiscordError>;

/// What every handler of the bot shares. Cheap to clone.
#[derive(Clone)]
pub struct DiscordBot {
    lab: Lab,
    dispatcher: Dispatcher,
    roles: Arc<GuildRoles>,
    stash: Arc<Stash>,
    health: Option<Health>,
    progress_every: Duration,
    register_on_ready: bool,
}

impl std::fmt::Debug for DiscordBot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordBot")
            .field("roles", &self.roles)
            .field("register_on_ready", &self.register_on_ready)
            .finish_non_exhaustive()
    }
}

impl DiscordBot {
    /// A bot over `lab` running commands through `dispatcher`, serving the servers `guilds`
    /// with their role mapping.
    pub fn new(lab: Lab, dispatcher: Dispatcher, guilds: &[GuildSettings]) -> Self {
        Self {
            lab,
            dispatcher,
            roles: Arc::new(GuildRoles::new(guilds)),
            stash: Arc::default(),
            health: None,
            progress_every: EDIT_EVERY,
            register_on_ready: false,
        }
    }

    /// Reports the gateway connection to `health` (`/healthz`).
    pub fn with_health(mut self, health: Health) -> Self {
        self.health = Some(health);
        self
    }

    /// Registers the slash commands in every configured server when the gateway is first
    /// ready (`[discord] register_on_start`).
    pub fn register_on_ready(mut self, register: bool) -> Self {
        self.register_on_ready = register;
        self
    }

    /// Edits progress messages at most this often (default one second).
    pub fn with_progress_every(mut self, every: Duration) -> Self {
        self.progress_every = every;
        self
    }

    /// The poise framework: the catalogue's commands, this bot as its data. Owners are not
    /// looked up (pvelab has its own roles), and no reply of the framework's own may mention
    /// anyone.
    pub fn framework(self) -> Framework {
        let options = poise::FrameworkOptions {
            commands: slash_commands(),
            on_error,
            event_handler,
            allowed_mentions: Some(CreateAllowedMentions::new()),
            ..Default::default()
        };
        poise::Framework::builder()
            .options(options)
            // The builder's flag overrides the one in FrameworkOptions.
            .initialize_owners(false)
            .setup(move |ctx, _ready, framework| {
                Box::pin(async move {
                    // The first READY: connected from here on (later ones go to the handler).
                    self.set_connected(true);
                    if self.register_on_ready {
                        for guild in self.roles.ids() {
                            let commands = &framework.options().commands;
                            match poise::builtins::register_in_guild(
                                ctx,
                                commands,
                                GuildId::new(guild),
                            )
                            .await
                            {
                                Ok(()) => tracing::info!(guild, "slash commands registered"),
                                Err(e) => {
                                    tracing::error!(guild, "registering slash commands failed: {e}")
                                }
                            }
                        }
                    }
                    Ok(self)
                })
            })
            .build()
    }

    pub(super) fn lab(&self) -> &Lab {
        &self.lab
    }

    pub(super) fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    pub(super) fn roles(&self) -> &GuildRoles {
        &self.roles
    }

    pub(super) fn stash(&self) -> &Stash {
        &self.stash
    }

    /// The store of long button command lines, shared with the direct-message notifier.
    pub fn shared_stash(&self) -> Arc<Stash> {
        Arc::clone(&self.stash)
    }

    pub(super) fn progress_every(&self) -> Duration {
        self.progress_every
    }

    pub(super) fn set_connected(&self, connected: bool) {
        if let Some(health) = &self.health {
            health.set_discord_connected(connected);
        }
    }
}

/// Gateway events besides slash commands: connection state and button presses.
fn event_handler<'a>(
    framework: FrameworkContext<'a, DiscordBot, DiscordError>,
    event: &'a FullEvent,
) -> BoxFuture<'a, Result<(), DiscordError>> {
    Box::pin(async move {
        let bot = framework.user_data;
        match event {
            FullEvent::Ready { .. } | FullEvent::Resume { .. } => bot.set_connected(true),
            FullEvent::ShardStageUpdate { event } => {
                bot.set_connected(event.new == ConnectionStage::Connected);
            }
            FullEvent::InteractionCreate {
                interaction: Interaction::Component(press),
            } => on_press(bot, framework.serenity_context, press).await,
            _ => {}
        }
        Ok(())
    })
}

/// Whatever poise reports (a panic it caught, an interaction for a command this version does
/// not have): logged under a reference, and the person told "something went wrong (ref …)"
/// when there is an interaction to answer.
fn on_error(error: FrameworkError<'_, DiscordBot, DiscordError>) -> BoxFuture<'_, ()> {
    Box::pin(async move {
        let details = error.to_string();
        let (http, id, token) = match &error {
            FrameworkError::UnknownInteraction {
                framework,
                interaction,
                ..
            } => (
                Arc::clone(&framework.serenity_context.http),
                interaction.id,
                interaction.token.clone(),
            ),
            _ => match error.ctx() {
                Some(poise::Context::Application(ctx)) => (
                    Arc::clone(&ctx.serenity_context().http),
                    ctx.interaction.id,
                    ctx.interaction.token.clone(),
                ),
                _ => {
                    tracing::error!("Discord front end: {details}");
                    return;
                }
            },
        };
        let reply = unexpected(&details);
        let stash = Stash::default();
        let out = || Outgoing::page(&stash, &Message::of(&reply), 0, None, false).ephemeral();
        let responder = Responder::new(http, id, token);
        // The interaction may have been answered already (a panic after the deferral): then
        // the first response is refused and a follow-up carries the message.
        if responder.respond(out()).await.is_err() {
            if let Err(e) = responder.followup(out()).await {
                tracing::warn!("could not tell the person about an error: {e}");
            }
        }
    })
}
