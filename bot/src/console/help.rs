//! `help` in the console: the commands of the catalogue, the ones meant for a role, or one
//! command's options. A newcomer in `pvelab demo` types `help` before anything else, so the
//! list is built from the same catalogue Discord registers and can never drift from it.

use std::fmt::Write;

use pvelab_core::types::Role;

use crate::commands::catalogue::{CommandSpec, COMMANDS};

/// Whether the console line asks for help rather than running a command: `help`, `/help` or
/// `?`, alone or followed by a command (`help /class create`).
#[must_use]
pub fn is_help(line: &str) -> bool {
    matches!(line.split_whitespace().next(), Some("help" | "/help" | "?"))
}

/// The help text for a `help ...` line: every command by role, or those whose names start with
/// the words after `help` (`help /class` lists the class commands with their options).
#[must_use]
pub fn help(line: &str) -> String {
    let words: Vec<&str> = line
        .split_whitespace()
        .skip(1)
        .map(|w| w.trim_start_matches('/'))
        .collect();
    if words.is_empty() {
        return overview();
    }
    let matching: Vec<&CommandSpec> = COMMANDS
        .iter()
        .filter(|spec| {
            words.len() <= spec.path.len() && spec.path.iter().zip(&words).all(|(a, b)| a == b)
        })
        .collect();
    if matching.is_empty() {
        return format!(
            "There is no command /{}. Type help for the list of commands.",
            words.join(" ")
        );
    }
    let mut out = String::new();
    for spec in matching {
        detail(&mut out, spec);
    }
    out.trim_end().to_owned()
}

fn overview() -> String {
    let mut out = String::from(
        "Type commands as any user, one per line: USER[:ROLE] /command [subcommand] \
         [option:value ...]\nROLE is user (default), teacher or adminer; a value with spaces \
         goes in double quotes.\n",
    );
    for (role, title) in [
        (Role::User, "For everyone"),
        (Role::Teacher, "For teachers"),
        (Role::Adminer, "For adminers"),
    ] {
        let _ = writeln!(out, "\n{title}:");
        let mut specs: Vec<&CommandSpec> = COMMANDS.iter().filter(|s| s.role == role).collect();
        specs.sort_by_key(|spec| spec.path);
        for spec in specs {
            let _ = writeln!(out, "  {:<28} {}", usage_name(spec), spec.description);
        }
    }
    out.push_str("\nhelp /COMMAND shows a command's options, e.g. help /class create");
    out
}

fn usage_name(spec: &CommandSpec) -> String {
    format!("/{}", spec.path.join(" "))
}

/// One command with its options: `name:` for required ones, `[name:]` for the others.
fn detail(out: &mut String, spec: &CommandSpec) {
    let mut usage = usage_name(spec);
    for option in spec.options {
        if option.required {
            let _ = write!(usage, " {}:…", option.name);
        } else {
            let _ = write!(usage, " [{}:…]", option.name);
        }
    }
    let _ = writeln!(out, "{usage}\n  {}", spec.description);
    for option in spec.options {
        let _ = writeln!(out, "    {:<12} {}", option.name, option.description);
    }
}

#[cfg(test)]
mod tests {
    use super::{help, is_help};
    use crate::commands::catalogue::COMMANDS;

    #[test]
    fn help_words_are_recognised_and_commands_are_not() {
        assert!(is_help("help"));
        assert!(is_help("  /help /class"));
        assert!(is_help("?"));
        assert!(!is_help("tom:teacher /class list"));
        assert!(!is_help("helper /myvm"));
    }

    #[test]
    fn the_overview_lists_every_command_of_the_catalogue() {
        let text = help("help");
        for spec in COMMANDS {
            let name = format!("/{} ", spec.path.join(" "));
            assert!(text.contains(&name), "{name} is missing from:\n{text}");
        }
    }

    #[test]
    fn help_for_a_command_lists_its_options_and_an_unknown_one_says_so() {
        let text = help("help /class create");
        assert!(
            text.starts_with("/class create name:… template:… pool:…"),
            "{text}"
        );
        assert!(text.contains("    memory"), "{text}");
        assert!(!text.contains("/class list"), "{text}");
        let class = help("help class");
        assert!(class.contains("/class list"), "{class}");
        assert_eq!(
            help("help /nothing"),
            "There is no command /nothing. Type help for the list of commands."
        );
    }
}
