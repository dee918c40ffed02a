//! Every error a person can see, in words: what went wrong and what to do.
//!
//! The one place that phrases errors, so the console and Discord say the same thing. The core's
//! errors carry facts; the advice ("ask your teacher", "make a new token with ...") is written
//! here. An unexpected failure is never shown in detail: the person gets a short reference,
//! and the details go to the log under that reference, where an operator can find them.

use std::fmt::Display;
use std::time::Duration;

use pvelab_core::error::{ClusterProblem, Entity};
use pvelab_core::Error;

use super::format;
use crate::commands::{CommandError, Reply};

/// A refusal or failure as a reply for the person who ran the command (always ephemeral).
pub fn error_reply(error: &CommandError) -> Reply {
    match error {
        CommandError::Usage(e) => Reply::text(e.to_string()).ephemeral(),
        CommandError::Option(e) => Reply::text(e.to_string()).ephemeral(),
        CommandError::Refused { what, todo } => {
            Reply::text(what.clone()).line(todo.clone()).ephemeral()
        }
        CommandError::RateLimited { retry_after } => {
            retry_reply("You are running commands too quickly.", *retry_after)
        }
        CommandError::Core(e) => core_reply(e),
    }
}

/// A refusal for going too fast, with when to try again (whole seconds, at least one).
fn retry_reply(what: &str, retry_after: Duration) -> Reply {
    // Rounded up: coming back a fraction early would be refused again.
    let secs = (retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1);
    Reply::text(what)
        .line(format!(
            "Try again in {secs} second{}.",
            if secs == 1 { "" } else { "s" }
        ))
        .ephemeral()
}

/// What people read for a core error: the fact, then what to do.
fn core_reply(error: &Error) -> Reply {
    if let Error::RateLimited { retry_after } = error {
        return retry_reply("Too many attempts in a short time.", *retry_after);
    }
    if let Error::Overcommitted { plan } = error {
        return crate::commands::capacity::refusal(plan);
    }
    let (what, todo): (String, &str) = match error {
        Error::InvalidValue(e) => (
            format!("{}: \"{}\" is not allowed.", e.field(), e.value()),
            e.allowed(),
        ),
        Error::NotPermitted { action, needed } => (
            format!("You may not {action}: that needs {needed}."),
            "If you should be able to, ask an administrator.",
        ),
        Error::NotFound { entity, key } => (
            format!("There is no {entity} {key}."),
            match entity {
                Entity::Class => "Check the name; /class list shows your classes.",
                Entity::Cluster => "/cluster list shows the clusters.",
                // The core's key for "the VM the caller holds" (their own VM commands).
                Entity::Vm if key.starts_with("held by you") => {
                    "/myvm shows your VMs; you get one by joining a class with /join."
                }
                Entity::Vm => "/pool status shows the class's VMs.",
                Entity::Check => "/check list shows the class's checks.",
                Entity::Submission => "/class submissions lists the class's submissions.",
                Entity::Setting => "/settings get lists the settings.",
                _ => "Check the name and try again.",
            },
        ),
        Error::NameTaken { entity, name } => (
            format!("A {entity} named \"{name}\" exists already."),
            "Choose another name.",
        ),
        Error::TokenInvalid => (
            "This join token is not valid.".to_owned(),
            "Check that you copied all of it (22 characters), or ask your teacher for the \
             current one.",
        ),
        Error::TokenExpired { expired_at } => (
            format!(
                "This join token expired on {}.",
                format::instant(*expired_at)
            ),
            "Ask your teacher for a new one.",
        ),
        Error::AlreadyHoldsVm { vmid } => (
            format!("This student already holds VM {vmid} in this class."),
            "Take it back first with /pool unassign if they should get another one.",
        ),
        Error::VmNotAssignable { vmid, reason } => (
            format!("VM {vmid} cannot be given to a student: {reason}."),
            "Choose another VM, or leave out vm: to take any free one.",
        ),
        Error::NoFreeVm => (
            "No student VM of this class is free.".to_owned(),
            "Grow the pool, or take a VM back from a student who no longer needs it.",
        ),
        Error::VmDeleting { vmid } => (
            format!("VM {vmid} is being deleted."),
            "Use another VM of the class.",
        ),
        Error::VmHeld { vmid } => (
            format!("A student holds VM {vmid}."),
            "Take it back first with /pool unassign.",
        ),
        Error::VmRegistered { vmid, cluster } => (
            format!("VM {vmid} on {cluster} is registered already."),
            "Nothing to do.",
        ),
        Error::VmidOfAnotherClass { vmid, owner } => (
            format!("VM {vmid} belongs to the VMID range of class {owner}."),
            "Use a VMID of this class's range (/class info shows it).",
        ),
        Error::VmidRangeTaken { range, by } => (
            format!("The VMIDs {range} are in use: {by}."),
            "Choose another prefix, or leave it out to take the lowest free range.",
        ),
        Error::VmidRangeExhausted { kind } => (
            format!("No free VMID range is left for a {kind} plan."),
            "Delete classes that are no longer needed, or ask an administrator.",
        ),
        Error::InUse { entity, key, by } => (
            format!("The {entity} {key} is still used by {by}."),
            "Remove that use first.",
        ),
        Error::DefaultClusterTaken { current } => (
            format!("Cluster {current} is the default already."),
            "Only one cluster is the default: change is_default in the configuration file.",
        ),
        Error::QuotaExhausted { used, limit } => (
            format!("Your VM has used its quota: {used:.1} of {limit} hours."),
            "Ask your teacher to reset your usage.",
        ),
        Error::OutsideHours {
            window,
            zone,
            local_time,
        } => (
            format!(
                "Your class allows VMs {window} {zone}; it is {} there now.",
                local_time.strftime("%H:%M")
            ),
            "Try again during those hours.",
        ),
        Error::Cluster { cluster, problem } => (
            format!("Proxmox cluster {cluster}: {problem}."),
            match problem {
                ClusterProblem::Unreachable { .. } => {
                    "Try again in a moment; if it persists, an administrator should check the \
                     cluster."
                }
                ClusterProblem::Untrusted { .. } => {
                    "An administrator should compare the cluster's fingerprint with the \
                     configured one."
                }
                ClusterProblem::AuthenticationFailed { .. }
                | ClusterProblem::PermissionDenied { .. } => {
                    "An administrator should check the cluster's API token and its permissions."
                }
                _ => "Try again; if it persists, tell an administrator.",
            },
        ),
        Error::NoSealingKey => (
            "pvelab has no sealing key, so it cannot store or read cluster credentials.".to_owned(),
            "An administrator must set sealing_key_file or PVELAB_SEALING_KEY and restart \
             pvelab.",
        ),
        Error::LoginFailed => (
            "Unknown user name or wrong password.".to_owned(),
            "Check both and try again.",
        ),
        other => return unexpected(other),
    };
    let todo = match error {
        Error::InvalidValue(_) => format!("Allowed: {todo}."),
        _ => todo.to_owned(),
    };
    Reply::text(what).line(todo).ephemeral()
}

/// A reference for people to quote: six characters from an alphabet without look-alikes.
fn reference() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..6)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// "something went wrong (ref K3ZQ7M)", with `details` logged under that reference.
pub fn unexpected(details: &dyn Display) -> Reply {
    let reference = reference();
    tracing::error!(reference = %reference, "unexpected error: {details}");
    Reply::text(format!(
        "Something went wrong (ref {reference}). Please try again; if it keeps happening, tell \
         an administrator this reference."
    ))
    .ephemeral()
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
