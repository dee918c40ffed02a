//! Running checks on VMs: find each VM and its power state, run each check's command through
//! the guest agent with its timeout, and judge how it ended. At most
//! [`CONCURRENCY`](crate::lab::bounded::CONCURRENCY) VMs are asked at once, so a class of a
//! hundred students neither floods the cluster nor takes a hundred timeouts in a row.

use std::sync::Arc;
use std::time::Duration;

use pvelab_proxmox::{ExecParams, Qemu};
use tokio::time::Instant;

use crate::checks::{summary_line, CheckCommand, CheckOutcome, CheckTimeout, CommandEnd};
use crate::lab::bounded::bounded;
use crate::lab::guests::Located;
use crate::lab::proxmox_errors::cluster_error;
use crate::lab::Lab;
use crate::store::checks::{Check, CheckRow};
use crate::store::users::User;
use crate::types::{NodeName, VmRef};

/// The first pause between two polls of a running command; it grows by half up to
/// [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_secs(1);

/// How long past its timeout a command's last status request may take before the run gives up
/// on it (an agent or node that stops answering mid-run).
const GRACE: Duration = Duration::from_secs(5);

/// A student's VM to run checks on.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) student: User,
    pub(super) vm: VmRef,
    /// Where the pool last saw it.
    pub(super) node: Option<NodeName>,
}

/// How a check ended before it is stamped with the run's time.
struct Ended {
    outcome: CheckOutcome,
    exit_code: Option<i64>,
    first_line: String,
}

impl Ended {
    fn nothing_ran(outcome: CheckOutcome, line: impl AsRef<str>) -> Self {
        Self {
            outcome,
            exit_code: None,
            first_line: crate::checks::clean_line(line.as_ref()),
        }
    }
}

/// Runs every check on every target; one row per (target, check), targets in the given order
/// and each target's checks in the given order. The rows' `ran_at` is `ran_at`.
pub(super) async fn run(
    lab: &Lab,
    targets: &[Target],
    checks: &[Check],
    ran_at: jiff::Timestamp,
) -> Vec<CheckRow> {
    if checks.is_empty() {
        return Vec::new();
    }
    // First where each VM is and whether it runs, once per VM.
    let located = bounded(targets.iter().map(|t| {
        let (lab, vm, node) = (lab.clone(), t.vm.clone(), t.node.clone());
        async move { lab.locate(&vm, node.as_ref()).await.map(Arc::new) }
    }))
    .await;
    // Then each check on each running VM.
    let mut jobs = Vec::new();
    for (target, found) in targets.iter().zip(&located) {
        for check in checks {
            let found = found.as_ref().map(Arc::clone).map_err(ToString::to_string);
            let (vm, command, timeout) = (
                target.vm.clone(),
                check.definition.command.clone(),
                check.definition.timeout,
            );
            let rule = check.definition.pass.clone();
            jobs.push(async move {
                match found {
                    Err(problem) => Ended::nothing_ran(CheckOutcome::Error, problem),
                    Ok(located) if !located.running => {
                        Ended::nothing_ran(CheckOutcome::Stopped, "")
                    }
                    Ok(located) => match exec(&located, &command, timeout).await {
                        Exec::Ended(end) => Ended {
                            outcome: if rule.passes(&end) {
                                CheckOutcome::Pass
                            } else {
                                CheckOutcome::Fail
                            },
                            exit_code: end.exit_code,
                            first_line: summary_line(&end),
                        },
                        Exec::TimedOut => Ended::nothing_ran(
                            CheckOutcome::Timeout,
                            format!("still running after {timeout}"),
                        ),
                        Exec::Failed(e) => refused(&vm, e),
                    },
                }
            });
        }
    }
    let ended = bounded(jobs).await;
    let mut rows = Vec::with_capacity(ended.len());
    let mut ended = ended.into_iter();
    for target in targets {
        for check in checks {
            let Some(end) = ended.next() else { break };
            rows.push(CheckRow {
                check: check.definition.name.clone(),
                student: target.student.clone(),
                vm: target.vm.clone(),
                outcome: end.outcome,
                exit_code: end.exit_code,
                first_line: end.first_line,
                ran_at,
            });
        }
    }
    rows
}

/// What the agent said about a command.
enum Exec {
    /// It ended.
    Ended(CommandEnd),
    /// It was still running at its timeout.
    TimedOut,
    /// The agent or Proxmox refused.
    Failed(pvelab_proxmox::Error),
}

/// Starts `command` in the VM and polls it until it ends or `timeout` passes. The guest agent
/// cannot stop a command, so one that times out keeps running in the guest.
async fn exec(located: &Located, command: &CheckCommand, timeout: CheckTimeout) -> Exec {
    let deadline = Instant::now() + timeout.duration();
    let qemu: &Qemu = &located.qemu;
    let polled = async {
        let pid = qemu
            .agent_exec(&ExecParams::new(command.items().iter().cloned()))
            .await?;
        let mut pause = FIRST_POLL;
        loop {
            let status = qemu.agent_exec_status(pid).await?;
            if status.exited {
                return Ok(Some(CommandEnd {
                    exit_code: status.exitcode,
                    signal: status.signal,
                    stdout: status.stdout().to_owned(),
                    stderr: status.stderr().to_owned(),
                }));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause + pause / 2).min(MAX_POLL);
        }
    };
    match tokio::time::timeout_at(deadline + GRACE, polled).await {
        Ok(Ok(Some(end))) => Exec::Ended(end),
        Ok(Ok(None)) | Err(_) => Exec::TimedOut,
        Ok(Err(e)) => Exec::Failed(e),
    }
}

/// A refusal of the agent or of Proxmox as a row: no agent to ask, a VM stopped under the run,
/// a program the guest cannot start (the check fails: what it checks for is not there), or
/// Proxmox failing (an error, in the core's words for cluster failures).
fn refused(vm: &VmRef, error: pvelab_proxmox::Error) -> Ended {
    use pvelab_proxmox::Error as E;
    match &error {
        E::AgentNotRunning { message } | E::AgentNotConfigured { message } => {
            Ended::nothing_ran(CheckOutcome::NoAgent, message)
        }
        E::GuestNotRunning { message, .. } => Ended::nothing_ran(CheckOutcome::Stopped, message),
        E::AgentCommand { message } => Ended::nothing_ran(CheckOutcome::Fail, message),
        _ => Ended::nothing_ran(
            CheckOutcome::Error,
            cluster_error(&vm.cluster, error).to_string(),
        ),
    }
}
