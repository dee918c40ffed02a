//! The scheduler: one task per (job, cluster), each waiting on the lab's clock.
//!
//! A supervisor task keeps one task per job and cluster (a cluster added later gets its tasks
//! at the next rescan, a removed one loses them). Each task runs its job, then waits until the
//! next deadline: the start of the run plus the interval from the system settings (missed ticks
//! are skipped, not caught up), plus a random jitter; after a failure it retries sooner, with a
//! backoff that doubles up to the interval (at least five minutes). Runs of one job on one
//! cluster never overlap (the run guard), and clusters never wait for each other.
//!
//! Shutdown cancels a token: a run in progress stops at its next safe point (before a Proxmox
//! call or while waiting for one to answer, never inside a transaction), every task ends, and
//! [`JobsHandle::shutdown`] returns.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::report::{JobKind, RunOutcome};
use super::run::run_job;
use crate::lab::Lab;
use crate::store::{cluster_jobs, settings};
use crate::types::ClusterId;

/// The shortest retry delay after a failure.
const FIRST_RETRY: Duration = Duration::from_secs(5);
/// Retries after failures wait at most the interval, but never less than this.
const LONGEST_RETRY_FLOOR: Duration = Duration::from_secs(300);
/// The supervisor looks for added or removed clusters at least this often (on the lab's clock).
const RESCAN: Duration = Duration::from_secs(60);

/// How the scheduled runs of one job on one cluster went so far (in this process).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Runs started.
    pub started: u64,
    /// Runs finished (succeeded, skipped or failed).
    pub finished: u64,
    /// When the last run started.
    pub last_started_at: Option<Timestamp>,
    /// The error of the last finished run, `None` when it succeeded or was skipped.
    pub last_error: Option<String>,
    /// When the next run is due.
    pub next_at: Option<Timestamp>,
}

/// The progress of every scheduled job, published after each run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobProgress {
    runs: BTreeMap<(JobKind, ClusterId), RunSummary>,
}

impl JobProgress {
    /// The runs of `job` on `cluster`, if it is scheduled.
    pub fn of(&self, job: JobKind, cluster: &ClusterId) -> Option<&RunSummary> {
        self.runs.get(&(job, cluster.clone()))
    }

    /// Finished runs of `job` on `cluster`.
    pub fn finished(&self, job: JobKind, cluster: &ClusterId) -> u64 {
        self.of(job, cluster).map_or(0, |r| r.finished)
    }

    /// Started runs of `job` on `cluster`.
    pub fn started(&self, job: JobKind, cluster: &ClusterId) -> u64 {
        self.of(job, cluster).map_or(0, |r| r.started)
    }
}

/// The running background jobs of a lab; see [`Lab::start_jobs`](crate::Lab::start_jobs).
#[derive(Debug)]
pub struct JobsHandle {
    cancel: CancellationToken,
    supervisor: JoinHandle<()>,
    progress: watch::Receiver<JobProgress>,
}

impl JobsHandle {
    /// The progress of every scheduled job; the receiver changes after each run.
    pub fn progress(&self) -> watch::Receiver<JobProgress> {
        self.progress.clone()
    }

    /// Waits until `job` finished at least `runs` runs on `cluster` (counting from the start of
    /// the jobs), and returns its summary then.
    pub async fn wait_for_runs(&self, job: JobKind, cluster: &ClusterId, runs: u64) -> RunSummary {
        self.wait_until(|p| p.finished(job, cluster) >= runs)
            .await
            .of(job, cluster)
            .cloned()
            .unwrap_or(RunSummary {
                started: 0,
                finished: 0,
                last_started_at: None,
                last_error: None,
                next_at: None,
            })
    }

    /// Waits until the progress satisfies `condition`, and returns it then.
    pub async fn wait_until(&self, mut condition: impl FnMut(&JobProgress) -> bool) -> JobProgress {
        let mut progress = self.progress.clone();
        let seen = progress.wait_for(|p| condition(p)).await.map(|p| p.clone());
        // When the supervisor is gone (shut down), what it published last is all there is.
        seen.unwrap_or_else(|_| progress.borrow().clone())
    }

    /// Stops the jobs: runs in progress reach a safe point (no transaction is cut short, no
    /// Proxmox call abandoned half-sent), every task ends, then this returns.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if let Err(e) = self.supervisor.await {
            tracing::error!(error = %e, "the job supervisor ended abnormally");
        }
    }
}

impl Lab {
    /// Starts the background jobs inside this process: one task per job and cluster, on the
    /// intervals of the system settings. They stop when `cancel` is cancelled or
    /// [`JobsHandle::shutdown`] is called. Start them once per lab (a second start would run
    /// every job twice as often, though never overlapping).
    ///
    /// Must be called within a tokio runtime.
    pub fn start_jobs(&self, cancel: CancellationToken) -> JobsHandle {
        let (sender, progress) = watch::channel(JobProgress::default());
        let supervisor = tokio::spawn(supervise(self.clone(), cancel.clone(), Arc::new(sender)));
        JobsHandle {
            cancel,
            supervisor,
            progress,
        }
    }
}

type Progress = Arc<watch::Sender<JobProgress>>;

async fn supervise(lab: Lab, cancel: CancellationToken, progress: Progress) {
    super::addresses::forget_unkept(&lab).await;
    let sessions = tokio::spawn(super::sessions::run_loop(lab.clone(), cancel.child_token()));
    let mut tasks: HashMap<(JobKind, ClusterId), (CancellationToken, JoinHandle<()>)> =
        HashMap::new();
    loop {
        match lab.db().read(|tx| cluster_jobs::all(tx)).await {
            Ok(clusters) => {
                let present: Vec<ClusterId> = clusters.into_iter().map(|(id, _)| id).collect();
                tasks.retain(|(_, cluster), (token, _)| {
                    let keep = present.contains(cluster);
                    if !keep {
                        token.cancel();
                    }
                    keep
                });
                for cluster in &present {
                    for job in JobKind::ALL {
                        tasks.entry((job, cluster.clone())).or_insert_with(|| {
                            let token = cancel.child_token();
                            let handle = tokio::spawn(job_loop(
                                lab.clone(),
                                job,
                                cluster.clone(),
                                token.clone(),
                                progress.clone(),
                            ));
                            (token, handle)
                        });
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "the job supervisor cannot list the clusters"),
        }
        let deadline = lab.now() + to_signed(RESCAN);
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = lab.clock().sleep_until(deadline) => {}
        }
    }
    if let Err(e) = sessions.await {
        tracing::error!(error = %e, "the sessions task ended abnormally");
    }
    for (_, (token, handle)) in tasks {
        token.cancel();
        if let Err(e) = handle.await {
            tracing::error!(error = %e, "a job task ended abnormally");
        }
    }
}

async fn job_loop(
    lab: Lab,
    job: JobKind,
    cluster: ClusterId,
    cancel: CancellationToken,
    progress: Progress,
) {
    let jitter = lab.jobs_shared().config.jitter;
    let mut next = lab.now();
    let mut failures = 0u32;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = lab.clock().sleep_until(next) => {}
        }
        let interval = match lab.db().read(|tx| settings::load(tx)).await {
            Ok(s) => job.interval(&s),
            Err(_) => Duration::from_secs(60),
        };
        let started_at = lab.now();
        progress.send_modify(|p| {
            let entry = p.runs.entry((job, cluster.clone())).or_insert(RunSummary {
                started: 0,
                finished: 0,
                last_started_at: None,
                last_error: None,
                next_at: None,
            });
            entry.started += 1;
            entry.last_started_at = Some(started_at);
        });
        let run = run_job(&lab, job, &cluster, &cancel).await;
        let now = lab.now();
        let error = match &run.outcome {
            RunOutcome::Failed(e) => {
                failures += 1;
                next = now + to_signed(backoff(failures, interval));
                Some(e.to_string())
            }
            _ => {
                failures = 0;
                next = scheduled(started_at, interval, now)
                    + to_signed(random_jitter(interval, jitter));
                None
            }
        };
        progress.send_modify(|p| {
            if let Some(entry) = p.runs.get_mut(&(job, cluster.clone())) {
                entry.finished += 1;
                entry.last_error = error;
                entry.next_at = Some(next);
            }
        });
        if cancel.is_cancelled() {
            break;
        }
    }
}

fn to_signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// The next deadline after a run that started at `started`: one interval later, skipping the
/// ticks that were missed while it ran (or while the process was paused).
pub(crate) fn scheduled(started: Timestamp, interval: Duration, now: Timestamp) -> Timestamp {
    let step = to_signed(interval.max(Duration::from_secs(1)));
    let mut next = started + step;
    if next <= now {
        let behind = now.duration_since(next).as_secs_f64() / step.as_secs_f64();
        next += step.mul_f64(behind.floor() + 1.0);
    }
    next
}

/// A random delay of up to `fraction` of the interval.
fn random_jitter(interval: Duration, fraction: f64) -> Duration {
    if fraction <= 0.0 {
        return Duration::ZERO;
    }
    interval.mul_f64(rand::thread_rng().gen_range(0.0..=fraction))
}

/// The delay before retrying after `failures` failures in a row: 5 s, doubling, at most the
/// interval (but up to five minutes even for short intervals).
pub(crate) fn backoff(failures: u32, interval: Duration) -> Duration {
    let longest = interval.max(LONGEST_RETRY_FLOOR);
    FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(20)))
        .min(longest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn the_next_run_is_one_interval_after_the_start_and_missed_ticks_are_skipped() {
        let start = at("2027-01-01T10:00:00Z");
        let minute = Duration::from_secs(60);
        assert_eq!(scheduled(start, minute, start), at("2027-01-01T10:01:00Z"));
        // The run took 150 s: the ticks at 10:01 and 10:02 are skipped, not caught up.
        assert_eq!(
            scheduled(start, minute, at("2027-01-01T10:02:30Z")),
            at("2027-01-01T10:03:00Z")
        );
    }

    #[test]
    fn failures_back_off_from_five_seconds_up_to_the_interval() {
        let hour = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=12).map(|n| backoff(n, hour).as_secs()).collect();
        assert_eq!(waits[..4], [5, 10, 20, 40]);
        assert_eq!(*waits.last().unwrap(), 3600);
        // A one-minute job still backs off up to five minutes.
        assert_eq!(backoff(20, Duration::from_secs(60)).as_secs(), 300);
    }

    #[test]
    fn jitter_stays_within_its_share_of_the_interval() {
        let minute = Duration::from_secs(60);
        for _ in 0..100 {
            assert!(random_jitter(minute, 0.1) <= Duration::from_secs(6));
        }
        assert_eq!(random_jitter(minute, 0.0), Duration::ZERO);
    }
}
