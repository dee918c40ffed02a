//! Progress of a pool operation: a stream of events a front end renders (a Discord message
//! edited as VMs finish, console lines), a snapshot of the counts, and the final summary.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::store::pool::VmRole;
use crate::types::{ClassId, VmId};

/// What kind of work an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationKind {
    /// Build a class's pool.
    Provision,
    /// Grow or shrink a pool.
    Resize,
    /// Bring VMs to changed cores, memory or disk.
    Reconfigure,
    /// Replace a VM with a fresh clone.
    Reimage,
    /// Delete a class with its VMs.
    Delete,
    /// Bring a pool back in line with its intent.
    Reconcile,
}

impl OperationKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OperationKind::Provision => "provision",
            OperationKind::Resize => "resize",
            OperationKind::Reconfigure => "reconfigure",
            OperationKind::Reimage => "reimage",
            OperationKind::Delete => "delete",
            OperationKind::Reconcile => "reconcile",
        }
    }
}

/// One event of an operation, in the order things happened.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// The operation knows its work: `total` VMs to build (each ends ready or failed;
    /// reconfiguring and deleting VMs are not counted).
    Queued {
        /// VMs the operation builds.
        total: usize,
    },
    /// A VM's clone was requested: the `started`-th of `total`.
    Cloning {
        /// The VM.
        vmid: VmId,
        /// What it is for.
        role: VmRole,
        /// How many clones this operation has started, this one included.
        started: usize,
        /// VMs the operation acts on.
        total: usize,
    },
    /// Cores, memory, disk and tags set.
    Configured {
        /// The VM.
        vmid: VmId,
    },
    /// The `baseline` snapshot exists.
    Snapshotted {
        /// The VM.
        vmid: VmId,
    },
    /// The VM is ready: `ready` of `total` so far.
    Ready {
        /// The VM.
        vmid: VmId,
        /// Ready so far.
        ready: usize,
        /// VMs the operation acts on.
        total: usize,
    },
    /// A step failed for now and is retried after a pause (a lock, an unreachable node).
    Retrying {
        /// The VM.
        vmid: VmId,
        /// What happened.
        reason: String,
    },
    /// The VM could not be built or changed; the pool goes on without it.
    Failed {
        /// The VM.
        vmid: VmId,
        /// Why.
        reason: String,
    },
    /// The VM is deleted (or was never ours and only its record went).
    Deleted {
        /// The VM.
        vmid: VmId,
    },
    /// The VM's settings were brought to the class's (a running VM gets them at its next
    /// stop).
    Reconfigured {
        /// The VM.
        vmid: VmId,
    },
    /// The operation ended.
    Done(OperationSummary),
}

/// The counts of an operation so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// VMs the operation builds (what `ready` is out of).
    pub total: usize,
    /// Clones started.
    pub cloning: usize,
    /// VMs configured.
    pub configured: usize,
    /// VMs snapshotted.
    pub snapshotted: usize,
    /// VMs ready.
    pub ready: usize,
    /// VMs that failed.
    pub failed: usize,
    /// VMs deleted.
    pub deleted: usize,
    /// Whether the operation ended.
    pub done: bool,
}

/// What an operation did, once it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationSummary {
    /// The class.
    pub class: Option<ClassId>,
    /// VMs it acted on.
    pub total: usize,
    /// VMs that are ready now.
    pub ready: usize,
    /// VMs that failed, and why.
    pub failed: Vec<(VmId, String)>,
    /// VMs deleted.
    pub deleted: usize,
    /// VMs changed in place (reconfigured) or whose record was dropped.
    pub changed: usize,
    /// VMs skipped because other work held them at the time.
    pub busy: usize,
    /// VMs in the class's VMID range that pvelab does not know (never touched).
    pub unknown: Vec<VmId>,
    /// Facts worth knowing that needed no action.
    pub notes: Vec<String>,
}

impl OperationSummary {
    /// One line for logs and the operation record.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{} of {} ready, {} failed, {} deleted, {} changed",
            self.ready,
            self.total,
            self.failed.len(),
            self.deleted,
            self.changed
        );
        if self.busy > 0 {
            line.push_str(&format!(", {} busy elsewhere", self.busy));
        }
        if !self.unknown.is_empty() {
            line.push_str(&format!(", {} unknown VMs in range", self.unknown.len()));
        }
        line
    }
}

/// A running pool operation: its id, its events, its counts, and its end.
///
/// Dropping an `Operation` does not stop it; [`Operation::abort`] does (the VMs it was working
/// on resume from their recorded steps at the next reconciliation).
#[derive(Debug)]
pub struct Operation {
    id: i64,
    kind: OperationKind,
    events: Option<mpsc::UnboundedReceiver<ProgressEvent>>,
    progress: watch::Receiver<Progress>,
    task: JoinHandle<Result<OperationSummary>>,
}

impl Operation {
    pub(crate) fn new(
        id: i64,
        kind: OperationKind,
        events: mpsc::UnboundedReceiver<ProgressEvent>,
        progress: watch::Receiver<Progress>,
        task: JoinHandle<Result<OperationSummary>>,
    ) -> Self {
        Self {
            id,
            kind,
            events: Some(events),
            progress,
            task,
        }
    }

    /// The operation's id (as recorded).
    pub fn id(&self) -> i64 {
        self.id
    }

    /// What it does.
    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    /// The event stream, once (later calls return `None`). It ends after
    /// [`ProgressEvent::Done`].
    pub fn events(&mut self) -> Option<mpsc::UnboundedReceiver<ProgressEvent>> {
        self.events.take()
    }

    /// The counts so far, updated as the operation goes.
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// Stops the operation now, as a crash would. Its VMs keep their recorded steps.
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Waits for the end and returns what the operation did.
    ///
    /// # Errors
    /// The error that stopped the operation as a whole (the cluster unreachable at its start,
    /// the database failing); [`Error::Internal`] when it was aborted.
    pub async fn wait(self) -> Result<OperationSummary> {
        self.task
            .await
            .map_err(|e| Error::internal(format!("the operation did not finish: {e}")))?
    }
}

/// The sending side, shared by the operation's tasks.
#[derive(Debug, Clone)]
pub(crate) struct Reporter {
    inner: Arc<ReporterInner>,
}

#[derive(Debug)]
struct ReporterInner {
    events: mpsc::UnboundedSender<ProgressEvent>,
    progress: watch::Sender<Progress>,
    state: Mutex<Progress>,
}

impl Reporter {
    /// A reporter and the receiving ends for an [`Operation`].
    pub(crate) fn new() -> (
        Self,
        mpsc::UnboundedReceiver<ProgressEvent>,
        watch::Receiver<Progress>,
    ) {
        let (events, events_rx) = mpsc::unbounded_channel();
        let (progress, progress_rx) = watch::channel(Progress::default());
        (
            Self {
                inner: Arc::new(ReporterInner {
                    events,
                    progress,
                    state: Mutex::new(Progress::default()),
                }),
            },
            events_rx,
            progress_rx,
        )
    }

    /// A reporter nobody listens to (background reconciliation).
    pub(crate) fn silent() -> Self {
        Self::new().0
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) -> Progress {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        change(&mut state);
        let now = state.clone();
        drop(state);
        self.inner.progress.send_replace(now.clone());
        now
    }

    fn send(&self, event: ProgressEvent) {
        // A front end that stopped listening does not stop the work.
        let _ = self.inner.events.send(event);
    }

    pub(crate) fn queued(&self, total: usize) {
        self.update(|p| p.total = total);
        self.send(ProgressEvent::Queued { total });
    }

    pub(crate) fn cloning(&self, vmid: VmId, role: VmRole) {
        let p = self.update(|p| p.cloning += 1);
        self.send(ProgressEvent::Cloning {
            vmid,
            role,
            started: p.cloning,
            total: p.total,
        });
    }

    pub(crate) fn configured(&self, vmid: VmId) {
        self.update(|p| p.configured += 1);
        self.send(ProgressEvent::Configured { vmid });
    }

    pub(crate) fn snapshotted(&self, vmid: VmId) {
        self.update(|p| p.snapshotted += 1);
        self.send(ProgressEvent::Snapshotted { vmid });
    }

    pub(crate) fn ready(&self, vmid: VmId) {
        let p = self.update(|p| p.ready += 1);
        self.send(ProgressEvent::Ready {
            vmid,
            ready: p.ready,
            total: p.total,
        });
    }

    pub(crate) fn retrying(&self, vmid: VmId, reason: &str) {
        self.send(ProgressEvent::Retrying {
            vmid,
            reason: reason.to_owned(),
        });
    }

    pub(crate) fn failed(&self, vmid: VmId, reason: &str) {
        self.update(|p| p.failed += 1);
        self.send(ProgressEvent::Failed {
            vmid,
            reason: reason.to_owned(),
        });
    }

    pub(crate) fn deleted(&self, vmid: VmId) {
        self.update(|p| p.deleted += 1);
        self.send(ProgressEvent::Deleted { vmid });
    }

    pub(crate) fn reconfigured(&self, vmid: VmId) {
        self.send(ProgressEvent::Reconfigured { vmid });
    }

    pub(crate) fn done(&self, summary: &OperationSummary) {
        self.update(|p| p.done = true);
        self.send(ProgressEvent::Done(summary.clone()));
    }
}
