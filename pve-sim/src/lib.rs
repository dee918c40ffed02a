//! A simulated Proxmox VE 9 cluster: a real HTTPS server on loopback that answers the PVE API
//! closely enough that code which passes against it works against a real cluster.
//!
//! It builds its JSON from the PVE API schema and observed behaviour, sharing no types with
//! the project's client, so the client is tested against an independent picture of the server.
//!
//! Layout:
//! - [`config`]: what cluster to build and how fast it works ([`SimConfig`]);
//! - `populate`: the initial nodes, storages, templates, VMs and containers;
//! - `model`, `state`: the cluster state behind one mutex;
//! - `tasks`, `capacity`: UPIDs, task logs, clone slots and storage locks;
//! - `exec`: scripted outcomes of guest agent commands ([`ExecMatch`], [`ExecOutcome`]) and
//!   the agent's processes inside each guest;
//! - `http`: TLS server, gate (counters, auth, faults), parameters, PVE-style replies, the
//!   simulated `Date` header, and the control API's HTTP side (`/_sim/`);
//! - `api`: one file per area of `/api2/json`;
//! - [`control`]: faults, nodes, guests, clock and counters ([`SimControl`], also under `/_sim/`).
//!
//! # Examples
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> pvelab_pve_sim::Result<()> {
//! use pvelab_pve_sim::{Sim, SimConfig};
//! let sim = Sim::start(SimConfig::fast()).await?;
//! assert!(sim.base_url().starts_with("https://127.0.0.1:"));
//! assert!(sim.api_token().starts_with("root@pam!"));
//! sim.advance_clock(3600.0); // control calls are methods of the handle
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tokio::task::JoinHandle;

mod api;
mod capacity;
mod clock;
pub mod config;
pub mod control;
mod error;
mod exec;
mod faults;
mod foreign;
mod http;
mod load;
mod model;
mod populate;
mod state;
mod tags;
mod tasks;

pub use capacity::{best_clone_time, CloneKind};
pub use config::{CapacityConfig, SimConfig, TimingConfig};
pub use control::{OutageMode, RequestCount, SimControl, StatusCount};
pub use error::{Error, Result};
pub use exec::{ExecMatch, ExecOutcome, ExecRecord, GuestUser, MAX_CAPTURED_OUTPUT};
pub use faults::FaultConfig;
pub use foreign::{ForeignGuest, GuestKind};
pub use load::{CpuLoad, LoadStep, BUSY_CPU, IDLE_CPU};
pub use populate::TEMPLATE_VMIDS;

/// Entry point: starts simulators.
#[derive(Debug)]
pub struct Sim;

impl Sim {
    /// Build the cluster, bind the listener and serve until [`SimHandle::shutdown`].
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an invalid configuration, [`Error::Bind`] when the address cannot
    /// be bound, [`Error::Tls`] when the certificate cannot be made.
    pub async fn start(config: SimConfig) -> Result<SimHandle> {
        config.validate()?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let mut names = vec!["localhost".to_owned(), addr.ip().to_string()];
        names.extend((1..=config.nodes).map(|i| format!("pve{i}")));
        let tls = http::server::make_tls(names, config.cert_dir.as_deref())?;

        let random_secret = || {
            let b: [u8; 16] = rand::thread_rng().gen();
            let h = hex::encode(b);
            format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            )
        };
        let (token_id, token_secret) = match &config.api_token {
            Some(t) => {
                let (id, secret) = http::auth::parse_token(t.expose_secret())
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .ok_or(Error::Config {
                        key: "api_token",
                        value: "(hidden)".into(),
                        allowed: "USER@REALM!TOKENID=SECRET",
                    })?;
                (id, secret)
            }
            None => (format!("{}!pvelab", config.username), random_secret()),
        };
        let password = config
            .password
            .as_ref()
            .map_or_else(random_secret, |p| p.expose_secret().to_owned());
        let creds = state::Credentials {
            audit_token_id: format!("{}!audit", config.username),
            audit_token_secret: SecretString::from(random_secret()),
            token_id,
            token_secret: SecretString::from(token_secret),
            username: config.username.clone(),
            password: SecretString::from(password),
            ticket_key: rand::thread_rng().gen(),
        };
        let world = populate::populate(&config, clock::SimClock::default().now());
        let shared = Arc::new(state::Shared::new(
            config,
            world,
            creds,
            tls.fingerprint.clone(),
        ));
        let app = http::app(shared.clone());
        let (stop_tx, stop_rx) = watch::channel(false);
        let outage = shared.outage.subscribe();
        let server = tokio::spawn(http::server::serve(
            listener, tls.config, app, outage, stop_rx,
        ));
        Ok(SimHandle {
            addr,
            control: SimControl { shared },
            stop: stop_tx,
            server,
        })
    }
}

/// A running simulator. Dereferences to [`SimControl`] for the control operations.
pub struct SimHandle {
    addr: SocketAddr,
    control: SimControl,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for SimHandle {
    type Target = SimControl;
    fn deref(&self) -> &SimControl {
        &self.control
    }
}

impl SimHandle {
    /// `https://127.0.0.1:PORT`; the API lives under `/api2/json`.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The full API token `USER@REALM!TOKENID=SECRET`, as sent after `PVEAPIToken=`.
    pub fn api_token(&self) -> String {
        let c = &self.control.shared.creds;
        format!("{}={}", c.token_id, c.token_secret.expose_secret())
    }

    /// A read-only API token `USER@REALM!audit=SECRET`: every write it sends gets PVE's
    /// 403 `Permission check failed (/vms/N, PRIVILEGE)`.
    pub fn audit_token(&self) -> String {
        let c = &self.control.shared.creds;
        format!(
            "{}={}",
            c.audit_token_id,
            c.audit_token_secret.expose_secret()
        )
    }

    /// The user that may log in with [`Self::password`].
    pub fn username(&self) -> String {
        self.control.shared.creds.username.clone()
    }

    /// The password of [`Self::username`].
    pub fn password(&self) -> String {
        self.control
            .shared
            .creds
            .password
            .expose_secret()
            .to_owned()
    }

    /// SHA-256 fingerprint of the TLS certificate: colon-separated upper-case hex.
    pub fn fingerprint(&self) -> String {
        self.control.shared.fingerprint.clone()
    }

    /// The configuration the simulator runs with.
    pub fn config(&self) -> &SimConfig {
        &self.control.shared.cfg
    }

    /// The control operations (also reachable through `Deref`).
    pub fn control(&self) -> &SimControl {
        &self.control
    }

    /// Stop accepting connections, finish open ones, and wait for the server to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}
