//! What `/healthz` checks: the database takes a write, each active cluster answers on its API
//! port, and (when this process runs one) the Discord front end is connected.
//!
//! Every check runs at each request, so the answer is about now, not about the last poll; each
//! is bounded (a cluster gets [`CLUSTER_TIMEOUT`]) so a probe never hangs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pvelab_core::Lab;
use serde::Serialize;
use tokio::net::TcpStream;

/// How long a cluster has to accept a connection.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(3);

/// The health of one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Whether it works.
    pub ok: bool,
    /// What is wrong, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Check {
    fn ok() -> Self {
        Self {
            ok: true,
            error: None,
        }
    }

    fn failed(error: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(error.into()),
        }
    }
}

/// The answer of `/healthz`, as JSON:
/// `{"status":"ok","database":{"ok":true},"discord":{"ok":true},"clusters":{"pve1":{"ok":true}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// `ok` when every check passed, else `down`.
    pub status: &'static str,
    /// A write transaction on the database.
    pub database: Check,
    /// The Discord connection; absent when this process runs no Discord front end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discord: Option<Check>,
    /// Each active cluster by id: its API port accepts a connection.
    pub clusters: BTreeMap<String, Check>,
}

impl HealthReport {
    /// Whether every check passed.
    pub fn is_healthy(&self) -> bool {
        self.status == "ok"
    }
}

/// The state `/healthz` reads, shared with the parts it reports on: the Discord adapter sets
/// its connection flag here. Cheap to clone; clones share the flag.
#[derive(Debug, Clone)]
pub struct Health {
    lab: Lab,
    /// `None`: no Discord front end in this process, nothing to check.
    discord: Option<Arc<AtomicBool>>,
    cluster_timeout: Duration,
}

impl Health {
    /// Health of `lab` and its clusters, with no Discord front end to check.
    pub fn new(lab: Lab) -> Self {
        Self {
            lab,
            discord: None,
            cluster_timeout: CLUSTER_TIMEOUT,
        }
    }

    /// Also checks a Discord front end: down until [`Health::set_discord_connected`] says
    /// otherwise.
    pub fn expecting_discord(mut self) -> Self {
        self.discord = Some(Arc::new(AtomicBool::new(false)));
        self
    }

    /// Gives each cluster `timeout` to accept a connection.
    pub fn cluster_timeout(mut self, timeout: Duration) -> Self {
        self.cluster_timeout = timeout;
        self
    }

    /// For the Discord adapter: the gateway is connected (ready, resumed) or not
    /// (disconnected, shutting down). Ignored when no Discord front end is expected.
    pub fn set_discord_connected(&self, connected: bool) {
        if let Some(flag) = &self.discord {
            flag.store(connected, Ordering::Release);
        }
    }

    /// Runs every check.
    pub async fn check(&self) -> HealthReport {
        let (database, clusters) = tokio::join!(self.database(), self.clusters());
        let discord = self.discord.as_ref().map(|flag| {
            if flag.load(Ordering::Acquire) {
                Check::ok()
            } else {
                Check::failed("not connected to the Discord gateway")
            }
        });
        let healthy =
            database.ok && discord.as_ref().is_none_or(|d| d.ok) && clusters.values().all(|c| c.ok);
        HealthReport {
            status: if healthy { "ok" } else { "down" },
            database,
            discord,
            clusters,
        }
    }

    /// A real write transaction, the cheapest the core offers: refreshing the program's own
    /// user record (an upsert that changes nothing). A full disk, a read-only file or a lock
    /// held too long by another process all show here.
    async fn database(&self) -> Check {
        match crate::app::clusters::program_actor(&self.lab).await {
            Ok(_) => Check::ok(),
            Err(e) => Check::failed(format!("the database does not take writes: {e}")),
        }
    }

    /// Each active cluster's API address accepts a TCP connection. The core has no call that
    /// asks a cluster for its version yet; a connection shows the node is up and reachable.
    async fn clusters(&self) -> BTreeMap<String, Check> {
        let clusters = match crate::app::clusters::program_actor(&self.lab).await {
            Ok(actor) => self.lab.clusters(&actor).await,
            Err(e) => Err(e),
        };
        let clusters = match clusters {
            Ok(clusters) => clusters,
            Err(e) => {
                let mut failed = BTreeMap::new();
                failed.insert(
                    "(all)".to_owned(),
                    Check::failed(format!("the clusters could not be read: {e}")),
                );
                return failed;
            }
        };
        // Every active cluster is in the answer, failed until its probe says otherwise.
        let mut checks = BTreeMap::new();
        let mut probes = tokio::task::JoinSet::new();
        for cluster in clusters.into_iter().filter(|c| c.is_active) {
            let id = cluster.cluster_id.to_string();
            checks.insert(id.clone(), Check::failed("the probe did not finish"));
            let timeout = self.cluster_timeout;
            probes.spawn(async move {
                (
                    id,
                    reachable(cluster.host.as_str(), cluster.port, timeout).await,
                )
            });
        }
        while let Some(joined) = probes.join_next().await {
            if let Ok((id, check)) = joined {
                checks.insert(id, check);
            }
        }
        checks
    }
}

async fn reachable(host: &str, port: u16, timeout: Duration) -> Check {
    match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Check::ok(),
        Ok(Err(e)) => Check::failed(format!("{host}:{port} refused or failed: {e}")),
        Err(_) => Check::failed(format!(
            "{host}:{port} did not answer within {} s",
            timeout.as_secs_f32()
        )),
    }
}
