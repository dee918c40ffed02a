//! Answers to interactions: the first response (`POST /interactions/{id}/{token}/callback`)
//! and everything after it through the interaction's webhook (`/webhooks/{app}/{token}...`).
//!
//! The fake enforces Discord's order of events, so a bot that answers twice, follows up before
//! answering, or edits a reply that does not exist fails here as it would in production.

use serde_json::{json, Value};

use super::payloads::{self, MessageOrigin};
use super::rest::{Payload, Reply};
use super::state::{InteractionState, Shared};

/// Interaction types, as Discord numbers them.
const COMMAND: u64 = 2;
const COMPONENT: u64 = 3;
const AUTOCOMPLETE: u64 = 4;
const MODAL_SUBMIT: u64 = 5;

/// The LOADING message flag Discord sets on a deferred response until it is edited.
const LOADING: u64 = 128;

pub(crate) fn callback(shared: &Shared, id: &str, token: &str, payload: &Payload<'_>) -> Reply {
    let mut state = shared.lock();
    let Some(interaction) = state.interactions.get_mut(token) else {
        return unknown_interaction(token);
    };
    if interaction.id.to_string() != id {
        return unknown_interaction(token);
    }
    if interaction.acknowledged {
        return Reply::error(400, 40060, "Interaction has already been acknowledged.");
    }
    let response_type = payload.json["type"].as_u64();
    let mut updated = None;
    let data = &payload.json["data"];
    match (response_type, interaction.kind) {
        // CHANNEL_MESSAGE_WITH_SOURCE
        (Some(4), COMMAND | COMPONENT | MODAL_SUBMIT) => {
            let message = new_message(shared, interaction, data, payload);
            interaction.original = Some(message);
        }
        // DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: a loading message, ephemeral if asked.
        (Some(5), COMMAND | COMPONENT | MODAL_SUBMIT) => {
            let flags = data["flags"].as_u64().unwrap_or(0) | LOADING;
            let placeholder = json!({ "content": "", "flags": flags });
            let message = new_message(shared, interaction, &placeholder, &Payload::empty());
            interaction.original = Some(message);
        }
        // DEFERRED_UPDATE_MESSAGE: the component's message stays as it is.
        (Some(6), COMPONENT | MODAL_SUBMIT) => {}
        // UPDATE_MESSAGE: the component's message is edited in place.
        (Some(7), COMPONENT | MODAL_SUBMIT) => {
            let Some(message) = interaction.original.as_mut() else {
                return Reply::invalid("UPDATE_MESSAGE needs an interaction on a message");
            };
            payloads::apply_edit(message, data, payload.files, &mut || shared.next_id());
            updated = Some(message.clone());
        }
        // APPLICATION_COMMAND_AUTOCOMPLETE_RESULT
        (Some(8), AUTOCOMPLETE) => {
            let choices = data["choices"].as_array().map_or(0, Vec::len);
            if choices > 25 {
                return Reply::invalid(&format!(
                    "autocomplete answered {choices} choices; at most 25 are allowed"
                ));
            }
        }
        // MODAL
        (Some(9), COMMAND | COMPONENT) => {}
        (other, kind) => {
            return Reply::invalid(&format!(
                "interaction response type {} does not answer an interaction of type {kind}; \
                 allowed: 4 and 5 (command, component, modal submit), 6 and 7 (component), \
                 8 (autocomplete), 9 (command, component)",
                other.map_or_else(|| "(missing)".to_string(), |t| t.to_string())
            ));
        }
    }
    interaction.acknowledged = true;
    if let Some(message) = updated {
        state.replace_message(&message);
    }
    Reply::no_content()
}

pub(crate) fn handle(
    shared: &Shared,
    method: &str,
    app: &str,
    token: &str,
    rest: &[&str],
    payload: &Payload<'_>,
) -> Reply {
    if app != shared.config.application_id.to_string() {
        return unknown_webhook(token);
    }
    let mut state = shared.lock();
    let Some(interaction) = state.interactions.get_mut(token) else {
        return unknown_webhook(token);
    };
    // Until the first response, the interaction's webhook does not exist.
    if !interaction.acknowledged {
        return unknown_webhook(token);
    }
    match (method, rest) {
        ("POST", []) => {
            let message = new_message(shared, interaction, payload.json, payload);
            interaction.followups.push(message.clone());
            Reply::ok(message)
        }
        (method, ["messages", "@original"]) => {
            let Some(original) = interaction.original.as_mut() else {
                return unknown_message("@original");
            };
            match method {
                "GET" => Reply::ok(original.clone()),
                "PATCH" => {
                    edit(shared, original, payload);
                    let message = original.clone();
                    state.replace_message(&message);
                    Reply::ok(message)
                }
                "DELETE" => {
                    interaction.original = None;
                    Reply::no_content()
                }
                _ => Reply::not_found(),
            }
        }
        (method, ["messages", id]) => {
            let Some(index) = interaction.followups.iter().position(|m| m["id"] == *id) else {
                return unknown_message(id);
            };
            match method {
                "GET" => Reply::ok(interaction.followups[index].clone()),
                "PATCH" => {
                    let message = &mut interaction.followups[index];
                    edit(shared, message, payload);
                    let message = message.clone();
                    state.replace_message(&message);
                    Reply::ok(message)
                }
                "DELETE" => {
                    interaction.followups.remove(index);
                    Reply::no_content()
                }
                _ => Reply::not_found(),
            }
        }
        _ => Reply::not_found(),
    }
}

/// An edit ends a deferred response's loading state.
fn edit(shared: &Shared, message: &mut Value, payload: &Payload<'_>) {
    payloads::apply_edit(message, payload.json, payload.files, &mut || {
        shared.next_id()
    });
    if let Some(flags) = message["flags"].as_u64() {
        message["flags"] = json!(flags & !LOADING);
    }
}

fn new_message(
    shared: &Shared,
    interaction: &InteractionState,
    data: &Value,
    payload: &Payload<'_>,
) -> Value {
    let origin = MessageOrigin {
        id: shared.next_id(),
        channel_id: interaction.channel_id,
        guild_id: interaction.guild_id,
        author: payloads::bot_user(&shared.config),
        application_id: Some(shared.config.application_id),
    };
    payloads::message(&origin, data, payload.files, &mut || shared.next_id())
}

fn unknown_interaction(token: &str) -> Reply {
    Reply::error(
        404,
        10062,
        &format!("Unknown interaction (token `{token}` was never sent, or its id differs)"),
    )
}

fn unknown_webhook(token: &str) -> Reply {
    Reply::error(
        404,
        10015,
        &format!("Unknown Webhook (interaction token `{token}` unknown or not yet answered)"),
    )
}

fn unknown_message(id: &str) -> Reply {
    Reply::error(404, 10008, &format!("Unknown Message `{id}`"))
}
