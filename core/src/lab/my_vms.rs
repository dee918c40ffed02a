//! Everything a student's "my VMs" view shows, read in one snapshot: each VM they hold with its
//! class, whether they may start it now, its state and the class's next session, and their
//! places on waitlists.
//!
//! One call instead of one per fact: when a whole class asks at once, each request is one
//! read transaction (and a refresh from Proxmox only for states older than the cluster's
//! `vm_cache_ttl`) instead of a dozen reads queued behind each other, so a burst finishes
//! sooner and holds less memory while it waits.

use std::collections::HashMap;

use futures_util::future::join_all;

use super::classes::check_visible;
use super::sessions::zone_of;
use super::usage::start_decision;
use super::vm_state::Recorded;
use super::{Lab, VmState};
use crate::error::Result;
use crate::model::{next_session_of, NextSession};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::rules::start::StartDecision;
use crate::store::classes::{self, Class};
use crate::store::pool::{self, PoolVm};
use crate::store::{cluster_jobs, sessions, waitlist};
use crate::types::ClusterId;

/// What [`Lab::my_vm_overview`] returns.
#[derive(Debug, Clone)]
pub struct MyVms {
    /// The VMs the actor holds, one per class, in the order of [`Lab::my_vms`].
    pub vms: Vec<MyVm>,
    /// The classes whose waitlist the actor is on.
    pub waiting: Vec<WaitlistPlace>,
}

/// One VM the actor holds, with what its holder needs to know about it.
#[derive(Debug, Clone)]
pub struct MyVm {
    /// The VM.
    pub vm: PoolVm,
    /// Its class.
    pub class: Class,
    /// Whether the actor may start it now, and if not why.
    pub start: StartDecision,
    /// Its state (refreshed from Proxmox when the record was stale; see
    /// [`VmState::refresh_error`]).
    pub state: VmState,
    /// The class's next session (or the one under way).
    pub next_session: Option<NextSession>,
}

/// A class whose waitlist the actor is on.
#[derive(Debug, Clone)]
pub struct WaitlistPlace {
    /// The class.
    pub class: Class,
    /// The 1-based place (1: the next VM that frees up is theirs).
    pub place: u32,
}

/// One held VM as read in the snapshot, before any refresh.
struct Snapshot {
    vm: PoolVm,
    class: Class,
    start: StartDecision,
    recorded: Recorded,
    fresh: bool,
    next_session: Option<NextSession>,
}

impl Lab {
    /// The actor's VMs with their class, start decision, state and next session, and their
    /// waitlist places: the whole "my VMs" view in one read transaction. States recorded longer
    /// ago than their cluster's `vm_cache_ttl` are read from Proxmox first, all at once and
    /// bounded by the answer time; a refresh that fails leaves the recorded state with the
    /// reason in [`VmState::refresh_error`].
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) for the system actor;
    /// [`Error::Internal`](crate::Error::Internal) when SQLite fails.
    pub async fn my_vm_overview(&self, actor: &Actor) -> Result<MyVms> {
        authorize(actor, Action::ViewOwnVms, ClassRelation::None)?;
        let user = actor.person(Action::ViewOwnVms)?;
        let (who, now) = (*actor, self.now());
        let (snapshots, waiting) = self
            .db()
            .read(move |tx| {
                let mut ttl_of: HashMap<ClusterId, u32> = HashMap::new();
                let mut snapshots = Vec::new();
                for vm in pool::held_by_user(tx, user)? {
                    let class = classes::get(tx, vm.class_id)?;
                    check_visible(tx, &who, &class)?;
                    let start = start_decision(tx, &who, &class, &vm)?;
                    let recorded = Recorded::read(tx, &vm)?;
                    let ttl = match ttl_of.get(&vm.cluster_id) {
                        Some(ttl) => *ttl,
                        None => {
                            let ttl = cluster_jobs::settings(tx, &vm.cluster_id)?.vm_cache_ttl;
                            ttl_of.insert(vm.cluster_id.clone(), ttl);
                            ttl
                        }
                    };
                    let next_session =
                        next_session_of(&sessions::list(tx, class.id)?, now, &zone_of(tx, &class)?);
                    snapshots.push(Snapshot {
                        fresh: recorded.is_fresh(now, ttl),
                        vm,
                        class,
                        start,
                        recorded,
                        next_session,
                    });
                }
                let mut waiting = Vec::new();
                for (class, place) in waitlist::places_of(tx, user)? {
                    waiting.push(WaitlistPlace {
                        class: classes::get(tx, class)?,
                        place,
                    });
                }
                Ok((snapshots, waiting))
            })
            .await?;
        let vms = self.with_fresh_states(snapshots).await?;
        Ok(MyVms { vms, waiting })
    }

    /// Turns snapshots into answers, refreshing the stale states from Proxmox (together) and
    /// reading their new records in one more read.
    async fn with_fresh_states(&self, snapshots: Vec<Snapshot>) -> Result<Vec<MyVm>> {
        let stale: Vec<&Snapshot> = snapshots.iter().filter(|s| !s.fresh).collect();
        if stale.is_empty() {
            return Ok(snapshots
                .into_iter()
                .map(|s| s.answer(None, None))
                .collect());
        }
        let errors = join_all(
            stale
                .iter()
                .map(|s| self.refresh_within_answer_time(&s.vm, s.recorded.entry.as_ref())),
        )
        .await;
        let vms: Vec<PoolVm> = stale.iter().map(|s| s.vm.clone()).collect();
        let mut reread = self
            .db()
            .read(move |tx| {
                vms.iter()
                    .map(|vm| Recorded::read(tx, vm))
                    .collect::<Result<Vec<_>>>()
            })
            .await?
            .into_iter()
            .zip(errors);
        Ok(snapshots
            .into_iter()
            .map(|s| {
                if s.fresh {
                    s.answer(None, None)
                } else {
                    let (recorded, error) = reread.next().unzip();
                    s.answer(recorded, error.flatten())
                }
            })
            .collect())
    }
}

impl Snapshot {
    /// The answer, from the snapshot's record or the one read after a refresh.
    fn answer(self, reread: Option<Recorded>, refresh_error: Option<String>) -> MyVm {
        let recorded = reread.unwrap_or(self.recorded);
        MyVm {
            state: recorded.state_of(&self.vm, refresh_error),
            vm: self.vm,
            class: self.class,
            start: self.start,
            next_session: self.next_session,
        }
    }
}
