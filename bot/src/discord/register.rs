//! Registering the slash commands with Discord, on demand: in one server (they appear at
//! once) or globally (they appear within an hour). Discord allows 200 command creations a day
//! per server, so this is not done on every start unless configured.

use serenity::all::{Command, GuildId, Http};

use super::registry::application_commands;
use super::DiscordError;

/// Where commands are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// In one server.
    Guild(u64),
    /// For every server the bot is in, and direct messages.
    Global,
}

/// Registers every command of the catalogue at `target`, replacing what was there; returns
/// the names Discord confirmed.
///
/// # Errors
/// Discord refused (a bad token, a command beyond its limits) or could not be reached.
pub async fn register(http: &Http, target: Target) -> Result<Vec<String>, DiscordError> {
    if http.application_id().is_none() {
        let application = http.get_current_application_info().await?;
        http.set_application_id(application.id);
    }
    let commands = application_commands();
    let created = match target {
        Target::Guild(id) => GuildId::new(id).set_commands(http, commands).await?,
        Target::Global => Command::set_global_commands(http, commands).await?,
    };
    Ok(created.into_iter().map(|c| c.name).collect())
}
