//! One Proxmox API client per cluster, built from the cluster's row and kept while the row stays
//! the same.
//!
//! A `pvelab_proxmox::Client` carries a connection pool, a ticket cache and the cluster's rate
//! limit, so everything that talks to one cluster must share one client: a client per call would
//! log in per call and defeat the rate limit. The row's `revision` (raised by every change) says
//! whether a cached client is still right; a changed host, credential or trust builds a new one
//! on the next use. Secrets are unsealed in memory only, while a client is built, and handed to
//! the client as `secrecy` types.
//!
//! The cache is a `std` lock held only to copy a client handle in or out, never across an
//! `await`. Two tasks that find no client at the same time may both build one; the first stored
//! wins and the other is dropped, which costs a TLS setup and nothing else.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::proxmox_errors::cluster_error;
use super::Lab;
use crate::error::{Error, Result};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation};
use crate::store::clusters::{self, ClusterCredential, StoredConnection};
use crate::types::{ClusterId, ClusterTrust};
use pvelab_proxmox::RequestCounter;

/// How long the lab waits for a cluster, and how often it retries a failed read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterTimeouts {
    /// Establishing a connection (TCP and TLS). Default 5 s.
    pub connect: Duration,
    /// One API request. Default 60 s.
    pub request: Duration,
    /// Retries of a request that failed on the way (a refused connection, a gateway error, a
    /// timed-out read); the client retries only what is safe to repeat. Default 4.
    pub retries: u32,
    /// The whole of a [`Lab::test_cluster`] check, retries included: past it the cluster is
    /// reported unreachable. Default 20 s.
    pub check: Duration,
}

impl Default for ClusterTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(60),
            retries: 4,
            check: Duration::from_secs(20),
        }
    }
}

/// The lab's clients, one per cluster, each with the revision of the row it was built from.
pub(crate) struct ClusterClients {
    timeouts: ClusterTimeouts,
    /// Requests per second and burst allowed to one cluster (the pools' pacing setting).
    rate: (u32, u32),
    cache: RwLock<HashMap<ClusterId, Cached>>,
    /// Requests sent to each cluster since the lab opened, across rebuilt clients.
    counters: Mutex<HashMap<ClusterId, Arc<RequestCounter>>>,
}

#[derive(Clone)]
struct Cached {
    revision: i64,
    client: pvelab_proxmox::Client,
}

impl fmt::Debug for ClusterClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clusters: Vec<String> = self
            .read()
            .iter()
            .map(|(id, c)| format!("{id}@{}", c.revision))
            .collect();
        f.debug_struct("ClusterClients")
            .field("timeouts", &self.timeouts)
            .field("clusters", &clusters)
            .finish()
    }
}

impl ClusterClients {
    pub(crate) fn new(timeouts: ClusterTimeouts) -> Self {
        Self {
            timeouts,
            rate: (20, 40),
            cache: RwLock::new(HashMap::new()),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// The rate limit every client gets: `per_second` sustained, `burst` at once (both at least
    /// 1; the client's default is 20 and 40).
    pub(crate) fn with_rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate = (per_second.max(1), burst.max(1));
        self
    }

    pub(crate) fn timeouts(&self) -> ClusterTimeouts {
        self.timeouts
    }

    // A panic while the lock is held cannot leave the map half-changed (every change is one
    // insert or remove), so a poisoned lock is used as it is.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ClusterId, Cached>> {
        self.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ClusterId, Cached>> {
        self.cache.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached client of `cluster` if it was built from `revision`.
    fn cached(&self, cluster: &ClusterId, revision: i64) -> Option<pvelab_proxmox::Client> {
        self.read()
            .get(cluster)
            .filter(|c| c.revision == revision)
            .map(|c| c.client.clone())
    }

    /// Keeps `client` for `cluster` unless a client of a newer revision got there first, and
    /// returns the one kept.
    fn keep(
        &self,
        cluster: &ClusterId,
        revision: i64,
        client: pvelab_proxmox::Client,
    ) -> pvelab_proxmox::Client {
        let mut cache = self.write();
        match cache.get(cluster) {
            Some(newer) if newer.revision > revision => newer.client.clone(),
            _ => {
                cache.insert(cluster.clone(), Cached { revision, client });
                cache[cluster].client.clone()
            }
        }
    }

    /// Drops the client of a removed cluster.
    pub(crate) fn forget(&self, cluster: &ClusterId) {
        self.write().remove(cluster);
    }

    /// The request counter of `cluster` (made on first use, kept when the client is rebuilt).
    fn counter(&self, cluster: &ClusterId) -> Arc<RequestCounter> {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters.entry(cluster.clone()).or_default().clone()
    }

    /// Requests sent and failed per cluster since the lab opened, by cluster id.
    pub(crate) fn request_counts(&self) -> Vec<(ClusterId, u64, u64)> {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut counts: Vec<_> = counters
            .iter()
            .map(|(id, c)| (id.clone(), c.requests(), c.failures()))
            .collect();
        counts.sort_by(|a, b| a.0.cmp(&b.0));
        counts
    }

    /// The number of clients held (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.read().len()
    }
}

/// A client for the cluster stored as `row`, authenticating with `credential`.
///
/// # Errors
/// The client's [`pvelab_proxmox::Error::Config`] when it refuses a value (the stored values were
/// checked when they were stored, so this is a bug).
fn build(
    row: &StoredConnection,
    credential: ClusterCredential,
    timeouts: ClusterTimeouts,
    rate: (u32, u32),
    counter: Arc<RequestCounter>,
) -> pvelab_proxmox::Result<pvelab_proxmox::Client> {
    let url = format!("https://{}:{}", row.host.url_authority(), row.port);
    let auth = match credential {
        ClusterCredential::Password { user, password } => pvelab_proxmox::Auth::Password {
            username: user.as_str().to_owned(),
            password,
        },
        ClusterCredential::ApiToken { id, secret } => pvelab_proxmox::Auth::ApiToken {
            token_id: id.as_str().to_owned(),
            secret,
        },
    };
    let builder = pvelab_proxmox::Client::builder(&url)
        .auth(auth)
        .connect_timeout(timeouts.connect)
        .request_timeout(timeouts.request)
        .rate_limit(rate.0, rate.1)
        .count_requests(counter)
        .retry_policy(pvelab_proxmox::RetryPolicy {
            max_retries: timeouts.retries,
            ..pvelab_proxmox::RetryPolicy::default()
        });
    let builder = match &row.trust {
        ClusterTrust::SystemRoots => builder,
        ClusterTrust::Fingerprint(fp) => builder.fingerprint(&fp.to_string()),
        ClusterTrust::CaCertificate(ca) => builder.ca_pem(ca.as_pem()),
        ClusterTrust::Insecure => builder.insecure(),
    };
    builder.build()
}

/// What the lab sent one cluster since it opened (see [`Lab::proxmox_requests`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxmoxRequests {
    /// The cluster.
    pub cluster: ClusterId,
    /// API requests sent, every attempt of a retried request included.
    pub requests: u64,
    /// Those that got no answer, or an answer outside 2xx.
    pub failures: u64,
}

impl Lab {
    /// The API requests the lab sent each cluster since it opened, and how many failed
    /// (adminers): for a front end's metrics. Counts survive a cluster's client being rebuilt.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer.
    pub fn proxmox_requests(&self, actor: &Actor) -> Result<Vec<ProxmoxRequests>> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        Ok(self
            .inner
            .clients
            .request_counts()
            .into_iter()
            .map(|(cluster, requests, failures)| ProxmoxRequests {
                cluster,
                requests,
                failures,
            })
            .collect())
    }

    /// The API client of `cluster`, built from its row on first use and again after the row
    /// changed. This is how the core talks to Proxmox; errors of calls made with it go through
    /// [`cluster_error`](super::proxmox_errors::cluster_error).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown cluster; [`Error::NoSealingKey`] and
    /// [`Error::Sealing`] when its secret cannot be opened.
    pub(crate) async fn cluster_client(
        &self,
        cluster: &ClusterId,
    ) -> Result<pvelab_proxmox::Client> {
        let clients = &self.inner.clients;
        let id = cluster.clone();
        let row = match self
            .db()
            .read(move |tx| clusters::connection(tx, &id))
            .await
        {
            Ok(row) => row,
            Err(e @ Error::NotFound { .. }) => {
                clients.forget(cluster);
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        if let Some(client) = clients.cached(cluster, row.revision) {
            return Ok(client);
        }
        let credential = row.credential(&self.sealer()?)?;
        let counter = clients.counter(cluster);
        let client = build(&row, credential, clients.timeouts, clients.rate, counter)
            .map_err(|e| cluster_error(cluster, e))?;
        tracing::debug!(cluster = %cluster, revision = row.revision, "built an API client");
        Ok(clients.keep(cluster, row.revision, client))
    }
}

#[cfg(test)]
#[path = "cluster_clients_tests.rs"]
mod tests;
