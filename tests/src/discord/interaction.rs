//! Builders for the interactions a test pushes: slash commands (with sub-command paths and
//! options), autocomplete requests and button presses.
//!
//! Each payload carries every field serenity 0.12.5 requires (`entitlements`, `locale`,
//! `version`, `attachment_size_limit`; a member's `deaf`, `mute` and `flags`); sub-command
//! options carry `options` even when empty, and a focused autocomplete value is a string, as
//! Discord sends them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::config::Member;
use super::payloads::{self, sf, APP_PERMISSIONS, ATTACHMENT_SIZE_LIMIT};
use super::rest::json_snowflake;
use super::state::Shared;

/// Interaction types, as Discord numbers them.
pub(crate) mod kind {
    pub(crate) const COMMAND: u64 = 2;
    pub(crate) const COMPONENT: u64 = 3;
    pub(crate) const AUTOCOMPLETE: u64 = 4;
}

/// An interaction ready to push with [`FakeDiscord::send_interaction`]; its id and token name
/// the answers a test then awaits.
///
/// [`FakeDiscord::send_interaction`]: super::FakeDiscord::send_interaction
#[derive(Clone, Debug, PartialEq)]
pub struct InteractionPayload {
    /// The interaction id.
    pub id: u64,
    /// The interaction token: the key of its callback and webhook routes.
    pub token: String,
    /// The application the interaction is for.
    pub application_id: u64,
    /// The interaction type: 2 command, 3 component, 4 autocomplete.
    pub kind: u64,
    /// The dispatch data of INTERACTION_CREATE, which a test may alter before sending.
    pub json: Value,
}

impl InteractionPayload {
    /// `/interactions/{id}/{token}/callback`: where the first response goes.
    pub fn callback_route(&self) -> String {
        format!("/interactions/{}/{}/callback", self.id, self.token)
    }

    /// `/webhooks/{app}/{token}`: where follow-ups go.
    pub fn webhook_route(&self) -> String {
        format!("/webhooks/{}/{}", self.application_id, self.token)
    }

    /// `/webhooks/{app}/{token}/messages/@original`: the first response's message.
    pub fn original_route(&self) -> String {
        format!("{}/messages/@original", self.webhook_route())
    }
}

/// A slash-command option value.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    /// Type 3.
    String(String),
    /// Type 4.
    Integer(i64),
    /// Type 5.
    Boolean(bool),
    /// Type 6: the member goes into `resolved.users` and `resolved.members`.
    User(Member),
    /// Type 10.
    Number(f64),
}

impl OptionValue {
    fn type_number(&self) -> u64 {
        match self {
            Self::String(_) => 3,
            Self::Integer(_) => 4,
            Self::Boolean(_) => 5,
            Self::User(_) => 6,
            Self::Number(_) => 10,
        }
    }

    fn value(&self) -> Value {
        match self {
            Self::String(s) => json!(s),
            Self::Integer(i) => json!(i),
            Self::Boolean(b) => json!(b),
            Self::User(member) => sf(member.user_id),
            Self::Number(n) => json!(n),
        }
    }
}

impl From<&str> for OptionValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_string())
    }
}

impl From<String> for OptionValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<i64> for OptionValue {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<bool> for OptionValue {
    fn from(value: bool) -> Self {
        Self::Boolean(value)
    }
}

impl From<f64> for OptionValue {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<Member> for OptionValue {
    fn from(value: Member) -> Self {
        Self::User(value)
    }
}

/// Where an interaction happens and who causes it; shared by every builder.
#[derive(Clone)]
struct Origin {
    shared: Arc<Shared>,
    member: Member,
    guild_id: u64,
    channel_id: u64,
    locale: String,
}

impl Origin {
    fn new(shared: Arc<Shared>) -> Self {
        let guild = shared.config.guilds.first();
        let guild_id = guild.map_or(0, |g| g.id);
        let channel_id = guild
            .and_then(|g| g.channel_ids.first().copied())
            .unwrap_or(0);
        Self {
            shared,
            member: Member::default(),
            guild_id,
            channel_id,
            locale: "en-US".into(),
        }
    }

    /// The INTERACTION_CREATE data around `data`.
    fn build(&self, kind: u64, data: Value, extra: Option<(&str, Value)>) -> InteractionPayload {
        let id = self.shared.next_id();
        let token = format!("fake-interaction-token-{id}");
        let application_id = self.shared.config.application_id;
        let mut json = json!({
            "id": sf(id),
            "application_id": sf(application_id),
            "type": kind,
            "data": data,
            "guild_id": sf(self.guild_id),
            "channel_id": sf(self.channel_id),
            "member": payloads::member(&self.member),
            "token": token,
            "version": 1,
            "app_permissions": APP_PERMISSIONS.to_string(),
            "locale": self.locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": sf(self.guild_id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        if let Some((key, value)) = extra {
            json[key] = value;
        }
        InteractionPayload {
            id,
            token,
            application_id,
            kind,
            json,
        }
    }
}

/// A chat-input command invocation, or an autocomplete request for one of its options.
/// Made by [`FakeDiscord::slash_command`] and [`FakeDiscord::autocomplete`].
///
/// [`FakeDiscord::slash_command`]: super::FakeDiscord::slash_command
/// [`FakeDiscord::autocomplete`]: super::FakeDiscord::autocomplete
#[must_use = "a builder does nothing until built and sent"]
pub struct SlashCommand {
    origin: Origin,
    path: Vec<String>,
    options: Vec<(String, OptionValue)>,
    focused: Option<(String, String)>,
}

impl SlashCommand {
    /// # Panics
    /// If `path` is not one to three names separated by spaces (`ping`, `vm start`,
    /// `class member add`).
    pub(crate) fn new(shared: Arc<Shared>, path: &str) -> Self {
        let path: Vec<String> = path.split_whitespace().map(str::to_string).collect();
        assert!(
            (1..=3).contains(&path.len()),
            "command path {path:?} must be 1 to 3 names: command, [group,] sub-command"
        );
        Self {
            origin: Origin::new(shared),
            path,
            options: Vec::new(),
            focused: None,
        }
    }

    pub(crate) fn autocomplete(shared: Arc<Shared>, path: &str, option: &str, typed: &str) -> Self {
        let mut command = Self::new(shared, path);
        command.focused = Some((option.to_string(), typed.to_string()));
        command
    }

    /// Invoked by `member` (by default [`Member::default`], who has no roles).
    pub fn by(mut self, member: Member) -> Self {
        self.origin.member = member;
        self
    }

    /// Invoked in this guild and channel (by default the first configured ones).
    pub fn in_channel(mut self, guild_id: u64, channel_id: u64) -> Self {
        self.origin.guild_id = guild_id;
        self.origin.channel_id = channel_id;
        self
    }

    /// With the invoker's locale (by default `en-US`).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.origin.locale = locale.into();
        self
    }

    /// Adds an option of the innermost (sub-)command.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<OptionValue>) -> Self {
        self.options.push((name.into(), value.into()));
        self
    }

    /// The payload, with a fresh id and token.
    pub fn build(self) -> InteractionPayload {
        let mut leaf: Vec<Value> = self
            .options
            .iter()
            .map(|(name, value)| json!({"name": name, "type": value.type_number(), "value": value.value()}))
            .collect();
        if let Some((name, typed)) = &self.focused {
            leaf.push(json!({"name": name, "type": 3, "value": typed, "focused": true}));
        }
        let options = match self.path.as_slice() {
            [_] => leaf,
            [_, sub] => vec![json!({"name": sub, "type": 1, "options": leaf})],
            [_, group, sub] => vec![json!({
                "name": group, "type": 2,
                "options": [{"name": sub, "type": 1, "options": leaf}],
            })],
            _ => unreachable!("the path length is checked in SlashCommand::new"),
        };
        let name = &self.path[0];
        let guild_id = self.origin.guild_id;
        let command_id = self
            .origin
            .shared
            .lock()
            .command_id(name, Some(guild_id))
            .map_or_else(|| sf(self.origin.shared.next_id()), Value::String);
        let data = json!({
            "id": command_id,
            "name": name,
            "type": 1,
            "options": options,
            "resolved": self.resolved(),
            "guild_id": sf(guild_id),
        });
        let kind = if self.focused.is_some() {
            kind::AUTOCOMPLETE
        } else {
            kind::COMMAND
        };
        self.origin.build(kind, data, None)
    }

    /// `resolved.users` and `resolved.members` for the user options.
    fn resolved(&self) -> Value {
        let mut users = BTreeMap::new();
        let mut members = BTreeMap::new();
        for (_, value) in &self.options {
            if let OptionValue::User(member) = value {
                let id = member.user_id.to_string();
                users.insert(
                    id.clone(),
                    payloads::user(member.user_id, &member.username, false),
                );
                members.insert(id, payloads::partial_member(member));
            }
        }
        json!({"users": users, "members": members})
    }
}

/// A press on a button of a message the bot sent. Made by [`FakeDiscord::button_press`].
///
/// [`FakeDiscord::button_press`]: super::FakeDiscord::button_press
#[must_use = "a builder does nothing until built and sent"]
pub struct ButtonPress {
    origin: Origin,
    custom_id: String,
    message: Value,
}

impl ButtonPress {
    pub(crate) fn new(shared: Arc<Shared>, custom_id: &str, message: &Value) -> Self {
        let mut origin = Origin::new(shared);
        if let Some(channel_id) = json_snowflake(&message["channel_id"]) {
            origin.channel_id = channel_id;
        }
        if let Some(guild_id) = json_snowflake(&message["guild_id"]) {
            origin.guild_id = guild_id;
        }
        Self {
            origin,
            custom_id: custom_id.to_string(),
            message: message.clone(),
        }
    }

    /// Pressed by `member` (by default [`Member::default`]).
    pub fn by(mut self, member: Member) -> Self {
        self.origin.member = member;
        self
    }

    /// The payload, with a fresh id and token.
    pub fn build(self) -> InteractionPayload {
        let data = json!({"custom_id": self.custom_id, "component_type": 2});
        self.origin
            .build(kind::COMPONENT, data, Some(("message", self.message)))
    }
}
