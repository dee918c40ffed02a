//! One run of one job on one cluster: take the job's guard for the cluster, check the cluster's
//! settings, run, and record how it went. The scheduler and `Lab::sync_now` both run jobs here.

use tokio_util::sync::CancellationToken;

use super::report::{ClusterRun, JobKind, JobStats, RunOutcome};
use super::{addresses, inventory, isos, templates};
use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::cluster_jobs::{self, ClusterJobSettings};
use crate::store::inventory as inventory_store;
use crate::types::ClusterId;

/// Why a job did not finish.
#[derive(Debug)]
pub(crate) enum JobError {
    /// The jobs are shutting down; the run stopped at a safe point (between Proxmox calls,
    /// never inside a transaction).
    Cancelled,
    /// It failed.
    Failed(Error),
}

impl From<Error> for JobError {
    fn from(e: Error) -> Self {
        JobError::Failed(e)
    }
}

/// What a job function returns.
pub(crate) type JobResult = std::result::Result<JobStats, JobError>;

/// Runs `future` unless `cancel` fires first (then [`JobError::Cancelled`]). Only for steps that
/// may be abandoned safely: reads, and waits for tasks already started.
pub(crate) async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    future: impl std::future::Future<Output = T>,
) -> std::result::Result<T, JobError> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(JobError::Cancelled),
        value = future => Ok(value),
    }
}

/// What the system actor does in a run of `job`: the permission table must allow it, or the job
/// does not run (background work acts as `system`, never as a borrowed person).
fn system_actions(job: JobKind) -> &'static [Action] {
    match job {
        JobKind::Inventory => &[Action::RecordUsage, Action::ControlStudentVm],
        JobKind::Addresses => &[Action::ListStudents],
        JobKind::Isos => &[Action::ManageIsos],
        JobKind::Templates => &[Action::ManageTemplates],
    }
}

/// Why `job` does not run on a cluster with these settings, if it does not.
fn skip_reason(job: JobKind, settings: &ClusterJobSettings) -> Option<&'static str> {
    if !settings.is_active {
        return Some("the cluster is inactive");
    }
    match job {
        JobKind::Inventory => None,
        JobKind::Addresses if !settings.enable_ip_lookup => {
            Some("address lookup is off for the cluster")
        }
        JobKind::Addresses => None,
        JobKind::Isos if !settings.allow_iso_sync => Some("ISO sync is off for the cluster"),
        JobKind::Isos => None,
        JobKind::Templates if !settings.allow_template_sync => {
            Some("template sync is off for the cluster")
        }
        JobKind::Templates => None,
    }
}

/// Runs `job` on `cluster` once, waiting for a run already in progress to finish first, and
/// records the outcome on the cluster.
pub(crate) async fn run_job(
    lab: &Lab,
    job: JobKind,
    cluster: &ClusterId,
    cancel: &CancellationToken,
) -> ClusterRun {
    let started_at = lab.now();
    let outcome = guarded(lab, job, cluster, cancel).await;
    if let RunOutcome::Failed(e) = &outcome {
        tracing::warn!(%cluster, %job, error = %e, "background job failed");
    }
    ClusterRun {
        cluster: cluster.clone(),
        job,
        started_at,
        outcome,
    }
}

async fn guarded(
    lab: &Lab,
    job: JobKind,
    cluster: &ClusterId,
    cancel: &CancellationToken,
) -> RunOutcome {
    let system = Actor::system();
    for action in system_actions(job) {
        if let Err(e) = authorize(&system, *action, ClassRelation::None) {
            return RunOutcome::Failed(e);
        }
    }
    let guard = lab.jobs_shared().guard(job, cluster);
    let Ok(_held) = unless_cancelled(cancel, guard.lock_owned()).await else {
        return stopped();
    };
    let id = cluster.clone();
    let settings = match lab
        .db()
        .read(move |tx| cluster_jobs::settings(tx, &id))
        .await
    {
        Ok(settings) => settings,
        Err(Error::NotFound { .. }) => {
            return RunOutcome::Skipped {
                reason: "the cluster was removed".into(),
            }
        }
        Err(e) => return RunOutcome::Failed(e),
    };
    if let Some(reason) = skip_reason(job, &settings) {
        return RunOutcome::Skipped {
            reason: reason.into(),
        };
    }
    let id = cluster.clone();
    if let Err(e) = lab
        .db()
        .write(move |tx| cluster_jobs::started(tx, &id, job))
        .await
    {
        return RunOutcome::Failed(e);
    }
    let result = match job {
        JobKind::Inventory => inventory::run(lab, cluster, cancel).await,
        JobKind::Addresses => addresses::run(lab, cluster, cancel).await,
        JobKind::Isos => isos::run(lab, cluster, cancel).await,
        JobKind::Templates => templates::run(lab, cluster, cancel).await,
    };
    match result {
        Ok(stats) => match record_success(lab, job, cluster, &stats).await {
            Ok(()) => RunOutcome::Done(stats),
            Err(e) => RunOutcome::Failed(e),
        },
        Err(JobError::Cancelled) => stopped(),
        Err(JobError::Failed(e)) => {
            if let Err(record) = record_failure(lab, job, cluster, &e).await {
                tracing::error!(%cluster, %job, error = %record, "a job's failure could not be recorded");
            }
            RunOutcome::Failed(e)
        }
    }
}

/// For runs a person waits for (`sync_now`): when the cluster has a job of `jobs` to run and
/// does not answer within the pools' answer time, each such run fails at once, recorded like
/// any failure (so the scheduler backs off), instead of holding the person for the client's
/// timeouts and retries. `None` when the cluster answers (or nothing would run there).
pub(crate) async fn unanswered_runs(
    lab: &Lab,
    jobs: &[JobKind],
    cluster: &ClusterId,
) -> Option<Vec<ClusterRun>> {
    let id = cluster.clone();
    let settings = lab
        .db()
        .read(move |tx| cluster_jobs::settings(tx, &id))
        .await
        .ok()?;
    let due: Vec<JobKind> = jobs
        .iter()
        .copied()
        .filter(|job| skip_reason(*job, &settings).is_none())
        .collect();
    if due.is_empty() {
        return None;
    }
    let e = lab.probe(cluster).await.err()?;
    let started_at = lab.now();
    let mut runs = Vec::with_capacity(jobs.len());
    for job in jobs.iter().copied() {
        let outcome = match skip_reason(job, &settings) {
            Some(reason) => RunOutcome::Skipped {
                reason: reason.into(),
            },
            None => {
                if let Err(record) = record_failure(lab, job, cluster, &e).await {
                    tracing::error!(%cluster, %job, error = %record, "a job's failure could not be recorded");
                }
                RunOutcome::Failed(same_error(&e))
            }
        };
        runs.push(ClusterRun {
            cluster: cluster.clone(),
            job,
            started_at,
            outcome,
        });
    }
    Some(runs)
}

/// One more copy of a probe's error for each run it fails (errors are not `Clone`: most carry
/// sources that are not).
fn same_error(e: &Error) -> Error {
    match e {
        Error::Cluster { cluster, problem } => Error::Cluster {
            cluster: cluster.clone(),
            problem: problem.clone(),
        },
        other => Error::internal(other.to_string()),
    }
}

fn stopped() -> RunOutcome {
    RunOutcome::Skipped {
        reason: "the jobs were stopped before it finished".into(),
    }
}

async fn record_success(
    lab: &Lab,
    job: JobKind,
    cluster: &ClusterId,
    stats: &JobStats,
) -> Result<()> {
    let (id, written, removed) = (cluster.clone(), stats.written, stats.removed);
    lab.db()
        .write(move |tx| cluster_jobs::succeeded(tx, &id, job, written, removed))
        .await
}

async fn record_failure(lab: &Lab, job: JobKind, cluster: &ClusterId, error: &Error) -> Result<()> {
    if job == JobKind::Inventory {
        // The rows get the error mark, which the next good tick must clear from every one.
        lab.jobs_shared().digests.forget(cluster);
    }
    let (id, text) = (cluster.clone(), error.to_string());
    lab.db()
        .write(move |tx| {
            cluster_jobs::failed(tx, &id, job, &text)?;
            if job == JobKind::Inventory {
                inventory_store::mark_failed(tx, &id, &text)?;
            }
            Ok(())
        })
        .await
}
