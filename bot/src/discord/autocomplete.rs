//! Autocomplete of class names: the classes the caller may see in this server, matching what
//! they typed (names starting with it first), 25 at most. Answered at once, never deferred:
//! Discord shows nothing for an autocomplete answered late.

use poise::BoxFuture;
use serenity::all::{AutocompleteChoice, CreateAutocompleteResponse};

use super::caller::Caller;
use super::slash::{origin, SlashContext};
use crate::commands::CommandContext;
use crate::render::limits::AUTOCOMPLETE_CHOICES;

/// Characters of a choice's name and value.
const CHOICE_CHARS: usize = 100;

/// poise's autocomplete callback of every class option.
pub(super) fn class_choices<'a>(
    ctx: SlashContext<'a>,
    typed: &'a str,
) -> BoxFuture<'a, CreateAutocompleteResponse> {
    Box::pin(async move {
        let names = visible_classes(ctx).await.unwrap_or_default();
        let choices = matching(&names, typed)
            .into_iter()
            .map(|name| AutocompleteChoice::new(name.clone(), name))
            .collect();
        CreateAutocompleteResponse::new().set_choices(choices)
    })
}

/// The names of the classes the caller sees here; `None` when they may not look (a server
/// that is not configured, a direct message without the adminer role).
async fn visible_classes(ctx: SlashContext<'_>) -> Option<Vec<String>> {
    let interaction = ctx.interaction;
    let origin = origin(
        &interaction.user,
        interaction.member.as_deref(),
        interaction.guild_id,
    );
    let caller = Caller::of(ctx.data().roles(), origin).ok()?;
    let lab = ctx.data().lab().clone();
    let command = CommandContext::new(lab.clone(), caller.invoker, caller.scope);
    let actor = command.actor().await.ok()?;
    match lab.classes(&actor, command.scope()).await {
        Ok(classes) => Some(classes.into_iter().map(|c| c.name.to_string()).collect()),
        Err(e) => {
            tracing::debug!("no class names for autocomplete: {e}");
            None
        }
    }
}

/// The names containing `typed` (any case), those starting with it first, each group sorted,
/// at most 25, none longer than a choice may be.
pub fn matching(names: &[String], typed: &str) -> Vec<String> {
    let typed = typed.trim().to_lowercase();
    let mut starting = Vec::new();
    let mut containing = Vec::new();
    for name in names {
        if name.chars().count() > CHOICE_CHARS {
            continue;
        }
        let lower = name.to_lowercase();
        if lower.starts_with(&typed) {
            starting.push(name.clone());
        } else if lower.contains(&typed) {
            containing.push(name.clone());
        }
    }
    starting.sort();
    containing.sort();
    starting
        .into_iter()
        .chain(containing)
        .take(AUTOCOMPLETE_CHOICES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn names_starting_with_the_text_come_first_in_any_case() {
        let all = names(&["Linux 1", "net202", "Networks 101", "sec-net", "web"]);
        assert_eq!(matching(&all, "NET"), ["Networks 101", "net202", "sec-net"]);
        assert_eq!(matching(&all, "").len(), 5);
        assert!(matching(&all, "zzz").is_empty());
    }

    #[test]
    fn at_most_25_choices() {
        let many: Vec<String> = (0..60).map(|i| format!("class {i:02}")).collect();
        let choices = matching(&many, "class");
        assert_eq!(choices.len(), 25);
        assert_eq!(choices[0], "class 00");
    }
}
