//! Control and observation of a running simulator: faults, nodes, guests behind the product's
//! back (created, stopped, deleted), scripted guest agent commands and logged-in users, the
//! clock, and request counters. The same operations are methods of [`SimControl`]
//! and HTTP calls under `/_sim/` (served by `http/control.rs`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::capacity::{best_clone_time, CloneKind};
use crate::error::{Error, Result};
use crate::exec::{ExecMatch, ExecOutcome, ExecRecord, GuestUser};
use crate::faults::FaultConfig;
use crate::foreign::ForeignGuest;
use crate::load::{AnchoredLoad, CpuLoad};
use crate::state::Shared;

/// How many requests one endpoint received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestCount {
    /// HTTP method.
    pub method: String,
    /// Path template relative to `/api2/json`, e.g. `/nodes/{node}/qemu/{vmid}/clone`;
    /// `(unknown)` for paths the API does not have.
    pub path: String,
    /// Requests since start or the last reset (failed and faulted ones included).
    pub count: u64,
}

/// How many answers with one status one endpoint gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    /// HTTP method.
    pub method: String,
    /// Path template relative to `/api2/json`, as in [`RequestCount`].
    pub path: String,
    /// The HTTP status of the answer (401 for a refused ticket, 595 for an injected fault).
    pub status: u16,
    /// Answers since start or the last reset.
    pub count: u64,
}

/// How the cluster behaves during a simulated outage (the control API stays reachable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutageMode {
    /// Every API request gets its connection closed without an answer.
    Refuse,
    /// Every API request waits, unanswered, until the outage ends (callers time out).
    Hang,
}

/// Operations on a running simulator; [`crate::SimHandle`] dereferences to it.
#[derive(Clone)]
pub struct SimControl {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for SimControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimControl").finish_non_exhaustive()
    }
}

impl SimControl {
    /// Requests per endpoint and method since start or the last [`Self::reset_counters`].
    pub fn counters(&self) -> Vec<RequestCount> {
        self.shared
            .counters()
            .into_iter()
            .map(|((method, path), count)| RequestCount {
                method,
                path,
                count,
            })
            .collect()
    }

    /// Requests to one endpoint, e.g. `count("GET", "/cluster/resources")`.
    pub fn count(&self, method: &str, path_template: &str) -> u64 {
        self.shared
            .counters()
            .get(&(method.to_owned(), path_template.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Answers per endpoint, method and status since start or the last
    /// [`Self::reset_counters`]. Requests the outage mode drops get no answer and no entry.
    pub fn statuses(&self) -> Vec<StatusCount> {
        self.shared
            .statuses()
            .into_iter()
            .map(|((method, path, status), count)| StatusCount {
                method,
                path,
                status,
                count,
            })
            .collect()
    }

    /// Answers with `status` from one endpoint, e.g. `count_status("POST", "/access/ticket", 200)`.
    pub fn count_status(&self, method: &str, path_template: &str, status: u16) -> u64 {
        self.shared
            .statuses()
            .get(&(method.to_owned(), path_template.to_owned(), status))
            .copied()
            .unwrap_or(0)
    }

    /// Answers with `status` from all endpoints, e.g. every 401 given so far.
    pub fn total_with_status(&self, status: u16) -> u64 {
        self.shared
            .statuses()
            .iter()
            .filter(|((_, _, s), _)| *s == status)
            .map(|(_, n)| n)
            .sum()
    }

    /// All API requests counted so far.
    pub fn total_requests(&self) -> u64 {
        self.shared.counters().values().sum()
    }

    /// Forget all counts.
    pub fn reset_counters(&self) {
        self.shared.reset_counters();
    }

    /// The faults in force.
    pub fn faults(&self) -> FaultConfig {
        self.shared.faults().config().clone()
    }

    /// Replace the faults in force; the fault generator restarts from the seed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] when a rate is not a probability.
    pub fn set_faults(&self, faults: FaultConfig) -> Result<()> {
        faults.validate()?;
        self.shared.faults().set(faults, self.shared.cfg.seed);
        Ok(())
    }

    /// Take a node offline (its API answers 595, its guests show `unknown`) or back online.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchNode`].
    pub fn set_node_online(&self, node: &str, online: bool) -> Result<()> {
        let mut w = self.shared.world();
        let n = w.node_mut(node).ok_or_else(|| Error::NoSuchNode {
            node: node.to_owned(),
        })?;
        n.online = online;
        Ok(())
    }

    /// Start (`Some`) or end (`None`) an outage of the whole cluster's API.
    pub fn set_outage(&self, mode: Option<OutageMode>) {
        self.shared.outage.send_replace(mode);
    }

    /// Set a guest's CPU load (shown while it runs, in status, resources and rrddata).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchGuest`], or [`Error::InvalidValue`] for a fraction outside 0..=1.
    pub fn set_cpu_load(&self, vmid: u32, load: CpuLoad) -> Result<()> {
        load.validate()?;
        let anchor = self.shared.clock.now();
        let mut w = self.shared.world();
        let g = w.guests.get_mut(&vmid).ok_or(Error::NoSuchGuest { vmid })?;
        g.load = AnchoredLoad { load, anchor };
        Ok(())
    }

    /// Stop a guest at once, behind the product's back (as if someone used the console).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchGuest`].
    pub fn stop_guest(&self, vmid: u32) -> Result<()> {
        let now = self.shared.clock.now_f64();
        let mut w = self.shared.world();
        let g = w.guests.get_mut(&vmid).ok_or(Error::NoSuchGuest { vmid })?;
        if g.running {
            g.set_running(false, now);
        }
        Ok(())
    }

    /// Start a guest at once, behind the product's back (its agent delay starts now).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchGuest`].
    pub fn start_guest(&self, vmid: u32) -> Result<()> {
        let now = self.shared.clock.now_f64();
        let mut w = self.shared.world();
        let g = w.guests.get_mut(&vmid).ok_or(Error::NoSuchGuest { vmid })?;
        if !g.running {
            g.set_running(true, now);
        }
        Ok(())
    }

    /// Delete a guest at once, behind the product's back.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchGuest`].
    pub fn delete_guest(&self, vmid: u32) -> Result<()> {
        self.shared
            .world()
            .guests
            .remove(&vmid)
            .map(|_| ())
            .ok_or(Error::NoSuchGuest { vmid })
    }

    /// Create a guest at once, behind the product's back (someone else's VM at a VMID the
    /// product wanted, a leftover container).
    ///
    /// # Errors
    ///
    /// [`Error::GuestExists`] for a taken VMID, [`Error::NoSuchNode`], [`Error::InvalidValue`]
    /// for a VMID outside 100..=999999999, a running template or malformed tags.
    pub fn create_guest(&self, spec: &ForeignGuest) -> Result<()> {
        let now = self.shared.clock.now_f64();
        let mut w = self.shared.world();
        let mut rng = self.shared.rng();
        spec.create(&mut w, &mut rng, now)
    }

    /// Script how guest agent commands matching `m` end (the most specific match wins;
    /// unscripted commands exit 0 at once with no output). Setting the same match again
    /// replaces its outcome.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> pvelab_pve_sim::Result<()> {
    /// use pvelab_pve_sim::{ExecMatch, ExecOutcome, Sim, SimConfig};
    /// let sim = Sim::start(SimConfig::fast()).await?;
    /// sim.set_exec_outcome(
    ///     ExecMatch::vm(101).command(["systemctl", "is-active", "nginx"]),
    ///     ExecOutcome::success("active\n"),
    /// )?;
    /// sim.set_exec_outcome(ExecMatch::any().command(["sleep", "infinity"]), ExecOutcome::hang())?;
    /// # sim.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] for an empty command or a duration that is negative or not
    /// finite.
    pub fn set_exec_outcome(&self, m: ExecMatch, outcome: ExecOutcome) -> Result<()> {
        self.shared.exec().set(m, outcome)
    }

    /// Forget every scripted exec outcome (the record of past commands stays).
    pub fn clear_exec_outcomes(&self) {
        self.shared.exec().clear();
    }

    /// Every `agent/exec` call VM `vmid` received, oldest first (also of a VM deleted since).
    pub fn exec_history(&self, vmid: u32) -> Vec<ExecRecord> {
        self.shared.exec().history(vmid)
    }

    /// Set who is logged in to a guest (what `agent/get-users` reports). A stop logs everyone
    /// out.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchGuest`].
    pub fn set_guest_users(&self, vmid: u32, users: Vec<GuestUser>) -> Result<()> {
        let mut w = self.shared.world();
        let g = w.guests.get_mut(&vmid).ok_or(Error::NoSuchGuest { vmid })?;
        g.agent.users = users;
        Ok(())
    }

    /// Whether a guest exists, and its `lock` if any: `Some(None)` exists unlocked.
    pub fn guest_lock(&self, vmid: u32) -> Option<Option<String>> {
        let w = self.shared.world();
        w.guests.get(&vmid).map(|g| g.lock().map(str::to_owned))
    }

    /// Number of guests (templates and containers included).
    pub fn guest_count(&self) -> usize {
        self.shared.world().guests.len()
    }

    /// Move the simulated clock forward (ticket expiry, rrddata history, uptimes).
    pub fn advance_clock(&self, secs: f64) {
        self.shared.clock.advance(secs);
    }

    /// The simulated time, seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// The best possible time for `n` clones over `nodes` nodes under this simulator's
    /// capacity model (see [`best_clone_time`]).
    pub fn best_clone_time(&self, n: usize, nodes: usize, kind: CloneKind) -> std::time::Duration {
        best_clone_time(&self.shared.cfg, n, nodes, kind)
    }
}
