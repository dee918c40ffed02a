//! Planning: (a class's intent, its pool rows with their steps, the facts Proxmox reported) ->
//! the actions that bring fact to intent. A pure function, unit-tested without I/O in
//! `plan_tests.rs`; the executor runs what it returns.
//!
//! Level-triggered and idempotent: whatever happened before (a crash after any call, a clone
//! that finished while nobody watched, a VM deleted behind our back), the same recorded steps
//! and the same facts give the same actions, so planning again always converges. Two rules are
//! never broken: a VM is changed or deleted only when its config carries the marker for this
//! class and slot, and a student VM is only shrunk away while nobody holds it (a forced shrink
//! is decided by a person, in the request's own transaction, never here).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::facts::{ConfigFact, Facts, GuestFact, Intent, Specs};
use super::marker::Marker;
use super::placement::{CloneSpec, Placer};
use crate::store::pool::{PoolVmState, PowerState, VmRole, VmStatus, VmStep};
use crate::types::{Slot, VmId};

/// Where a VM whose clone is done continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Its clone still runs (locked `clone`) and its task is unknown: wait for the lock to go.
    WaitUnlock,
    /// Set cores, memory, disk and tags; record the MAC address.
    Configure,
    /// Take the `baseline` snapshot.
    Snapshot,
    /// Record it ready.
    Ready,
}

/// One step of one VM (the executor follows each with the steps after it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Record a new slot as planned, then create its VM (or record why it cannot be placed).
    Add {
        vmid: VmId,
        role: VmRole,
        clone: Result<CloneSpec, String>,
    },
    /// Create the VM: clone it.
    Clone { vmid: VmId, clone: CloneSpec },
    /// Wait for the recorded clone task, then continue.
    AwaitClone {
        vmid: VmId,
        upid: String,
        clone: CloneSpec,
    },
    /// Our VM exists: continue from `next`.
    Continue {
        vmid: VmId,
        node: String,
        next: Next,
    },
    /// The slot cannot be built now (a foreign VM in the way, no template, no node).
    Fail { vmid: VmId, reason: String },
    /// Delete our VM (waiting for a recorded delete task first), then forget the row.
    Delete {
        vmid: VmId,
        node: String,
        upid: Option<String>,
    },
    /// Forget a row whose VM is gone or was never ours (a foreign VM is left alone).
    Forget { vmid: VmId, reason: String },
    /// Replace our VM at this VMID: delete it (if there), then clone again; the holder keeps it.
    Rebuild {
        vmid: VmId,
        node: Option<String>,
        upid: Option<String>,
        clone: Result<CloneSpec, String>,
    },
    /// A VM recorded as built is gone from Proxmox: build it again (its holder keeps it).
    Vanished {
        vmid: VmId,
        node: Option<String>,
        clone: Result<CloneSpec, String>,
    },
    /// Bring cores, memory, disk or tags of a built VM to the class's (without wiping it).
    Reconfigure { vmid: VmId, node: String },
    /// A released VM is reimaged before anyone else gets it.
    Reimage { vmid: VmId },
    /// A surplus student VM nobody holds: mark it for deletion, then delete it.
    Shrink { vmid: VmId },
    /// Record the run state Proxmox reports.
    Power { vmid: VmId, power: PowerState },
}

impl Action {
    /// The VM the action is about.
    pub(crate) fn vmid(&self) -> VmId {
        match self {
            Action::Add { vmid, .. }
            | Action::Clone { vmid, .. }
            | Action::AwaitClone { vmid, .. }
            | Action::Continue { vmid, .. }
            | Action::Fail { vmid, .. }
            | Action::Delete { vmid, .. }
            | Action::Forget { vmid, .. }
            | Action::Rebuild { vmid, .. }
            | Action::Vanished { vmid, .. }
            | Action::Reconfigure { vmid, .. }
            | Action::Reimage { vmid }
            | Action::Shrink { vmid }
            | Action::Power { vmid, .. } => *vmid,
        }
    }

    /// Whether the action ends with a VM ready to hand out (or failed trying): what the
    /// progress's "ready" count is out of. Reconfiguring, deleting and forgetting do not.
    pub(crate) fn builds(&self) -> bool {
        match self {
            Action::Add { .. }
            | Action::Clone { .. }
            | Action::AwaitClone { .. }
            | Action::Continue { .. }
            | Action::Fail { .. }
            | Action::Rebuild { .. }
            | Action::Vanished { .. }
            | Action::Reimage { .. } => true,
            Action::Delete { .. }
            | Action::Forget { .. }
            | Action::Reconfigure { .. }
            | Action::Shrink { .. }
            | Action::Power { .. } => false,
        }
    }

    /// Whether the action only records what was seen (no call to Proxmox).
    pub(crate) fn is_bookkeeping(&self) -> bool {
        matches!(self, Action::Power { .. })
    }
}

/// A guest in the class's VMID range that no row of the class records.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UnknownVm {
    pub(crate) vmid: u32,
    pub(crate) node: String,
    /// Its marker, when it has one (then it is another class's, or an orphan of this one).
    pub(crate) marker: Option<Marker>,
}

/// The planner's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Plan {
    pub(crate) actions: Vec<Action>,
    pub(crate) unknown: Vec<UnknownVm>,
    /// Facts a person should know that need no action (assigned VMs keeping a pool above its
    /// size, a slot waiting for its next try).
    pub(crate) notes: Vec<String>,
}

/// The node a row records for its VM, as text.
pub(crate) fn recorded_node(row: &PoolVmState) -> Option<String> {
    row.vm.node.as_ref().map(|n| n.as_str().to_owned())
}

/// The slot a role has in the VMID plan (manual VMs have none and are never touched).
pub(crate) fn slot_of(role: VmRole) -> Option<Slot> {
    match role {
        VmRole::Teacher => Some(Slot::Teacher),
        VmRole::Base => Some(Slot::Base),
        VmRole::Student { slot } => Some(Slot::Student(slot)),
        VmRole::Manual => None,
    }
}

/// Whose a guest at one of our VMIDs is.
#[derive(Debug, Clone, PartialEq)]
enum Owner {
    Ours,
    Foreign(String),
    /// Its config was not read (or could not be): decide later.
    Unknown,
}

/// The reason a slot fails when someone else's VM holds its VMID.
pub(crate) fn foreign_reason(vmid: u32, node: &str) -> String {
    format!("VM {vmid} on {node} exists and was not created by pvelab for this slot")
}

fn owner(intent: &Intent, guest: &GuestFact, slot: Slot) -> Owner {
    if !guest.qemu || guest.template {
        return Owner::Foreign(foreign_reason(guest.vmid, &guest.node));
    }
    match &guest.config {
        None => Owner::Unknown,
        Some(config) => match &config.marker {
            Some(m) if m.is_for(intent.class, slot, &intent.cluster) => Owner::Ours,
            _ => Owner::Foreign(foreign_reason(guest.vmid, &guest.node)),
        },
    }
}

/// Whether a built VM's config differs from the class's specs or lacks the tag (pending
/// changes count as applied: a running VM gets them at its next stop).
pub(crate) fn drifts(specs: Specs, config: &ConfigFact) -> bool {
    let tagged = config.tags.as_deref().is_some_and(super::marker::has_tag);
    !tagged
        || config.cores != Some(u64::from(specs.cores))
        || config.memory_mb != Some(u64::from(specs.memory_mb))
        || config
            .disk
            .as_ref()
            .is_some_and(|(_, bytes)| *bytes < specs.disk_bytes())
}

/// Whether `cluster/resources` suggests a built VM differs from the specs (then its config is
/// read to be sure: a running VM shows its running values there, not pending ones).
fn looks_drifted(specs: Specs, guest: &GuestFact) -> bool {
    !guest.tagged
        || guest.cores.is_some_and(|c| c != u64::from(specs.cores))
        || guest
            .memory_mb
            .is_some_and(|m| m != u64::from(specs.memory_mb))
        || guest.disk_bytes.is_some_and(|d| d < specs.disk_bytes())
}

/// The guests whose configs the planner needs: every guest in the class's range with no row,
/// or whose row may adopt, fail, delete or rebuild it, or that looks drifted.
pub(crate) fn configs_needed(
    intent: &Intent,
    rows: &[PoolVmState],
    guests: &BTreeMap<u32, GuestFact>,
) -> Vec<u32> {
    let by_vmid: BTreeMap<u32, &PoolVmState> = rows.iter().map(|r| (r.vm.vmid.get(), r)).collect();
    let range = intent.scheme.vmids();
    let mut wanted: BTreeSet<u32> = BTreeSet::new();
    for guest in guests.values().filter(|g| g.qemu && !g.template) {
        match by_vmid.get(&guest.vmid) {
            None if range.contains(&guest.vmid) => {
                wanted.insert(guest.vmid);
            }
            None => {}
            Some(row) if row.vm.role == VmRole::Manual => {}
            Some(row) => {
                let needed = match row.step {
                    VmStep::Planned | VmStep::Failed | VmStep::Rebuilding | VmStep::Deleting => {
                        true
                    }
                    VmStep::Cloning => row.task.is_none(),
                    VmStep::Configured | VmStep::Snapshotted => false,
                    VmStep::Ready => looks_drifted(intent.specs, guest),
                };
                if needed {
                    wanted.insert(guest.vmid);
                }
            }
        }
    }
    wanted.into_iter().collect()
}

/// The actions that bring the class's pool from `rows` and `facts` to `intent` at `now`.
pub(crate) fn plan(intent: &Intent, rows: &[PoolVmState], facts: &Facts, now: Timestamp) -> Plan {
    let mut out = Plan::default();
    let mut placer = Placer::new(&facts.nodes);
    let pinned = intent.deployment_node.as_deref();
    let memory = intent.specs.memory_mb;
    let mut place = |near: Option<&str>| -> Result<CloneSpec, String> {
        let source = facts.source.as_ref().map_err(Clone::clone)?;
        placer.place_near(source, pinned, near, memory)
    };

    // Rows first, in a stable order: teacher, students by slot, base, manual.
    let mut ordered: Vec<&PoolVmState> = rows.iter().collect();
    ordered.sort_by_key(|r| match r.vm.role {
        VmRole::Teacher => (0, 0, r.vm.vmid.get()),
        VmRole::Student { slot } => (1, slot, r.vm.vmid.get()),
        VmRole::Base => (2, 0, r.vm.vmid.get()),
        VmRole::Manual => (3, 0, r.vm.vmid.get()),
    });

    // Surplus student VMs beyond the pool size, nobody holding them, highest slot first.
    let shrink: BTreeSet<u32> = if intent.deleting {
        BTreeSet::new()
    } else {
        surplus(intent, rows, &mut out.notes)
    };

    for row in ordered {
        let vmid = row.vm.vmid;
        let guest = facts.guests.get(&vmid.get());
        let built = matches!(
            row.step,
            VmStep::Configured | VmStep::Snapshotted | VmStep::Ready
        );
        if let (Some(g), true) = (guest, built) {
            if row.power != Some(g.power) {
                out.actions.push(Action::Power {
                    vmid,
                    power: g.power,
                });
            }
        }
        let Some(slot) = slot_of(row.vm.role) else {
            // A VM registered by hand is never changed; if its row is to go, only the row goes.
            if intent.deleting || row.step == VmStep::Deleting {
                out.actions.push(Action::Forget {
                    vmid,
                    reason: "a VM registered by hand is never deleted by pvelab".into(),
                });
            }
            continue;
        };
        // A VM marked for deletion goes, whatever step a concurrent operation recorded for it
        // after the mark (a rebuild finishing late records `ready` over `deleting`).
        if intent.deleting || row.step == VmStep::Deleting || row.vm.status == VmStatus::Deleting {
            out.actions.push(delete_action(intent, row, guest, slot));
            continue;
        }
        if shrink.contains(&vmid.get()) {
            out.actions.push(Action::Shrink { vmid });
            continue;
        }
        let due = row.next_try_at.is_none_or(|t| t <= now);
        let owner = guest.map(|g| owner(intent, g, slot));
        match row.step {
            VmStep::Deleting => {}
            VmStep::Rebuilding => {
                if !due {
                    continue;
                }
                match (guest, owner) {
                    (Some(_), Some(Owner::Unknown)) => {}
                    (Some(_), Some(Owner::Foreign(reason))) => {
                        out.actions.push(Action::Fail { vmid, reason })
                    }
                    (g, _) => {
                        let node = g.map(|g| g.node.clone());
                        let near = node.clone().or_else(|| recorded_node(row));
                        out.actions.push(Action::Rebuild {
                            vmid,
                            node,
                            upid: row.task.clone(),
                            clone: place(near.as_deref()),
                        });
                    }
                }
            }
            VmStep::Planned | VmStep::Cloning | VmStep::Failed => {
                if row.step == VmStep::Failed && !due {
                    continue;
                }
                if let (VmStep::Cloning, Some(upid)) = (row.step, &row.task) {
                    // The clone's task decides; its target node is where the VM will be.
                    let near = guest.map(|g| g.node.clone()).or(recorded_node(row));
                    match place(near.as_deref()) {
                        Ok(clone) => out.actions.push(Action::AwaitClone {
                            vmid,
                            upid: upid.clone(),
                            clone,
                        }),
                        Err(reason) => out.actions.push(Action::Fail { vmid, reason }),
                    }
                    continue;
                }
                match (guest, owner) {
                    (Some(_), Some(Owner::Unknown)) => {}
                    (Some(_), Some(Owner::Foreign(reason))) => {
                        out.actions.push(Action::Fail { vmid, reason })
                    }
                    (Some(g), _) => {
                        // Ours already: a clone that finished while nobody watched.
                        let locked = g.lock.as_deref() == Some("clone")
                            || g.config.as_ref().and_then(|c| c.lock.as_deref()) == Some("clone");
                        out.actions.push(Action::Continue {
                            vmid,
                            node: g.node.clone(),
                            next: if locked {
                                Next::WaitUnlock
                            } else {
                                Next::Configure
                            },
                        });
                    }
                    (None, _) => match place(recorded_node(row).as_deref()) {
                        Ok(clone) => out.actions.push(Action::Clone { vmid, clone }),
                        Err(reason) => out.actions.push(Action::Fail { vmid, reason }),
                    },
                }
            }
            VmStep::Configured | VmStep::Snapshotted | VmStep::Ready => {
                let Some(g) = guest else {
                    out.actions.push(Action::Vanished {
                        vmid,
                        node: recorded_node(row),
                        clone: place(recorded_node(row).as_deref()),
                    });
                    continue;
                };
                match row.step {
                    VmStep::Configured => out.actions.push(Action::Continue {
                        vmid,
                        node: g.node.clone(),
                        next: Next::Snapshot,
                    }),
                    VmStep::Snapshotted => out.actions.push(Action::Continue {
                        vmid,
                        node: g.node.clone(),
                        next: Next::Ready,
                    }),
                    _ => {
                        let released = row.vm.needs_reimage
                            && row.vm.assigned_to.is_none()
                            && row.vm.status == VmStatus::Available
                            && matches!(row.vm.role, VmRole::Student { .. });
                        if released {
                            out.actions.push(Action::Reimage { vmid });
                        } else if matches!(owner, Some(Owner::Ours))
                            && g.config.as_ref().is_some_and(|c| drifts(intent.specs, c))
                        {
                            out.actions.push(Action::Reconfigure {
                                vmid,
                                node: g.node.clone(),
                            });
                        }
                    }
                }
            }
        }
    }

    if !intent.deleting {
        add_missing(intent, rows, &mut out, &mut place);
    }
    let recorded: BTreeSet<u32> = rows
        .iter()
        .map(|r| r.vm.vmid.get())
        .chain(out.actions.iter().map(|a| a.vmid().get()))
        .collect();
    for g in facts.guests.values() {
        if intent.scheme.vmids().contains(&g.vmid) && !recorded.contains(&g.vmid) {
            out.unknown.push(UnknownVm {
                vmid: g.vmid,
                node: g.node.clone(),
                marker: g.config.as_ref().and_then(|c| c.marker.clone()),
            });
        }
    }
    out
}

fn delete_action(
    intent: &Intent,
    row: &PoolVmState,
    guest: Option<&GuestFact>,
    slot: Slot,
) -> Action {
    let vmid = row.vm.vmid;
    match guest {
        None => Action::Forget {
            vmid,
            reason: "its VM is gone from Proxmox".into(),
        },
        Some(g) => match owner(intent, g, slot) {
            Owner::Foreign(reason) => Action::Forget {
                vmid,
                reason: format!("{reason}; it is left alone"),
            },
            // Ours, or not known yet: the executor reads the marker before it deletes anything.
            Owner::Ours | Owner::Unknown => Action::Delete {
                vmid,
                node: g.node.clone(),
                upid: row.task.clone(),
            },
        },
    }
}

/// The student rows that go when the pool shrank: those beyond its size (slots above it are
/// never handed out again), as long as nobody holds them. Held ones stay until their student
/// leaves (a forced shrink is a person's decision, taken in the request's own transaction).
fn surplus(intent: &Intent, rows: &[PoolVmState], notes: &mut Vec<String>) -> BTreeSet<u32> {
    let beyond: Vec<&PoolVmState> = rows
        .iter()
        .filter(|r| matches!(r.vm.role, VmRole::Student { slot } if slot > intent.pool_size))
        .filter(|r| r.step != VmStep::Deleting && r.vm.status != VmStatus::Deleting)
        .collect();
    let held = beyond.iter().filter(|r| r.vm.assigned_to.is_some()).count();
    if held > 0 {
        notes.push(format!(
            "{held} student VMs beyond the pool size of {} are held; they go when their \
             students leave",
            intent.pool_size
        ));
    }
    beyond
        .iter()
        .filter(|r| r.vm.assigned_to.is_none())
        .map(|r| r.vm.vmid.get())
        .collect()
}

/// Adds the teacher VM, the base VM and the student slots 1 to the pool size that no row
/// holds (a row being deleted still holds its VMID: its slot is added once it is gone).
fn add_missing(
    intent: &Intent,
    rows: &[PoolVmState],
    out: &mut Plan,
    place: &mut impl FnMut(Option<&str>) -> Result<CloneSpec, String>,
) {
    let scheme = intent.scheme;
    let mut roles: Vec<(VmId, VmRole)> = Vec::new();
    if !rows.iter().any(|r| r.vm.role == VmRole::Teacher) {
        roles.push((scheme.teacher_vmid(), VmRole::Teacher));
    }
    let used: BTreeSet<u16> = rows
        .iter()
        .filter_map(|r| match r.vm.role {
            VmRole::Student { slot } => Some(slot),
            _ => None,
        })
        .collect();
    let size = intent.pool_size.min(scheme.student_slots());
    if size < intent.pool_size {
        out.notes.push(format!(
            "the VMID plan ({scheme}) has room for {} student VMs, not {}",
            scheme.student_slots(),
            intent.pool_size
        ));
    }
    let waiting = rows
        .iter()
        .filter(|r| matches!(r.vm.role, VmRole::Student { slot } if slot <= size))
        .filter(|r| r.step == VmStep::Deleting || r.vm.status == VmStatus::Deleting)
        .count();
    if waiting > 0 {
        out.notes.push(format!(
            "{waiting} slots wait for their old VM's deletion before they are built again"
        ));
    }
    for slot in (1..=size).filter(|s| !used.contains(s)) {
        if let Some(vmid) = scheme.student_vmid(slot) {
            roles.push((vmid, VmRole::Student { slot }));
        }
    }
    if !rows.iter().any(|r| r.vm.role == VmRole::Base) {
        roles.push((scheme.base_vmid(), VmRole::Base));
    }
    for (vmid, role) in roles {
        let clone = place(None);
        out.actions.push(Action::Add { vmid, role, clone });
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
