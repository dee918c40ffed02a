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
    /// More about what was done, or why it failed.
    pub detail: String,
    /// How it ended.
    pub outcome: AuditOutcome,
}

impl AuditEntry {
    /// `system`, or `user 7 (teacher)`.
    pub fn actor_text(&self) -> String {
        match (self.actor, self.actor_role) {
            (Some(user), Some(role)) => format!("user {user} ({role})"),
            (Some(user), None) => format!("user {user}"),
            _ => "system".to_owned(),
        }
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
