//! The lab's background work, started by the front ends: the job scheduler (inventory,
//! addresses, ISOs, templates on each cluster), the reconciler (at start it finishes what a
//! crash interrupted, then it keeps pools in line with their intent), and the due submissions
//! (snapshots taken when a class's deadline passes).
//!
//! Who starts what:
//! - `pvelab run` and `pvelab demo` start all of it ([`Background::start`]); it stops with their
//!   stop token, each part at its next safe point.
//! - The console (`console --config`, `console --sim`) reconciles once before it reads its first
//!   line ([`reconcile_at_start`]) and runs no periodic work. Its output must follow from its
//!   input alone (scripts and their tests read it), and a console over a configured lab shares
//!   that lab with a running `pvelab run`, which already runs every job: running them twice
//!   would only double the calls to Proxmox.

use std::time::Duration;

use pvelab_core::jobs::JobsHandle;
use pvelab_core::Lab;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the periodic work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackgroundIntervals {
    /// Between two reconciliations of every pool (the first one runs at start).
    pub reconcile: Duration,
    /// Between two looks for class deadlines that passed.
    pub submissions: Duration,
}

impl Default for BackgroundIntervals {
    /// Reconciliation every five minutes; deadlines looked at every minute (a submission is
    /// taken at most a minute after its deadline).
    fn default() -> Self {
        Self {
            reconcile: Duration::from_secs(300),
            submissions: Duration::from_secs(60),
        }
    }
}

/// The running background work of a lab.
#[derive(Debug)]
pub struct Background {
    stop: CancellationToken,
    jobs: JobsHandle,
    reconciler: JoinHandle<()>,
    submissions: JoinHandle<()>,
}

impl Background {
    /// Starts the scheduler, the reconciler and the due submissions on `lab`; they stop when
    /// `stop` is cancelled or [`Background::stop`] is called. Must be called inside the runtime.
    pub fn start(lab: &Lab, stop: CancellationToken, every: BackgroundIntervals) -> Self {
        let jobs = lab.start_jobs(stop.child_token());
        let reconciler = lab.spawn_reconciler(every.reconcile, stop.child_token());
        let submissions = tokio::spawn(take_due_submissions(
            lab.clone(),
            every.submissions,
            stop.child_token(),
        ));
        Self {
            stop,
            jobs,
            reconciler,
            submissions,
        }
    }

    /// The scheduler's progress (tests wait on it instead of sleeping).
    pub fn jobs(&self) -> &JobsHandle {
        &self.jobs
    }

    /// Waits for `stop`, then stops everything (for a service's task list).
    pub async fn stop_when(self, stop: CancellationToken) {
        stop.cancelled().await;
        self.stop().await;
    }

    /// Stops everything and waits until each part reached its safe point.
    pub async fn stop(self) {
        self.stop.cancel();
        self.jobs.shutdown().await;
        for (name, task) in [
            ("reconciler", self.reconciler),
            ("due submissions", self.submissions),
        ] {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the {name} task ended abnormally");
            }
        }
    }
}

/// Takes the submissions of every class whose deadline passed, now and then every `every`,
/// until `stop` is cancelled. A call in progress finishes first.
async fn take_due_submissions(lab: Lab, every: Duration, stop: CancellationToken) {
    loop {
        match lab.take_due_submissions().await {
            Ok(done) if !done.deadlines.is_empty() => {
                tracing::info!(deadlines = done.deadlines.len(), "due submissions taken");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "due submissions could not be taken"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// How long the console's reconciliation at start may hold its first line.
pub const START_RECONCILE_LIMIT: Duration = Duration::from_secs(20);

/// How the reconciliation at start ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartReconcile {
    /// Every pool was brought to its intent (or had nothing to do).
    Done,
    /// It failed; the error was logged.
    Failed,
    /// It did not finish within its limit (a cluster that accepts connections but does not
    /// answer) and was abandoned, as a crash would leave it; the next one finishes it.
    TimedOut,
}

/// Brings every managed pool back to its intent once, finishing what an interrupted run left
/// (a console killed while it provisioned), before the console reads its first line. A cluster
/// that does not answer is logged, not fatal: the console still serves what needs no cluster,
/// and reads its first line after `limit` at the latest ([`START_RECONCILE_LIMIT`]).
pub async fn reconcile_at_start(lab: &Lab, limit: Duration) -> StartReconcile {
    match tokio::time::timeout(limit, lab.reconcile()).await {
        Ok(Ok(report)) => {
            tracing::debug!(?report, "reconciled at start");
            StartReconcile::Done
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "reconciliation at start failed");
            StartReconcile::Failed
        }
        Err(_) => {
            tracing::warn!(
                "reconciliation at start did not finish within {limit:?} (a cluster does not \
                 answer?): going on without it; the next start or `pvelab run` finishes it"
            );
            StartReconcile::TimedOut
        }
    }
}
