//! Lab sessions: `/class session add|list|remove`, and the next session line `/myvm` and
//! `/class info` show.

use pvelab_core::model::{
    Class, ClassSession, NextSession, SessionDay, SessionId, SessionPlan, SessionTime,
};
use pvelab_core::types::{ClassId, ClassName};
use pvelab_core::Actor;

use super::{CommandContext, CommandError, Reply};
use crate::parse::OptionError;
use crate::render::format;

/// Reads a `day` option (`monday`, `mon`).
///
/// # Errors
/// [`OptionError`] naming the value and the seven days.
pub fn day(option: &str, text: &str) -> Result<SessionDay, OptionError> {
    SessionDay::parse_weekday(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// Reads a `date` option (`2027-01-15`).
///
/// # Errors
/// [`OptionError`] naming the value and the form of a date.
pub fn date(option: &str, text: &str) -> Result<SessionDay, OptionError> {
    SessionDay::parse_date(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// Reads a `start` or `end` option (`09:00`).
///
/// # Errors
/// [`OptionError`] naming the value and the form of a time.
pub fn time(option: &str, text: &str) -> Result<SessionTime, OptionError> {
    let field = if option == "end" { "end" } else { "start" };
    SessionTime::parse(field, text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// Reads a `session` option (a number `/class session list` shows).
///
/// # Errors
/// [`OptionError`] naming the value.
pub fn session(option: &str, text: &str) -> Result<SessionId, OptionError> {
    SessionId::parse(text).map_err(|e| OptionError::from_invalid(option, text, &e))
}

/// The options of `/class session add`.
#[derive(Debug, Clone)]
pub struct AddArgs {
    /// Weekly on this day.
    pub day: Option<SessionDay>,
    /// Once on this date.
    pub date: Option<SessionDay>,
    /// From.
    pub start: SessionTime,
    /// To.
    pub end: SessionTime,
}

/// The class's zone as people read it.
fn zone_name(class: &Class) -> String {
    class
        .time_zone
        .as_ref()
        .map_or_else(|| "the lab's time zone".to_owned(), |z| z.name().to_owned())
}

/// `/class session add class (day | date) start end`.
///
/// # Errors
/// [`CommandError::Option`] for neither or both of `day` and `date`, or an end not after the
/// start; [`CommandError::Core`]: an overlapping session (named), a date that has passed, no
/// right to change the class.
pub async fn add(
    ctx: &CommandContext,
    name: &ClassName,
    args: AddArgs,
) -> Result<Reply, CommandError> {
    let day = match (args.day, args.date) {
        (Some(day), None) | (None, Some(day)) => day,
        (Some(_), Some(_)) => {
            return Err(OptionError::new(
                "date",
                "(with day)",
                "either day (weekly, e.g. day:monday) or date (once, e.g. date:2027-01-15), \
                 not both",
            )
            .into())
        }
        (None, None) => {
            return Err(OptionError::new(
                "day",
                "(missing)",
                "day:monday for a weekly session or date:2027-01-15 for one session",
            )
            .into())
        }
    };
    let plan = SessionPlan::new(day, args.start, args.end)
        .map_err(|e| OptionError::from_invalid("end", &args.end.to_string(), &e))?;
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let added = ctx.lab.add_session(&actor, class.id, plan).await?;
    let mut reply = Reply::titled(format!("Session {} of {} added", added.id, class.name))
        .line(format!("{} ({})", added.plan, zone_name(&class)));
    if let Some(line) = next_line(ctx, &actor, class.id).await? {
        reply = reply.line(line);
    }
    Ok(reply.line(
        "Student VMs are started shortly before each session and shut down after it; time in \
         sessions does not count against the quota.",
    ))
}

fn rows(sessions: &[ClassSession]) -> Vec<Vec<String>> {
    sessions
        .iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.plan.day().to_string(),
                s.plan.start().to_string(),
                s.plan.end().to_string(),
            ]
        })
        .collect()
}

/// `/class session list class`.
///
/// # Errors
/// [`CommandError::Core`]: an unknown class.
pub async fn list(ctx: &CommandContext, name: &ClassName) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    let sessions = ctx.lab.sessions(&actor, class.id).await?;
    if sessions.is_empty() {
        return Ok(Reply::text(format!(
            "{} has no sessions. Add one with /class session add class:{} day:monday \
             start:09:00 end:11:00 (or date:2027-01-15 for one session).",
            class.name,
            crate::console::grammar::quote_value(class.name.as_str())
        )));
    }
    let mut reply = Reply::titled(format!("Sessions of {}", class.name))
        .line(format!("times in {}", zone_name(&class)))
        .table(&["#", "when", "start", "end"], rows(&sessions));
    if let Some(line) = next_line(ctx, &actor, class.id).await? {
        reply = reply.line(line);
    }
    Ok(reply)
}

/// `/class session remove class session`.
///
/// # Errors
/// [`CommandError::Core`]: no such session in the class, no right to change the class.
pub async fn remove(
    ctx: &CommandContext,
    name: &ClassName,
    session: SessionId,
) -> Result<Reply, CommandError> {
    let actor = ctx.actor().await?;
    let class = ctx.class(&actor, name).await?;
    ctx.lab.remove_session(&actor, class.id, session).await?;
    Ok(Reply::text(format!(
        "Session {session} of {} removed. A VM it started keeps running under the class's usual \
         rules.",
        class.name
    )))
}

/// `next session: Mon 2027-01-18 09:00-11:00 Europe/Berlin (in 2 h)`, or `None` when the class
/// has none ahead.
///
/// # Errors
/// [`CommandError::Core`]: a class the actor does not see.
pub async fn next_line(
    ctx: &CommandContext,
    actor: &Actor,
    class: ClassId,
) -> Result<Option<String>, CommandError> {
    let Some(next) = ctx.lab.next_session(actor, class).await? else {
        return Ok(None);
    };
    Ok(Some(session_line(ctx, &next)))
}

/// `next session: ... (running now | starts ...)`.
pub fn session_line(ctx: &CommandContext, next: &NextSession) -> String {
    let now = ctx.lab.clock().now();
    let when = if next.span.starts_at <= now {
        "running now".to_owned()
    } else {
        format!("starts {}", format::instant(next.span.starts_at))
    };
    format!("next session: {} ({when})", next.describe())
}
