//! Publishing events for front ends (the bot turns them into DMs). Every `announce_*` is called
//! after the transaction committed, so nobody hears of a change that was rolled back.

use super::Lab;
use crate::events::LabEvent;
use crate::rules::quota::{QuotaLevel, QuotaStatus};
use crate::store::pool::PoolVm;
use crate::types::{ClassId, ClassName, UserId};

impl Lab {
    /// Students served from the waitlist got a VM.
    pub(crate) fn announce_assignments(
        &self,
        class_id: ClassId,
        class_name: &ClassName,
        promoted: Vec<(UserId, PoolVm)>,
    ) {
        for (user_id, vm) in promoted {
            tracing::info!(%class_id, %user_id, vmid = %vm.vmid, "assigned from the waitlist");
            self.events().publish(LabEvent::AssignedFromWaitlist {
                user_id,
                class_id,
                class_name: class_name.clone(),
                vmid: vm.vmid,
            });
        }
    }

    /// A student was put on the waitlist.
    pub(crate) fn announce_waitlisted(
        &self,
        class_id: ClassId,
        class_name: &ClassName,
        user_id: UserId,
        position: u32,
    ) {
        self.events().publish(LabEvent::Waitlisted {
            user_id,
            class_id,
            class_name: class_name.clone(),
            position,
        });
    }

    /// A student's VM reached a quota level.
    pub(crate) fn announce_quota(
        &self,
        user_id: UserId,
        vm: &PoolVm,
        level: QuotaLevel,
        status: QuotaStatus,
    ) {
        let Some(limit) = status.limit else {
            return;
        };
        let event = match level {
            QuotaLevel::Warning => LabEvent::QuotaWarning {
                user_id,
                class_id: vm.class_id,
                percent: status.percent.unwrap_or(0),
                used: status.used,
                limit,
            },
            QuotaLevel::Exhausted => LabEvent::QuotaExhausted {
                user_id,
                class_id: vm.class_id,
                used: status.used,
                limit,
            },
            QuotaLevel::Unlimited | QuotaLevel::Normal => return,
        };
        tracing::info!(%user_id, vmid = %vm.vmid, ?level, "quota level reached");
        self.events().publish(event);
    }
}
