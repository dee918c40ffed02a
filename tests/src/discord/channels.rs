//! Direct messages and channel messages: `POST /users/@me/channels` opens (or finds) a DM
//! channel, `POST /channels/{id}/messages` sends to it.
//!
//! A user whose DMs are closed gets the channel like anyone else; sending to it answers 403
//! with code 50007, exactly where Discord refuses.

use serde_json::Value;

use super::payloads::{self, MessageOrigin};
use super::rest::{json_snowflake, Payload, Reply};
use super::state::Shared;

pub(crate) fn open_dm(shared: &Shared, payload: &Value) -> Reply {
    let Some(recipient) = json_snowflake(&payload["recipient_id"]) else {
        return Reply::invalid(&format!(
            "recipient_id must be a user snowflake, got {}",
            payload["recipient_id"]
        ));
    };
    let mut state = shared.lock();
    let channel_id = *state
        .dm_channels
        .entry(recipient)
        .or_insert_with(|| shared.next_id());
    let user = state
        .users
        .get(&recipient)
        .cloned()
        .unwrap_or_else(|| payloads::user(recipient, &format!("user{recipient}"), false));
    Reply::ok(payloads::private_channel(channel_id, user))
}

pub(crate) fn create_message(shared: &Shared, channel_id: u64, payload: &Payload<'_>) -> Reply {
    let state = shared.lock();
    let guild_id = shared
        .config
        .guilds
        .iter()
        .find(|g| g.channel_ids.contains(&channel_id))
        .map(|g| g.id);
    match (state.dm_recipient(channel_id), guild_id) {
        (Some(user), _) if state.closed_dms.contains(&user) => {
            Reply::error(403, 50007, "Cannot send messages to this user")
        }
        (None, None) => Reply::error(404, 10003, &format!("Unknown Channel `{channel_id}`")),
        _ => {
            let origin = MessageOrigin {
                id: shared.next_id(),
                channel_id,
                guild_id,
                author: payloads::bot_user(&shared.config),
                application_id: None,
            };
            Reply::ok(payloads::message(
                &origin,
                payload.json,
                payload.files,
                &mut || shared.next_id(),
            ))
        }
    }
}
