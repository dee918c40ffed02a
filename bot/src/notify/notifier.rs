//! What a front end implements to deliver messages to people: one [`Notice`] to one person,
//! answered with a [`Delivery`] or a [`DeliveryError`].

use std::future::Future;

use jiff::Timestamp;
use pvelab_core::events::EventId;
use pvelab_core::types::UserId;

use crate::commands::Reply;
use crate::parse::people::{ConsoleName, Snowflake, UserRef};

/// The person a message is for, as the core knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The core's id.
    pub user_id: UserId,
    /// The front end's id of the person (`discord:123`, `console:alice`); `None` for a local
    /// login that no front end reaches.
    pub external_id: Option<String>,
    /// The name to show (display name, else user name, else external id).
    pub name: String,
}

impl Recipient {
    /// The person as a front end addresses them, read from the external id; `None` when it is
    /// not one of the bot's (`discord:<id>`, `console:<name>`).
    pub fn user_ref(&self) -> Option<UserRef> {
        let (front_end, id) = self.external_id.as_deref()?.split_once(':')?;
        match front_end {
            "discord" => Snowflake::parse(id).map(UserRef::Discord),
            "console" => ConsoleName::parse(id).map(UserRef::Console),
            _ => None,
        }
    }
}

/// One rendered message for one person, made from one outbox event.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The outbox event it comes from. Delivery is at least once: after a restart (or a
    /// failed acknowledgement) the same event may be delivered again, with the same id. A
    /// notifier that must never repeat a message keeps the ids it delivered and skips them.
    pub event_id: EventId,
    /// When the change it reports was committed.
    pub at: Timestamp,
    /// Whom it is for.
    pub to: Recipient,
    /// What they read, worded by [`crate::render::events`].
    pub message: Reply,
}

/// What became of a notice that did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The person has it.
    Delivered,
    /// The person cannot be reached this way and retrying will not change that: they closed
    /// their direct messages, left every server the bot shares, or are not a user of this
    /// front end. Not an error: it is logged and the event is acknowledged. A refusal of the
    /// message itself that no retry can fix belongs here too; as a [`DeliveryError`] it would
    /// hold up every message after it.
    Unreachable {
        /// Why, for the log.
        reason: String,
    },
}

/// A delivery that failed for now (the front end's service is down, a timeout, a rate limit):
/// the event is not acknowledged and is tried again later, in order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DeliveryError {
    reason: String,
}

impl DeliveryError {
    /// A transient failure, with its reason for the log.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Why it failed.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// Delivers messages to people through one front end (Discord direct messages, console lines).
///
/// Implementations decide for themselves whom they reach (by [`Recipient::user_ref`]); a
/// person of another front end is [`Delivery::Unreachable`]. Called for one notice at a time,
/// in the order of the outbox.
pub trait Notifier: Send + Sync {
    /// Delivers `notice` to `notice.to`.
    ///
    /// # Errors
    /// [`DeliveryError`] when it failed for now and should be tried again later.
    fn deliver(
        &self,
        notice: &Notice,
    ) -> impl Future<Output = Result<Delivery, DeliveryError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient(external_id: Option<&str>) -> Recipient {
        Recipient {
            user_id: UserId::new(1),
            external_id: external_id.map(str::to_owned),
            name: "x".into(),
        }
    }

    #[test]
    fn the_external_id_says_which_front_end_reaches_the_person() {
        assert_eq!(
            recipient(Some("discord:42")).user_ref(),
            Some(UserRef::Discord(Snowflake::parse("42").unwrap()))
        );
        assert_eq!(
            recipient(Some("console:alice")).user_ref(),
            Some(UserRef::Console(ConsoleName::parse("alice").unwrap()))
        );
        for other in [
            Some("mail:a@b"),
            Some("discord:abc"),
            Some("pvelab:configuration"),
            None,
        ] {
            assert_eq!(recipient(other).user_ref(), None, "{other:?}");
        }
    }
}
