//! Submissions: students' `/vm submit`; teachers' `/class submissions`, `/class deadline` and
//! `/pool rollback`.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use pvelab_core::model::{Class, SubmissionDeadline};
use pvelab_core::types::{ClassName, SnapshotName, UserId};
use pvelab_core::{Entity, Error};

use super::checks::own_class;
use super::{ButtonStyle, CommandContext, CommandError, Reply};
use crate::console::grammar::quote_value;
use crate::parse::checks::DeadlineSetting;
use crate::parse::people::UserRef;
use crate::parse::OptionError;
use crate::render::format;

/// A deadline for people: in UTC, and in the class's time zone when it has one.
fn deadline_text(class: &Class, at: Timestamp) -> String {
    match &class.time_zone {
        Some(zone) => format!(
            "{} ({} {})",
            format::instant(at),
            at.to_zoned(zone.tz().clone()).strftime("%Y-%m-%d %H:%M"),
            zone.name()
        ),
        None => format::instant(at),
    }
}

/// The deadline's line: when, and whether the lab took the snapshots yet.
fn deadline_line(class: &Class, deadline: Option<&SubmissionDeadline>) -> String {
    match deadline {
        None => "deadline: none".to_owned(),
        Some(d) => match d.taken_at {
            None => format!(
                "deadline: {}; every student VM is snapshotted then",
                deadline_text(class, d.at)
            ),
            Some(taken) => format!(
                "deadline: {}; the snapshots were taken {}",
                deadline_text(class, d.at),
                format::instant(taken)
            ),
        },
    }
}

/// `/vm submit [class]`: snapshots the caller's VM as their submission.
///
/// # Errors
/// [`CommandError::Core`]: no VM in the class, Proxmox refusing the snapshot;
/// [`CommandError::Option`]: VMs in several classes and none named.
pub async fn submit(ctx: &CommandContext, name: Option<&ClassName>) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = own_class(ctx, &actor, name).await?;
    let submission = ctx.lab.submit(&actor, class.id).await?;
    let deadline = ctx.lab.deadline(&actor, class.id).await?;
    let mut reply = Reply::titled(format!("Your work in {} is submitted", class.name))
        .line(format!(
            "VM {} was saved as snapshot {} at {}.",
            submission.vm.vmid,
            submission.snapshot,
            format::instant(submission.taken_at)
        ))
        .line("You may keep working: the snapshot stays as it is, and your teacher sees it.");
    if deadline.is_some_and(|d| d.taken_at.is_none()) {
        reply = reply.line(deadline_line(&class, deadline.as_ref()));
    }
    Ok(reply.ephemeral())
}

/// `/class submissions class`: every student's submissions (a student sees their own), and
/// the deadline.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class.
pub async fn list(ctx: &CommandContext, class_name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let submissions = ctx.lab.submissions(&actor, class.id).await?;
    let deadline = ctx.lab.deadline(&actor, class.id).await?;
    let who: Vec<UserId> = submissions.iter().map(|s| s.student).collect();
    let names = super::pool::names(ctx, &actor, who).await?;
    let rows = submissions
        .iter()
        .map(|s| {
            vec![
                names.get(&s.student).cloned().unwrap_or_default(),
                s.vm.vmid.to_string(),
                s.snapshot.to_string(),
                format::instant(s.taken_at),
                if s.automatic {
                    "at the deadline"
                } else {
                    "by the student"
                }
                .to_owned(),
            ]
        })
        .collect();
    Ok(Reply::titled(format!("Submissions of {}", class.name))
        .line(deadline_line(&class, deadline.as_ref()))
        .table(&["STUDENT", "VM", "SNAPSHOT", "TAKEN", "HOW"], rows))
}

/// The instant a typed deadline stands for, in the class's time zone (UTC when it has none);
/// `None` clears it.
fn resolve(
    class: &Class,
    setting: DeadlineSetting,
    now: Timestamp,
    text: &str,
) -> Result<Option<Timestamp>, CommandError> {
    let zone = class
        .time_zone
        .as_ref()
        .map_or(TimeZone::UTC, |z| z.tz().clone());
    Ok(match setting {
        DeadlineSetting::Clear => None,
        DeadlineSetting::At(at) => Some(at),
        DeadlineSetting::Local(local) => Some(
            local
                .to_zoned(zone)
                .map_err(|e| OptionError::new("at", text, format!("a time that exists ({e})")))?
                .timestamp(),
        ),
        DeadlineSetting::In(length) => Some(
            now.checked_add(length)
                .map_err(|e| OptionError::new("at", text, format!("a nearer time ({e})")))?,
        ),
    })
}

/// `/class deadline class at`: sets the submission deadline (`none` clears it).
///
/// # Errors
/// [`CommandError::Core`]: an unknown class; not one of its teachers; a time not ahead.
pub async fn set_deadline(
    ctx: &CommandContext,
    class_name: &ClassName,
    setting: DeadlineSetting,
    text: &str,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let at = resolve(&class, setting, ctx.lab.clock().now(), text)?;
    let set = ctx.lab.set_deadline(&actor, class.id, at).await?;
    Ok(match set {
        None => Reply::text(format!(
            "{} has no submission deadline now; nothing is snapshotted automatically.",
            class.name
        )),
        Some(d) => Reply::titled(format!("Submission deadline of {}", class.name))
            .line(deadline_line(&class, Some(&d)))
            .line("Students can still submit before it with /vm submit."),
    })
}

/// `/pool rollback class user snapshot [confirm]`: asks first; with `confirm:yes` rolls the
/// student's VM back to that submission for grading.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class or submission; not one of its teachers; the
/// student no longer holds that VM; Proxmox refusing.
pub async fn rollback(
    ctx: &CommandContext,
    class_name: &ClassName,
    who: &UserRef,
    snapshot: &SnapshotName,
    confirmed: bool,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, class_name).await?;
    let student = ctx.known_person(&actor, who).await?;
    if !confirmed {
        // The submission must exist before anyone confirms.
        let known = ctx
            .lab
            .submissions(&actor, class.id)
            .await?
            .into_iter()
            .find(|s| s.student == student.id && s.snapshot == *snapshot)
            .ok_or_else(|| Error::NotFound {
                entity: Entity::Submission,
                key: format!("{snapshot} of {}", who.display()),
            })?;
        return Ok(
            Reply::titled(format!("Roll {}'s VM back to {}?", who.display(), snapshot))
                .line(format!(
                    "VM {} returns to how it was at {}; what changed since is lost unless it was \
             submitted later. The VM is stopped afterwards.",
                    known.vm.vmid,
                    format::instant(known.taken_at)
                ))
                .button(
                    "Roll back",
                    format!(
                        "/pool rollback class:{} user:{} snapshot:{snapshot} confirm:yes",
                        quote_value(class.name.as_str()),
                        quote_value(&who.display())
                    ),
                    ButtonStyle::Danger,
                )
                .ephemeral(),
        );
    }
    let done = ctx
        .lab
        .rollback_to_submission(&actor, class.id, student.id, snapshot)
        .await?;
    Ok(Reply::text(format!(
        "VM {} of {} is back at {} (taken {}). It is stopped: start it to look at the work.",
        done.vm.vmid,
        who.display(),
        done.snapshot,
        format::instant(done.taken_at)
    )))
}
