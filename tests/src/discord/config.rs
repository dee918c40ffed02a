//! Who the fake Discord says everyone is: the application, its bot user, the guilds and the
//! members that interactions come from.

use std::time::Duration;

/// The application id the fake reports by default (Discord gives a bot user the same id).
pub const DEFAULT_APPLICATION_ID: u64 = 1_100_000_000_000_000_001;
/// The id of the default guild.
pub const DEFAULT_GUILD_ID: u64 = 1_100_000_000_000_000_100;
/// The id of the default guild's text channel, where interactions happen by default.
pub const DEFAULT_CHANNEL_ID: u64 = 1_100_000_000_000_000_200;
/// The id of the application's owner.
pub const DEFAULT_OWNER_ID: u64 = 1_100_000_000_000_000_300;
/// The id of the member who invokes interactions unless a test says otherwise.
pub const DEFAULT_MEMBER_ID: u64 = 1_100_000_000_000_000_400;

/// How the fake Discord describes its world. `Default` gives one guild with one channel and an
/// application whose bot user shares its id.
#[derive(Clone, Debug)]
pub struct FakeDiscordConfig {
    /// The application id (`READY.application.id`, the `{app}` of command and webhook routes).
    pub application_id: u64,
    /// The bot user's id.
    pub bot_user_id: u64,
    /// The bot user's name.
    pub bot_username: String,
    /// The application owner's id (`GET /oauth2/applications/@me`).
    pub owner_id: u64,
    /// The guilds the bot is in: listed in READY, each announced by a GUILD_CREATE.
    pub guilds: Vec<FakeGuild>,
    /// What HELLO asks the bot to heartbeat at.
    pub heartbeat_interval: Duration,
    /// How long each `wait_*` method of the fake waits before failing.
    pub wait_timeout: Duration,
}

impl Default for FakeDiscordConfig {
    fn default() -> Self {
        Self {
            application_id: DEFAULT_APPLICATION_ID,
            bot_user_id: DEFAULT_APPLICATION_ID,
            bot_username: "pvelab-bot".into(),
            owner_id: DEFAULT_OWNER_ID,
            guilds: vec![FakeGuild::new(DEFAULT_GUILD_ID, "pvelab test guild")
                .with_channel(DEFAULT_CHANNEL_ID)],
            heartbeat_interval: Duration::from_millis(41_250),
            wait_timeout: Duration::from_secs(10),
        }
    }
}

/// A guild the bot is in.
#[derive(Clone, Debug)]
pub struct FakeGuild {
    /// The guild id (also the id of its `@everyone` role).
    pub id: u64,
    /// The guild name.
    pub name: String,
    /// Its text channels: messages to these ids are accepted.
    pub channel_ids: Vec<u64>,
    /// Its roles besides `@everyone`.
    pub roles: Vec<FakeRole>,
}

impl FakeGuild {
    /// A guild with no channels and no roles besides `@everyone`.
    pub fn new(id: u64, name: impl Into<String>) -> Self {
        Self {
            id,
            name: name.into(),
            channel_ids: Vec::new(),
            roles: Vec::new(),
        }
    }

    /// Adds a text channel.
    pub fn with_channel(mut self, channel_id: u64) -> Self {
        self.channel_ids.push(channel_id);
        self
    }

    /// Adds a role.
    pub fn with_role(mut self, id: u64, name: impl Into<String>) -> Self {
        self.roles.push(FakeRole {
            id,
            name: name.into(),
        });
        self
    }
}

/// A guild role: what the bot maps to lab permissions by id.
#[derive(Clone, Debug)]
pub struct FakeRole {
    /// The role id.
    pub id: u64,
    /// The role name (the bot must not rely on it).
    pub name: String,
}

/// A guild member: who invokes an interaction, or a user picked in a user option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The user id.
    pub user_id: u64,
    /// The user name.
    pub username: String,
    /// The role ids the member holds (besides `@everyone`).
    pub role_ids: Vec<u64>,
    /// The member's resolved permissions in the channel (a bit set, as Discord sends it).
    pub permissions: u64,
}

impl Member {
    /// A member with no roles and no permissions.
    pub fn new(user_id: u64, username: impl Into<String>) -> Self {
        Self {
            user_id,
            username: username.into(),
            role_ids: Vec::new(),
            permissions: 0,
        }
    }

    /// Gives the member these roles.
    pub fn with_roles(mut self, role_ids: impl IntoIterator<Item = u64>) -> Self {
        self.role_ids = role_ids.into_iter().collect();
        self
    }

    /// Gives the member these resolved permissions.
    pub fn with_permissions(mut self, permissions: u64) -> Self {
        self.permissions = permissions;
        self
    }
}

impl Default for Member {
    fn default() -> Self {
        Self::new(DEFAULT_MEMBER_ID, "student")
    }
}
