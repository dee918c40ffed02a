//! Discord JSON objects as the fake sends them.
//!
//! serenity 0.12.5 drops a gateway dispatch that fails to deserialize with only a warning, and a
//! REST answer that fails to deserialize becomes an error deep inside the bot, so every object
//! here carries every field serenity requires. The unit tests at the bottom deserialize each one
//! into serenity's own types to keep it that way.

use serde_json::{json, Value};

use super::config::{FakeDiscordConfig, FakeGuild, FakeRole, Member};
use super::request::RecordedFile;

/// The timestamp every fake object carries; Discord's ISO 8601 form.
pub(crate) const TIMESTAMP: &str = "2025-01-06T08:00:00.000000+00:00";

/// The permissions the bot has in interactions: view, send, embed links, attach files.
pub(crate) const APP_PERMISSIONS: u64 = 1024 | 2048 | 16_384 | 32_768;

/// How large an attachment the bot may send (Discord's default, 10 MiB).
pub(crate) const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// A snowflake as Discord writes it: a decimal string.
pub(crate) fn sf(id: u64) -> Value {
    Value::String(id.to_string())
}

/// A user object.
pub(crate) fn user(id: u64, username: &str, bot: bool) -> Value {
    json!({
        "id": sf(id),
        "username": username,
        "discriminator": "0",
        "global_name": username,
        "avatar": null,
        "bot": bot,
        "system": false,
        "public_flags": 0,
        "flags": 0,
    })
}

/// The bot's own user object (`GET /users/@me`, READY's `user`).
pub(crate) fn bot_user(config: &FakeDiscordConfig) -> Value {
    let mut user = user(config.bot_user_id, &config.bot_username, true);
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user
}

/// A full guild member (an interaction's `member`).
pub(crate) fn member(member: &Member) -> Value {
    let mut value = partial_member(member);
    value["user"] = user(member.user_id, &member.username, false);
    value["deaf"] = json!(false);
    value["mute"] = json!(false);
    value
}

/// A member without its user (`resolved.members` of a user option).
pub(crate) fn partial_member(member: &Member) -> Value {
    json!({
        "nick": null,
        "avatar": null,
        "roles": member.role_ids.iter().copied().map(sf).collect::<Vec<_>>(),
        "joined_at": TIMESTAMP,
        "premium_since": null,
        "pending": false,
        "flags": 0,
        "permissions": member.permissions.to_string(),
        "communication_disabled_until": null,
    })
}

/// A role object.
pub(crate) fn role(id: u64, name: &str, position: u64) -> Value {
    json!({
        "id": sf(id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": "0",
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// A guild text channel object.
pub(crate) fn text_channel(id: u64, guild_id: u64, position: usize) -> Value {
    json!({
        "id": sf(id),
        "type": 0,
        "guild_id": sf(guild_id),
        "name": format!("lab-{position}"),
        "position": position,
        "permission_overwrites": [],
        "nsfw": false,
        "topic": null,
        "last_message_id": null,
        "parent_id": null,
        "rate_limit_per_user": 0,
        "flags": 0,
    })
}

/// The GUILD_CREATE dispatch's data: the guild with its roles and channels.
pub(crate) fn guild_create(guild: &FakeGuild, config: &FakeDiscordConfig) -> Value {
    let everyone = FakeRole {
        id: guild.id,
        name: "@everyone".into(),
    };
    let roles: Vec<Value> = std::iter::once(&everyone)
        .chain(&guild.roles)
        .enumerate()
        .map(|(position, r)| role(r.id, &r.name, position as u64))
        .collect();
    let channels: Vec<Value> = guild
        .channel_ids
        .iter()
        .enumerate()
        .map(|(position, id)| text_channel(*id, guild.id, position))
        .collect();
    // Two halves: one `json!` this size exceeds the macro's default recursion limit.
    let mut data = json!({
        "id": sf(guild.id),
        "name": guild.name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": sf(config.owner_id),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500_000,
    });
    let rest = json!({
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "safety_alerts_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "joined_at": TIMESTAMP,
        "large": false,
        "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "members": [],
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    });
    if let (Value::Object(data), Value::Object(rest)) = (&mut data, rest) {
        data.extend(rest);
    }
    data
}

/// The READY dispatch's data.
pub(crate) fn ready(config: &FakeDiscordConfig, session_id: &str, gateway_url: &str) -> Value {
    let guilds: Vec<Value> = config
        .guilds
        .iter()
        .map(|g| json!({"id": sf(g.id), "unavailable": true}))
        .collect();
    json!({
        "v": 10,
        "user": bot_user(config),
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": gateway_url,
        "shard": [0, 1],
        "application": {"id": sf(config.application_id), "flags": 0},
        "private_channels": [],
        "presences": [],
    })
}

/// `GET /oauth2/applications/@me`.
pub(crate) fn application_info(config: &FakeDiscordConfig) -> Value {
    json!({
        "id": sf(config.application_id),
        "name": config.bot_username,
        "icon": null,
        "description": "pvelab under test",
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "bot": bot_user(config),
        "owner": user(config.owner_id, "lab-owner", false),
        "verify_key": "0".repeat(64),
        "team": null,
        "flags": 0,
        "tags": [],
    })
}

/// `GET /gateway/bot`: one shard, plenty of session starts.
pub(crate) fn bot_gateway(gateway_url: &str) -> Value {
    json!({
        "url": gateway_url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1
        },
    })
}

/// A DM channel (`POST /users/@me/channels`).
pub(crate) fn private_channel(id: u64, recipient: Value) -> Value {
    json!({
        "id": sf(id),
        "type": 1,
        "last_message_id": null,
        "last_pin_timestamp": null,
        "recipients": [recipient],
        "flags": 0,
    })
}

/// An application command as Discord echoes a registration: the bot's definition plus the
/// fields Discord assigns.
pub(crate) fn registered_command(
    definition: &Value,
    id: u64,
    application_id: u64,
    guild_id: Option<u64>,
) -> Value {
    let mut command = match definition {
        Value::Object(map) => Value::Object(map.clone()),
        _ => json!({}),
    };
    command["id"] = sf(id);
    command["application_id"] = sf(application_id);
    command["version"] = sf(id);
    if let Some(guild_id) = guild_id {
        command["guild_id"] = sf(guild_id);
    }
    for (field, default) in [
        ("type", json!(1)),
        ("description", json!("")),
        ("options", json!([])),
        ("default_member_permissions", Value::Null),
        ("nsfw", json!(false)),
    ] {
        if command.get(field).is_none_or(Value::is_null) {
            command[field] = default;
        }
    }
    command
}

/// An error body as Discord sends it: serenity reads `code` and `message`.
pub(crate) fn error(code: u64, message: &str) -> Value {
    json!({"code": code, "message": message})
}

/// The parts of a message a bot chooses, copied from a create or edit payload.
const MESSAGE_FIELDS: [&str; 4] = ["content", "embeds", "components", "tts"];

/// Where a message lives and who wrote it.
pub(crate) struct MessageOrigin {
    pub(crate) id: u64,
    pub(crate) channel_id: u64,
    pub(crate) guild_id: Option<u64>,
    pub(crate) author: Value,
    pub(crate) application_id: Option<u64>,
}

/// A message object made from a create payload (`content`, `embeds`, `components`, `flags`,
/// `attachments` with the uploaded `files`).
pub(crate) fn message(
    origin: &MessageOrigin,
    payload: &Value,
    files: &[RecordedFile],
    attachment_ids: &mut impl FnMut() -> u64,
) -> Value {
    let mut message = json!({
        "id": sf(origin.id),
        "channel_id": sf(origin.channel_id),
        "author": origin.author,
        "content": "",
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "webhook_id": origin.application_id.map(sf),
        "type": if origin.application_id.is_some() { 20 } else { 0 },
        "application_id": origin.application_id.map(sf),
        "flags": payload.get("flags").cloned().unwrap_or(json!(0)),
    });
    if let Some(guild_id) = origin.guild_id {
        message["guild_id"] = sf(guild_id);
    }
    apply_edit(&mut message, payload, files, attachment_ids);
    message["edited_timestamp"] = Value::Null;
    message
}

/// Applies an edit payload to a stored message: the fields it names replace the old ones;
/// `attachments` keeps the old attachments it lists by id and adds the uploaded files.
pub(crate) fn apply_edit(
    message: &mut Value,
    payload: &Value,
    files: &[RecordedFile],
    attachment_ids: &mut impl FnMut() -> u64,
) {
    for field in MESSAGE_FIELDS {
        if let Some(value) = payload.get(field) {
            message[field] = if value.is_null() && field != "content" {
                json!([])
            } else {
                value.clone()
            };
        }
    }
    if message["content"].is_null() {
        message["content"] = json!("");
    }
    let old: Vec<Value> = message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let listed = payload.get("attachments").and_then(Value::as_array);
    let mut attachments = Vec::new();
    match listed {
        Some(listed) => {
            for entry in listed {
                let id = entry.get("id").map(id_text).unwrap_or_default();
                let field = format!("files[{id}]");
                if let Some(file) = files.iter().find(|f| f.field == field) {
                    attachments.push(attachment(attachment_ids(), file));
                } else if let Some(kept) = old.iter().find(|a| a["id"] == sf_text(&id)) {
                    attachments.push(kept.clone());
                }
            }
        }
        None => {
            attachments = old;
            attachments.extend(files.iter().map(|f| attachment(attachment_ids(), f)));
        }
    }
    message["attachments"] = Value::Array(attachments);
    message["edited_timestamp"] = json!(TIMESTAMP);
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn sf_text(id: &str) -> Value {
    Value::String(id.to_string())
}

fn attachment(id: u64, file: &RecordedFile) -> Value {
    json!({
        "id": sf(id),
        "filename": file.filename,
        "size": file.bytes.len(),
        "url": format!("https://cdn.invalid/attachments/{id}/{}", file.filename),
        "proxy_url": format!("https://media.invalid/attachments/{id}/{}", file.filename),
        "content_type": file.content_type,
        "height": null,
        "width": null,
        "ephemeral": false,
    })
}
