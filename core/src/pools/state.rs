//! The orchestration's process-local state: settings, the clone slots of each node, a
//! bound per cluster, and which VMs are being worked on right now.
//!
//! None of this is a record: it only keeps this process from overrunning a node or working on
//! one VM twice at once. What a VM has reached lives in the database, so a restart (which
//! starts with this state empty) loses nothing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Semaphore;

use super::config::PoolsConfig;
use crate::types::ClusterId;

/// Shared by every clone of a [`Lab`](crate::Lab).
#[derive(Debug)]
pub(crate) struct Pools {
    config: PoolsConfig,
    /// When this lab was opened: operations still open from before were cut short.
    opened_at: jiff::Timestamp,
    clone_slots: Mutex<HashMap<(ClusterId, String), Arc<Semaphore>>>,
    cluster_slots: Mutex<HashMap<ClusterId, Arc<Semaphore>>>,
    busy: Arc<Mutex<HashSet<(ClusterId, u32)>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pools {
    pub(crate) fn new(config: PoolsConfig, opened_at: jiff::Timestamp) -> Self {
        Self {
            config,
            opened_at,
            clone_slots: Mutex::default(),
            cluster_slots: Mutex::default(),
            busy: Arc::default(),
        }
    }

    pub(crate) fn config(&self) -> &PoolsConfig {
        &self.config
    }

    pub(crate) fn opened_at(&self) -> jiff::Timestamp {
        self.opened_at
    }

    /// The clone slots of `node` on `cluster` (`clones_per_node` permits).
    pub(crate) fn clone_slots(&self, cluster: &ClusterId, node: &str) -> Arc<Semaphore> {
        lock(&self.clone_slots)
            .entry((cluster.clone(), node.to_owned()))
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.clones_per_node.max(1))))
            .clone()
    }

    /// The bound of VMs worked on at once on `cluster` (`vms_per_cluster` permits).
    pub(crate) fn cluster_slots(&self, cluster: &ClusterId) -> Arc<Semaphore> {
        lock(&self.cluster_slots)
            .entry(cluster.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.config.vms_per_cluster.max(1))))
            .clone()
    }

    /// Claims VM `vmid` of `cluster` for one piece of work; `None` while another holds it.
    pub(crate) fn claim(&self, cluster: &ClusterId, vmid: u32) -> Option<Claim> {
        let key = (cluster.clone(), vmid);
        if lock(&self.busy).insert(key.clone()) {
            Some(Claim {
                busy: Arc::clone(&self.busy),
                key,
            })
        } else {
            None
        }
    }
}

/// Work on one VM; released when dropped (also when its task is aborted).
#[derive(Debug)]
pub(crate) struct Claim {
    busy: Arc<Mutex<HashSet<(ClusterId, u32)>>>,
    key: (ClusterId, u32),
}

impl Drop for Claim {
    fn drop(&mut self) {
        lock(&self.busy).remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vm_is_claimed_once_until_the_claim_is_dropped() {
        let pools = Pools::new(PoolsConfig::default(), jiff::Timestamp::now());
        let c = ClusterId::parse("pve").unwrap();
        let first = pools.claim(&c, 101).expect("free");
        assert!(pools.claim(&c, 101).is_none());
        assert!(pools.claim(&c, 102).is_some());
        drop(first);
        assert!(pools.claim(&c, 101).is_some());
    }
}
