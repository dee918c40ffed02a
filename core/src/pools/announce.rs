//! The people-facing events of pool work, in one place. Each is written to the outbox in the
//! transaction of the change it reports (see [`crate::events`]); the caller wakes consumers
//! after the commit with [`Lab::wake_consumers`](crate::Lab).

use rusqlite::Connection;

use crate::error::Result;
use crate::events::{LabEvent, RebuildReason};
use crate::store::outbox;
use crate::types::{ClassId, UserId, VmId};

/// A student's VM was built anew (it vanished, or it was reimaged); they keep it.
pub(crate) fn vm_rebuilt(
    tx: &Connection,
    user_id: UserId,
    class_id: ClassId,
    vmid: VmId,
    reason: RebuildReason,
) -> Result<usize> {
    tracing::info!(%class_id, %user_id, %vmid, %reason, "a student's VM was rebuilt");
    outbox::append(
        tx,
        &LabEvent::VmRebuilt {
            user_id,
            class_id,
            vmid,
            reason,
        },
    )?;
    Ok(1)
}

/// A student's VM was taken away (a forced shrink, the class deleted).
pub(crate) fn vm_removed(
    tx: &Connection,
    user_id: UserId,
    class_id: ClassId,
    vmid: VmId,
) -> Result<usize> {
    tracing::info!(%class_id, %user_id, %vmid, "a student's VM was taken away");
    outbox::append(
        tx,
        &LabEvent::VmRemoved {
            user_id,
            class_id,
            vmid,
        },
    )?;
    Ok(1)
}
