//! Background work: a scheduler and the jobs that keep a lab honest while nobody watches.
//!
//! A front end starts the jobs with [`Lab::start_jobs`](crate::Lab::start_jobs) and stops them
//! with [`JobsHandle::shutdown`]. Each [`JobKind`] runs once per cluster on the interval the
//! system settings give it, jittered, in its own task: a slow or failing cluster delays nobody
//! else, and a job never overlaps itself (a run holds the job's guard for its cluster, which
//! [`Lab::sync_now`](crate::Lab::sync_now) takes too). A failed run is recorded on its cluster
//! ([`Lab::sync_status`](crate::Lab::sync_status), and `sync_error` on the inventory rows) and
//! retried with backoff.
//!
//! Time comes from the lab's [`Clock`](crate::Clock): the scheduler waits with
//! [`Clock::sleep_until`](crate::Clock::sleep_until), so tests tick it by moving a
//! [`ManualClock`](crate::ManualClock).
//!
//! # Layout
//! - `scheduler`: the tasks, their intervals, jitter and backoff, and [`JobsHandle`];
//! - `run`: one run of one job on one cluster, with its guard and its recorded outcome;
//! - `inventory`: the record of fact from ONE `cluster/resources` call per tick, with usage
//!   (`usage`), quota, hours and idle enforcement (`enforce`) decided in the same transaction,
//!   and the shutdowns it decided;
//! - `addresses`, `neighbours`, `probe`: VM addresses and remote-login availability;
//! - `sessions`: warm VMs before a class's session, warn before its end, shut down after it
//!   (one task for all classes, every 30 s);
//! - `isos`, `templates`: ISO images and templates of clusters that allow their sync;
//! - `client`: the way to a cluster's API client (the lab's registry) and its errors;
//! - `config`, `report`: what a front end configures and what a run reports.

mod addresses;
mod client;
mod config;
mod digests;
mod enforce;
mod inventory;
mod isos;
mod neighbours;
mod probe;
mod report;
mod run;
mod scheduler;
mod sessions;
mod templates;
mod usage;

pub use config::{JobsConfig, Subnet};
pub use neighbours::{MacAddress, Neighbour, NeighbourSource, ProcNetArp, StaticNeighbours};
pub use probe::{NoProbe, PortProbe, ProbeFuture, RemoteService, TcpProbe};
pub use report::{ClusterRun, JobKind, JobStats, RunOutcome, SyncReport, SyncStatus, SyncWhat};
pub use scheduler::{JobProgress, JobsHandle, RunSummary};
pub use sessions::SessionsReport;

pub(crate) use client::{client_for, cluster_error};
pub(crate) use digests::Digests;
pub(crate) use run::{run_job, unanswered_runs};
pub(crate) use templates::{class_version_marker, replicate, specs_of, with_template_vmid};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::types::ClusterId;

/// What every run of every job shares, kept in the lab: the configuration and the run guards.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: JobsConfig,
    guards: Mutex<HashMap<(JobKind, ClusterId), RunGuard>>,
    /// What the inventory last wrote per guest, so a tick writes only what changed.
    pub(crate) digests: digests::InventoryDigests,
}

/// Held by a run of one job on one cluster.
type RunGuard = Arc<tokio::sync::Mutex<()>>;

impl Shared {
    pub(crate) fn new(config: JobsConfig) -> Self {
        Self {
            config,
            guards: Mutex::new(HashMap::new()),
            digests: digests::InventoryDigests::default(),
        }
    }

    /// The guard a run of `job` on `cluster` holds, so that the job never overlaps itself
    /// (scheduled runs and [`Lab::sync_now`](crate::Lab::sync_now) alike).
    pub(crate) fn guard(&self, job: JobKind, cluster: &ClusterId) -> RunGuard {
        self.guards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((job, cluster.clone()))
            .or_default()
            .clone()
    }
}
