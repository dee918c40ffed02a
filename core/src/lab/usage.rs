//! Usage quota and the start decision through the facade.
//!
//! Quota is measured against the student's usage in the class ([`StudentUsage`]), which
//! survives leaving, a reimage and rejoining; only a teacher's [`Lab::reset_usage`] zeroes it.

use jiff::SignedDuration;

use super::classes::check_visible;
use super::{events, Lab};
use crate::error::Result;
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::rules::quota::{self, QuotaLevel, QuotaStatus};
use crate::rules::start::{may_start, StartDecision, StartRequest};
use crate::store::classes::{self, Class};
use crate::store::pool::{self, PoolVm, VmStatus};
use crate::store::settings;
use crate::store::usage::{self, StudentUsage};
use crate::types::{ClassId, UsageQuota, UserId, VmRef};

/// The result of [`Lab::record_usage`].
#[derive(Debug, Clone, PartialEq)]
pub struct UsageUpdate {
    /// The VM after the update (its own running hours since its last reimage).
    pub vm: PoolVm,
    /// The usage of the student holding the VM, after the update; `None` when nobody holds it
    /// (then no one's quota is charged).
    pub holder: Option<StudentUsage>,
    /// The holder's usage against the class quota (for a VM nobody holds: none used, no limit).
    pub status: QuotaStatus,
    /// The quota level this update newly reached (warning at 80 %, exhausted at 100 %), once
    /// per level, usage period and limit; the matching event was written to the outbox.
    pub newly_reached: Option<QuotaLevel>,
}

/// Adds `hours` of running time to a VM inside the caller's transaction: to the VM's own hours,
/// and to the usage of the student holding it, with the quota events of [`Lab::record_usage`].
/// Returns the update and how many events were written. The inventory job charges running time
/// through this in its tick's transaction.
///
/// # Errors
/// [`Error::NotFound`](crate::Error::NotFound) for an unknown VM.
pub(crate) fn charge_usage(
    tx: &rusqlite::Connection,
    vm: &VmRef,
    hours: f64,
) -> Result<(UsageUpdate, usize)> {
    let vm = usage::add_vm_hours(tx, vm, hours)?;
    let Some(student) = vm.assigned_to else {
        let update = UsageUpdate {
            vm,
            holder: None,
            status: quota::status(0.0, UsageQuota::UNLIMITED),
            newly_reached: None,
        };
        return Ok((update, 0));
    };
    let class = classes::get(tx, vm.class_id)?;
    let mut used = usage::add(tx, class.id, student, hours)?;
    let status = quota::status(used.hours, class.max_usage);
    let newly_reached = quota::newly_reached(status.level, used.alerted);
    if newly_reached.is_some() {
        used.alerted = status.level.alert();
        usage::set_alerted(tx, class.id, student, used.alerted)?;
    }
    let announced = match (newly_reached, vm.assigned_to) {
        (Some(level), Some(holder)) => events::announce_quota(tx, holder, &vm, level, status)?,
        _ => false,
    };
    let update = UsageUpdate {
        vm,
        holder: Some(used),
        status,
        newly_reached,
    };
    Ok((update, usize::from(announced)))
}

impl Lab {
    /// Adds running time to a VM (fed by the monitor of the orchestration layer, which acts as
    /// an adminer or the system): to the VM's own hours, and to the usage of the student holding
    /// it in its class. Crossing 80 % or 100 % of the class quota writes a quota event for that
    /// student to the outbox, once per level until their usage is reset or the quota changes.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) unless the actor is an adminer or the
    /// system; [`Error::NotFound`](crate::Error::NotFound) for an unknown VM.
    pub async fn record_usage(
        &self,
        actor: &Actor,
        vm: &VmRef,
        ran: SignedDuration,
    ) -> Result<UsageUpdate> {
        authorize(actor, Action::RecordUsage, ClassRelation::None)?;
        let hours = ran.as_secs_f64().max(0.0) / 3600.0;
        let vm = vm.clone();
        let (update, announced) = self
            .db()
            .write(move |tx| charge_usage(tx, &vm, hours))
            .await?;
        self.wake_consumers(announced);
        Ok(update)
    }

    /// Resets the usage of one student of the class, or of every student (`None`); returns how
    /// many students had usage to reset. Their `last_reset` records when, and quota alerts are
    /// sent afresh. A former student's usage (kept when they left) can be reset too.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted);
    /// [`Error::InvalidValue`](crate::Error::InvalidValue) naming a person who is not a student
    /// of the class and has no usage there (nothing to reset: a typo in the name, most likely).
    pub async fn reset_usage(
        &self,
        actor: &Actor,
        class: ClassId,
        student: Option<UserId>,
    ) -> Result<usize> {
        self.class_write(actor, Action::ResetUsage, class, move |tx, stored| {
            let reset = usage::reset(tx, class, student)?;
            if let Some(student) = student {
                if reset == 0 && !crate::store::enrollment::is_enrolled(tx, student, class)? {
                    let person = crate::store::users::get(tx, student)?;
                    return Err(crate::types::InvalidValue::new(
                        "student",
                        person.shown_name(),
                        format!(
                            "a student of class {}, or a former one with usage recorded",
                            stored.name
                        ),
                    )
                    .into());
                }
            }
            Ok(reset)
        })
        .await
    }

    /// The actor's own usage in a class they are in.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown class or one the actor is not
    /// in; [`Error::NotPermitted`](crate::Error::NotPermitted) for the system actor.
    pub async fn my_usage(&self, actor: &Actor, class: ClassId) -> Result<StudentUsage> {
        let user = actor.person(Action::ViewOwnVms)?;
        let who = *actor;
        self.class_read(actor, Action::ViewOwnVms, class, move |tx, stored| {
            check_visible(tx, &who, &stored)?;
            usage::get(tx, class, user)
        })
        .await
    }

    /// May the actor start this VM of the class now? Fed from the database: ownership, the
    /// actor's relation to the class, the VM's state, the class's hours in its time zone and
    /// the student's usage against the quota.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown class or VM, or a class the
    /// actor is not in.
    pub async fn may_start(
        &self,
        actor: &Actor,
        class: ClassId,
        vm: &VmRef,
    ) -> Result<StartDecision> {
        let (who, vm) = (*actor, vm.clone());
        self.class_read(actor, Action::ViewClass, class, move |tx, stored| {
            check_visible(tx, &who, &stored)?;
            let vm = pool::in_class(tx, class, &vm)?;
            start_decision(tx, &who, &stored, &vm)
        })
        .await
    }
}

/// Whether `who` may start `vm` of the class `stored` now, read inside the caller's transaction
/// (the caller checked that the class is visible to them and holds the VM).
pub(crate) fn start_decision(
    tx: &rusqlite::Connection,
    who: &Actor,
    stored: &Class,
    vm: &PoolVm,
) -> Result<StartDecision> {
    let class = stored.id;
    let relation = match who.user_id() {
        Some(user) => crate::store::enrollment::relation(tx, user, class)?,
        None => ClassRelation::None,
    };
    let owner = vm
        .assigned_to
        .filter(|holder| Some(*holder) == who.user_id());
    let used_hours = match owner {
        Some(student) => usage::get(tx, class, student)?.hours,
        None => 0.0,
    };
    let zone = match &stored.time_zone {
        Some(zone) => zone.clone(),
        None => settings::default_time_zone(tx)?,
    };
    let now = crate::db::time::now();
    // Inside a class session (its lead time included) neither the hours nor the quota hold a
    // VM back: a session may lie outside the hours, and its time is free.
    let lead =
        jiff::SignedDuration::try_from(settings::load(tx)?.session_lead()).unwrap_or_default();
    let sessions = crate::store::sessions::list(tx, class)?;
    let in_session = super::sessions::in_session(&sessions, &zone, now, lead);
    Ok(may_start(&StartRequest {
        actor: who,
        owns_vm: owner.is_some(),
        class_relation: relation,
        vm_deleting: vm.status == VmStatus::Deleting,
        hours: if in_session { None } else { stored.hours },
        zone: &zone,
        quota: stored.max_usage,
        used_hours: if in_session { 0.0 } else { used_hours },
        now,
    }))
}
