//! Direct messages: the core's outbox delivered to Discord users ("your VM is ready", quota
//! and shutdown warnings). A user who closed their direct messages (Discord's code 50007) is
//! unreachable, not an error: the event is settled and the next one goes out.

use std::sync::Arc;

use serenity::all::{CreateMessage, Http, HttpError, UserId};
use serenity::builder::Builder;

use super::message::Message;
use super::respond::{no_mentions, Outgoing};
use super::stash::Stash;
use crate::notify::{Delivery, DeliveryError, Notice, Notifier};
use crate::parse::people::UserRef;
use crate::render::sanitize::sanitize_reply;

/// Discord's error code for "Cannot send messages to this user".
pub const DMS_CLOSED: isize = 50007;

/// Sends notices as direct messages through Discord's REST API.
#[derive(Clone)]
pub struct DiscordNotifier {
    http: Arc<Http>,
    stash: Arc<Stash>,
}

impl std::fmt::Debug for DiscordNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordNotifier").finish_non_exhaustive()
    }
}

impl DiscordNotifier {
    /// A notifier over `http`; long button command lines are kept in `stash` (the bot's, so
    /// a press on a DM's button finds them).
    pub fn new(http: Arc<Http>, stash: Arc<Stash>) -> Self {
        Self { http, stash }
    }
}

impl Notifier for DiscordNotifier {
    async fn deliver(&self, notice: &Notice) -> Result<Delivery, DeliveryError> {
        let Some(UserRef::Discord(id)) = notice.to.user_ref() else {
            return Ok(Delivery::Unreachable {
                reason: "not a Discord user".to_owned(),
            });
        };
        let message = Message::of(&sanitize_reply(notice.message.clone()));
        if message.pages.len() > 1 {
            tracing::warn!(event = %notice.event_id, "a direct message is longer than one page; only the first is sent");
        }
        let channel = match UserId::new(id.get()).create_dm_channel(&*self.http).await {
            Ok(channel) => channel,
            Err(e) => return classify(e),
        };
        let out = Outgoing::page(&self.stash, &message, 0, None, true);
        let sent = out
            .into_create_message(CreateMessage::new())
            .execute(&*self.http, (channel.id, None))
            .await;
        match sent {
            Ok(_) => Ok(Delivery::Delivered),
            Err(e) => classify(e),
        }
    }
}

/// A failed request as the courier needs it: closed DMs and other refusals no retry can fix
/// are unreachable; Discord being down, rate limits, a bad token and the network are tried
/// again later.
fn classify(error: serenity::Error) -> Result<Delivery, DeliveryError> {
    if let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = &error {
        let status = response.status_code.as_u16();
        let code = response.error.code;
        if code == DMS_CLOSED {
            return Ok(Delivery::Unreachable {
                reason: "they do not accept direct messages from the bot".to_owned(),
            });
        }
        if matches!(status, 400 | 403 | 404) {
            return Ok(Delivery::Unreachable {
                reason: format!(
                    "Discord refused the message: {status} (code {code}) {}",
                    response.error.message
                ),
            });
        }
    }
    Err(DeliveryError::new(format!("Discord: {error}")))
}

impl Outgoing {
    /// The page as a channel message (a direct message).
    pub(super) fn into_create_message(self, base: CreateMessage) -> CreateMessage {
        let (content, embeds, rows, files) = self.into_parts();
        let mut message = base
            .embeds(embeds)
            .components(rows)
            .files(files)
            .allowed_mentions(no_mentions());
        if !content.is_empty() {
            message = message.content(content);
        }
        message
    }
}
