//! Clusters through the facade. Adding and listing clusters is for adminers; a cluster's own
//! administrators (its `admin_users`, or members of its `admin_group`) may check, change and
//! remove it and read its credential, but only adminers change who administers it.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::proxmox_errors::cluster_error;
use super::{audit, Lab};
use crate::error::{ClusterProblem, Error, Result};
use crate::rules::cluster_admin::{self, Identity};
use crate::rules::permissions::{authorize, authorize_on_cluster, Action, Actor, ClassRelation};
use crate::store::clusters::{self, Cluster, ClusterChange, ClusterCredential, NewCluster};
use crate::store::users;
use crate::types::{ClusterId, InvalidValue, NodeName};

/// What a cluster answered to [`Lab::test_cluster`]: it is reachable, trusted, and accepts
/// pvelab's credential.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterCheck {
    /// The Proxmox VE version it runs, e.g. `9.2.0`.
    pub version: String,
    /// Its nodes, by name.
    pub nodes: Vec<NodeCheck>,
}

/// One node of a checked cluster. The figures are absent for a node that is offline.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeCheck {
    /// The node's name.
    pub name: NodeName,
    /// Up and in the cluster's quorum.
    pub online: bool,
    /// CPU use as a fraction of all its cores (0.0 to 1.0).
    pub cpu: Option<f64>,
    /// Its number of cores.
    pub maxcpu: Option<u64>,
    /// Memory in use, in bytes.
    pub mem: Option<u64>,
    /// Its memory, in bytes.
    pub maxmem: Option<u64>,
}

/// Loads the cluster `id` and checks `action` on it for `actor`, who administers it when an
/// entry of its `admin_users` names them, or one of `groups` (as the front end maps them) is its
/// `admin_group` (the rule lives in [`crate::rules::cluster_admin`]).
pub(super) fn cluster_for(
    tx: &rusqlite::Connection,
    actor: &Actor,
    groups: &[String],
    action: Action,
    id: &ClusterId,
) -> Result<Cluster> {
    let cluster = clusters::get(tx, id)?;
    let user = users::get(tx, actor.person(action)?)?;
    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
    let who = Identity {
        username: user.username.as_deref(),
        external_id: user.external_id.as_deref(),
        groups: &groups,
    };
    let relation =
        cluster_admin::relation(&cluster.admin_users, cluster.admin_group.as_deref(), &who);
    authorize_on_cluster(actor, action, relation)?;
    Ok(cluster)
}

/// Rejects a port no server listens on.
fn check_port(port: u16) -> Result<(), InvalidValue> {
    if port == 0 {
        return Err(InvalidValue::new(
            "cluster port",
            port,
            "a port from 1 to 65535",
        ));
    }
    Ok(())
}

/// Rejects secrets Proxmox could never accept (without echoing them).
fn check_credential(credential: &ClusterCredential) -> Result<(), InvalidValue> {
    match credential {
        ClusterCredential::Password { password, .. } => {
            if password.expose_secret().is_empty() {
                return Err(InvalidValue::hidden(
                    "cluster password",
                    "a password that is not empty",
                ));
            }
        }
        ClusterCredential::ApiToken { secret, .. } => {
            let secret = secret.expose_secret();
            // It travels in the Authorization header, which takes printable ASCII only.
            if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(InvalidValue::hidden(
                    "API token secret",
                    "the secret PVE showed for the token: printable ASCII without spaces",
                ));
            }
        }
    }
    Ok(())
}

impl Lab {
    /// Adds a cluster; its password or token secret is sealed before it is stored.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer; [`Error::InvalidValue`] naming a
    /// bad port or secret; [`Error::NoSealingKey`] when the lab has no sealing key;
    /// [`Error::NameTaken`] when the id is taken; [`Error::DefaultClusterTaken`].
    pub async fn add_cluster(&self, actor: &Actor, cluster: NewCluster) -> Result<Cluster> {
        if let Err(e) = authorize(actor, Action::ManageClusters, ClassRelation::None) {
            self.audit_failure(actor, Action::ManageClusters, None, &e)
                .await;
            return Err(e);
        }
        check_port(cluster.port)?;
        check_credential(&cluster.credential)?;
        let (sealer, by) = (self.sealer()?, *actor);
        let added = self
            .db()
            .write(move |tx| {
                let added = clusters::insert(tx, &sealer, &cluster)?;
                audit::record(
                    tx,
                    &by,
                    Action::ManageClusters,
                    None,
                    format!(
                        "cluster {} added ({}:{})",
                        added.cluster_id, added.host, added.port
                    ),
                )?;
                Ok(added)
            })
            .await?;
        self.wake_consumers(1);
        Ok(added)
    }

    /// Changes a cluster (adminers and the cluster's administrators; only adminers change its
    /// `admin_users` and `admin_group`). A new secret is sealed; the lab's API client for the
    /// cluster is rebuilt from the changed row on its next use.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`]; [`Error::InvalidValue`] naming a bad port
    /// or secret; [`Error::NoSealingKey`] when a new secret cannot be sealed.
    pub async fn update_cluster(
        &self,
        actor: &Actor,
        groups: &[String],
        id: &ClusterId,
        change: ClusterChange,
    ) -> Result<Cluster> {
        if let Some(port) = change.port {
            check_port(port)?;
        }
        if let Some(credential) = &change.credential {
            check_credential(credential)?;
        }
        let sealer = match change.credential {
            Some(_) => Some(self.sealer()?),
            None => None,
        };
        let (actor, groups, id) = (*actor, groups.to_vec(), id.clone());
        self.db()
            .write(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageClusters, &id)?;
                if change.changes_admins() {
                    authorize(&actor, Action::ManageClusters, ClassRelation::None)?;
                }
                let changed = clusters::update(tx, sealer.as_ref(), &id, &change)?;
                audit::record(
                    tx,
                    &actor,
                    Action::ManageClusters,
                    None,
                    format!("cluster {id} changed: {}", change.fields().join(", ")),
                )?;
                Ok(changed)
            })
            .await
            .inspect(|_| self.wake_consumers(1))
    }

    /// All clusters (adminers only), without secrets.
    ///
    /// # Errors
    /// [`Error::NotPermitted`] unless the actor is an adminer.
    pub async fn clusters(&self, actor: &Actor) -> Result<Vec<Cluster>> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        self.db().read(|tx| clusters::list(tx)).await
    }

    /// Removes a cluster (adminers and the cluster's administrators).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`].
    pub async fn remove_cluster(
        &self,
        actor: &Actor,
        groups: &[String],
        id: &ClusterId,
    ) -> Result<()> {
        let (actor, groups, owned) = (*actor, groups.to_vec(), id.clone());
        self.db()
            .write(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageClusters, &owned)?;
                clusters::remove(tx, &owned)?;
                audit::record(
                    tx,
                    &actor,
                    Action::ManageClusters,
                    None,
                    format!("cluster {owned} removed"),
                )
            })
            .await?;
        self.wake_consumers(1);
        self.inner.clients.forget(id);
        Ok(())
    }

    /// Whether the cluster's stored credential is `candidate`: the same kind, user or token id
    /// and secret (adminers and the cluster's administrators). For a front end that keeps
    /// clusters in a file and updates the secret only when the file's differs. The stored
    /// secret is opened for the comparison only: no call hands it out, so a front end can
    /// never show, log or export it.
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`]; [`Error::NoSealingKey`]; [`Error::Sealing`]
    /// when the key is not the one it was sealed with (then only replacing it helps).
    pub async fn cluster_credential_is(
        &self,
        actor: &Actor,
        groups: &[String],
        id: &ClusterId,
        candidate: &ClusterCredential,
    ) -> Result<bool> {
        let sealer = self.sealer()?;
        let (actor, groups, id) = (*actor, groups.to_vec(), id.clone());
        let candidate = candidate.clone();
        self.db()
            .read(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageClusters, &id)?;
                Ok(clusters::credential(tx, &sealer, &id)?.is_same_as(&candidate))
            })
            .await
    }

    /// Checks that a cluster is reachable, presents a certificate its row trusts and accepts its
    /// credential, by asking for its version and its nodes with the lab's client for it
    /// (adminers and the cluster's administrators). The whole check ends within
    /// [`ClusterTimeouts::check`](super::ClusterTimeouts::check).
    ///
    /// # Errors
    /// [`Error::NotPermitted`]; [`Error::NotFound`]; [`Error::Cluster`] with
    /// [`ClusterProblem::Unreachable`], [`ClusterProblem::Untrusted`] (with the fingerprint the
    /// cluster presented when a pin did not match), [`ClusterProblem::AuthenticationFailed`] or
    /// [`ClusterProblem::PermissionDenied`]; [`Error::Sealing`] when its secret cannot be opened.
    pub async fn test_cluster(
        &self,
        actor: &Actor,
        groups: &[String],
        id: &ClusterId,
    ) -> Result<ClusterCheck> {
        let (owned_actor, owned_groups, owned_id) = (*actor, groups.to_vec(), id.clone());
        self.db()
            .read(move |tx| {
                cluster_for(
                    tx,
                    &owned_actor,
                    &owned_groups,
                    Action::ManageClusters,
                    &owned_id,
                )
            })
            .await?;
        let client = self.cluster_client(id).await?;
        let deadline = self.inner.clients.timeouts().check;
        let answers = tokio::time::timeout(deadline, async {
            tokio::try_join!(client.version(), client.nodes())
        })
        .await;
        let (version, nodes) = match answers {
            Ok(Ok(answers)) => answers,
            Ok(Err(e)) => return Err(cluster_error(id, e)),
            Err(_) => return Err(no_answer(id, deadline)),
        };
        let mut nodes = nodes
            .into_iter()
            .map(|n| node_check(id, n))
            .collect::<Result<Vec<_>>>()?;
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(ClusterCheck {
            version: version.version,
            nodes,
        })
    }
}

fn no_answer(id: &ClusterId, deadline: Duration) -> Error {
    Error::Cluster {
        cluster: id.clone(),
        problem: ClusterProblem::Unreachable {
            detail: format!("no answer within {deadline:?}"),
        },
    }
}

/// A node as the core reports it; a name PVE would never give is the cluster's fault.
fn node_check(id: &ClusterId, node: pvelab_proxmox::NodeSummary) -> Result<NodeCheck> {
    let name = NodeName::parse(&node.node).map_err(|e| Error::Cluster {
        cluster: id.clone(),
        problem: ClusterProblem::Refused {
            detail: format!("it reported a node pvelab cannot use: {e}"),
        },
    })?;
    Ok(NodeCheck {
        name,
        online: node.status == pvelab_proxmox::NodeStatus::Online,
        cpu: node.cpu,
        maxcpu: node.maxcpu,
        mem: node.mem,
        maxmem: node.maxmem,
    })
}
