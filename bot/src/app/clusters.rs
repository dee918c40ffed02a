//! Registering the configured clusters in the lab's database at start, their secrets sealed.
//!
//! The configuration acts through one operator identity (`pvelab:configuration`, an adminer):
//! the file is the operator's word, and the core still checks and records every change as made
//! by someone.

use pvelab_core::jobs::Subnet;
use pvelab_core::model::{
    Cluster, ClusterChange, ClusterCredential, ClusterJobChange, ClusterJobSettings, NewCluster,
};
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
    /// Clusters that were in the database already and differed from the file, now brought up
    /// to its values (clusters that matched it are in neither list).
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

/// The file's value when it differs from the stored one: what a change sets.
fn differs<T: PartialEq>(file: T, stored: &T) -> Option<T> {
    (file != *stored).then_some(file)
}

/// What the file says differently from the stored cluster: only those fields are set, so a
/// start that changes nothing writes nothing (and records nothing in the audit trail).
/// `is_default` is left out: the core moves the default only by adding a cluster.
/// `same_credential` says whether the stored credential is the file's
/// ([`Lab::cluster_credential_is`]): the stored secret itself never leaves the core.
///
/// # Errors
/// As [`new_cluster`].
pub fn cluster_change(
    c: &ClusterSettings,
    stored: &Cluster,
    same_credential: bool,
) -> Result<ClusterChange, AppError> {
    let new = new_cluster(c)?;
    Ok(ClusterChange {
        name: differs(new.name, &stored.name),
        host: differs(new.host, &stored.host),
        port: differs(new.port, &stored.port),
        credential: (!same_credential).then_some(new.credential),
        trust: differs(new.trust, &stored.trust),
        is_active: differs(c.is_active, &stored.is_active),
        allow_vm_deployment: differs(c.allow_vm_deployment, &stored.allow_vm_deployment),
        priority: differs(new.priority, &stored.priority),
        admin_users: differs(new.admin_users, &stored.admin_users),
        admin_group: differs(new.admin_group, &stored.admin_group),
        description: differs(new.description, &stored.description),
    })
}

/// What the file says differently from the cluster's stored job settings.
///
/// # Errors
/// [`AppError::Core`] naming an ARP subnet that is not CIDR notation.
pub fn job_change(
    c: &ClusterSettings,
    stored: &ClusterJobSettings,
) -> Result<ClusterJobChange, AppError> {
    let arp_subnets = c
        .arp_subnets
        .iter()
        .map(|s| Subnet::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(pvelab_core::Error::from)?;
    Ok(ClusterJobChange {
        allow_template_sync: differs(c.allow_template_sync, &stored.allow_template_sync),
        allow_iso_sync: differs(c.allow_iso_sync, &stored.allow_iso_sync),
        auto_shutdown_enabled: differs(c.auto_shutdown_enabled, &stored.auto_shutdown_enabled),
        arp_subnets: differs(arp_subnets, &stored.arp_subnets),
        vm_cache_ttl: c
            .vm_cache_ttl
            .and_then(|ttl| differs(ttl, &stored.vm_cache_ttl)),
        enable_ip_lookup: differs(c.enable_ip_lookup, &stored.enable_ip_lookup),
        enable_ip_persistence: differs(c.enable_ip_persistence, &stored.enable_ip_persistence),
        template_storage: differs(c.template_storage.clone(), &stored.template_storage),
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
        let stored = match known.iter().find(|k| k.cluster_id == c.id) {
            Some(stored) => stored.clone(),
            None => {
                let added = lab.add_cluster(&actor, new_cluster(c)?).await?;
                tracing::info!(cluster = %id, "cluster registered");
                done.added.push(id.clone());
                added
            }
        };
        if stored.is_default != c.is_default {
            tracing::warn!(
                cluster = %id,
                file = c.is_default,
                stored = stored.is_default,
                "is_default differs from the database and is kept as stored: the default \
                 cluster is chosen when a cluster is added"
            );
        }
        // A secret sealed under another key cannot be compared: the file's replaces it.
        let same_credential = lab
            .cluster_credential_is(&actor, &[], &c.id, &new_cluster(c)?.credential)
            .await
            .unwrap_or(false);
        let change = cluster_change(c, &stored, same_credential)?;
        let jobs = job_change(c, &lab.cluster_job_settings(&actor, &c.id).await?)?;
        if change.is_empty() && jobs.is_empty() {
            continue;
        }
        if !change.is_empty() {
            lab.update_cluster(&actor, &[], &c.id, change).await?;
        }
        if !jobs.is_empty() {
            lab.change_cluster_job_settings(&actor, &c.id, jobs).await?;
        }
        if !done.added.contains(&id) {
            tracing::info!(cluster = %id, "cluster updated from the configuration file");
            done.updated.push(id);
        }
    }
    Ok(done)
}
