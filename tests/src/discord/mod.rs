//! A local Discord stand-in, so the bot's real poise/serenity stack can be tested end to end
//! without the network.
//!
//! [`FakeDiscord::start`] binds two loopback ports: an HTTP server that answers serenity's REST
//! calls under `/api/v10` and records each one ([`RecordedRequest`]: method, path, decoded JSON
//! or multipart body with its files, the status answered), and a gateway websocket that
//! greets the bot (HELLO, then READY and GUILD_CREATE after its IDENTIFY), acknowledges
//! heartbeats and pushes the interactions a test builds. Tests then await the bot's answers by
//! predicate, bounded by [`FakeDiscordConfig::wait_timeout`]; a wait that runs out fails with a
//! listing of everything the fake did receive.
//!
//! The fake behaves like Discord where a bot can get it wrong: a second response to one
//! interaction is refused (40060), follow-ups before the first response find no webhook
//! (10015), command definitions beyond Discord's limits are rejected (50035), and a DM to a user
//! with closed DMs ([`FakeDiscord::set_dms_closed`]) answers 403 with code 50007.
//!
//! # Plugging a real bot in
//!
//! Build serenity's HTTP client against the fake and start the client as production does,
//! with `start()` (one shard; `start_autosharded()` would work too but costs a
//! `GET /gateway/bot`):
//!
//! ```text
//! let fake = FakeDiscord::start().await?;
//! let http = serenity::HttpBuilder::new("fake-token")
//!     .proxy(fake.api_url())          // every REST call goes to the fake, /api/v10 kept
//!     .ratelimiter_disabled(true)     // required: the ratelimiter would bypass the proxy
//!     .build();
//! let framework = poise::Framework::builder()
//!     .options(poise::FrameworkOptions { commands: bot_commands(), ..Default::default() })
//!     .initialize_owners(false)       // no owner lookup (this flag overrides the one in
//!                                     // FrameworkOptions)
//!     .setup(|ctx, _ready, framework| Box::pin(async move {
//!         poise::builtins::register_in_guild(ctx, &framework.options().commands, guild).await?;
//!         Ok(data)
//!     }))
//!     .build();
//! let mut client = serenity::ClientBuilder::new_with_http(http, GatewayIntents::empty())
//!     .framework(framework)
//!     .await?;                         // asks the fake for the gateway URL
//! let shards = client.shard_manager.clone();
//! let running = tokio::spawn(async move { client.start().await });
//! fake.wait_bot_ready().await?;       // IDENTIFY seen and commands registered
//!
//! let ping = fake.slash_command("ping").by(Member::new(42, "ada").with_roles([7])).build();
//! fake.send_interaction(&ping).await?;
//! let reply = fake.wait_for_callback(&ping).await?;
//! assert_eq!(reply.payload()["data"]["flags"], 64);
//!
//! shards.shutdown_all().await;         // then the fake: `fake.shutdown().await` or drop it
//! ```
//!
//! `tests/tests/it/discord_fake.rs` is this recipe compiled and run, with a deferred edit
//! carrying an attachment, a button whose press is collected, DMs (open and closed) and
//! autocomplete.
//!
//! For `pvelab-bot` this means: keep the function that builds the framework (commands, options,
//! setup) apart from the one that reads the token and makes the `Http`, so a test can hand in
//! the `Http` above. Everything else (role mapping, deferring, DMs) then runs unchanged.
//!
//! A bot that waits for a button press should start its collector before sending the message
//! (serenity registers a collector when its `stream()` is made): the fake answers the send and
//! the test may press at once, faster than any person.
//!
//! To await the n-th of several similar requests (a second follow-up, a third edit), use
//! [`FakeDiscord::wait_for_requests`] with a count; [`FakeDiscord::original_message`] and
//! [`FakeDiscord::followups`] give the messages as they stand after every edit.

mod channels;
mod commands;
mod config;
mod error;
mod gateway;
mod interaction;
mod journal;
mod payloads;
mod request;
mod rest;
#[cfg(test)]
mod shapes;
mod state;
mod waits;
mod webhooks;

use std::sync::Arc;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use config::{
    FakeDiscordConfig, FakeGuild, FakeRole, Member, DEFAULT_APPLICATION_ID, DEFAULT_CHANNEL_ID,
    DEFAULT_GUILD_ID, DEFAULT_MEMBER_ID, DEFAULT_OWNER_ID,
};
pub use error::FakeDiscordError;
pub use gateway::GatewayFrame;
pub use interaction::{ButtonPress, InteractionPayload, OptionValue, SlashCommand};
pub use request::{MultipartBody, RecordedBody, RecordedFile, RecordedRequest, API_PREFIX};

use gateway::Dispatch;
use rest::json_snowflake;
use state::{InteractionState, Shared};

/// A running fake Discord: REST and gateway on loopback, until shut down or dropped.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FakeDiscord {
    /// Starts a fake with the default world ([`FakeDiscordConfig::default`]).
    pub async fn start() -> Result<Self, FakeDiscordError> {
        Self::start_with(FakeDiscordConfig::default()).await
    }

    /// Starts a fake describing the given world.
    pub async fn start_with(config: FakeDiscordConfig) -> Result<Self, FakeDiscordError> {
        let bind = || TcpListener::bind(("127.0.0.1", 0));
        let rest = bind().await.map_err(FakeDiscordError::Bind)?;
        let gateway = bind().await.map_err(FakeDiscordError::Bind)?;
        let api_url = format!(
            "http://{}",
            rest.local_addr().map_err(FakeDiscordError::Bind)?
        );
        let gateway_url = format!(
            "ws://{}/",
            gateway.local_addr().map_err(FakeDiscordError::Bind)?
        );
        let shared = Arc::new(Shared::new(config, api_url, gateway_url));
        let server = tokio::spawn({
            let shared = Arc::clone(&shared);
            async move {
                tokio::join!(
                    rest::serve(rest, Arc::clone(&shared)),
                    gateway::serve(gateway, shared)
                );
            }
        });
        Ok(Self { shared, server })
    }

    /// The origin to hand serenity: `HttpBuilder::new(token).proxy(fake.api_url())`.
    pub fn api_url(&self) -> &str {
        &self.shared.api_url
    }

    /// The gateway's URL, as `GET /gateway` reports it.
    pub fn gateway_url(&self) -> &str {
        &self.shared.gateway_url
    }

    /// The world the fake describes.
    pub fn config(&self) -> &FakeDiscordConfig {
        &self.shared.config
    }

    /// Opens or closes a user's DMs; sending to a closed one answers 403 with code 50007.
    pub fn set_dms_closed(&self, user_id: u64, closed: bool) {
        let mut state = self.shared.lock();
        if closed {
            state.closed_dms.insert(user_id);
        } else {
            state.closed_dms.remove(&user_id);
        }
    }

    /// Every REST request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.snapshot()
    }

    /// Every gateway frame the bot sent so far, oldest first.
    pub fn gateway_frames(&self) -> Vec<GatewayFrame> {
        self.shared.frames.snapshot()
    }

    /// The current state of an interaction's original response message (after the callback,
    /// and any edits), as the bot would read it back.
    pub fn original_message(&self, interaction: &InteractionPayload) -> Option<Value> {
        let state = self.shared.lock();
        state.interactions.get(&interaction.token)?.original.clone()
    }

    /// The follow-up messages of an interaction, oldest first.
    pub fn followups(&self, interaction: &InteractionPayload) -> Vec<Value> {
        let state = self.shared.lock();
        state
            .interactions
            .get(&interaction.token)
            .map(|i| i.followups.clone())
            .unwrap_or_default()
    }

    /// The commands registered globally (`None`) or in a guild, as Discord echoed them.
    pub fn registered_commands(&self, guild_id: Option<u64>) -> Vec<Value> {
        let state = self.shared.lock();
        state.commands.get(&guild_id).cloned().unwrap_or_default()
    }

    /// A slash-command invocation; `path` is the command's qualified name (`ping`,
    /// `vm start`, `class member add`).
    ///
    /// # Panics
    /// If `path` is not 1 to 3 names.
    pub fn slash_command(&self, path: &str) -> SlashCommand {
        SlashCommand::new(Arc::clone(&self.shared), path)
    }

    /// An autocomplete request while the user has typed `typed` into `option` of the command
    /// at `path`; other options may be added to the builder.
    ///
    /// # Panics
    /// If `path` is not 1 to 3 names.
    pub fn autocomplete(&self, path: &str, option: &str, typed: &str) -> SlashCommand {
        SlashCommand::autocomplete(Arc::clone(&self.shared), path, option, typed)
    }

    /// A press of the button `custom_id` on `message` (from [`Self::original_message`], or a
    /// follow-up's message).
    pub fn button_press(&self, custom_id: &str, message: &Value) -> ButtonPress {
        ButtonPress::new(Arc::clone(&self.shared), custom_id, message)
    }

    /// Pushes an interaction to the bot as an INTERACTION_CREATE dispatch, once a bot has
    /// identified (waiting up to the configured timeout for one).
    pub async fn send_interaction(
        &self,
        interaction: &InteractionPayload,
    ) -> Result<(), FakeDiscordError> {
        self.remember(interaction);
        self.send_dispatch("INTERACTION_CREATE", interaction.json.clone())
            .await
    }

    /// Pushes any dispatch (`t` = `event`, `d` = `data`) to the identified bot.
    pub async fn send_dispatch(&self, event: &str, data: Value) -> Result<(), FakeDiscordError> {
        let what = format!("the {event} dispatch");
        let waited = self.shared.config.wait_timeout;
        let mut sessions = self.shared.session.subscribe();
        let outbox = match tokio::time::timeout(waited, sessions.wait_for(Option::is_some)).await {
            Ok(Ok(current)) => current.clone(),
            _ => None,
        };
        let Some(outbox) = outbox else {
            return Err(FakeDiscordError::NotConnected { what, waited });
        };
        outbox
            .send(Dispatch {
                event: event.to_string(),
                data,
            })
            .map_err(|_| FakeDiscordError::SessionClosed { what })
    }

    /// Stops both servers and every connection and session they hold.
    pub async fn shutdown(mut self) {
        self.server.abort();
        // The task was aborted; its JoinError says only that.
        let _ = (&mut self.server).await;
    }

    /// Keeps what later requests about this interaction need: its token, where it happened,
    /// and the users it names (so a DM channel can name its recipient).
    fn remember(&self, interaction: &InteractionPayload) {
        let json = &interaction.json;
        let mut state = self.shared.lock();
        let mut users: Vec<&Value> = vec![&json["member"]["user"], &json["user"]];
        if let Some(resolved) = json["data"]["resolved"]["users"].as_object() {
            users.extend(resolved.values());
        }
        for user in users {
            if let Some(id) = json_snowflake(&user["id"]) {
                state.users.insert(id, user.clone());
            }
        }
        let original = (interaction.kind == interaction::kind::COMPONENT)
            .then(|| json["message"].clone())
            .filter(|m| !m.is_null());
        state.interactions.insert(
            interaction.token.clone(),
            InteractionState {
                id: interaction.id,
                kind: interaction.kind,
                channel_id: json_snowflake(&json["channel_id"]).unwrap_or(0),
                guild_id: json_snowflake(&json["guild_id"]),
                acknowledged: false,
                original,
                followups: Vec::new(),
            },
        );
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
    }
}
