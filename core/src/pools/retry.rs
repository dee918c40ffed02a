//! Which failures of Proxmox calls are worth another try, and the errors of one step.
//!
//! Lock timeouts ("can't lock file ... got timeout"), locks held by another task (a template
//! that a concurrent clone holds), 595/596 (the proxy cannot reach a node), connection failures
//! and timeouts pass: the same call later succeeds without anything changing. A clone task
//! that fails is tried again too, because a failed clone leaves nothing behind. Everything
//! else (permissions, bad parameters, a missing template) needs a person.

use pvelab_proxmox::Error as Pve;

use crate::error::Error;

/// Whether the same call may succeed later without any change.
pub(crate) fn is_transient(e: &Pve) -> bool {
    match e {
        Pve::Transport { .. } => true,
        Pve::TaskFailed { exit_status, .. } => transient_text(exit_status),
        Pve::Api { status, message } => *status >= 500 && transient_text(message),
        other => other.is_transient(),
    }
}

/// Failure texts of tasks and 500s that say "busy", not "impossible".
fn transient_text(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("got timeout")
        || t.contains("lock request timeout")
        || t.contains("is locked")
        || t.contains("timed out")
        || t.contains("connection refused")
        || t.contains("no route to host")
}

/// Whether the call failed because the object to create exists already.
pub(crate) fn is_exists(e: &Pve) -> bool {
    matches!(e, Pve::AlreadyExists { .. })
}

/// Whether the call failed because the VM (or task, snapshot) does not exist.
pub(crate) fn is_missing(e: &Pve) -> bool {
    matches!(e, Pve::NotFound { .. })
}

/// Why one step of one VM did not complete.
#[derive(Debug)]
pub(crate) enum StepError {
    /// The VM at this VMID is not ours: it is left alone and the slot fails with this reason.
    Foreign(String),
    /// Our VM disappeared during the step (deleted behind our back, or a failed clone).
    Gone,
    /// Proxmox kept failing or refused; `transient` when a later try may succeed.
    Proxmox { reason: String, transient: bool },
    /// The database failed, or the VM's record went (the class was deleted meanwhile):
    /// this VM's work stops here.
    Stop(Error),
}

impl StepError {
    pub(crate) fn proxmox(e: &Pve) -> Self {
        StepError::Proxmox {
            reason: describe(e),
            transient: is_transient(e),
        }
    }

    /// The reason as recorded on the VM.
    pub(crate) fn reason(&self) -> String {
        match self {
            StepError::Foreign(r) => r.clone(),
            StepError::Gone => "the VM disappeared from Proxmox during the step".into(),
            StepError::Proxmox { reason, .. } => reason.clone(),
            StepError::Stop(e) => e.to_string(),
        }
    }
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        StepError::Stop(e)
    }
}

/// The client's error in one line, without the URL noise of transport errors.
pub(crate) fn describe(e: &Pve) -> String {
    match e {
        Pve::TaskFailed { exit_status, .. } => format!("task failed: {exit_status}"),
        Pve::Transport { detail, .. } => format!("cluster unreachable: {detail}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeouts_unreachable_nodes_and_busy_tasks_are_transient() {
        assert!(is_transient(&Pve::LockTimeout {
            message: "can't lock file '/var/lock/qemu-server/lock-203.conf' - got timeout".into()
        }));
        assert!(is_transient(&Pve::NodeUnreachable {
            status: 595,
            message: "No route to host".into()
        }));
        assert!(is_transient(&Pve::Locked {
            lock: "clone".into(),
            message: "VM is locked (clone)".into()
        }));
        let busy = Pve::TaskFailed {
            upid: Box::new(
                "UPID:pve1:1:1:1:qmclone:9000:root@pam:"
                    .parse()
                    .expect("upid"),
            ),
            exit_status:
                "clone failed: can't lock file '/var/lock/pve-manager/pve-storage-x' - got timeout"
                    .into(),
            log_tail: vec![],
        };
        assert!(is_transient(&busy));
    }

    #[test]
    fn refusals_that_need_a_person_are_not_transient() {
        assert!(!is_transient(&Pve::PermissionDenied {
            message: "Permission check failed (/vms/100, VM.Clone)".into()
        }));
        assert!(!is_transient(&Pve::NotFound {
            message: "Configuration file 'nodes/pve1/qemu-server/9000.conf' does not exist".into()
        }));
        assert!(!is_transient(&Pve::Api {
            status: 500,
            message: "parameter 'storage' not allowed for linked clones".into()
        }));
    }
}
