//! The slash commands, built at run time from the catalogue (the one list of commands):
//! commands, subcommand groups and subcommands as Discord nests them, each option with its
//! Discord type, choices and class-name autocomplete, descriptions within Discord's limits.

use std::borrow::Cow;

use poise::{Command, CommandParameter, CommandParameterChoice};
use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, InteractionContext};

use super::autocomplete::class_choices;
use super::bot::DiscordBot;
use super::caller::works_in_dms;
use super::options::{discord_kind, DiscordKind};
use super::slash::slash_action;
use super::DiscordError;
use crate::commands::catalogue::{CommandSpec, OptionKind, OptionSpec, COMMANDS, GROUPS};
use crate::render::limits::truncate;

/// Characters of a command's or option's description.
const DESCRIPTION: usize = 100;

type BotCommand = Command<DiscordBot, DiscordError>;

/// Every command of the catalogue as a poise command, top-level names in catalogue order.
pub fn slash_commands() -> Vec<BotCommand> {
    let mut commands = Vec::new();
    for name in names_under(&[]) {
        commands.push(node(&[name]));
    }
    poise::framework::set_qualified_names(&mut commands);
    commands
}

/// The commands as Discord registers them.
pub fn application_commands() -> Vec<CreateCommand> {
    poise::builtins::create_application_commands(&slash_commands())
}

/// The distinct names below `prefix`, in catalogue order.
fn names_under(prefix: &[&'static str]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for spec in COMMANDS {
        if spec.path.len() > prefix.len() && spec.path[..prefix.len()] == *prefix {
            let name = spec.path[prefix.len()];
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// The command at `path`: a leaf of the catalogue, or a group of the commands below it.
fn node(path: &[&'static str]) -> BotCommand {
    let name = path[path.len() - 1];
    let leaf = COMMANDS.iter().find(|s| s.path == path);
    let mut command = match leaf {
        Some(spec) => leaf_command(spec),
        None => {
            let description = GROUPS
                .iter()
                .find(|(p, _)| *p == path)
                .map_or(name, |(_, d)| *d);
            let mut below = path.to_vec();
            let subcommands = names_under(path)
                .into_iter()
                .map(|sub| {
                    below.push(sub);
                    let child = node(&below);
                    below.pop();
                    child
                })
                .collect();
            Command {
                slash_action: Some(slash_action),
                name: Cow::Borrowed(name),
                qualified_name: Cow::Borrowed(name),
                identifying_name: Cow::Owned(path.join(" ")),
                description: Some(description_of(description)),
                subcommands,
                subcommand_required: true,
                ..Default::default()
            }
        }
    };
    if path.len() == 1 {
        // Only top-level commands carry contexts; commands about one's own VM also work in a
        // direct message with the bot.
        let in_dms = COMMANDS
            .iter()
            .any(|s| s.path[0] == path[0] && works_in_dms(s));
        command.interaction_context = Some(if in_dms {
            vec![InteractionContext::Guild, InteractionContext::BotDm]
        } else {
            vec![InteractionContext::Guild]
        });
    }
    command
}

fn leaf_command(spec: &'static CommandSpec) -> BotCommand {
    let name = spec.path[spec.path.len() - 1];
    Command {
        slash_action: Some(slash_action),
        name: Cow::Borrowed(name),
        qualified_name: Cow::Borrowed(name),
        identifying_name: Cow::Owned(spec.usage_name()),
        description: Some(description_of(spec.description)),
        parameters: spec.options.iter().map(parameter).collect(),
        custom_data: Box::new(spec),
        ..Default::default()
    }
}

fn description_of(text: &str) -> Cow<'static, str> {
    Cow::Owned(truncate(text, DESCRIPTION).into_owned())
}

fn parameter(option: &OptionSpec) -> CommandParameter<DiscordBot, DiscordError> {
    let kind = discord_kind(option.kind);
    let choices: Vec<CommandParameterChoice> = match kind {
        DiscordKind::Choice(list) => list
            .iter()
            .map(|word| {
                let mut choice = poise_choice();
                choice.name = Cow::Borrowed(*word);
                choice
            })
            .collect(),
        _ => Vec::new(),
    };
    CommandParameter {
        name: Cow::Borrowed(option.name),
        name_localizations: Cow::Borrowed(&[]),
        description: Some(description_of(option.description)),
        description_localizations: Cow::Borrowed(&[]),
        required: option.required,
        channel_types: None,
        choices: Cow::Owned(choices),
        type_setter: Some(type_setter(kind)),
        autocomplete_callback: (option.kind == OptionKind::Class).then_some(class_choices as _),
        __non_exhaustive: (),
    }
}

/// A choice with no name yet (poise's struct has a hidden field, so it is built this way).
fn poise_choice() -> CommandParameterChoice {
    CommandParameterChoice {
        name: Cow::Borrowed(""),
        localizations: Cow::Borrowed(&[]),
        __non_exhaustive: (),
    }
}

fn type_setter(kind: DiscordKind) -> fn(CreateCommandOption) -> CreateCommandOption {
    match kind {
        DiscordKind::String => |b| b.kind(CommandOptionType::String),
        // Choices are sent as their index.
        DiscordKind::Integer | DiscordKind::Choice(_) => |b| b.kind(CommandOptionType::Integer),
        DiscordKind::Boolean => |b| b.kind(CommandOptionType::Boolean),
        DiscordKind::User => |b| b.kind(CommandOptionType::User),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::commands::catalogue::{spec, CommandId};

    fn registered() -> Vec<Value> {
        application_commands()
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect()
    }

    fn find<'a>(list: &'a [Value], name: &str) -> &'a Value {
        list.iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {list:#?}"))
    }

    #[test]
    fn every_catalogue_command_is_registered_once_at_its_path() {
        let commands = registered();
        let mut leaves = 0;
        fn count(options: &Value, leaves: &mut usize) {
            for o in options.as_array().into_iter().flatten() {
                match o["type"].as_u64() {
                    Some(1) => *leaves += 1,
                    Some(2) => count(&o["options"], leaves),
                    _ => {}
                }
            }
        }
        for command in &commands {
            let options = &command["options"];
            let has_subcommands = options
                .as_array()
                .is_some_and(|o| o.iter().any(|o| matches!(o["type"].as_u64(), Some(1 | 2))));
            if has_subcommands {
                count(options, &mut leaves);
            } else {
                leaves += 1;
            }
        }
        assert_eq!(leaves, COMMANDS.len());
        assert!(commands.len() <= 100);
        let class = find(&commands, "class");
        let coowner = find(class["options"].as_array().unwrap(), "coowner");
        assert_eq!(coowner["type"], 2, "a subcommand group");
        let add = find(coowner["options"].as_array().unwrap(), "add");
        assert_eq!(add["type"], 1);
    }

    #[test]
    fn options_get_discord_types_autocomplete_and_choices() {
        let commands = registered();
        let pool = find(&commands, "pool");
        let resize = find(pool["options"].as_array().unwrap(), "resize");
        let options = resize["options"].as_array().unwrap();
        let class = find(options, "class");
        assert_eq!(
            (class["type"].as_u64(), &class["autocomplete"]),
            (Some(3), &Value::Bool(true))
        );
        assert_eq!(class["required"], true);
        assert_eq!(find(options, "size")["type"], 4);
        let force = find(options, "force");
        assert_eq!(
            (force["type"].as_u64(), &force["required"]),
            (Some(5), &Value::Bool(false))
        );
        let assign = find(pool["options"].as_array().unwrap(), "assign");
        assert_eq!(
            find(assign["options"].as_array().unwrap(), "user")["type"],
            6
        );
        let sync = find(&commands, "sync");
        let now = find(sync["options"].as_array().unwrap(), "now");
        let what = find(now["options"].as_array().unwrap(), "what");
        assert_eq!(what["type"], 4);
        assert_eq!(
            (&what["choices"][2]["name"], &what["choices"][2]["value"]),
            (&serde_json::json!("ips"), &serde_json::json!(2))
        );
    }

    #[test]
    fn commands_about_ones_own_vm_work_in_direct_messages_and_the_rest_only_in_servers() {
        let commands = registered();
        assert_eq!(
            find(&commands, "myvm")["contexts"],
            serde_json::json!([0, 1])
        );
        assert_eq!(find(&commands, "vm")["contexts"], serde_json::json!([0, 1]));
        assert_eq!(find(&commands, "class")["contexts"], serde_json::json!([0]));
        assert_eq!(find(&commands, "join")["contexts"], serde_json::json!([0]));
    }

    #[test]
    fn every_name_and_description_is_within_discords_limits() {
        fn check(value: &Value) {
            let name = value["name"].as_str().unwrap();
            assert!((1..=32).contains(&name.chars().count()), "{name}");
            let description = value["description"].as_str().unwrap();
            assert!((1..=100).contains(&description.chars().count()), "{name}");
            for o in value["options"].as_array().into_iter().flatten() {
                check(o);
            }
            assert!(
                value["options"].as_array().map_or(0, Vec::len) <= 25,
                "{name}"
            );
        }
        registered().iter().for_each(check);
    }

    #[test]
    fn a_leaf_knows_its_catalogue_entry() {
        let commands = slash_commands();
        let join = commands.iter().find(|c| c.name == "join").unwrap();
        assert_eq!(
            super::super::slash::spec_of(join),
            Some(spec(CommandId::Join))
        );
        let vm = commands.iter().find(|c| c.name == "vm").unwrap();
        assert_eq!(super::super::slash::spec_of(vm), None);
        assert_eq!(vm.subcommands[0].qualified_name, "vm start");
    }
}
