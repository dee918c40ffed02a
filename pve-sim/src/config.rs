//! The simulator's configuration: what cluster to build and how it behaves.
//!
//! Every field has a default, so `SimConfig::default()` is a small working cluster and a
//! `sim.toml` only names what it changes. Durations are *nominal* seconds (what a real PVE node
//! would take); the simulator multiplies them by [`SimConfig::time_scale`].

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::faults::FaultConfig;

/// How the simulated cluster is built and how fast it works.
///
/// # Examples
///
/// ```
/// let cfg: pvelab_pve_sim::SimConfig = toml::from_str("nodes = 2\ntime_scale = 0.01").unwrap();
/// assert_eq!(cfg.nodes, 2);
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Address to listen on; port 0 picks a free port. Loopback only is recommended.
    pub listen: SocketAddr,
    /// Folder holding `cert.pem` and `key.pem`; generated there on first start so that later
    /// starts keep the same fingerprint. A fresh certificate per start when absent.
    pub cert_dir: Option<PathBuf>,
    /// Number of nodes, named `pve1`..`pveN`.
    pub nodes: usize,
    /// Number of ordinary VMs to populate besides the templates (spread round-robin over nodes).
    pub vms: usize,
    /// Number of containers to populate.
    pub containers: usize,
    /// Seed of every random choice (MAC addresses, populated names, fault injection).
    pub seed: u64,
    /// Fixed API token `USER@REALM!ID=SECRET`; generated at start when absent.
    #[serde(deserialize_with = "opt_secret")]
    pub api_token: Option<SecretString>,
    /// User that may log in with a password (ticket authentication).
    pub username: String,
    /// That user's password; generated at start when absent.
    #[serde(deserialize_with = "opt_secret")]
    pub password: Option<SecretString>,
    /// Multiplier applied to every simulated duration: 1.0 behaves like a real node, 0.01 runs a
    /// 3-second linked clone in 30 ms. It does not change the clock (see `SimHandle::advance_clock`).
    pub time_scale: f64,
    /// How long a ticket stays valid, in seconds of the simulated clock (PVE: 7200).
    pub ticket_lifetime_secs: u64,
    /// Delay every 401 by 3 seconds (times `time_scale`), as a real node does.
    pub delay_401: bool,
    /// How stale `GET /cluster/resources` may be, in nominal seconds (PVE: a few seconds;
    /// default 0 = always fresh).
    pub resources_lag_secs: f64,
    /// Send error bodies without the `message` member, as PVE did before 2025.
    pub legacy_error_body: bool,
    /// CPU cores of every node.
    pub node_cores: u32,
    /// Memory of every node in GiB.
    pub node_memory_gib: u64,
    /// The capacity model (see the README's formula).
    pub capacity: CapacityConfig,
    /// Nominal durations of simulated work.
    pub timing: TimingConfig,
    /// Faults injected from the start (can be changed at run time).
    pub faults: FaultConfig,
}

/// Per-node limits that make throughput predictable for benchmarks.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CapacityConfig {
    /// Clone tasks that do work at once on one node; further clone tasks wait for a slot.
    pub clone_slots_per_node: usize,
    /// API worker processes per node (PVE runs 3); requests addressed to a node hold one while
    /// they are served, so slow calls queue up.
    pub api_workers_per_node: usize,
}

impl Default for CapacityConfig {
    fn default() -> Self {
        Self {
            clone_slots_per_node: 4,
            api_workers_per_node: 3,
        }
    }
}

/// Nominal durations in seconds (multiplied by `time_scale` at run time).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TimingConfig {
    /// A linked clone of a template.
    pub linked_clone_secs: f64,
    /// A full clone (it holds the target storage's lock the whole time).
    pub full_clone_secs: f64,
    /// How long a full clone waits for a storage lock before failing with the lock-timeout text.
    pub storage_lock_timeout_secs: f64,
    /// `qmstart` / `vzstart`.
    pub start_secs: f64,
    /// A graceful shutdown.
    pub shutdown_secs: f64,
    /// A hard stop, reset or reboot.
    pub stop_secs: f64,
    /// Destroying a guest.
    pub destroy_secs: f64,
    /// Taking, rolling back or deleting a snapshot; converting to a template; resizing a disk.
    pub snapshot_secs: f64,
    /// Time after a guest started until its agent answers with addresses.
    pub agent_delay_secs: f64,
    /// Service time of every API request, held on one of the node's API workers.
    pub api_service_secs: f64,
}

impl Default for TimingConfig {
    fn default() -> Self {
        Self {
            linked_clone_secs: 3.0,
            full_clone_secs: 30.0,
            storage_lock_timeout_secs: 10.0,
            start_secs: 2.0,
            shutdown_secs: 5.0,
            stop_secs: 1.0,
            destroy_secs: 1.5,
            snapshot_secs: 1.0,
            agent_delay_secs: 15.0,
            api_service_secs: 0.0,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            cert_dir: None,
            nodes: 3,
            vms: 6,
            containers: 2,
            seed: 1,
            api_token: None,
            username: "root@pam".to_owned(),
            password: None,
            time_scale: 1.0,
            ticket_lifetime_secs: 7200,
            delay_401: false,
            legacy_error_body: false,
            resources_lag_secs: 0.0,
            node_cores: 32,
            node_memory_gib: 256,
            capacity: CapacityConfig::default(),
            timing: TimingConfig::default(),
            faults: FaultConfig::default(),
        }
    }
}

impl SimConfig {
    /// A configuration suited to tests: everything 100 times faster than a real node.
    pub fn fast() -> Self {
        Self {
            time_scale: 0.01,
            ..Self::default()
        }
    }

    /// Check every value that the types alone do not constrain.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the first offending key.
    pub fn validate(&self) -> Result<()> {
        let bad = |key, value: String, allowed| {
            Err(Error::Config {
                key,
                value,
                allowed,
            })
        };
        if self.nodes == 0 || self.nodes > 64 {
            return bad("nodes", self.nodes.to_string(), "1 to 64");
        }
        if self.vms > 200_000 {
            return bad("vms", self.vms.to_string(), "at most 200000");
        }
        if !(self.time_scale > 0.0 && self.time_scale <= 100.0) {
            return bad(
                "time_scale",
                self.time_scale.to_string(),
                "above 0, at most 100",
            );
        }
        if self.capacity.clone_slots_per_node == 0 {
            return bad("capacity.clone_slots_per_node", "0".into(), "at least 1");
        }
        if self.capacity.api_workers_per_node == 0 {
            return bad("capacity.api_workers_per_node", "0".into(), "at least 1");
        }
        if !self.username.contains('@') {
            return bad(
                "username",
                self.username.clone(),
                "USER@REALM, e.g. root@pam",
            );
        }
        if let Some(token) = &self.api_token {
            use secrecy::ExposeSecret;
            if crate::http::auth::parse_token(token.expose_secret()).is_none() {
                return bad("api_token", "(hidden)".into(), "USER@REALM!TOKENID=SECRET");
            }
        }
        self.faults.validate()?;
        let t = &self.timing;
        for (key, v) in [
            ("timing.linked_clone_secs", t.linked_clone_secs),
            ("timing.full_clone_secs", t.full_clone_secs),
            (
                "timing.storage_lock_timeout_secs",
                t.storage_lock_timeout_secs,
            ),
            ("timing.start_secs", t.start_secs),
            ("timing.shutdown_secs", t.shutdown_secs),
            ("timing.stop_secs", t.stop_secs),
            ("timing.destroy_secs", t.destroy_secs),
            ("timing.snapshot_secs", t.snapshot_secs),
            ("timing.agent_delay_secs", t.agent_delay_secs),
            ("timing.api_service_secs", t.api_service_secs),
            ("resources_lag_secs", self.resources_lag_secs),
        ] {
            if !(0.0..86_400.0).contains(&v) {
                return bad(key, v.to_string(), "0 to 86400 seconds");
            }
        }
        Ok(())
    }

    /// A nominal duration scaled to real time.
    pub(crate) fn scaled(&self, nominal_secs: f64) -> std::time::Duration {
        std::time::Duration::from_secs_f64((nominal_secs * self.time_scale).max(0.0))
    }
}

fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(SecretString::from))
}
