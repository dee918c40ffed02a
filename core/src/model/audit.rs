//! The audit trail: who changed what, when, in which class, and how it ended.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::types::{ClassId, ClassName, Role, UserId};

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// The change was made (recorded in the same transaction as the change).
    Done,
    /// The permission table refused it.
    Refused,
    /// It was allowed but failed (bad input, a conflict, Proxmox refused).
    Failed,
}

impl AuditOutcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Done => "done",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Failed => "failed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        [
            AuditOutcome::Done,
            AuditOutcome::Refused,
            AuditOutcome::Failed,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its number (entries are numbered in the order they were written).
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// Who: a person, or `None` for the system (the core's background work).
    pub actor: Option<UserId>,
    /// The role the person acted with.
    pub actor_role: Option<Role>,
    /// What, as a stable name (`resize_pool`, `vm_shut_down`, `set_role`, ...).
    pub action: String,
    /// The class concerned, if any.
    pub class_id: Option<ClassId>,
    /// Its name when the entry was written (kept after the class is gone).
    pub class_name: Option<ClassName>,
    /// The person the change concerns (a student, the user whose role changed), if any.
    pub subject: Option<UserId>,
    /// The actor's name as pvelab knows it now (display name, login or external id).
    #[serde(default)]
    pub actor_name: Option<String>,
    /// The subject's name as pvelab knows it now.
    #[serde(default)]
    pub subject_name: Option<String>,
    /// More about what was done, or why it failed.
    pub detail: String,
    /// How it ended.
    pub outcome: AuditOutcome,
}

impl AuditEntry {
    /// `system`, or `tom (teacher)` (`user 7 (teacher)` when the name is not known).
    pub fn actor_text(&self) -> String {
        let Some(user) = self.actor else {
            return "system".to_owned();
        };
        let who = self
            .actor_name
            .clone()
            .unwrap_or_else(|| format!("user {user}"));
        match self.actor_role {
            Some(role) => format!("{who} ({role})"),
            None => who,
        }
    }

    /// `sam` (`user 12` when the name is not known), or `None` without a subject.
    pub fn subject_text(&self) -> Option<String> {
        let user = self.subject?;
        Some(
            self.subject_name
                .clone()
                .unwrap_or_else(|| format!("user {user}")),
        )
    }
}

/// Which entries `Lab::audit` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only this class's entries (required for teachers, who see their classes only).
    pub class: Option<ClassId>,
    /// Only entries made by or about this person.
    pub user: Option<UserId>,
    /// At most this many, newest first (default 20, at most 200).
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        actor: Option<(i64, Option<&str>)>,
        subject: Option<(i64, Option<&str>)>,
    ) -> AuditEntry {
        AuditEntry {
            id: 1,
            at: Timestamp::UNIX_EPOCH,
            actor: actor.map(|(id, _)| UserId::new(id)),
            actor_role: actor.map(|_| Role::Teacher),
            action: "resize_pool".into(),
            class_id: None,
            class_name: None,
            subject: subject.map(|(id, _)| UserId::new(id)),
            actor_name: actor.and_then(|(_, n)| n.map(str::to_owned)),
            subject_name: subject.and_then(|(_, n)| n.map(str::to_owned)),
            detail: String::new(),
            outcome: AuditOutcome::Done,
        }
    }

    #[test]
    fn people_are_named_and_numbered_only_when_their_name_is_unknown() {
        let named = entry(Some((3, Some("tom"))), Some((5, Some("sam"))));
        assert_eq!(named.actor_text(), "tom (teacher)");
        assert_eq!(named.subject_text().as_deref(), Some("sam"));
        let gone = entry(Some((3, None)), Some((5, None)));
        assert_eq!(gone.actor_text(), "user 3 (teacher)");
        assert_eq!(gone.subject_text().as_deref(), Some("user 5"));
        let system = entry(None, None);
        assert_eq!(system.actor_text(), "system");
        assert_eq!(system.subject_text(), None);
    }
}
