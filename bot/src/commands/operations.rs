//! Following a pool operation of the core (provisioning, a resize, a reimage, an import) from a
//! command: its events become progress updates while it runs, and its summary becomes lines of
//! the reply once it ends. The command returns only when the work is done or failed, so a
//! console script reads like a session and Discord's deferred answer is the final state.

use pvelab_core::pools::{Operation, OperationSummary, ProgressEvent};

use super::{CommandContext, CommandError, Progress};

/// What the progress lines call the VMs being counted (`VMs ready`).
const READY: &str = "VMs ready";

/// The progress update an event is worth, if any. Only updates whose order does not depend on
/// how Proxmox interleaves parallel work are shown (the ready count only grows), so a script's
/// output is the same from run to run; failures and deletions name their VM.
fn update_of(event: &ProgressEvent) -> Option<Progress> {
    match event {
        ProgressEvent::Queued { total } if *total > 0 => {
            Some(Progress::counted(READY, 0, count(*total)))
        }
        ProgressEvent::Ready { ready, total, .. } => {
            Some(Progress::counted(READY, count(*ready), count(*total)))
        }
        ProgressEvent::Failed { vmid, reason } => {
            Some(Progress::message(format!("VM {vmid} failed: {reason}")))
        }
        _ => None,
    }
}

/// `1 VM`, `3 VMs`.
pub(crate) fn vms(n: usize) -> String {
    if n == 1 {
        "1 VM".to_owned()
    } else {
        format!("{n} VMs")
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Reports the operation's progress to the context's sink until it ends, and returns what it
/// did.
///
/// # Errors
/// [`CommandError::Core`] when the operation failed as a whole (the cluster unreachable at its
/// start, the database failing).
pub(crate) async fn follow(
    ctx: &CommandContext,
    mut operation: Operation,
) -> Result<OperationSummary, CommandError> {
    if let Some(mut events) = operation.events() {
        while let Some(event) = events.recv().await {
            if let Some(update) = update_of(&event) {
                ctx.progress.report(update);
            }
            if matches!(event, ProgressEvent::Done(_)) {
                break;
            }
        }
    }
    Ok(operation.wait().await?)
}

/// The summary of an ended operation as reply lines: what is ready, what failed and why, what
/// was deleted, and anything worth knowing.
pub(crate) fn summary_lines(summary: &OperationSummary) -> Vec<String> {
    let mut lines = Vec::new();
    // What was to become ready: neither the VMs deleted nor those changed in place.
    let to_build = summary
        .total
        .saturating_sub(summary.deleted + summary.changed);
    if to_build > 0 {
        lines.push(format!("{} of {} ready", summary.ready, vms(to_build)));
    }
    if summary.changed > 0 {
        lines.push(format!("{} updated in place", vms(summary.changed)));
    }
    if summary.deleted > 0 {
        lines.push(format!("{} deleted", vms(summary.deleted)));
    }
    for (vmid, why) in &summary.failed {
        lines.push(format!("VM {vmid} failed: {why}"));
    }
    if summary.busy > 0 {
        lines.push(format!(
            "{} busy with other work; the next reconciliation finishes them",
            vms(summary.busy)
        ));
    }
    if !summary.unknown.is_empty() {
        let vmids: Vec<String> = summary.unknown.iter().map(ToString::to_string).collect();
        lines.push(format!(
            "VMs in the class's VMID range that pvelab does not manage (left alone): {}",
            vmids.join(", ")
        ));
    }
    lines.extend(summary.notes.iter().cloned());
    if lines.is_empty() {
        lines.push("nothing needed to change".to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use pvelab_core::types::VmId;

    #[test]
    fn only_the_ready_count_and_failures_become_progress() {
        let vmid = VmId::new(101).unwrap();
        assert_eq!(
            update_of(&ProgressEvent::Queued { total: 4 }),
            Some(Progress::counted(READY, 0, 4))
        );
        assert_eq!(update_of(&ProgressEvent::Queued { total: 0 }), None);
        assert_eq!(
            update_of(&ProgressEvent::Ready {
                vmid,
                ready: 2,
                total: 4
            })
            .unwrap()
            .to_string(),
            "VMs ready: 2/4"
        );
        assert_eq!(update_of(&ProgressEvent::Configured { vmid }), None);
        assert_eq!(
            update_of(&ProgressEvent::Failed {
                vmid,
                reason: "no space".into()
            })
            .unwrap()
            .to_string(),
            "VM 101 failed: no space"
        );
    }

    #[test]
    fn a_summary_says_what_is_ready_failed_and_deleted() {
        let summary = OperationSummary {
            total: 4,
            ready: 2,
            failed: vec![(VmId::new(103).unwrap(), "clone refused".into())],
            deleted: 1,
            ..OperationSummary::default()
        };
        assert_eq!(
            summary_lines(&summary),
            [
                "2 of 3 VMs ready",
                "1 VM deleted",
                "VM 103 failed: clone refused"
            ]
        );
        assert_eq!(
            summary_lines(&OperationSummary::default()),
            ["nothing needed to change"]
        );
    }

    #[test]
    fn vms_changed_in_place_are_not_counted_as_not_ready() {
        let grown_after_new_specs = OperationSummary {
            total: 5,
            ready: 1,
            changed: 4,
            ..OperationSummary::default()
        };
        assert_eq!(
            summary_lines(&grown_after_new_specs),
            ["1 of 1 VM ready", "4 VMs updated in place"]
        );
    }
}
