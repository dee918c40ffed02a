//! Pools on real clusters: provisioning, resizing, VM actions and reconciliation.
//!
//! The database records intent (a class, its pool size and specs, who holds what) and, per pool
//! VM, the step its creation has reached; Proxmox records fact. This module brings fact to
//! intent, step by step, the way a Kubernetes controller does, only smaller:
//!
//! - `marker`: the one printer and parser of the marker line that tells pvelab's VMs apart;
//! - `facts`: what Proxmox reported, in the core's terms;
//! - `placement`, `plan`: PURE functions from intent, recorded steps and facts to actions
//!   (unit-tested without I/O);
//! - `observe`: reads the facts (one `cluster/resources` call, nodes, template, a few configs);
//! - `executor`, `drive`, `run`: run the actions in parallel, bounded per node and cluster,
//!   each VM's steps recorded before and after every call (`retry` says what to try again);
//! - `converge`: one class from load to summary; `operation`, `progress`: what a front end
//!   watches; `client`: the one place clients are made; `state`: process-local bounds and
//!   claims; `announce`: the people-facing events; `config`: the pacing settings.

pub(crate) mod actions;
pub(crate) mod announce;
pub(crate) mod client;
mod config;
pub(crate) mod converge;
mod drive;
mod due_reimages;
mod executor;
pub(crate) mod facts;
pub(crate) mod import;
mod invariants;
pub(crate) mod marker;
pub(crate) mod observe;
pub(crate) mod operation;
pub(crate) mod placement;
pub(crate) mod plan;
mod progress;
mod reconcile;
pub(crate) mod retry;
mod run;
mod state;

pub use config::PoolsConfig;
pub(crate) use converge::forget_unmanaged;
pub(crate) use invariants::audit;
pub use invariants::{Discrepancy, PoolAudit};
pub use progress::{Operation, OperationKind, OperationSummary, Progress, ProgressEvent};
pub(crate) use reconcile::{reconcile, spawn as spawn_reconciler};
pub use reconcile::{ClusterReconciliation, ReconcileReport};
pub(crate) use state::Pools;
