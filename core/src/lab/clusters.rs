//! Clusters through the facade. Adding and listing clusters is for adminers; a cluster's own
//! administrators (its `admin_users`, or members of its `admin_group`) may read its credential
//! and remove it.

use super::Lab;
use crate::error::Result;
use crate::rules::cluster_admin::{self, Identity};
use crate::rules::permissions::{authorize, authorize_on_cluster, Action, Actor, ClassRelation};
use crate::store::clusters::{self, Cluster, ClusterCredential, NewCluster};
use crate::store::users;
use crate::types::{ClusterId, InvalidValue};

/// Loads the cluster `id` and checks `action` on it for `actor`, who administers it when their
/// user name or external id is in its `admin_users`, or one of `groups` (as the front end maps
/// them) is its `admin_group` (the rule lives in [`crate::rules::cluster_admin`]).
fn cluster_for(
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
    let relation = cluster_admin::relation(
        &cluster.admin_users.join("\n"),
        cluster.admin_group.as_deref(),
        &who,
    );
    authorize_on_cluster(actor, action, relation)?;
    Ok(cluster)
}

/// Rejects cluster fields the database would refuse or Proxmox could never accept, naming them.
fn check(new: &NewCluster) -> Result<(), InvalidValue> {
    let host = new.host.trim();
    if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c == '/') {
        return Err(InvalidValue::new(
            "cluster host",
            &new.host,
            "a host name or IP address without spaces, scheme or path",
        ));
    }
    if new.port == 0 {
        return Err(InvalidValue::new(
            "cluster port",
            new.port,
            "a port from 1 to 65535",
        ));
    }
    if new.user.trim().is_empty() || !new.user.contains('@') {
        return Err(InvalidValue::new(
            "cluster user",
            &new.user,
            "a Proxmox user with its realm, e.g. root@pam",
        ));
    }
    if let ClusterCredential::ApiToken { id, .. } = &new.credential {
        if !id.contains('!') {
            return Err(InvalidValue::new(
                "API token id",
                id,
                "user@realm!tokenname, e.g. root@pam!pvelab",
            ));
        }
    }
    Ok(())
}

impl Lab {
    /// Adds a cluster; its password or token secret is sealed before it is stored.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) unless the actor is an adminer;
    /// [`Error::InvalidValue`](crate::Error::InvalidValue) naming a bad host, port, user or token
    /// id; [`Error::NoSealingKey`](crate::Error::NoSealingKey) when the lab has no sealing key;
    /// [`Error::NameTaken`](crate::Error::NameTaken) when the id is taken.
    pub async fn add_cluster(&self, actor: &Actor, cluster: NewCluster) -> Result<Cluster> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        check(&cluster)?;
        let sealer = self.sealer()?;
        self.db()
            .write(move |tx| clusters::insert(tx, &sealer, &cluster))
            .await
    }

    /// All clusters (adminers only), without secrets.
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted) unless the actor is an adminer.
    pub async fn clusters(&self, actor: &Actor) -> Result<Vec<Cluster>> {
        authorize(actor, Action::ManageClusters, ClassRelation::None)?;
        self.db().read(|tx| clusters::list(tx)).await
    }

    /// Removes a cluster (adminers and the cluster's administrators).
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::NotFound`](crate::Error::NotFound).
    pub async fn remove_cluster(
        &self,
        actor: &Actor,
        groups: &[String],
        id: &ClusterId,
    ) -> Result<()> {
        let (actor, groups, id) = (*actor, groups.to_vec(), id.clone());
        self.db()
            .write(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageClusters, &id)?;
                clusters::remove(tx, &id)
            })
            .await
    }

    /// The unsealed credential of a cluster, for the layer that talks to Proxmox (adminers and
    /// the cluster's administrators).
    ///
    /// # Errors
    /// [`Error::NotPermitted`](crate::Error::NotPermitted); [`Error::NoSealingKey`](crate::Error::NoSealingKey);
    /// [`Error::Sealing`](crate::Error::Sealing) when the key is not the one it was sealed with.
    pub async fn cluster_credential(
        &self,
        actor: &Actor,
        groups: &[String],
        id: &ClusterId,
    ) -> Result<ClusterCredential> {
        let sealer = self.sealer()?;
        let (actor, groups, id) = (*actor, groups.to_vec(), id.clone());
        self.db()
            .read(move |tx| {
                cluster_for(tx, &actor, &groups, Action::ManageClusters, &id)?;
                clusters::credential(tx, &sealer, &id)
            })
            .await
    }
}
