//! Slash-command options: which Discord type each catalogue option gets, and the values
//! Discord sends turned back into the text the command layer reads (the same text a console
//! user would type), so both front ends go through the same parsers.

use poise::serenity_prelude as serenity;

use crate::commands::catalogue::{CommandSpec, LookupError, OptionKind};
use crate::commands::{CommandError, Invocation};
use crate::parse::OptionError;

/// The Discord option type of a catalogue option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscordKind {
    /// Free text (sizes like `4G`, durations like `7d`, names): parsed by the command layer.
    String,
    /// A whole number.
    Integer,
    /// True or false.
    Boolean,
    /// A user picked from the server's members.
    User,
    /// One of a fixed list, offered as choices (Discord sends the choice's index).
    Choice(&'static [&'static str]),
}

/// How an option of `kind` is offered on Discord.
pub fn discord_kind(kind: OptionKind) -> DiscordKind {
    match kind {
        OptionKind::PoolSize
        | OptionKind::Cores
        | OptionKind::Vmid
        | OptionKind::VmidPrefix
        | OptionKind::Integer => DiscordKind::Integer,
        OptionKind::Flag => DiscordKind::Boolean,
        OptionKind::User => DiscordKind::User,
        OptionKind::Choice(list) => DiscordKind::Choice(list),
        OptionKind::Role => DiscordKind::Choice(&["user", "teacher", "adminer"]),
        OptionKind::Token
        | OptionKind::Class
        | OptionKind::ClassName
        | OptionKind::Template
        | OptionKind::Memory
        | OptionKind::Disk
        | OptionKind::Node
        | OptionKind::Cluster
        | OptionKind::Hours
        | OptionKind::TimeZone
        | OptionKind::Quota
        | OptionKind::Idle
        | OptionKind::Expires
        | OptionKind::SettingKey
        | OptionKind::SettingValue
        | OptionKind::Check
        | OptionKind::Command
        | OptionKind::Timeout
        | OptionKind::Pattern
        | OptionKind::Deadline
        | OptionKind::Snapshot
        | OptionKind::Weekday
        | OptionKind::Date
        | OptionKind::TimeOfDay => DiscordKind::String,
    }
}

/// A value as Discord sent it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionInput {
    /// Text (also what is typed into an option being autocompleted).
    Text(String),
    /// A whole number (also a choice's index).
    Integer(i64),
    /// A number with a fraction (no catalogue option is one; refused with a clear error).
    Number(f64),
    /// True or false.
    Boolean(bool),
    /// A user, by id.
    User(u64),
    /// Anything else Discord can send (a channel, a role, an attachment).
    Other(&'static str),
}

/// The values of a (sub)command's options as Discord resolved them.
pub fn inputs(args: &[serenity::ResolvedOption<'_>]) -> Vec<(String, OptionInput)> {
    args.iter()
        .filter_map(|option| {
            let input = match &option.value {
                serenity::ResolvedValue::String(s) => OptionInput::Text((*s).to_owned()),
                serenity::ResolvedValue::Autocomplete { value, .. } => {
                    OptionInput::Text((*value).to_owned())
                }
                serenity::ResolvedValue::Integer(i) => OptionInput::Integer(*i),
                serenity::ResolvedValue::Number(n) => OptionInput::Number(*n),
                serenity::ResolvedValue::Boolean(b) => OptionInput::Boolean(*b),
                serenity::ResolvedValue::User(user, _) => OptionInput::User(user.id.get()),
                serenity::ResolvedValue::Unresolved(serenity::Unresolved::User(id)) => {
                    OptionInput::User(id.get())
                }
                // Subcommands are not values: poise already walked down to the leaf.
                serenity::ResolvedValue::SubCommand(_)
                | serenity::ResolvedValue::SubCommandGroup(_) => return None,
                serenity::ResolvedValue::Attachment(_) => OptionInput::Other("an attachment"),
                serenity::ResolvedValue::Channel(_) => OptionInput::Other("a channel"),
                serenity::ResolvedValue::Role(_) => OptionInput::Other("a role"),
                _ => OptionInput::Other("a value of an unknown type"),
            };
            Some((option.name.to_owned(), input))
        })
        .collect()
}

/// The invocation of `spec` with these values, each turned into the text the command layer
/// parses: numbers in decimal, booleans as `yes`/`no`, users as mentions (`<@42>`), choices
/// as their word.
///
/// # Errors
/// [`CommandError::Usage`] for an option the command does not have or a missing required one
/// (a stale registration); [`CommandError::Option`] for a value of the wrong type.
pub fn invocation(
    spec: &'static CommandSpec,
    values: Vec<(String, OptionInput)>,
) -> Result<Invocation, CommandError> {
    let mut pairs = Vec::with_capacity(values.len());
    for (name, input) in values {
        let Some(option) = spec.option(&name) else {
            // Let the invocation name the unknown option and list the real ones.
            pairs.push((name, String::new()));
            continue;
        };
        let text = text_of(option.name, discord_kind(option.kind), input)?;
        pairs.push((name, text));
    }
    Invocation::new(spec, pairs).map_err(|e: LookupError| CommandError::Usage(e))
}

/// One value as text.
fn text_of(name: &str, kind: DiscordKind, input: OptionInput) -> Result<String, OptionError> {
    let wrong = |shown: String, allowed: String| OptionError::new(name, &shown, allowed);
    match (kind, input) {
        (DiscordKind::Choice(list), OptionInput::Integer(i)) => usize::try_from(i)
            .ok()
            .and_then(|i| list.get(i))
            .map(|w| (*w).to_owned())
            .ok_or_else(|| wrong(i.to_string(), format!("one of {}", list.join(", ")))),
        (_, OptionInput::Text(text)) => Ok(text),
        (_, OptionInput::Integer(i)) => Ok(i.to_string()),
        (_, OptionInput::Boolean(b)) => Ok(if b { "yes" } else { "no" }.to_owned()),
        (_, OptionInput::User(id)) => Ok(format!("<@{id}>")),
        (_, OptionInput::Number(n)) => Err(wrong(n.to_string(), "a whole number".to_owned())),
        (_, OptionInput::Other(what)) => Err(wrong(what.to_owned(), "text".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::catalogue::{spec, CommandId, COMMANDS};

    fn values(list: &[(&str, OptionInput)]) -> Vec<(String, OptionInput)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn values_become_the_text_a_console_user_would_type() {
        let call = invocation(
            spec(CommandId::PoolResize),
            values(&[
                ("class", OptionInput::Text("Networks 101".into())),
                ("size", OptionInput::Integer(12)),
                ("force", OptionInput::Boolean(true)),
            ]),
        )
        .unwrap();
        assert_eq!(
            call.to_string(),
            "/pool resize class:\"Networks 101\" size:12 force:yes"
        );
        let assign = invocation(
            spec(CommandId::PoolAssign),
            values(&[
                ("class", OptionInput::Text("net101".into())),
                ("user", OptionInput::User(42)),
            ]),
        )
        .unwrap();
        assert_eq!(assign.raw("user"), Some("<@42>"));
    }

    #[test]
    fn a_choice_index_becomes_its_word_and_a_bad_index_names_the_choices() {
        let call = invocation(
            spec(CommandId::SyncNow),
            values(&[("what", OptionInput::Integer(2))]),
        )
        .unwrap();
        assert_eq!(call.raw("what"), Some("ips"));
        let role = invocation(
            spec(CommandId::RoleSet),
            values(&[
                ("user", OptionInput::User(7)),
                ("role", OptionInput::Integer(1)),
            ]),
        )
        .unwrap();
        assert_eq!(role.raw("role"), Some("teacher"));
        let Err(CommandError::Option(e)) = invocation(
            spec(CommandId::SyncNow),
            values(&[("what", OptionInput::Integer(9))]),
        ) else {
            panic!("index 9 must be refused");
        };
        assert_eq!(e.option(), "what");
        assert!(e.to_string().contains("one of all, inventory"), "{e}");
    }

    #[test]
    fn unknown_and_missing_options_are_usage_errors_that_name_them() {
        let Err(CommandError::Usage(e)) = invocation(
            spec(CommandId::ClassInfo),
            values(&[("klass", OptionInput::Text("x".into()))]),
        ) else {
            panic!("klass is not an option");
        };
        assert!(e.to_string().contains("no option `klass`"), "{e}");
        let Err(CommandError::Usage(e)) = invocation(spec(CommandId::ClassInfo), vec![]) else {
            panic!("class is required");
        };
        assert!(e.to_string().contains("needs option `class`"), "{e}");
    }

    #[test]
    fn values_of_a_type_no_option_has_are_refused() {
        for input in [OptionInput::Number(1.5), OptionInput::Other("a channel")] {
            let result = invocation(spec(CommandId::ClassInfo), values(&[("class", input)]));
            assert!(
                matches!(result, Err(CommandError::Option(ref e)) if e.option() == "class"),
                "{result:?}"
            );
        }
    }

    #[test]
    fn every_option_of_the_catalogue_has_a_discord_type() {
        let mut integers = 0;
        for spec in COMMANDS {
            for option in spec.options {
                if discord_kind(option.kind) == DiscordKind::Integer {
                    integers += 1;
                }
                if let DiscordKind::Choice(list) = discord_kind(option.kind) {
                    assert!((1..=25).contains(&list.len()), "{}", option.name);
                }
            }
        }
        assert!(integers > 0);
    }
}
