//! The one answer to "may this person start this VM now?".
//!
//! Order of checks: the VM must be startable at all (not being deleted), the person must have the
//! right to control it, and a student starting their own VM must be inside the class's hours and
//! under its usage quota. People who manage the class (its teachers and co-owners, adminers) are
//! not bound by the student limits: they start VMs for maintenance and preparation.

use std::fmt;

use jiff::civil::Time;
use jiff::Timestamp;

use super::hours;
use super::permissions::{
    is_permitted, Action, Actor, ClassRelation, ClusterRelation, Requirement,
};
use super::quota::{self, QuotaLevel};
use crate::error::Error;
use crate::types::{ClassTimeZone, HoursWindow, UsageQuota};

/// Everything the decision needs, gathered by the caller.
#[derive(Debug, Clone, Copy)]
pub struct StartRequest<'a> {
    /// Who wants to start the VM.
    pub actor: &'a Actor,
    /// Whether the VM is assigned to the actor.
    pub owns_vm: bool,
    /// How the actor relates to the VM's class.
    pub class_relation: ClassRelation,
    /// Whether the VM is being deleted (shrinking pool, reimage).
    pub vm_deleting: bool,
    /// The class's allowed hours, `None` when unrestricted.
    pub hours: Option<HoursWindow>,
    /// The zone the hours are read in.
    pub zone: &'a ClassTimeZone,
    /// The class's usage quota.
    pub quota: UsageQuota,
    /// Hours the student has used in this class since a teacher last reset their usage.
    pub used_hours: f64,
    /// The current instant.
    pub now: Timestamp,
}

/// Why a start was refused.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StartRefusal {
    /// The VM is being deleted and cannot be started.
    VmBeingDeleted,
    /// The actor may not control this VM.
    NotPermitted {
        /// The action that was checked.
        action: Action,
        /// The missing right.
        needed: Requirement,
    },
    /// Outside the class's allowed hours.
    OutsideHours {
        /// The allowed hours.
        window: HoursWindow,
        /// The zone the hours are read in.
        zone: ClassTimeZone,
        /// The current local time there.
        local_time: Time,
    },
    /// The usage quota is used up.
    QuotaExhausted {
        /// Hours used.
        used: f64,
        /// The limit in hours.
        limit: u16,
    },
}

impl From<StartRefusal> for Error {
    fn from(r: StartRefusal) -> Self {
        match r {
            StartRefusal::VmBeingDeleted => Error::InvalidValue(crate::types::InvalidValue::new(
                "VM state",
                "deleting",
                "a VM that is not being deleted",
            )),
            StartRefusal::NotPermitted { action, needed } => Error::NotPermitted { action, needed },
            StartRefusal::OutsideHours {
                window,
                zone,
                local_time,
            } => Error::OutsideHours {
                window,
                zone,
                local_time,
            },
            StartRefusal::QuotaExhausted { used, limit } => Error::QuotaExhausted { used, limit },
        }
    }
}

impl fmt::Display for StartRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Error::from(self.clone()), f)
    }
}

/// The decision.
#[derive(Debug, Clone, PartialEq)]
pub enum StartDecision {
    /// The VM may be started now.
    Allowed,
    /// It may not, for this reason.
    Refused(StartRefusal),
}

impl StartDecision {
    /// The decision as a `Result`, for `?` in operations.
    ///
    /// # Errors
    /// The refusal as an [`Error`].
    pub fn into_result(self) -> crate::Result<()> {
        match self {
            StartDecision::Allowed => Ok(()),
            StartDecision::Refused(r) => Err(r.into()),
        }
    }
}

/// Decides whether the VM may be started now.
///
/// # Examples
/// ```
/// use pvelab_core::rules::permissions::ClassRelation;
/// use pvelab_core::rules::start::{may_start, StartDecision, StartRefusal, StartRequest};
/// use pvelab_core::types::{ClassTimeZone, ExternalId, HoursWindow, Role, UsageQuota};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let lab = pvelab_core::Lab::open_in_memory().await?;
/// let sam = lab.ensure_user(&ExternalId::parse("discord:7")?, Some("Sam")).await?;
/// let student = lab.actor_with_role(sam.id, Role::User);
/// let zone = ClassTimeZone::parse("Europe/Berlin")?;
/// let request = StartRequest {
///     actor: &student,
///     owns_vm: true,
///     class_relation: ClassRelation::None,
///     vm_deleting: false,
///     hours: Some(HoursWindow::new(8, 18)?),
///     zone: &zone,
///     quota: UsageQuota::new(20)?,
///     used_hours: 3.0,
///     now: "2026-11-26T09:30:00Z".parse()?, // 10:30 in Berlin
/// };
/// assert_eq!(may_start(&request), StartDecision::Allowed);
/// let late = StartRequest { now: "2026-11-26T18:12:00Z".parse()?, ..request };
/// assert!(matches!(may_start(&late), StartDecision::Refused(StartRefusal::OutsideHours { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn may_start(req: &StartRequest<'_>) -> StartDecision {
    match decide(req) {
        Ok(()) => StartDecision::Allowed,
        Err(r) => StartDecision::Refused(r),
    }
}

fn decide(req: &StartRequest<'_>) -> Result<(), StartRefusal> {
    if req.vm_deleting {
        return Err(StartRefusal::VmBeingDeleted);
    }
    let role = req.actor.role();
    let manages_class = is_permitted(
        role,
        Action::ControlStudentVm,
        req.class_relation,
        ClusterRelation::None,
    );
    if manages_class {
        return Ok(());
    }
    if !req.owns_vm {
        let action = Action::ControlStudentVm;
        return Err(StartRefusal::NotPermitted {
            action,
            needed: action.requirement(),
        });
    }
    if let Some(window) = req.hours {
        if !hours::is_within(window, req.zone, req.now) {
            return Err(StartRefusal::OutsideHours {
                window,
                zone: req.zone.clone(),
                local_time: hours::local_time(req.zone, req.now),
            });
        }
    }
    let usage = quota::status(req.used_hours, req.quota);
    match (usage.level, usage.limit) {
        (QuotaLevel::Exhausted, Some(limit)) => Err(StartRefusal::QuotaExhausted {
            used: usage.used,
            limit,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "start_tests.rs"]
mod tests;
