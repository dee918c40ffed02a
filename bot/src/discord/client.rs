//! Connecting to Discord: serenity's HTTP client for the configured origin, the gateway
//! client with the bot's framework, reconnection with a growing wait, and a clean stop on the
//! service's stop token (the shards are shut down, `client.start()` returns).
//!
//! With an origin other than Discord's (a local stand-in in tests), every REST call goes
//! there through serenity's proxy setting with its rate limiter off (the limiter would build
//! its own requests to discord.com), and the gateway must be on the same machine: serenity
//! falls back to Discord's real gateway when the lookup fails, so the bot looks the gateway up
//! itself and never connects anywhere else.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serenity::all::{ClientBuilder, GatewayIntents, Http, HttpBuilder};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::bot::DiscordBot;
use super::DiscordError;
use crate::config::{DiscordSettings, DISCORD_ORIGIN};

/// The first wait after a failed connection; it doubles up to [`MAX_RETRY`].
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two connection attempts.
pub const MAX_RETRY: Duration = Duration::from_secs(300);

/// Where and how the bot connects: its token and Discord's origin.
#[derive(Clone)]
pub struct Connection {
    token: SecretString,
    api_url: Url,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("api_url", &self.api_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The connection of the `[discord]` settings.
    pub fn new(settings: &DiscordSettings) -> Self {
        Self {
            token: settings.token.clone(),
            api_url: settings.api_url.clone(),
        }
    }

    /// Whether the origin is Discord's own (rather than a stand-in).
    pub fn is_discord(&self) -> bool {
        Url::parse(DISCORD_ORIGIN).is_ok_and(|d| d.origin() == self.api_url.origin())
    }

    /// serenity's HTTP client for this origin.
    pub fn http(&self) -> Http {
        let token = self.token.expose_secret();
        if self.is_discord() {
            HttpBuilder::new(token).build()
        } else {
            HttpBuilder::new(token)
                .proxy(self.api_url.origin().ascii_serialization())
                .ratelimiter_disabled(true)
                .build()
        }
    }

    /// The gateway URL, looked up through `http`; for a stand-in it must be on loopback.
    ///
    /// # Errors
    /// The lookup failed, or a stand-in named a gateway elsewhere.
    async fn gateway(&self, http: &Http) -> Result<String, DiscordError> {
        let url = http.get_gateway().await?.url;
        if !self.is_discord() {
            let host = Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned));
            let local = host.as_deref().is_some_and(|h| {
                h == "localhost"
                    || h.trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            });
            if !local {
                return Err(DiscordError::ForeignGateway {
                    gateway: url,
                    api: self.api_url.to_string(),
                });
            }
        }
        Ok(url)
    }
}

/// Runs the bot until `stop` is cancelled: connects, serves, and after a failure or a lost
/// connection waits (1 s, doubling up to 5 minutes) and connects again. Health says
/// "not connected" whenever it is not.
pub async fn run_client(connection: Connection, bot: DiscordBot, stop: CancellationToken) {
    let mut wait = FIRST_RETRY;
    while !stop.is_cancelled() {
        match serve_once(&connection, bot.clone(), &stop).await {
            Ok(()) if stop.is_cancelled() => break,
            Ok(()) => tracing::warn!("the Discord client stopped; connecting again"),
            Err(e) => tracing::error!(retry_in = ?wait, "Discord: {e}"),
        }
        bot.set_connected(false);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(MAX_RETRY);
    }
    bot.set_connected(false);
    tracing::info!("Discord client stopped");
}

/// One client from connection to its end.
async fn serve_once(
    connection: &Connection,
    bot: DiscordBot,
    stop: &CancellationToken,
) -> Result<(), DiscordError> {
    let http = connection.http();
    let gateway = connection.gateway(&http).await?;
    // GUILDS (not privileged) announces each server with its roles, whose names the bot uses
    // in messages; interactions need no intent at all.
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .framework(bot.framework())
        .await?;
    // The builder looked the gateway up again and may have fallen back to Discord's: use the
    // one checked above.
    *client.ws_url.lock().await = gateway;
    let shards = std::sync::Arc::clone(&client.shard_manager);
    let stopper = tokio::spawn({
        let stop = stop.clone();
        async move {
            stop.cancelled().await;
            tracing::info!("stopping the Discord client");
            shards.shutdown_all().await;
        }
    });
    tracing::info!("connecting to Discord");
    let result = client.start().await;
    stopper.abort();
    Ok(result?)
}
