//! Registering the configured clusters in the lab's database at start, their secrets sealed.
//!
//! The configuration acts through one operator identity (`pvelab:configuration`, an adminer):
//! the file is the operator's word, and the core still checks and records every change as made
//! by someone.

use pvelab_core::model::{ClusterCredential, NewCluster};
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
    let operator = ExternalId::parse(OPERATOR).map_err(pvelab_core::Error::from)?;
    let user = lab.ensure_user(&operator, Some("configuration")).await?;
    Ok(lab.actor_with_role(user.id, Role::Adminer))
}

/// What registering did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registered {
    /// Clusters added now.
    pub added: Vec<String>,
    /// Clusters that were in the database already and were left as they are.
    pub kept: Vec<String>,
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

/// Adds every configured cluster the database does not have yet. Clusters it has are kept as
/// stored: the core offers no update of a cluster yet.
///
/// # Errors
/// [`AppError::Core`]: no sealing key, a cluster the core refuses.
pub async fn register(lab: &Lab, clusters: &[ClusterSettings]) -> Result<Registered, AppError> {
    let mut done = Registered::default();
    if clusters.is_empty() {
        return Ok(done);
    }
    let actor = operator(lab).await?;
    let known: Vec<String> = lab
        .clusters(&actor)
        .await?
        .into_iter()
        .map(|c| c.cluster_id.to_string())
        .collect();
    for c in clusters {
        let id = c.id.to_string();
        if known.contains(&id) {
            tracing::info!(cluster = %id, "cluster is registered already; kept as stored");
            done.kept.push(id);
        } else {
            lab.add_cluster(&actor, new_cluster(c)?).await?;
            tracing::info!(cluster = %id, "cluster registered");
            done.added.push(id);
        }
    }
    Ok(done)
}
