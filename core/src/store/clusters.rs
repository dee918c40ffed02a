//! Clusters: the Proxmox VE clusters the lab may use. Their credentials are stored sealed (see
//! [`crate::seal`]); reading a cluster never returns a secret; only
//! [`Lab::cluster_credential`](crate::Lab::cluster_credential) opens one.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, Value};
use secrecy::SecretString;

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::Clusters;
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::rules::cluster_admin::admin_entries;
use crate::seal::Sealer;
use crate::types::ClusterId;

/// How the lab authenticates to a cluster. The secret parts are sealed before they are stored.
#[derive(Debug, Clone)]
pub enum ClusterCredential {
    /// A user's password (ticket authentication).
    Password(SecretString),
    /// An API token: the id `user@realm!name` and its secret.
    ApiToken {
        /// The token id (not secret).
        id: String,
        /// The token secret.
        secret: SecretString,
    },
}

/// A cluster to add. Fields not listed take the schema's defaults (syncs allowed, IP lookup on).
#[derive(Debug, Clone)]
pub struct NewCluster {
    /// The short unique id other records refer to.
    pub cluster_id: ClusterId,
    /// A human name.
    pub name: String,
    /// Host name or address of the API.
    pub host: String,
    /// API port (PVE: 8006).
    pub port: u16,
    /// The PVE user (`root@pam`).
    pub user: String,
    /// Password or API token; sealed before storing.
    pub credential: ClusterCredential,
    /// Verify the server's TLS certificate.
    pub verify_ssl: bool,
    /// The cluster used when a class names none (at most one).
    pub is_default: bool,
    /// Higher first when choosing where to deploy.
    pub priority: i64,
    /// User names or external ids that administer this cluster.
    pub admin_users: Vec<String>,
    /// A front-end group (e.g. a Discord role id) whose members administer this cluster.
    pub admin_group: Option<String>,
    /// Free text.
    pub description: Option<String>,
}

impl NewCluster {
    /// A cluster with the usual defaults: port 8006, TLS verified, not default, priority 0.
    pub fn new(
        cluster_id: ClusterId,
        host: impl Into<String>,
        user: impl Into<String>,
        credential: ClusterCredential,
    ) -> Self {
        Self {
            name: cluster_id.as_str().to_owned(),
            cluster_id,
            host: host.into(),
            port: 8006,
            user: user.into(),
            credential,
            verify_ssl: true,
            is_default: false,
            priority: 0,
            admin_users: Vec::new(),
            admin_group: None,
            description: None,
        }
    }
}

/// A stored cluster, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The short unique id.
    pub cluster_id: ClusterId,
    /// A human name.
    pub name: String,
    /// API host.
    pub host: String,
    /// API port.
    pub port: u16,
    /// The PVE user.
    pub user: String,
    /// The API token id when token authentication is used.
    pub api_token_id: Option<String>,
    /// Verify TLS.
    pub verify_ssl: bool,
    /// The default cluster.
    pub is_default: bool,
    /// Used at all.
    pub is_active: bool,
    /// New class VMs may be placed here.
    pub allow_vm_deployment: bool,
    /// Deployment preference, higher first.
    pub priority: i64,
    /// Cluster administrators by user name or external id.
    pub admin_users: Vec<String>,
    /// Cluster administrators by front-end group.
    pub admin_group: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// When it was added.
    pub created_at: Timestamp,
}

const COLUMNS: [Clusters; 14] = [
    Clusters::ClusterId,
    Clusters::Name,
    Clusters::Host,
    Clusters::Port,
    Clusters::User,
    Clusters::ApiTokenId,
    Clusters::VerifySsl,
    Clusters::IsDefault,
    Clusters::IsActive,
    Clusters::AllowVmDeployment,
    Clusters::Priority,
    Clusters::AdminUsers,
    Clusters::AdminGroup,
    Clusters::Description,
];

fn map(c: &mut Cols<'_, '_>) -> Result<Cluster> {
    Ok(Cluster {
        cluster_id: stored(ClusterId::parse(&c.next::<String>()?))?,
        name: c.next()?,
        host: c.next()?,
        port: u16::try_from(c.next::<i64>()?).unwrap_or(8006),
        user: c.next()?,
        api_token_id: c.next()?,
        verify_ssl: c.flag()?,
        is_default: c.flag()?,
        is_active: c.flag()?,
        allow_vm_deployment: c.flag()?,
        priority: c.next()?,
        admin_users: admin_entries(&c.next::<String>()?)
            .map(str::to_owned)
            .collect(),
        admin_group: c.next()?,
        description: c.next()?,
        created_at: ts_from_sql(&c.next::<String>()?)?,
    })
}

fn select() -> sea_query::SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .column(Clusters::CreatedAt)
        .from(Clusters::Table)
        .to_owned()
}

fn context(cluster: &ClusterId, column: &str) -> String {
    format!("cluster {} {column}", cluster.as_str())
}

/// Adds a cluster, sealing its secret.
///
/// # Errors
/// [`Error::NameTaken`] when the id is taken; [`Error::DefaultClusterTaken`] when another cluster is already the default;
/// [`Error::Sealing`] if sealing fails.
pub(crate) fn insert(conn: &Connection, sealer: &Sealer, new: &NewCluster) -> Result<Cluster> {
    // Checked inside the caller's IMMEDIATE transaction, so no other writer can slip between
    // the check and the insert; the UNIQUE constraints stay as the last line of defence.
    if find(conn, &new.cluster_id)?.is_some() {
        return Err(Error::NameTaken {
            entity: Entity::Cluster,
            name: new.cluster_id.as_str().to_owned(),
        });
    }
    if new.is_default {
        if let Some(current) = default_cluster(conn)? {
            return Err(Error::DefaultClusterTaken { current });
        }
    }
    let (password, token_id, token_secret): (Value, Value, Value) = match &new.credential {
        ClusterCredential::Password(p) => (
            sealer
                .seal(p, &context(&new.cluster_id, "password"))?
                .into(),
            Option::<String>::None.into(),
            Option::<Vec<u8>>::None.into(),
        ),
        ClusterCredential::ApiToken { id, secret } => (
            Option::<Vec<u8>>::None.into(),
            id.clone().into(),
            sealer
                .seal(secret, &context(&new.cluster_id, "api token secret"))?
                .into(),
        ),
    };
    let now = now_sql();
    let insert = Query::insert()
        .into_table(Clusters::Table)
        .columns([
            Clusters::ClusterId,
            Clusters::Name,
            Clusters::Host,
            Clusters::Port,
            Clusters::User,
            Clusters::Password,
            Clusters::ApiTokenId,
            Clusters::ApiTokenSecret,
            Clusters::VerifySsl,
            Clusters::IsDefault,
            Clusters::Priority,
            Clusters::AdminUsers,
            Clusters::AdminGroup,
            Clusters::Description,
            Clusters::CreatedAt,
            Clusters::UpdatedAt,
        ])
        .values_panic([
            new.cluster_id.as_str().into(),
            new.name.clone().into(),
            new.host.clone().into(),
            i64::from(new.port).into(),
            new.user.clone().into(),
            password.into(),
            token_id.into(),
            token_secret.into(),
            new.verify_ssl.into(),
            new.is_default.into(),
            new.priority.into(),
            new.admin_users.join("\n").into(),
            new.admin_group.clone().into(),
            new.description.clone().into(),
            now.clone().into(),
            now.into(),
        ])
        .to_owned();
    execute(conn, &insert)?;
    get(conn, &new.cluster_id)
}

/// The cluster with this id, if any.
pub(crate) fn find(conn: &Connection, id: &ClusterId) -> Result<Option<Cluster>> {
    let select = select()
        .and_where(Expr::col(Clusters::ClusterId).eq(id.as_str()))
        .to_owned();
    query_opt(conn, &select, map)
}

/// The default cluster's id, if one is the default.
fn default_cluster(conn: &Connection) -> Result<Option<ClusterId>> {
    let select = Query::select()
        .column(Clusters::ClusterId)
        .from(Clusters::Table)
        .and_where(Expr::col(Clusters::IsDefault).eq(true))
        .to_owned();
    query_opt(conn, &select, |c| {
        stored(ClusterId::parse(&c.next::<String>()?))
    })
}

/// The cluster with this id.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn get(conn: &Connection, id: &ClusterId) -> Result<Cluster> {
    let select = select()
        .and_where(Expr::col(Clusters::ClusterId).eq(id.as_str()))
        .to_owned();
    query_opt(conn, &select, map)?.ok_or_else(|| Error::not_found(Entity::Cluster, id))
}

/// All clusters, highest priority first.
///
/// # Errors
/// [`Error::Internal`] when SQLite fails.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Cluster>> {
    let select = select()
        .order_by(Clusters::Priority, Order::Desc)
        .order_by(Clusters::ClusterId, Order::Asc)
        .to_owned();
    query_all(conn, &select, map)
}

/// Removes a cluster (its inventory, caches, ISOs and pool VMs go with it).
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub(crate) fn remove(conn: &Connection, id: &ClusterId) -> Result<()> {
    let delete = Query::delete()
        .from_table(Clusters::Table)
        .and_where(Expr::col(Clusters::ClusterId).eq(id.as_str()))
        .to_owned();
    if execute(conn, &delete)? == 0 {
        return Err(Error::not_found(Entity::Cluster, id));
    }
    Ok(())
}

/// The unsealed credential of a cluster (for the orchestration layer's API client).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Sealing`] when the key differs from the one it was sealed with.
pub(crate) fn credential(
    conn: &Connection,
    sealer: &Sealer,
    id: &ClusterId,
) -> Result<ClusterCredential> {
    let select = Query::select()
        .columns([
            Clusters::Password,
            Clusters::ApiTokenId,
            Clusters::ApiTokenSecret,
        ])
        .from(Clusters::Table)
        .and_where(Expr::col(Clusters::ClusterId).eq(id.as_str()))
        .to_owned();
    let row = query_opt(conn, &select, |c| {
        Ok((
            c.next::<Option<Vec<u8>>>()?,
            c.next::<Option<String>>()?,
            c.next::<Option<Vec<u8>>>()?,
        ))
    })?
    .ok_or_else(|| Error::not_found(Entity::Cluster, id))?;
    match row {
        (Some(password), _, _) => Ok(ClusterCredential::Password(
            sealer.open(&password, &context(id, "password"))?,
        )),
        (None, Some(token_id), Some(secret)) => Ok(ClusterCredential::ApiToken {
            id: token_id,
            secret: sealer.open(&secret, &context(id, "api token secret"))?,
        }),
        _ => Err(Error::internal(format!(
            "cluster {:?} has no stored credential",
            id.as_str()
        ))),
    }
}
