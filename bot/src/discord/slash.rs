//! The one slash action every catalogue command shares: read who and where from the
//! interaction, the options into an [`Invocation`](crate::commands::Invocation), and run it.

use std::sync::Arc;

use poise::{ApplicationContext, BoxFuture, FrameworkError};
use serenity::all::{Cache, GuildId, Member, RoleId, User};

use super::bot::DiscordBot;
use super::caller::{Caller, Origin};
use super::execute::Run;
use super::options::{inputs, invocation};
use super::respond::Responder;
use super::DiscordError;
use crate::commands::catalogue::CommandSpec;
use crate::render::errors::unexpected;

/// The context of a slash command or autocomplete of this bot.
pub(super) type SlashContext<'a> = ApplicationContext<'a, DiscordBot, DiscordError>;

/// poise's slash action of every command (leaf or group: poise wants one on groups too, and
/// only ever calls the leaf's).
pub(super) fn slash_action(
    ctx: SlashContext<'_>,
) -> BoxFuture<'_, Result<(), FrameworkError<'_, DiscordBot, DiscordError>>> {
    Box::pin(async move {
        run_slash(ctx).await;
        Ok(())
    })
}

/// The catalogue entry a poise command stands for (kept in its custom data).
pub(super) fn spec_of(
    command: &poise::Command<DiscordBot, DiscordError>,
) -> Option<&'static CommandSpec> {
    command
        .custom_data
        .downcast_ref::<&'static CommandSpec>()
        .copied()
}

async fn run_slash(ctx: SlashContext<'_>) {
    let bot = ctx.data();
    let interaction = ctx.interaction;
    let responder = Responder::new(
        Arc::clone(&ctx.serenity_context().http),
        interaction.id,
        interaction.token.clone(),
    );
    let Some(spec) = spec_of(ctx.command()) else {
        let reply = unexpected(&format!(
            "the slash command {} has no catalogue entry",
            ctx.command().qualified_name
        ));
        return bot.answer(&responder, reply, false, true).await;
    };
    let origin = origin(
        &interaction.user,
        interaction.member.as_deref(),
        interaction.guild_id,
    );
    let run = Run {
        spec,
        call: invocation(spec, inputs(ctx.args)),
        caller: Caller::of(bot.roles(), origin),
        pressed: false,
    };
    let cache = Arc::clone(&ctx.serenity_context().cache);
    let guild = interaction.guild_id;
    bot.execute(&responder, run, move |role| role_name(&cache, guild, role))
        .await;
}

/// Who and where, from the parts of an interaction.
pub(super) fn origin(user: &User, member: Option<&Member>, guild: Option<GuildId>) -> Origin {
    let nick = member.and_then(|m| m.nick.as_deref());
    let roles = member.map_or_else(Vec::new, |m| m.roles.iter().map(|r| r.get()).collect());
    let display_name = nick
        .or(user.global_name.as_deref())
        .unwrap_or(&user.name)
        .to_owned();
    Origin {
        user_id: user.id.get(),
        display_name,
        guild_id: guild.map(GuildId::get),
        member_roles: roles,
    }
}

/// A role's name from the gateway cache (servers announce their roles when the bot connects).
pub(super) fn role_name(cache: &Cache, guild: Option<GuildId>, role: u64) -> Option<String> {
    let guild = cache.guild(guild?)?;
    guild.roles.get(&RoleId::new(role)).map(|r| r.name.clone())
}
