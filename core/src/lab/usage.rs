//! Usage quota and the start decision through the facade.

use jiff::SignedDuration;

use super::{events, Lab};
use crate::error::Result;
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::rules::quota::{self, QuotaLevel, QuotaStatus};
use crate::rules::start::{may_start, StartDecision, StartRequest};
use crate::store::classes;
use crate::store::pool::{self, PoolVm, VmStatus};
use crate::store::{settings, usage};
use crate::types::{ClassId, ClusterId, UserId, VmId};

/// The result of [`Lab::record_usage`].
#[derive(Debug, Clone, PartialEq)]
pub struct UsageUpdate {
    /// The VM after the update.
    pub vm: PoolVm,
    /// Its usage against the class quota.
    pub status: QuotaStatus,
    /// The quota level this update newly reached (warning at 80 %, exhausted at 100 %), once
    /// per level and usage period; the matching event was written to the outbox.
    pub newly_reached: Option<QuotaLevel>,
}

fn warned_percent(level: QuotaLevel) -> u8 {
    match level {
        QuotaLevel::Exhausted => 100,
        QuotaLevel::Warning => 80,
        QuotaLevel::Unlimited | QuotaLevel::Normal => 0,
    }
}

impl Lab {
    /// Adds running time to a VM's usage (fed by the monitor of the orchestration layer, which
    /// acts as an adminer). Crossing 80 % or 100 % of the class quota writes a quota event
    /// for the holder, once per level until usage is reset.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) unless the actor is an adminer;
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown VM.
    pub async fn record_usage(
        &self,
        actor: &Actor,
        cluster: &ClusterId,
        vmid: VmId,
        ran: SignedDuration,
    ) -> Result<UsageUpdate> {
        authorize(actor, Action::RecordUsage, ClassRelation::None)?;
        let hours = ran.as_secs_f64().max(0.0) / 3600.0;
        let cluster = cluster.clone();
        let (update, announced) = self
            .db()
            .write(move |tx| {
                let vm = usage::add(tx, &cluster, vmid, hours)?;
                let class = classes::get(tx, vm.class_id)?;
                let status = quota::status(vm.usage_hours, class.max_usage);
                let percent = warned_percent(status.level);
                let newly_reached = (percent > vm.quota_warned_percent && vm.assigned_to.is_some())
                    .then_some(status.level);
                if newly_reached.is_some() {
                    usage::set_warned(tx, &cluster, vmid, percent)?;
                }
                let announced = match (newly_reached, vm.assigned_to) {
                    (Some(level), Some(holder)) => {
                        events::announce_quota(tx, holder, &vm, level, status)?
                    }
                    _ => false,
                };
                let update = UsageUpdate {
                    vm,
                    status,
                    newly_reached,
                };
                Ok((update, usize::from(announced)))
            })
            .await?;
        self.wake_consumers(announced);
        Ok(update)
    }

    /// Resets usage of one student's VM, or of all VMs of the class (`None`); returns how many
    /// VMs were reset. `usage_last_reset` records when.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted).
    pub async fn reset_usage(
        &self,
        actor: &Actor,
        class: ClassId,
        student: Option<UserId>,
    ) -> Result<usize> {
        self.class_write(actor, Action::ResetUsage, class, move |tx, _class| {
            usage::reset(tx, class, student)
        })
        .await
    }

    /// May the actor start this VM of the class now? Fed from the database: ownership, the
    /// actor's relation to the class, the VM's state, the class's hours in its time zone and
    /// the quota.
    ///
    /// # Errors
    /// [`Error::NotFound`](crate::Error::NotFound) for an unknown class or VM.
    pub async fn may_start(
        &self,
        actor: &Actor,
        class: ClassId,
        vmid: VmId,
    ) -> Result<StartDecision> {
        let actor = *actor;
        self.db()
            .read(move |tx| {
                let stored = classes::get(tx, class)?;
                let vm = pool::in_class(tx, class, vmid)?;
                let relation = match actor.user_id() {
                    Some(user) => crate::store::enrollment::relation(tx, user, class)?,
                    None => crate::rules::permissions::ClassRelation::None,
                };
                let zone = match &stored.time_zone {
                    Some(zone) => zone.clone(),
                    None => settings::default_time_zone(tx)?,
                };
                Ok(may_start(&StartRequest {
                    actor: &actor,
                    owns_vm: vm.assigned_to.is_some() && vm.assigned_to == actor.user_id(),
                    class_relation: relation,
                    vm_deleting: vm.status == VmStatus::Deleting,
                    hours: stored.hours,
                    zone: &zone,
                    quota: stored.max_usage,
                    used_hours: vm.usage_hours,
                    now: crate::db::time::now(),
                }))
            })
            .await
    }
}
