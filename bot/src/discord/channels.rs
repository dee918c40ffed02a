//! The class feed on Discord: session announcements and audit entries posted to the channels a
//! server configures (`announce_channel`, `audit_channel` in `[[discord.guild]]`) as they
//! happen.
//!
//! An item about a class goes to the server the class belongs to (its scope); an audit entry of
//! no class (a role change, a setting) goes to every configured audit channel. Items are
//! acknowledged when read, so a post that fails is logged and not repeated: a channel is a
//! record for people to glance at, and the full trail stays in the core (`/audit`).

use std::sync::Arc;
use std::time::Duration;

use pvelab_core::types::ClassId;
use pvelab_core::Lab;
use serenity::all::{ChannelId, CreateMessage, Http};
use tokio_util::sync::CancellationToken;

use crate::config::GuildSettings;
use crate::notify::{ClassFeed, FeedItem};

/// How often the feed is read when nothing wakes it (events of other processes).
const POLL: Duration = Duration::from_secs(30);
/// Discord's longest message.
const MESSAGE_LIMIT: usize = 2000;

/// Posts the class feed to the servers' channels until stopped.
pub struct ChannelPoster {
    lab: Lab,
    http: Arc<Http>,
    guilds: Vec<GuildSettings>,
    feed: ClassFeed,
}

impl std::fmt::Debug for ChannelPoster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelPoster").finish_non_exhaustive()
    }
}

impl ChannelPoster {
    /// A poster for `guilds`, or `None` when no server configures a channel.
    pub fn new(lab: Lab, http: Arc<Http>, guilds: &[GuildSettings]) -> Option<Self> {
        let guilds: Vec<GuildSettings> = guilds
            .iter()
            .filter(|g| g.audit_channel.is_some() || g.announce_channel.is_some())
            .cloned()
            .collect();
        if guilds.is_empty() {
            return None;
        }
        let feed = ClassFeed::new(lab.clone(), "discord").ok()?;
        Some(Self {
            lab,
            http,
            guilds,
            feed,
        })
    }

    /// Reads and posts until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        let mut wake = self.lab.subscribe();
        while !stop.is_cancelled() {
            match self.feed.drain().await {
                Ok(items) => {
                    for item in &items {
                        self.post(item).await;
                    }
                }
                Err(e) => tracing::warn!("the class feed could not be read: {e}"),
            }
            tokio::select! {
                biased;
                () = stop.cancelled() => break,
                _ = wake.changed() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// The servers an item about `class` goes to (all for no class).
    async fn guilds_of(&self, class: Option<ClassId>) -> Vec<&GuildSettings> {
        let Some(class) = class else {
            return self.guilds.iter().collect();
        };
        let scope = match crate::app::clusters::program_actor(&self.lab).await {
            Ok(actor) => match self.lab.class(&actor, class).await {
                Ok(class) => class.scope,
                Err(_) => None,
            },
            Err(_) => None,
        };
        let Some(scope) = scope else {
            return Vec::new();
        };
        self.guilds
            .iter()
            .filter(|g| g.id.to_string() == scope.to_string())
            .collect()
    }

    async fn post(&self, item: &FeedItem) {
        let text: String = item.console_line().chars().take(MESSAGE_LIMIT).collect();
        for guild in self.guilds_of(item.class_id()).await {
            let channel = match item {
                FeedItem::Announcement { .. } => guild.announce_channel.or(guild.audit_channel),
                FeedItem::Audit(_) => guild.audit_channel,
            };
            let Some(channel) = channel else { continue };
            let message = CreateMessage::new()
                .content(text.clone())
                .allowed_mentions(serenity::all::CreateAllowedMentions::new());
            if let Err(e) = ChannelId::new(channel.get())
                .send_message(&*self.http, message)
                .await
            {
                tracing::warn!(%channel, "a class feed message could not be posted: {e}");
            }
        }
    }
}
