//! The people-facing events of pool work, published in one place: when the core's outbox
//! lands, these helpers write to it instead and nothing else changes.

use crate::events::{LabEvent, RebuildReason};
use crate::lab::Lab;
use crate::types::{ClassId, UserId, VmId};

impl Lab {
    /// A student's VM was built anew (it vanished, or it was reimaged); they keep it.
    pub(crate) fn announce_vm_rebuilt(
        &self,
        user_id: UserId,
        class_id: ClassId,
        vmid: VmId,
        reason: RebuildReason,
    ) {
        tracing::info!(%class_id, %user_id, %vmid, %reason, "a student's VM was rebuilt");
        self.events().publish(LabEvent::VmRebuilt {
            user_id,
            class_id,
            vmid,
            reason,
        });
    }

    #[allow(dead_code)] // TEMP: used by the next steps (resize, delete, reconcile)
    /// A student's VM was taken away (a forced shrink, the class deleted).
    pub(crate) fn announce_vm_removed(&self, user_id: UserId, class_id: ClassId, vmid: VmId) {
        tracing::info!(%class_id, %user_id, %vmid, "a student's VM was taken away");
        self.events().publish(LabEvent::VmRemoved {
            user_id,
            class_id,
            vmid,
        });
    }
}
