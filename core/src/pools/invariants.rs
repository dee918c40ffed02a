//! The pool's invariants, checked against Proxmox: ONE checker, used by the tests now, by the
//! stress suite later, and by teachers who want to know whether their pool is whole.
//!
//! A pool is whole when every recorded VM exists once on Proxmox with its marker, is ready with
//! the class's specs, its tag and a `baseline` snapshot; every assignment points at an existing
//! VM; no student holds two VMs of the class; no VM with the class's marker exists that the
//! pool does not record; and every student slot up to the pool size has its VM, none beyond it
//! that nobody holds (a held VM beyond the size is whole: it is taken only by force, or goes
//! when its student leaves).

use std::collections::{BTreeMap, BTreeSet};

use super::client::client_for;
use super::converge::{load, read};
use super::drive::BASELINE;
use super::facts::{GuestFact, Intent, GIB};
use super::marker::has_tag;
use super::observe;
use super::plan::slot_of;
use crate::error::Result;
use crate::lab::Lab;
use crate::store::pool::steps::PoolVmState;
use crate::store::pool::{VmRole, VmStatus, VmStep};
use crate::types::{ClassId, UserId, VmId};

/// One way a pool differs from what it should be.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Discrepancy {
    /// A recorded VM does not exist on Proxmox.
    Missing {
        /// The VM.
        vmid: VmId,
    },
    /// The VM at a recorded VMID does not carry the class's marker for its slot.
    NotOurs {
        /// The VM.
        vmid: VmId,
    },
    /// A recorded VM is not ready (being built, rebuilt, deleted, or failed).
    NotReady {
        /// The VM.
        vmid: VmId,
        /// Its step.
        step: VmStep,
    },
    /// A VM's cores, memory or disk differ from the class's (pending changes count as made).
    WrongSpecs {
        /// The VM.
        vmid: VmId,
        /// What differs, e.g. `cores 2, want 4`.
        what: String,
    },
    /// A VM lacks the `pvelab` tag.
    NoTag {
        /// The VM.
        vmid: VmId,
    },
    /// A VM lacks its `baseline` snapshot.
    NoBaseline {
        /// The VM.
        vmid: VmId,
    },
    /// An assignment points at a VM that does not exist on Proxmox.
    HolderWithoutVm {
        /// The student.
        user: UserId,
        /// The VM.
        vmid: VmId,
    },
    /// A student holds more than one VM of the class.
    HoldsTwo {
        /// The student.
        user: UserId,
        /// The VMs.
        vmids: Vec<VmId>,
    },
    /// A VM with the class's marker exists that the pool does not record (or one slot's
    /// marker on two VMs).
    MarkedOutsideIntent {
        /// The VM.
        vmid: VmId,
        /// Its node.
        node: String,
    },
    /// The pool has a different number of student VMs than its size.
    SizeMismatch {
        /// The size.
        intent: u16,
        /// Student VMs recorded (not being deleted).
        actual: usize,
    },
}

/// What [`Lab::audit_pool`](crate::Lab::audit_pool) found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolAudit {
    /// The class.
    pub class: Option<ClassId>,
    /// Everything that differs from a whole pool.
    pub problems: Vec<Discrepancy>,
    /// Running VMs with a change pending until their next stop.
    pub pending: Vec<VmId>,
}

impl PoolAudit {
    /// Whether the pool is whole.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the class's pool against Proxmox.
///
/// # Errors
/// [`crate::Error::Cluster`] when the cluster cannot be read; [`crate::Error::Internal`].
pub(crate) async fn audit(lab: &Lab, class: ClassId) -> Result<PoolAudit> {
    let mut audit = PoolAudit {
        class: Some(class),
        ..PoolAudit::default()
    };
    let Some(loaded) = load(lab, class).await? else {
        return Ok(audit);
    };
    let (intent, rows) = (loaded.intent, loaded.rows);
    let client = client_for(lab, &intent.cluster).await?;
    let mut guests = read(lab, &intent.cluster, || observe::guests(&client)).await?;
    // Our VMs (tagged) anywhere, and everything in the class's range: their markers matter.
    let wanted: Vec<u32> = guests
        .values()
        .filter(|g| g.qemu && (g.tagged || intent.scheme.vmids().contains(&g.vmid)))
        .map(|g| g.vmid)
        .collect();
    observe::read_configs(&client, lab.pools().config(), &mut guests, &wanted, 8).await;
    let recorded: BTreeSet<u32> = rows.iter().map(|r| r.vm.vmid.get()).collect();
    for row in &rows {
        check_row(&intent, row, &guests, &mut audit);
        if row.step == VmStep::Ready && slot_of(row.vm.role).is_some() {
            if let Some(g) = guests.get(&row.vm.vmid.get()) {
                let qemu = client.node(&g.node).qemu(g.vmid);
                let has = read(lab, &intent.cluster, || qemu.snapshots())
                    .await?
                    .iter()
                    .any(|s| s.name == BASELINE);
                if !has {
                    audit
                        .problems
                        .push(Discrepancy::NoBaseline { vmid: row.vm.vmid });
                }
            }
        }
    }
    for g in guests.values() {
        let Some(marker) = g.config.as_ref().and_then(|c| c.marker.as_ref()) else {
            continue;
        };
        if marker.class == intent.class && !recorded.contains(&g.vmid) {
            if let Ok(vmid) = VmId::new(i64::from(g.vmid)) {
                audit.problems.push(Discrepancy::MarkedOutsideIntent {
                    vmid,
                    node: g.node.clone(),
                });
            }
        }
    }
    let mut held: BTreeMap<UserId, Vec<VmId>> = BTreeMap::new();
    for row in &rows {
        if let Some(user) = row.vm.assigned_to {
            held.entry(user).or_default().push(row.vm.vmid);
        }
    }
    for (user, vmids) in held {
        if vmids.len() > 1 {
            audit.problems.push(Discrepancy::HoldsTwo { user, vmids });
        }
    }
    let live: Vec<(u16, &PoolVmState)> = rows
        .iter()
        .filter_map(|r| match r.vm.role {
            VmRole::Student { slot } => Some((slot, r)),
            _ => None,
        })
        .filter(|(_, r)| r.step != VmStep::Deleting && r.vm.status != VmStatus::Deleting)
        .collect();
    let size = intent.pool_size;
    let filled = live.iter().filter(|(slot, _)| *slot <= size).count();
    let free_beyond = live
        .iter()
        .any(|(slot, r)| *slot > size && r.vm.assigned_to.is_none());
    if filled < usize::from(size) || free_beyond {
        audit.problems.push(Discrepancy::SizeMismatch {
            intent: size,
            actual: live.len(),
        });
    }
    Ok(audit)
}

fn check_row(
    intent: &Intent,
    row: &PoolVmState,
    guests: &BTreeMap<u32, GuestFact>,
    audit: &mut PoolAudit,
) {
    let vmid = row.vm.vmid;
    let Some(slot) = slot_of(row.vm.role) else {
        return;
    };
    if row.step != VmStep::Ready {
        audit.problems.push(Discrepancy::NotReady {
            vmid,
            step: row.step,
        });
    }
    let Some(g) = guests.get(&vmid.get()) else {
        audit.problems.push(Discrepancy::Missing { vmid });
        if let Some(user) = row.vm.assigned_to {
            audit
                .problems
                .push(Discrepancy::HolderWithoutVm { user, vmid });
        }
        return;
    };
    let Some(config) = &g.config else {
        audit.problems.push(Discrepancy::NotOurs { vmid });
        return;
    };
    if !config
        .marker
        .as_ref()
        .is_some_and(|m| m.is_for(intent.class, slot, &intent.cluster))
    {
        audit.problems.push(Discrepancy::NotOurs { vmid });
        return;
    }
    if !config.tags.as_deref().is_some_and(has_tag) {
        audit.problems.push(Discrepancy::NoTag { vmid });
    }
    let specs = intent.specs;
    let mut what = Vec::new();
    if config.cores != Some(u64::from(specs.cores)) {
        what.push(format!("cores {:?}, want {}", config.cores, specs.cores));
    }
    if config.memory_mb != Some(u64::from(specs.memory_mb)) {
        what.push(format!(
            "memory {:?} MiB, want {}",
            config.memory_mb, specs.memory_mb
        ));
    }
    if let Some((_, bytes)) = &config.disk {
        if *bytes < specs.disk_bytes() {
            what.push(format!("disk {} GiB, want {}", bytes / GIB, specs.disk_gb));
        }
    }
    if !what.is_empty() {
        audit.problems.push(Discrepancy::WrongSpecs {
            vmid,
            what: what.join(", "),
        });
    }
    let running_differs = g.cores.is_some_and(|c| Some(c) != config.cores)
        || g.memory_mb.is_some_and(|m| Some(m) != config.memory_mb);
    if running_differs && g.power == crate::store::pool::PowerState::Running {
        audit.pending.push(vmid);
    }
}
