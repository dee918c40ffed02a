//! Waiting for what the bot does: every wait is bounded by
//! [`FakeDiscordConfig::wait_timeout`](super::FakeDiscordConfig::wait_timeout) and fails with
//! a listing of what the fake did receive, so a test never sleeps and never hangs.

use std::time::Duration;

use serde_json::Value;

use super::error::listing;
use super::journal::Missed;
use super::{FakeDiscord, FakeDiscordError, GatewayFrame, InteractionPayload, RecordedRequest};

impl FakeDiscord {
    /// The first request (oldest first) that `matches`, waiting for it if need be.
    /// `what` describes it for the failure message.
    pub async fn wait_for_request(
        &self,
        what: &str,
        matches: impl Fn(&RecordedRequest) -> bool,
    ) -> Result<RecordedRequest, FakeDiscordError> {
        let waited = self.shared.config.wait_timeout;
        self.shared
            .requests
            .wait_for(waited, matches, ToString::to_string)
            .await
            .map_err(|missed| self.requests_timeout(what, missed))
    }

    /// The first `count` requests that `matches` (oldest first), once that many arrived.
    pub async fn wait_for_requests(
        &self,
        what: &str,
        count: usize,
        matches: impl Fn(&RecordedRequest) -> bool,
    ) -> Result<Vec<RecordedRequest>, FakeDiscordError> {
        let waited = self.shared.config.wait_timeout;
        self.shared
            .requests
            .wait_for_count(waited, count, matches, ToString::to_string)
            .await
            .map_err(|missed| self.requests_timeout(&format!("{count} × {what}"), missed))
    }

    /// The first gateway frame from the bot that `matches`, waiting for it if need be.
    pub async fn wait_for_frame(
        &self,
        what: &str,
        matches: impl Fn(&GatewayFrame) -> bool,
    ) -> Result<GatewayFrame, FakeDiscordError> {
        let waited = self.shared.config.wait_timeout;
        self.shared
            .frames
            .wait_for(waited, matches, ToString::to_string)
            .await
            .map_err(|missed| frames_timeout(what, waited, missed))
    }

    /// The first `count` gateway frames that `matches`, once that many arrived.
    pub async fn wait_for_frames(
        &self,
        what: &str,
        count: usize,
        matches: impl Fn(&GatewayFrame) -> bool,
    ) -> Result<Vec<GatewayFrame>, FakeDiscordError> {
        let waited = self.shared.config.wait_timeout;
        self.shared
            .frames
            .wait_for_count(waited, count, matches, ToString::to_string)
            .await
            .map_err(|missed| frames_timeout(&format!("{count} × {what}"), waited, missed))
    }

    /// A timeout listing every request, then the opcodes of the bot's gateway frames (which
    /// tell whether it connected at all).
    fn requests_timeout(&self, what: &str, missed: Missed) -> FakeDiscordError {
        let frames: Vec<String> = self
            .gateway_frames()
            .iter()
            .map(|f| format!("op {}", f.op))
            .collect();
        FakeDiscordError::Timeout {
            what: what.to_string(),
            waited: self.shared.config.wait_timeout,
            seen: format!(
                "{}\n  gateway frames from the bot: [{}]",
                listing(&missed.seen),
                frames.join(", ")
            ),
        }
    }

    /// The bot's IDENTIFY data (token, intents, properties, `compress`), once it arrives.
    pub async fn wait_identified(&self) -> Result<Value, FakeDiscordError> {
        let frame = self
            .wait_for_frame("the bot's IDENTIFY (op 2)", |f| f.op == 2)
            .await?;
        Ok(frame.d)
    }

    /// The first successful command registration (bulk overwrite or single create, global or
    /// in a guild).
    pub async fn wait_commands_registered(&self) -> Result<RecordedRequest, FakeDiscordError> {
        self.wait_for_request("a successful command registration", |r| {
            let segments: Vec<&str> = r.route().trim_matches('/').split('/').collect();
            let is_registration = matches!(
                segments.as_slice(),
                ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]
            );
            is_registration && matches!(r.method.as_str(), "PUT" | "POST") && r.status < 300
        })
        .await
    }

    /// Waits until the bot has identified and registered its commands: from then on it
    /// answers interactions.
    pub async fn wait_bot_ready(&self) -> Result<(), FakeDiscordError> {
        self.wait_identified().await?;
        self.wait_commands_registered().await?;
        Ok(())
    }

    /// The first response to `interaction` (`POST /interactions/{id}/{token}/callback`).
    pub async fn wait_for_callback(
        &self,
        interaction: &InteractionPayload,
    ) -> Result<RecordedRequest, FakeDiscordError> {
        let route = interaction.callback_route();
        self.wait_for_request(&format!("POST {route}"), |r| r.is("POST", &route))
            .await
    }

    /// The first edit of `interaction`'s original response (`PATCH .../messages/@original`).
    pub async fn wait_for_original_edit(
        &self,
        interaction: &InteractionPayload,
    ) -> Result<RecordedRequest, FakeDiscordError> {
        let route = interaction.original_route();
        self.wait_for_request(&format!("PATCH {route}"), |r| r.is("PATCH", &route))
            .await
    }

    /// The first follow-up to `interaction` (`POST /webhooks/{app}/{token}`).
    pub async fn wait_for_followup(
        &self,
        interaction: &InteractionPayload,
    ) -> Result<RecordedRequest, FakeDiscordError> {
        let route = interaction.webhook_route();
        self.wait_for_request(&format!("POST {route}"), |r| r.is("POST", &route))
            .await
    }

    /// The first attempt to send a DM to `user_id` (`POST /channels/{dm}/messages` on the DM
    /// channel opened for that user), whatever it was answered.
    pub async fn wait_for_dm(&self, user_id: u64) -> Result<RecordedRequest, FakeDiscordError> {
        let shared = &self.shared;
        self.wait_for_request(&format!("a DM to user {user_id}"), |r| {
            let Some(channel) = shared.lock().dm_channels.get(&user_id).copied() else {
                return false;
            };
            r.is("POST", &format!("/channels/{channel}/messages"))
        })
        .await
    }
}

fn frames_timeout(what: &str, waited: Duration, missed: Missed) -> FakeDiscordError {
    FakeDiscordError::Timeout {
        what: what.to_string(),
        waited,
        seen: listing(&missed.seen),
    }
}
