//! Registering the configured clusters in the lab's database at start, their secrets sealed.
//!
//! The configuration acts through one operator identity (`pvelab:configuration`, an adminer):
//! the file is the operator's word, and the core still checks and records every change as made
//! by someone.

use pvelab_core::jobs::Subnet;
use pvelab_core::model::{ClusterChange, ClusterCredential, ClusterJobChange, NewCluster};
use pvelab_core::types::{
    AdminEntry, ApiTokenId, CaCertificate, ClusterTrust, ExternalId, Fingerprint, Host, PveUser,
    Role,
};
use pvelab_core::{Actor, Lab};
use secrecy::{ExposeSecret, SecretString};

use super::AppError;
use crate::config::{ClusterAuth, ClusterSettings, TlsTrust};

/// The external id the configuration acts as.
pub const OPERATOR: &str = "pvelab:configuration";

/// The operator actor: an adminer by the operator's own authority.
///
/// # Errors
/// [`AppError::Core`] when the user cannot be stored.
pub async fn operator(lab: &Lab) -> Result<Actor, AppError> {
    Ok(program_actor(lab).await?)
}

/// The same identity for the program's own reads: the health check, the metrics and the
/// delivery of direct messages look up clusters, classes, pools and people as it. (The core has
/// no public actor for its embedding program yet; this one is recorded like any person.)
///
/// # Errors
/// The core's error when the user cannot be stored.
pub async fn program_actor(lab: &Lab) -> Result<Actor, pvelab_core::Error> {
    let operator = ExternalId::parse(OPERATOR)?;
    let user = lab.ensure_user(&operator, Some("configuration")).await?;
    Ok(lab.actor_with_role(user.id, Role::Adminer))
}

/// What registering did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registered {
    /// Clusters added now.
    pub added: Vec<String>,
    /// Clusters that were in the database already, brought up to the file's values.
    pub updated: Vec<String>,
}

/// The core's record of a configured cluster: every value parsed into the core's types (the
/// configuration's validation checked the same rules, so a failure here names the value).
///
/// # Errors
/// [`AppError::Core`] with the value that does not parse; [`AppError::Io`] when the CA file
/// cannot be read.
pub fn new_cluster(c: &ClusterSettings) -> Result<NewCluster, AppError> {
    let secret = SecretString::from(c.secret.expose_secret().to_owned());
    let credential = match &c.auth {
        ClusterAuth::ApiToken { id } => ClusterCredential::ApiToken {
            id: ApiTokenId::parse(id).map_err(pvelab_core::Error::from)?,
            secret,
        },
        ClusterAuth::Password { user } => ClusterCredential::Password {
            user: PveUser::parse(user).map_err(pvelab_core::Error::from)?,
            password: secret,
        },
    };
    let trust = match &c.tls {
        TlsTrust::Fingerprint(fp) => {
            ClusterTrust::Fingerprint(Fingerprint::parse(fp).map_err(pvelab_core::Error::from)?)
        }
        TlsTrust::CaFile(path) => {
            let pem = std::fs::read_to_string(path)?;
            ClusterTrust::CaCertificate(
                CaCertificate::parse(&pem).map_err(pvelab_core::Error::from)?,
            )
        }
        TlsTrust::Insecure => ClusterTrust::Insecure,
    };
    let host = Host::parse(&c.host).map_err(pvelab_core::Error::from)?;
    let mut new = NewCluster::new(c.id.clone(), host, credential)
        .trust(trust)
        .port(c.port);
    new.name = c.name.clone();
    new.is_default = c.is_default;
    new.priority = c.priority;
    new.admin_users = c
        .admin_users
        .iter()
        .map(|entry| AdminEntry::parse(entry))
        .collect::<Result<_, _>>()
        .map_err(pvelab_core::Error::from)?;
    new.admin_group = c.admin_group.clone();
    new.description = c.description.clone();
    Ok(new)
}

/// The file's values for a stored cluster: everything the file says except the secret's
/// sealing and `is_default` (which the core moves only by adding a cluster).
///
/// # Errors
/// As [`new_cluster`].
pub fn cluster_change(c: &ClusterSettings) -> Result<ClusterChange, AppError> {
    let new = new_cluster(c)?;
    Ok(ClusterChange {
        name: Some(new.name),
        host: Some(new.host),
        port: Some(new.port),
        credential: Some(new.credential),
        trust: Some(new.trust),
        is_active: Some(c.is_active),
        allow_vm_deployment: Some(c.allow_vm_deployment),
        priority: Some(new.priority),
        admin_users: Some(new.admin_users),
        admin_group: Some(new.admin_group),
        description: Some(new.description),
    })
}

/// The file's settings for the cluster's background jobs.
///
/// # Errors
/// [`AppError::Core`] naming an ARP subnet that is not CIDR notation.
pub fn job_change(c: &ClusterSettings) -> Result<ClusterJobChange, AppError> {
    let arp_subnets = c
        .arp_subnets
        .iter()
        .map(|s| Subnet::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(pvelab_core::Error::from)?;
    Ok(ClusterJobChange {
        allow_template_sync: Some(c.allow_template_sync),
        allow_iso_sync: Some(c.allow_iso_sync),
        auto_shutdown_enabled: Some(c.auto_shutdown_enabled),
        arp_subnets: Some(arp_subnets),
        vm_cache_ttl: c.vm_cache_ttl,
        enable_ip_lookup: Some(c.enable_ip_lookup),
        enable_ip_persistence: Some(c.enable_ip_persistence),
        template_storage: Some(c.template_storage.clone()),
    })
}

/// Brings every configured cluster into the database as the file describes it: a new one is
/// added, a known one gets the file's address, login, trust, flags and job settings (the file
/// is the operator's word at every start, so a corrected fingerprint or secret takes effect by
/// restarting; a `/cluster set` lasts until the next start unless the file says the same).
/// Clusters in the database that the file does not name are left alone.
///
/// # Errors
/// [`AppError::Core`]: no sealing key, a cluster the core refuses.
pub async fn register(lab: &Lab, clusters: &[ClusterSettings]) -> Result<Registered, AppError> {
    let mut done = Registered::default();
    if clusters.is_empty() {
        return Ok(done);
    }
    let actor = operator(lab).await?;
    let known = lab.clusters(&actor).await?;
    for c in clusters {
        let id = c.id.to_string();
        match known.iter().find(|k| k.cluster_id == c.id) {
            None => {
                lab.add_cluster(&actor, new_cluster(c)?).await?;
                tracing::info!(cluster = %id, "cluster registered");
                done.added.push(id);
            }
            Some(stored) => {
                if stored.is_default != c.is_default {
                    tracing::warn!(
                        cluster = %id,
                        file = c.is_default,
                        stored = stored.is_default,
                        "is_default differs from the database and is kept as stored: the default \
                         cluster is chosen when a cluster is added"
                    );
                }
                tracing::info!(cluster = %id, "cluster is registered already; updated from the file");
                done.updated.push(id);
            }
        }
        lab.update_cluster(&actor, &[], &c.id, cluster_change(c)?)
            .await?;
        lab.change_cluster_job_settings(&actor, &c.id, job_change(c)?)
            .await?;
    }
    Ok(done)
}
