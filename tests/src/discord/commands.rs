//! Command registration: `/applications/{app}/commands` and
//! `/applications/{app}/guilds/{guild}/commands`.
//!
//! Definitions are checked against Discord's limits (names 1-32 characters, descriptions 1-100,
//! at most 25 options and 25 choices), since Discord rejects the whole batch otherwise and a
//! test should fail the same way.

use serde_json::Value;

use super::payloads;
use super::rest::Reply;
use super::state::Shared;

pub(crate) fn handle(
    shared: &Shared,
    method: &str,
    app: &str,
    guild: Option<u64>,
    rest: &[&str],
    payload: &Value,
) -> Reply {
    let application_id = shared.config.application_id;
    if app != application_id.to_string() {
        return Reply::error(404, 10002, &format!("Unknown Application `{app}`"));
    }
    match (method, rest) {
        ("GET", []) => {
            let state = shared.lock();
            Reply::ok(Value::Array(
                state.commands.get(&guild).cloned().unwrap_or_default(),
            ))
        }
        ("PUT", []) => {
            let Some(definitions) = payload.as_array() else {
                return Reply::invalid("a bulk overwrite takes a JSON array of commands");
            };
            if let Err(problem) = definitions.iter().try_for_each(validate) {
                return Reply::invalid(&problem);
            }
            let mut state = shared.lock();
            let old = state.commands.remove(&guild).unwrap_or_default();
            let registered: Vec<Value> = definitions
                .iter()
                .map(|definition| {
                    let id = same_name(&old, definition)
                        .and_then(|c| c["id"].as_str()?.parse().ok())
                        .unwrap_or_else(|| shared.next_id());
                    payloads::registered_command(definition, id, application_id, guild)
                })
                .collect();
            state.commands.insert(guild, registered.clone());
            Reply::ok(Value::Array(registered))
        }
        ("POST", []) => {
            if let Err(problem) = validate(payload) {
                return Reply::invalid(&problem);
            }
            let mut state = shared.lock();
            let list = state.commands.entry(guild).or_default();
            let existing = list.iter().position(|c| c["name"] == payload["name"]);
            let id = existing
                .and_then(|i| list[i]["id"].as_str()?.parse().ok())
                .unwrap_or_else(|| shared.next_id());
            let command = payloads::registered_command(payload, id, application_id, guild);
            match existing {
                Some(i) => {
                    list[i] = command.clone();
                    Reply::ok(command)
                }
                None => {
                    list.push(command.clone());
                    Reply {
                        status: 201,
                        body: Some(command),
                    }
                }
            }
        }
        ("GET", [id]) => {
            let state = shared.lock();
            let found = state
                .commands
                .get(&guild)
                .and_then(|list| list.iter().find(|c| c["id"] == *id));
            match found {
                Some(command) => Reply::ok(command.clone()),
                None => unknown_command(id),
            }
        }
        ("DELETE", [id]) => {
            let mut state = shared.lock();
            let list = state.commands.entry(guild).or_default();
            let before = list.len();
            list.retain(|c| c["id"] != *id);
            if list.len() < before {
                Reply::no_content()
            } else {
                unknown_command(id)
            }
        }
        _ => Reply::not_found(),
    }
}

fn unknown_command(id: &str) -> Reply {
    Reply::error(404, 10063, &format!("Unknown application command `{id}`"))
}

fn same_name<'a>(list: &'a [Value], definition: &Value) -> Option<&'a Value> {
    list.iter().find(|c| c["name"] == definition["name"])
}

/// Checks a command definition against Discord's limits; the error names the offending value
/// and the limit.
fn validate(command: &Value) -> Result<(), String> {
    // Chat-input commands (type 1 or absent) need a description; context-menu ones have none.
    let is_chat_input = command.get("type").is_none_or(|t| t == 1);
    check(command, is_chat_input)
}

/// Checks one command or option, then its options (which always need a description).
fn check(definition: &Value, needs_description: bool) -> Result<(), String> {
    let name = definition["name"].as_str().unwrap_or_default();
    let length = name.chars().count();
    if !(1..=32).contains(&length) {
        return Err(format!(
            "command or option name `{name}` has {length} characters; 1 to 32 are allowed"
        ));
    }
    if needs_description {
        let description = definition["description"].as_str().unwrap_or_default();
        let length = description.chars().count();
        if !(1..=100).contains(&length) {
            return Err(format!(
                "description of `{name}` has {length} characters; 1 to 100 are allowed"
            ));
        }
    }
    let options = definition["options"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if options.len() > 25 {
        return Err(format!(
            "`{name}` has {} options; at most 25 are allowed",
            options.len()
        ));
    }
    let choices = definition["choices"].as_array().map_or(0, Vec::len);
    if choices > 25 {
        return Err(format!(
            "`{name}` has {choices} choices; at most 25 are allowed"
        ));
    }
    options.iter().try_for_each(|option| check(option, true))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_name_longer_than_32_characters_is_rejected_with_the_name_and_the_limit() {
        let long = "a".repeat(33);
        let problem = validate(&json!({"name": long, "description": "d"})).unwrap_err();
        assert!(
            problem.contains(&long) && problem.contains("1 to 32"),
            "{problem}"
        );
    }

    #[test]
    fn an_option_without_a_description_is_rejected() {
        let definition = json!({
            "name": "join", "description": "Join a class",
            "options": [{"name": "class", "type": 3, "description": ""}],
        });
        let problem = validate(&definition).unwrap_err();
        assert!(problem.contains("`class`"), "{problem}");
    }

    #[test]
    fn a_context_menu_command_needs_no_description() {
        assert_eq!(validate(&json!({"name": "Inspect", "type": 2})), Ok(()));
    }
}
