//! The capacity model: clone slots per node and storage locks.
//!
//! Per node at most `clone_slots_per_node` clone tasks do work at once; more wait for a slot.
//! A linked clone takes `linked_clone_secs` once it has a slot. A full clone also holds the
//! lock of its target storage (node-local storages have one lock per node, a shared storage one
//! for the cluster) for `full_clone_secs`; a full clone that waits longer than
//! `storage_lock_timeout_secs` for it fails with PVE's lock-timeout text. See
//! [`best_clone_time`] for the resulting best possible time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use crate::config::SimConfig;

pub(crate) struct Capacity {
    clone_slots: HashMap<String, Arc<Semaphore>>,
    storage_locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

impl Capacity {
    pub(crate) fn new(nodes: &[String], slots: usize) -> Self {
        Self {
            clone_slots: nodes
                .iter()
                .map(|n| (n.clone(), Arc::new(Semaphore::new(slots))))
                .collect(),
            storage_locks: Mutex::new(HashMap::new()),
        }
    }

    /// Wait for a clone slot on `node`.
    pub(crate) async fn clone_slot(&self, node: &str) -> Option<OwnedSemaphorePermit> {
        let sem = self.clone_slots.get(node)?.clone();
        sem.acquire_owned().await.ok()
    }

    /// Try to take the storage lock within `timeout`; `None` means PVE's "got timeout".
    pub(crate) async fn storage_lock(
        &self,
        lock_name: &str,
        timeout: Duration,
    ) -> Option<OwnedMutexGuard<()>> {
        let lock = {
            let mut locks = self
                .storage_locks
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            locks.entry(lock_name.to_owned()).or_default().clone()
        };
        tokio::time::timeout(timeout, lock.lock_owned()).await.ok()
    }
}

/// The lock file PVE takes for allocations on `storage` (the name is the one in its error text).
pub(crate) fn storage_lock_path(storage: &str) -> String {
    format!("/var/lock/pve-manager/pve-storage-{storage}")
}

/// Whether clones are linked (from a template, the default) or full copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneKind {
    /// Copy-on-write clone of a template's base disk.
    Linked,
    /// A full copy of the disk, holding the target storage's lock while it copies.
    Full,
}

/// The best possible wall time for `n` clones spread evenly over `nodes` nodes, for a caller
/// that keeps every clone slot busy:
///
/// - linked: `ceil(n / (nodes * clone_slots_per_node)) * linked_clone_secs * time_scale`
/// - full, each node cloning to its own local storage: `ceil(n / nodes) * full_clone_secs *
///   time_scale` (the storage lock lets one full clone per storage work at a time)
///
/// API request time is not included (it is `timing.api_service_secs`, 0 by default, per call).
///
/// # Examples
///
/// ```
/// use pvelab_pve_sim::{best_clone_time, CloneKind, SimConfig};
/// let cfg = SimConfig::default(); // 4 slots per node, linked clone 3 s, time_scale 1
/// let t = best_clone_time(&cfg, 100, 3, CloneKind::Linked);
/// assert_eq!(t.as_secs(), 9 * 3); // ceil(100 / 12) = 9 waves of 3 s
/// ```
pub fn best_clone_time(cfg: &SimConfig, n: usize, nodes: usize, kind: CloneKind) -> Duration {
    if n == 0 || nodes == 0 {
        return Duration::ZERO;
    }
    let (parallel, secs) = match kind {
        CloneKind::Linked => (
            nodes * cfg.capacity.clone_slots_per_node,
            cfg.timing.linked_clone_secs,
        ),
        CloneKind::Full => (nodes, cfg.timing.full_clone_secs),
    };
    let waves = n.div_ceil(parallel);
    cfg.scaled(waves as f64 * secs)
}
