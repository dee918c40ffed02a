//! The state shared by the HTTP handlers, the tasks and the control API.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rand::rngs::StdRng;
use rand::SeedableRng;
use secrecy::SecretString;
use tokio::sync::{watch, Semaphore};

use crate::control::OutageMode;

use crate::capacity::Capacity;
use crate::clock::SimClock;
use crate::config::SimConfig;
use crate::exec::ExecScript;
use crate::faults::FaultInjector;
use crate::model::World;

/// Credentials the simulator accepts.
pub(crate) struct Credentials {
    /// `USER@REALM!TOKENID`.
    pub(crate) token_id: String,
    pub(crate) token_secret: SecretString,
    /// A second token that may only read (`USER@REALM!audit`): its writes get 403.
    pub(crate) audit_token_id: String,
    pub(crate) audit_token_secret: SecretString,
    pub(crate) username: String,
    pub(crate) password: SecretString,
    /// Key that signs tickets and CSRF tokens.
    pub(crate) ticket_key: [u8; 32],
}

/// Everything one simulator instance owns.
pub(crate) struct Shared {
    pub(crate) cfg: SimConfig,
    pub(crate) clock: SimClock,
    world: Mutex<World>,
    faults: Mutex<FaultInjector>,
    /// Random choices made at run time (MAC addresses of clones), seeded from `seed`.
    rng: Mutex<StdRng>,
    counters: Mutex<BTreeMap<(String, String), u64>>,
    /// Answers per endpoint and status, so tests can tell refusals (401, faults) from work.
    statuses: Mutex<BTreeMap<(String, String, u16), u64>>,
    pub(crate) capacity: Capacity,
    pub(crate) creds: Credentials,
    /// SHA-256 fingerprint of the TLS certificate, colon-separated upper-case hex.
    pub(crate) fingerprint: String,
    /// Lagging `cluster/resources` snapshots per type filter (see `resources_lag_secs`).
    resources_cache: Mutex<HashMap<String, (std::time::Instant, String)>>,
    /// A whole-cluster outage, watched by every connection.
    pub(crate) outage: watch::Sender<Option<OutageMode>>,
    /// Per node: the API workers (PVE runs 3).
    pub(crate) workers: HashMap<String, Arc<Semaphore>>,
    /// Scripted outcomes of guest agent commands, and the record of every one run.
    exec: Mutex<ExecScript>,
}

impl Shared {
    pub(crate) fn new(
        cfg: SimConfig,
        world: World,
        creds: Credentials,
        fingerprint: String,
    ) -> Self {
        let names: Vec<String> = world.nodes.iter().map(|n| n.name.clone()).collect();
        let workers = names
            .iter()
            .map(|n| {
                let s = Arc::new(Semaphore::new(cfg.capacity.api_workers_per_node));
                (n.clone(), s)
            })
            .collect();
        let faults = FaultInjector::new(cfg.faults.clone(), cfg.seed);
        Self {
            capacity: Capacity::new(&names, cfg.capacity.clone_slots_per_node),
            clock: SimClock::default(),
            world: Mutex::new(world),
            faults: Mutex::new(faults),
            rng: Mutex::new(StdRng::seed_from_u64(cfg.seed ^ 0x5EED_C10E)),
            counters: Mutex::new(BTreeMap::new()),
            statuses: Mutex::new(BTreeMap::new()),
            creds,
            fingerprint,
            outage: watch::Sender::new(None),
            resources_cache: Mutex::new(HashMap::new()),
            workers,
            exec: Mutex::new(ExecScript::default()),
            cfg,
        }
    }

    /// The world lock. Never held across an `.await`; a poisoned lock is still usable because
    /// every mutation leaves the world consistent before it can panic.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultInjector> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn resources_cache(
        &self,
    ) -> MutexGuard<'_, HashMap<String, (std::time::Instant, String)>> {
        self.resources_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The exec script. Take it before the world lock when both are needed.
    pub(crate) fn exec(&self) -> MutexGuard<'_, ExecScript> {
        self.exec.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn rng(&self) -> MutexGuard<'_, StdRng> {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn count(&self, method: &str, template: &str) {
        let mut c = self.counters.lock().unwrap_or_else(PoisonError::into_inner);
        *c.entry((method.to_owned(), template.to_owned()))
            .or_insert(0) += 1;
    }

    pub(crate) fn counters(&self) -> BTreeMap<(String, String), u64> {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn count_status(&self, method: &str, template: &str, status: u16) {
        let mut c = self.statuses.lock().unwrap_or_else(PoisonError::into_inner);
        *c.entry((method.to_owned(), template.to_owned(), status))
            .or_insert(0) += 1;
    }

    pub(crate) fn statuses(&self) -> BTreeMap<(String, String, u16), u64> {
        self.statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn reset_counters(&self) {
        self.counters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.statuses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
