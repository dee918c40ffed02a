//! What the jobs are called and what a run reports.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;

use crate::error::Error;
use crate::settings_keys::SystemSettings;
use crate::types::{ClusterId, VmId};

/// One kind of background job; each runs once per cluster on its own interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum JobKind {
    /// The record of fact: every guest of the cluster from one `cluster/resources` call, the
    /// power state of every pool VM, usage accounting, quota, hours and idle enforcement, and
    /// reimages waiting for a VM to stop.
    Inventory,
    /// The addresses of running pool VMs (guest agent, container interfaces, neighbour table)
    /// and whether they offer SSH or RDP.
    Addresses,
    /// The ISO images on the cluster's storages.
    Isos,
    /// The cluster's templates with their specs and per-node replicas; unused old versions of
    /// class templates are removed.
    Templates,
}

impl JobKind {
    /// Every job.
    pub const ALL: [JobKind; 4] = [
        JobKind::Inventory,
        JobKind::Addresses,
        JobKind::Isos,
        JobKind::Templates,
    ];

    /// The stored name (`inventory`, `addresses`, `isos`, `templates`).
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Inventory => "inventory",
            JobKind::Addresses => "addresses",
            JobKind::Isos => "isos",
            JobKind::Templates => "templates",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        JobKind::ALL.into_iter().find(|k| k.name() == text)
    }

    /// The interval the system settings give this job.
    pub(crate) fn interval(self, settings: &SystemSettings) -> Duration {
        match self {
            JobKind::Inventory => settings.inventory_interval(),
            JobKind::Addresses => settings.ip_interval(),
            JobKind::Isos => settings.iso_interval(),
            JobKind::Templates => settings.template_interval(),
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What [`Lab::sync_now`](crate::Lab::sync_now) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncWhat {
    /// One job.
    Job(JobKind),
    /// Every job, in the order of [`JobKind::ALL`] (the inventory first, so the others see
    /// fresh facts).
    All,
}

impl SyncWhat {
    pub(crate) fn jobs(self) -> Vec<JobKind> {
        match self {
            SyncWhat::Job(job) => vec![job],
            SyncWhat::All => JobKind::ALL.to_vec(),
        }
    }
}

/// What one run of a job on one cluster changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobStats {
    /// Rows written (inserted or updated).
    pub written: usize,
    /// Rows removed (guests, ISOs or templates that are gone).
    pub removed: usize,
    /// Events written to the outbox (warnings, shutdowns).
    pub events: usize,
    /// VMs whose automatic shutdown was sent to Proxmox in this run.
    pub shutdowns: Vec<VmId>,
}

/// How a run ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunOutcome {
    /// It ran; what it changed.
    Done(JobStats),
    /// It did not run on this cluster, and why (a disabled sync, an inactive cluster).
    Skipped {
        /// Why.
        reason: String,
    },
    /// It failed; nothing of it was written. The error is recorded on the cluster
    /// ([`Lab::sync_status`](crate::Lab::sync_status)) and the run is retried with backoff.
    Failed(Error),
}

/// One job's run on one cluster.
#[derive(Debug)]
pub struct ClusterRun {
    /// The cluster.
    pub cluster: ClusterId,
    /// The job.
    pub job: JobKind,
    /// When it started, on the lab's clock.
    pub started_at: Timestamp,
    /// How it ended.
    pub outcome: RunOutcome,
}

/// The result of [`Lab::sync_now`](crate::Lab::sync_now): one entry per job and cluster.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Every run, in the order they were asked for.
    pub runs: Vec<ClusterRun>,
}

impl SyncReport {
    /// Whether every run either succeeded or was skipped.
    pub fn all_ok(&self) -> bool {
        self.runs
            .iter()
            .all(|r| !matches!(r.outcome, RunOutcome::Failed(_)))
    }

    /// The stats of the run of `job` on `cluster`, if it ran and succeeded.
    pub fn stats(&self, job: JobKind, cluster: &ClusterId) -> Option<&JobStats> {
        self.runs
            .iter()
            .find(|r| r.job == job && &r.cluster == cluster)
            .and_then(|r| match &r.outcome {
                RunOutcome::Done(stats) => Some(stats),
                _ => None,
            })
    }
}

/// How a job last went on a cluster, as recorded (see [`Lab::sync_status`](crate::Lab::sync_status)).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    /// The cluster.
    pub cluster: ClusterId,
    /// The job.
    pub job: JobKind,
    /// When the last run started.
    pub last_started_at: Option<Timestamp>,
    /// When the last run ended.
    pub last_finished_at: Option<Timestamp>,
    /// When a run last succeeded.
    pub last_success_at: Option<Timestamp>,
    /// The error of the last run, `None` when it succeeded.
    pub last_error: Option<String>,
    /// Failed runs in a row.
    pub consecutive_failures: u32,
    /// Rows the last successful run wrote.
    pub rows_written: u64,
    /// Rows the last successful run removed.
    pub rows_removed: u64,
}
