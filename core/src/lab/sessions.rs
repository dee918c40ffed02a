//! Lab sessions through the facade: a class's teachers add, list and remove sessions; everyone
//! in the class sees the next one. The sessions job (`jobs/sessions.rs`) starts the student VMs
//! before each session and shuts them down after it.
//!
//! Sessions of one class may touch (one ends when the next starts) but never overlap: an
//! overlapping session is refused naming the one it overlaps, since two sessions at once would
//! start and stop the same VMs at different times and count the same time twice.

use jiff::Timestamp;

use super::classes::check_visible;
use super::Lab;
use crate::error::{Entity, Error, Result};
use crate::model::{next_session_of, ClassSession, NextSession, SessionId, SessionPlan};
use crate::rules::permissions::{Action, Actor};
use crate::store::classes::Class;
use crate::store::{audit, sessions, settings};
use crate::types::{ClassTimeZone, InvalidValue};

/// The zone a class's sessions are read in: its own, else the system default.
pub(crate) fn zone_of(tx: &rusqlite::Connection, class: &Class) -> Result<ClassTimeZone> {
    Ok(match &class.time_zone {
        Some(zone) => zone.clone(),
        None => settings::load(tx)?.default_time_zone(),
    })
}

impl Lab {
    /// Adds a session to the class (its teachers and adminers).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when it overlaps another session of the class (named), or a
    /// one-off session whose end has passed; [`Error::NotPermitted`]; [`Error::NotFound`].
    pub async fn add_session(
        &self,
        actor: &Actor,
        class: crate::types::ClassId,
        plan: SessionPlan,
    ) -> Result<ClassSession> {
        let by = actor.user_id();
        let now = self.now();
        self.class_write(actor, Action::ManageSessions, class, move |tx, stored| {
            let zone = zone_of(tx, &stored)?;
            if let Some(skipped) = plan.skipped_time(&zone) {
                return Err(InvalidValue::new(
                    "session",
                    plan,
                    format!(
                        "times that exist that day in {}: the clocks skip {skipped} for daylight \
                         saving; pick a time before or after the change",
                        zone.name()
                    ),
                )
                .into());
            }
            if plan.next_after(now, &zone).is_none() {
                return Err(InvalidValue::new(
                    "date",
                    plan,
                    format!(
                        "a date whose session has not ended yet (it is {} in {} now)",
                        now.to_zoned(zone.tz().clone()).strftime("%Y-%m-%d %H:%M"),
                        zone.name()
                    ),
                )
                .into());
            }
            if let Some(other) = sessions::list(tx, class)?
                .into_iter()
                .find(|s| s.plan.overlaps(&plan))
            {
                return Err(InvalidValue::new(
                    "session",
                    plan,
                    format!(
                        "a time that overlaps no other session of the class; it overlaps \
                         session {} ({}). Sessions may touch (one ending when the next starts) \
                         but not overlap: remove that one first or pick other times",
                        other.id, other.plan
                    ),
                )
                .into());
            }
            let added = sessions::insert(tx, class, &plan, by)?;
            audit::note(None, format!("session {} added: {plan}", added.id));
            Ok(added)
        })
        .await
    }

    /// The class's sessions, by number (everyone who sees the class).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a class the actor does not see.
    pub async fn sessions(
        &self,
        actor: &Actor,
        class: crate::types::ClassId,
    ) -> Result<Vec<ClassSession>> {
        let reader = *actor;
        self.class_read(actor, Action::ViewClass, class, move |tx, stored| {
            check_visible(tx, &reader, &stored)?;
            sessions::list(tx, class)
        })
        .await
    }

    /// Removes a session of the class (its teachers and adminers). A VM started for a running
    /// occurrence is left running: the hours and quota rules apply to it again.
    ///
    /// # Errors
    /// [`Error::NotFound`] naming the session when the class has no such session;
    /// [`Error::NotPermitted`].
    pub async fn remove_session(
        &self,
        actor: &Actor,
        class: crate::types::ClassId,
        session: SessionId,
    ) -> Result<()> {
        self.class_write(actor, Action::ManageSessions, class, move |tx, stored| {
            if !sessions::remove(tx, class, session)? {
                return Err(Error::not_found(
                    Entity::Session,
                    format!("{session} in class {}", stored.name),
                ));
            }
            audit::note(None, format!("session {session} removed"));
            Ok(())
        })
        .await
    }

    /// Running hours each student's VM spent inside the class's sessions (the quota does not
    /// count them); students with none are absent. For the class's teachers and adminers.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`].
    pub async fn session_hours(
        &self,
        actor: &Actor,
        class: crate::types::ClassId,
    ) -> Result<Vec<(crate::types::UserId, f64)>> {
        self.class_read(actor, Action::ListStudents, class, move |tx, _| {
            sessions::hours(tx, class)
        })
        .await
    }

    /// The class's next session (one running now included), in the class's zone; `None` when
    /// it has none ahead.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a class the actor does not see.
    pub async fn next_session(
        &self,
        actor: &Actor,
        class: crate::types::ClassId,
    ) -> Result<Option<NextSession>> {
        let reader = *actor;
        let now = self.now();
        self.class_read(actor, Action::ViewClass, class, move |tx, stored| {
            check_visible(tx, &reader, &stored)?;
            let zone = zone_of(tx, &stored)?;
            Ok(next_session_of(&sessions::list(tx, class)?, now, &zone))
        })
        .await
    }
}

/// Whether `at` lies in a session of the class (its lead time before the start included), in
/// the class's `zone`: such time is not charged to the quota, and no automatic shutdown rule
/// (hours, quota, idle) applies then.
pub(crate) fn in_session(
    list: &[ClassSession],
    zone: &ClassTimeZone,
    at: Timestamp,
    lead: jiff::SignedDuration,
) -> bool {
    list.iter().any(|s| {
        s.plan
            .next_after(at, zone)
            .is_some_and(|span| span.covers(at, lead))
    })
}

/// The part of `[from, to)` that lies in sessions of the class (lead included).
pub(crate) fn time_in_sessions(
    list: &[ClassSession],
    zone: &ClassTimeZone,
    from: Timestamp,
    to: Timestamp,
    lead: jiff::SignedDuration,
) -> jiff::SignedDuration {
    if to <= from {
        return jiff::SignedDuration::ZERO;
    }
    let mut total = jiff::SignedDuration::ZERO;
    for s in list {
        // Occurrences overlapping [from, to): walk from the first not ended at `from`.
        let mut cursor = from;
        while let Some(span) = s.plan.next_after(cursor, zone) {
            let open = span.starts_at - lead;
            if open >= to {
                break;
            }
            let start = open.max(from);
            let end = span.ends_at.min(to);
            if end > start {
                total += end.duration_since(start);
            }
            if span.ends_at >= to {
                break;
            }
            cursor = span.ends_at;
        }
    }
    // Sessions of a class never overlap, but their lead times may reach into the one before.
    total.min(to.duration_since(from))
}
