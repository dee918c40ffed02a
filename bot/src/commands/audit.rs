//! `/audit [class] [user]`: the latest entries of the audit trail, for those allowed to read
//! them (adminers everything, teachers their classes); and the one wording of an entry, which
//! the audit channel and the console's audit lines use too.

use pvelab_core::model::{AuditEntry, AuditOutcome, AuditQuery};
use pvelab_core::types::ClassName;

use super::{CommandContext, CommandError, Reply};
use crate::parse::people::UserRef;
use crate::render::format;

/// How many entries `/audit` shows.
const SHOWN: u32 = 20;

/// One entry as a line: `2027-01-15 07:50 UTC · system · net101 · vm_started_for_session ·
/// done · VM 102 started for session 1`.
pub fn entry_line(entry: &AuditEntry) -> String {
    let class = entry
        .class_name
        .as_ref()
        .map(|n| n.to_string())
        .or_else(|| entry.class_id.map(|id| format!("class {id}")))
        .unwrap_or_else(|| "-".to_owned());
    let mut line = format!(
        "{} · {} · {} · {} · {}",
        format::instant(entry.at),
        entry.actor_text(),
        class,
        entry.action,
        entry.outcome
    );
    if let Some(subject) = entry.subject_text() {
        line.push_str(&format!(" · about {subject}"));
    }
    if !entry.detail.is_empty() {
        line.push_str(" · ");
        line.push_str(&entry.detail);
    }
    line
}

/// `/audit [class] [user]`.
///
/// # Errors
/// [`CommandError::Core`]: a teacher without `class` (they read their classes' trails only), a
/// class they do not teach, an unknown class.
pub async fn audit(
    ctx: &CommandContext,
    class: Option<&ClassName>,
    user: Option<&UserRef>,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = match class {
        Some(name) => Some(ctx.class(&actor, name).await?),
        None => None,
    };
    let user = match user {
        Some(who) => Some(ctx.known_person(&actor, who).await?),
        None => None,
    };
    let entries = ctx
        .lab
        .audit(
            &actor,
            AuditQuery {
                class: class.as_ref().map(|c| c.id),
                user: user.as_ref().map(|u| u.id),
                limit: Some(SHOWN),
            },
        )
        .await?;
    let scope = match (&class, &user) {
        (Some(c), Some(u)) => format!("{} by or about {}", c.name, format::person(u)),
        (Some(c), None) => c.name.to_string(),
        (None, Some(u)) => format!("by or about {}", format::person(u)),
        (None, None) => "everything".to_owned(),
    };
    if entries.is_empty() {
        return Ok(Reply::text(format!("The audit trail of {scope} is empty.")).ephemeral());
    }
    let refused = entries
        .iter()
        .filter(|e| e.outcome != AuditOutcome::Done)
        .count();
    let mut reply = Reply::titled(format!("Audit trail: {scope}")).line(format!(
        "the latest {} entries, newest first ({refused} refused or failed)",
        entries.len()
    ));
    for entry in &entries {
        reply = reply.line(entry_line(entry));
    }
    Ok(reply.ephemeral())
}
