//! What a class as a whole hears, rather than one person: announcements that a session opens
//! (from the outbox) and the audit trail (from the core's audit feed). Each is read from its own
//! durable cursor and acknowledged once handed out, so a restart repeats at most what was in
//! hand. The console prints the items as lines after each command; the Discord bot posts them to
//! the server's channels.

use pvelab_core::events::{ConsumerName, LabEvent};
use pvelab_core::model::AuditEntry;
use pvelab_core::types::ClassId;
use pvelab_core::{Error, Lab};

use crate::commands::audit::entry_line;

/// The most items read at once from each source.
const BATCH: u32 = 100;

/// One item for a class's channel.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedItem {
    /// A session of the class opens soon.
    Announcement {
        /// The class.
        class_id: ClassId,
        /// The message.
        text: String,
    },
    /// An entry of the audit trail.
    Audit(Box<AuditEntry>),
}

impl FeedItem {
    /// The item as one console line: `[class net101] …` or `[audit] …`.
    pub fn console_line(&self) -> String {
        match self {
            FeedItem::Announcement { text, .. } => text.clone(),
            FeedItem::Audit(entry) => format!("[audit] {}", entry_line(entry)),
        }
    }

    /// The class the item is about, if any (which server's channel it goes to).
    pub fn class_id(&self) -> Option<ClassId> {
        match self {
            FeedItem::Announcement { class_id, .. } => Some(*class_id),
            FeedItem::Audit(entry) => entry.class_id,
        }
    }
}

/// The announcement of a session opening, or `None` for any other event.
pub fn announcement(event: &LabEvent) -> Option<FeedItem> {
    let LabEvent::SessionOpening {
        class_id,
        class_name,
        session,
        starts_at,
        ends_at,
        zone,
    } = event
    else {
        return None;
    };
    let local = |at: &jiff::Timestamp| match jiff::tz::TimeZone::get(zone) {
        Ok(tz) => at.to_zoned(tz).strftime("%H:%M").to_string(),
        Err(_) => at.strftime("%H:%M UTC").to_string(),
    };
    Some(FeedItem::Announcement {
        class_id: *class_id,
        text: format!(
            "[class {class_name}] Session {session} opens at {} and lasts until {} ({zone}); \
             your VMs are being started.",
            local(starts_at),
            local(ends_at)
        ),
    })
}

/// Reads a class feed from two cursors named after `prefix` (`console-class` in the outbox,
/// `console-audit` in the audit feed).
#[derive(Debug, Clone)]
pub struct ClassFeed {
    lab: Lab,
    events: ConsumerName,
    audit: ConsumerName,
}

impl ClassFeed {
    /// The feed of a front end; `prefix` names its cursors (`console`, `discord`).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when the prefix makes no valid consumer name.
    pub fn new(lab: Lab, prefix: &str) -> Result<Self, Error> {
        Ok(Self {
            lab,
            events: ConsumerName::parse(&format!("{prefix}-class"))?,
            audit: ConsumerName::parse(&format!("{prefix}-audit"))?,
        })
    }

    /// Marks the whole audit trail so far as handed out, so a feed that starts (a console
    /// session) shows the entries written from now on rather than the trail's history, which
    /// `/audit` shows on request.
    ///
    /// # Errors
    /// [`Error`] when the lab cannot be read or the cursor moved.
    pub async fn skip_audit_backlog(&self) -> Result<(), Error> {
        loop {
            let entries = self.lab.audit_after(&self.audit, BATCH).await?;
            let Some(last) = entries.last().map(|e| e.id) else {
                return Ok(());
            };
            self.lab.ack_audit(&self.audit, last).await?;
        }
    }

    /// Everything not handed out yet, announcements first, each source in order; acknowledged
    /// as read.
    ///
    /// # Errors
    /// [`Error`] when the lab cannot be read or the cursors moved.
    pub async fn drain(&self) -> Result<Vec<FeedItem>, Error> {
        let mut items = Vec::new();
        loop {
            let events = self.lab.events_after(&self.events, BATCH).await?;
            let Some(last) = events.last().map(|e| e.id) else {
                break;
            };
            items.extend(events.iter().filter_map(|e| announcement(&e.event)));
            self.lab.ack_events(&self.events, last).await?;
        }
        loop {
            let entries = self.lab.audit_after(&self.audit, BATCH).await?;
            let Some(last) = entries.last().map(|e| e.id) else {
                break;
            };
            items.extend(entries.into_iter().map(|e| FeedItem::Audit(Box::new(e))));
            self.lab.ack_audit(&self.audit, last).await?;
        }
        Ok(items)
    }
}
