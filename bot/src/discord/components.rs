//! Button presses: a page turn of a long reply, or a command line run as the person who
//! pressed (never as the person the message was for: the core checks their permissions like
//! for any command), answered to the presser alone.

use std::sync::Arc;

use serenity::all::{ComponentInteraction, Context};

use super::bot::DiscordBot;
use super::caller::{Caller, Refusal};
use super::execute::Run;
use super::message::ButtonId;
use super::respond::{Outgoing, Responder};
use super::slash::{origin, role_name};
use crate::commands::catalogue::find;
use crate::commands::{CommandError, CommandSpec, Invocation, Reply};
use crate::console::grammar::parse_line;

/// Handles one press.
pub(super) async fn on_press(bot: &DiscordBot, ctx: &Context, press: &ComponentInteraction) {
    let responder = Responder::new(Arc::clone(&ctx.http), press.id, press.token.clone());
    let line = match ButtonId::parse(&press.data.custom_id) {
        ButtonId::Page { key, page } => return turn_page(bot, &responder, key, page).await,
        ButtonId::Command(line) => line,
        ButtonId::Stored(key) => match bot.stash().command(key) {
            Some(line) => line,
            None => {
                return expired(
                    bot,
                    &responder,
                    "This button has expired (pvelab restarted since).",
                )
                .await
            }
        },
        ButtonId::Unknown => {
            return expired(
                bot,
                &responder,
                "This button is not one this version of pvelab knows.",
            )
            .await
        }
    };
    let (spec, call) = match command_of(&line) {
        Ok(found) => found,
        Err(reply) => return bot.answer(&responder, *reply, false, true).await,
    };
    let origin = origin(&press.user, press.member.as_ref(), press.guild_id);
    let run = Run {
        spec,
        call,
        caller: Caller::of(bot.roles(), origin),
        pressed: true,
    };
    let cache = Arc::clone(&ctx.cache);
    let guild = press.guild_id;
    bot.execute(&responder, run, move |role| role_name(&cache, guild, role))
        .await;
}

/// A button's command line read as the console reads one (without its user), checked
/// against the catalogue.
fn command_of(
    line: &str,
) -> Result<(&'static CommandSpec, Result<Invocation, CommandError>), Refusal> {
    let bad = |why: String| {
        tracing::warn!(button = line, "a button's command line is not valid: {why}");
        Box::new(Reply::text(format!("This button's command cannot run: {why}")).ephemeral())
    };
    let parsed = parse_line(&format!("button {line}"))
        .map_err(|e| bad(e.problem.to_string()))?
        .ok_or_else(|| bad("it is empty".to_owned()))?;
    let spec = find(&parsed.command, &parsed.path).map_err(|e| bad(e.to_string()))?;
    Ok((
        spec,
        Invocation::new(spec, parsed.options).map_err(CommandError::from),
    ))
}

async fn turn_page(bot: &DiscordBot, responder: &Responder, key: u64, page: usize) {
    let Some(message) = bot.stash().pages(key) else {
        return expired(bot, responder, "This list is no longer kept.").await;
    };
    let out = Outgoing::page(bot.stash(), &message, page, Some(key), false);
    if let Err(e) = responder.update(out).await {
        tracing::warn!("could not turn a page: {e}");
    }
}

async fn expired(bot: &DiscordBot, responder: &Responder, why: &str) {
    let reply = Reply::text(why).line("Run the command again.");
    bot.answer(responder, reply, false, true).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::catalogue::CommandId;

    #[test]
    fn a_buttons_line_is_read_like_a_console_line() {
        let (spec, call) = command_of("/vm start class:\"Networks 101\"").unwrap();
        assert_eq!(spec.id, CommandId::VmStart);
        assert_eq!(call.unwrap().raw("class"), Some("Networks 101"));
        let (spec, call) = command_of("/class delete class:net101 confirm:yes").unwrap();
        assert_eq!(spec.id, CommandId::ClassDelete);
        assert_eq!(call.unwrap().raw("confirm"), Some("yes"));
    }

    #[test]
    fn a_broken_line_is_refused_with_the_reason() {
        let text = |r: Refusal| crate::render::text::plain(&r);
        assert!(text(command_of("/nope").unwrap_err()).contains("unknown command `/nope`"));
        assert!(text(command_of("/class info class:\"open").unwrap_err()).contains("unterminated"));
        let (_, call) = command_of("/class info").unwrap();
        assert!(matches!(call, Err(CommandError::Usage(_))));
    }
}
