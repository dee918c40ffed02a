//! What the inventory last wrote for each guest, as a digest, so that a tick runs a statement
//! only for the guests whose facts changed.
//!
//! The database already skips rewriting an unchanged row (the upsert's condition), but it still
//! has to find and compare each one: for a cluster of 10,000 guests that was most of a tick.
//! A digest per guest in memory (16 bytes) settles "unchanged" before SQLite is asked.
//!
//! Digests describe what THIS process wrote. Anything else that writes a cluster's tick columns
//! in this process forgets the cluster's digests first ([`InventoryDigests::forget`]: a direct
//! status read, a finished automatic shutdown, a failed tick's error mark), so the next tick
//! writes every row. Another process on the same database (a console beside `pvelab run`) can
//! only do so behind our back: every [`FULL_TICK_EVERY`]th tick therefore writes every row
//! anyway (about hourly), which bounds how long such a row may disagree with Proxmox.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use foldhash::quality::FixedState;

use crate::store::inventory::GuestFacts;
use crate::types::ClusterId;

/// Every this many ticks of a cluster, every row is written whatever the digests say: about
/// once an hour at the default one-minute interval. Only another process writing the same
/// cluster's rows (a console's direct status read beside `pvelab run`, itself rare because the
/// ticks keep rows fresh) can leave a row that this bounds; a full write of 10,000 rows costs
/// as much as twenty ordinary ticks.
pub(crate) const FULL_TICK_EVERY: u32 = 60;

/// The digests of one cluster's rows as the last tick left them.
#[derive(Debug, Default)]
pub(crate) struct Digests {
    by_vmid: foldhash::HashMap<u32, u64>,
    /// Ticks since every row was last written.
    ticks: u32,
    /// The cluster's forget count when these were taken: a forget during the tick voids them.
    generation: u64,
}

impl Digests {
    /// Whether `guest` must be written: its facts differ from what was last written (or nothing
    /// was). Records the new digest either way.
    pub(crate) fn changed(&mut self, guest: &GuestFacts) -> bool {
        let digest = digest(guest);
        self.by_vmid.insert(guest.vmid.get(), digest) != Some(digest)
    }

    /// The guests the last tick left in the table, when these digests come from it (`None` for
    /// a fresh set: then only the table knows).
    pub(crate) fn written_vmids(&self) -> Option<impl Iterator<Item = u32> + '_> {
        (self.ticks > 0).then(|| self.by_vmid.keys().copied())
    }

    /// Drops the digests of guests that are gone.
    pub(crate) fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.by_vmid.retain(|vmid, _| keep(*vmid));
    }
}

/// The digests of every cluster, kept by the lab across ticks.
#[derive(Debug, Default)]
pub(crate) struct InventoryDigests {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    clusters: HashMap<ClusterId, Digests>,
    /// How often each cluster's digests were forgotten.
    generations: HashMap<ClusterId, u64>,
}

impl InventoryDigests {
    /// Takes the cluster's digests for one tick (a cluster's ticks never overlap); a fresh,
    /// empty set when there are none or a full tick is due. Give them back with [`Self::put`]
    /// once the tick committed; a tick that fails simply drops them.
    pub(crate) fn take(&self, cluster: &ClusterId) -> Digests {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = state.generations.get(cluster).copied().unwrap_or(0);
        match state.clusters.remove(cluster) {
            Some(mut digests) if digests.ticks + 1 < FULL_TICK_EVERY => {
                digests.ticks += 1;
                digests.generation = generation;
                digests
            }
            _ => Digests {
                generation,
                ..Digests::default()
            },
        }
    }

    /// Keeps the digests a committed tick left, unless the cluster was forgotten meanwhile.
    pub(crate) fn put(&self, cluster: &ClusterId, digests: Digests) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.generations.get(cluster).copied().unwrap_or(0) == digests.generation {
            state.clusters.insert(cluster.clone(), digests);
        }
    }

    /// Forgets a cluster's digests, including those of a tick under way: something else wrote
    /// its rows, so the next tick writes all.
    pub(crate) fn forget(&self, cluster: &ClusterId) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.clusters.remove(cluster);
        *state.generations.entry(cluster.clone()).or_default() += 1;
    }
}

/// A digest of everything a tick writes for a guest (its timestamps aside).
///
/// foldhash's quality variant: a 64-bit hash that passes the SMHasher suite, several times
/// faster than SipHash on these many small fields. Resisting hash flooding (SipHash's purpose)
/// is not needed: the values come from the cluster, and a collision only delays one row's
/// update to the next full write.
fn digest(g: &GuestFacts) -> u64 {
    let mut h = FixedState::default().build_hasher();
    g.vmid.get().hash(&mut h);
    g.name.hash(&mut h);
    g.node.hash(&mut h);
    g.state.as_str().hash(&mut h);
    g.kind.as_str().hash(&mut h);
    g.category.as_str().hash(&mut h);
    g.memory.hash(&mut h);
    g.cores.hash(&mut h);
    g.disk_size.hash(&mut h);
    g.uptime.hash(&mut h);
    g.cpu_percent.map(f64::to_bits).hash(&mut h);
    g.memory_percent.map(f64::to_bits).hash(&mut h);
    g.is_template.hash(&mut h);
    g.tags.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::{Digests, InventoryDigests, FULL_TICK_EVERY};
    use crate::store::inventory::{GuestCategory, GuestFacts, GuestKind, GuestState};
    use crate::types::{ClusterId, VmId};

    fn guest(vmid: u32, uptime: Option<u64>) -> GuestFacts {
        GuestFacts {
            vmid: VmId::new(i64::from(vmid)).expect("vmid"),
            name: Some(format!("vm{vmid}")),
            node: Some("pve1".into()),
            state: GuestState::Running,
            kind: GuestKind::Qemu,
            category: GuestCategory::Other,
            memory: Some(1 << 30),
            cores: Some(2),
            disk_size: None,
            uptime,
            cpu_percent: Some(1.5),
            memory_percent: None,
            is_template: false,
            tags: None,
        }
    }

    #[test]
    fn a_guest_is_written_when_new_or_changed_and_skipped_when_the_same() {
        let mut digests = Digests::default();
        assert!(digests.changed(&guest(100, Some(5))));
        assert!(!digests.changed(&guest(100, Some(5))));
        assert!(digests.changed(&guest(100, Some(6))));
        digests.retain(|vmid| vmid != 100);
        assert!(
            digests.changed(&guest(100, Some(6))),
            "a forgotten guest is new"
        );
    }

    #[test]
    fn forgetting_a_cluster_or_a_due_full_tick_writes_every_row() {
        let lab = InventoryDigests::default();
        let cluster = ClusterId::parse("c1").expect("id");
        let mut digests = lab.take(&cluster);
        assert!(
            digests.written_vmids().is_none(),
            "a fresh set knows no rows"
        );
        assert!(digests.changed(&guest(100, None)));
        lab.put(&cluster, digests);
        let mut digests = lab.take(&cluster);
        let rows: Vec<u32> = digests.written_vmids().expect("known").collect();
        assert_eq!(rows, [100]);
        assert!(!digests.changed(&guest(100, None)), "kept between ticks");
        lab.put(&cluster, digests);
        lab.forget(&cluster);
        assert!(lab.take(&cluster).changed(&guest(100, None)), "forgotten");
        // A forget while a tick holds the digests voids what that tick gives back.
        let mut during = lab.take(&cluster);
        during.changed(&guest(100, None));
        lab.forget(&cluster);
        lab.put(&cluster, during);
        assert!(lab.take(&cluster).changed(&guest(100, None)), "voided");
        let mut ticks = 0;
        let mut digests = lab.take(&cluster);
        digests.changed(&guest(100, None));
        loop {
            lab.put(&cluster, digests);
            digests = lab.take(&cluster);
            ticks += 1;
            if digests.changed(&guest(100, None)) {
                break;
            }
        }
        assert_eq!(
            ticks, FULL_TICK_EVERY,
            "a full tick comes every {FULL_TICK_EVERY}"
        );
    }
}
