//! The fake's memory: what it has told the bot and what the bot has done, shared between the
//! REST server, the gateway and the test's handle.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::config::FakeDiscordConfig;
use super::gateway::{Dispatch, GatewayFrame};
use super::journal::Journal;
use super::request::RecordedRequest;

/// Everything the server tasks and the [`FakeDiscord`](super::FakeDiscord) handle share.
pub(crate) struct Shared {
    pub(crate) config: FakeDiscordConfig,
    /// `http://127.0.0.1:PORT`.
    pub(crate) api_url: String,
    /// `ws://127.0.0.1:PORT/` (serenity appends `?v=10`).
    pub(crate) gateway_url: String,
    pub(crate) requests: Journal<RecordedRequest>,
    pub(crate) frames: Journal<GatewayFrame>,
    /// The identified gateway session that dispatches go to, if any.
    pub(crate) session: watch::Sender<Option<mpsc::UnboundedSender<Dispatch>>>,
    pub(crate) state: Mutex<State>,
    next_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: FakeDiscordConfig, api_url: String, gateway_url: String) -> Self {
        Self {
            config,
            api_url,
            gateway_url,
            requests: Journal::new(),
            frames: Journal::new(),
            session: watch::Sender::new(None),
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1_200_000_000_000_000_000),
        }
    }

    /// A fresh snowflake, never handed out before by this fake.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("fake Discord state lock poisoned")
    }
}

/// Mutable state, behind one lock.
#[derive(Default)]
pub(crate) struct State {
    /// Interactions pushed over the gateway, by token.
    pub(crate) interactions: HashMap<String, InteractionState>,
    /// Registered commands: `None` for global ones, `Some(guild)` for a guild's.
    pub(crate) commands: HashMap<Option<u64>, Vec<Value>>,
    /// DM channel id for each user the bot opened one with.
    pub(crate) dm_channels: HashMap<u64, u64>,
    /// User objects the fake has seen, so a DM channel can name its recipient.
    pub(crate) users: HashMap<u64, Value>,
    /// Users whose DMs are closed: messages to them answer 403 with code 50007.
    pub(crate) closed_dms: HashSet<u64>,
}

impl State {
    /// The id of the command registered under `name` (global or in `guild_id`), if any.
    pub(crate) fn command_id(&self, name: &str, guild_id: Option<u64>) -> Option<String> {
        let scopes = [guild_id, None];
        scopes.iter().find_map(|scope| {
            self.commands.get(scope)?.iter().find_map(|c| {
                (c["name"] == name).then(|| c["id"].as_str().unwrap_or_default().to_string())
            })
        })
    }

    /// Puts the new state of a message everywhere the fake keeps a copy of it: an edit through
    /// one interaction (a button's UPDATE_MESSAGE) shows through the others (the command that
    /// posted the message).
    pub(crate) fn replace_message(&mut self, message: &Value) {
        for interaction in self.interactions.values_mut() {
            let copies = interaction
                .original
                .iter_mut()
                .chain(interaction.followups.iter_mut());
            for copy in copies {
                if copy["id"] == message["id"] {
                    *copy = message.clone();
                }
            }
        }
    }

    /// The user a DM channel leads to.
    pub(crate) fn dm_recipient(&self, channel_id: u64) -> Option<u64> {
        self.dm_channels
            .iter()
            .find_map(|(user, channel)| (*channel == channel_id).then_some(*user))
    }
}

/// What the fake knows of one interaction it pushed.
pub(crate) struct InteractionState {
    pub(crate) id: u64,
    /// The interaction type: 2 command, 3 component, 4 autocomplete, 5 modal submit.
    pub(crate) kind: u64,
    pub(crate) channel_id: u64,
    pub(crate) guild_id: Option<u64>,
    /// Whether the first response (the callback) has arrived.
    pub(crate) acknowledged: bool,
    /// The message the original response is: the reply, or for a component interaction the
    /// message the component is on.
    pub(crate) original: Option<Value>,
    /// Follow-up messages, oldest first.
    pub(crate) followups: Vec<Value>,
}
