//! Clusters: the Proxmox VE clusters the lab may use. Their credentials are stored sealed (see
//! [`crate::seal`]); reading a cluster never returns a secret. Only the lab's own API clients
//! ([`connection`], opened in memory) and the comparison of
//! [`Lab::cluster_credential_is`](crate::Lab::cluster_credential_is) open one, and neither
//! hands it out.
//!
//! Storage forms: the trust is spread over `verify_ssl`, `tls_fingerprint` and `tls_ca_pem`
//! (migration 0006 says why); `admin_users` holds one typed entry per line. Both are turned into
//! their types here and nowhere else.

use jiff::Timestamp;
use rusqlite::Connection;
use sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr, Value};
use secrecy::SecretString;

use super::{execute, query_all, query_opt, stored, Cols};
use crate::db::schema::Clusters;
use crate::db::time::{now_sql, ts_from_sql};
use crate::error::{Entity, Error, Result};
use crate::seal::Sealer;
use crate::types::{
    AdminEntry, ApiTokenId, CaCertificate, ClusterId, ClusterTrust, Fingerprint, Host, PveUser,
};

/// How the lab authenticates to a cluster. The secret parts are sealed before they are stored.
#[derive(Debug, Clone)]
pub enum ClusterCredential {
    /// A user and password (PVE tickets).
    Password {
        /// The PVE user, `name@realm`.
        user: PveUser,
        /// The password.
        password: SecretString,
    },
    /// An API token: the id `name@realm!token` (not secret) and its secret.
    ApiToken {
        /// The token id; its user is the cluster's user.
        id: ApiTokenId,
        /// The token secret.
        secret: SecretString,
    },
}

impl ClusterCredential {
    /// Whether both are the same kind with the same user or token id and the same secret. The
    /// secrets are compared by their SHA-256 digests, so the time taken does not tell how much
    /// of a guessed secret was right.
    pub(crate) fn is_same_as(&self, other: &ClusterCredential) -> bool {
        use secrecy::ExposeSecret;
        use sha2::{Digest, Sha256};
        let same_secret = |a: &SecretString, b: &SecretString| {
            Sha256::digest(a.expose_secret().as_bytes())
                == Sha256::digest(b.expose_secret().as_bytes())
        };
        match (self, other) {
            (
                ClusterCredential::Password { user, password },
                ClusterCredential::Password {
                    user: other_user,
                    password: other_password,
                },
            ) => user == other_user && same_secret(password, other_password),
            (
                ClusterCredential::ApiToken { id, secret },
                ClusterCredential::ApiToken {
                    id: other_id,
                    secret: other_secret,
                },
            ) => id == other_id && same_secret(secret, other_secret),
            _ => false,
        }
    }

    /// The PVE user pvelab acts as (a token's own user for API tokens).
    pub fn user(&self) -> &PveUser {
        match self {
            ClusterCredential::Password { user, .. } => user,
            ClusterCredential::ApiToken { id, .. } => id.user(),
        }
    }
}

/// A cluster to add. Fields not listed take the schema's defaults (active, syncs allowed, IP
/// lookup on).
#[derive(Debug, Clone)]
pub struct NewCluster {
    /// The short unique id other records refer to.
    pub cluster_id: ClusterId,
    /// A human name.
    pub name: String,
    /// Host name or address of the API.
    pub host: Host,
    /// API port (PVE: 8006).
    pub port: u16,
    /// Password or API token; sealed before storing.
    pub credential: ClusterCredential,
    /// How the cluster's TLS certificate is trusted.
    pub trust: ClusterTrust,
    /// The cluster used when a class names none (at most one).
    pub is_default: bool,
    /// Higher first when choosing where to deploy.
    pub priority: i64,
    /// People who administer this cluster, each by local user name or by external id.
    pub admin_users: Vec<AdminEntry>,
    /// A front-end group (e.g. a Discord role id) whose members administer this cluster.
    pub admin_group: Option<String>,
    /// Free text.
    pub description: Option<String>,
}

impl NewCluster {
    /// A cluster with the usual defaults: port 8006, not default, priority 0, and
    /// [`ClusterTrust::SystemRoots`]: its certificate must come from a public CA, which is what
    /// the data model's `verify_ssl = 1` means without a pin. Verification is never off unless
    /// [`NewCluster::trust`] says [`ClusterTrust::Insecure`]; a PVE node's own self-signed
    /// certificate needs [`ClusterTrust::Fingerprint`] (the cluster check reports the
    /// fingerprint it was shown).
    pub fn new(cluster_id: ClusterId, host: Host, credential: ClusterCredential) -> Self {
        Self {
            name: cluster_id.as_str().to_owned(),
            cluster_id,
            host,
            port: 8006,
            credential,
            trust: ClusterTrust::SystemRoots,
            is_default: false,
            priority: 0,
            admin_users: Vec::new(),
            admin_group: None,
            description: None,
        }
    }

    /// The same cluster trusted by `trust`.
    #[must_use]
    pub fn trust(mut self, trust: ClusterTrust) -> Self {
        self.trust = trust;
        self
    }

    /// The same cluster on API port `port`.
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// Changes to a stored cluster: every `Some` field is set, `None` fields stay. Any change raises
/// the cluster's revision, so the lab's API client for it is rebuilt on its next use.
#[derive(Debug, Clone, Default)]
pub struct ClusterChange {
    /// A new human name.
    pub name: Option<String>,
    /// A new API host.
    pub host: Option<Host>,
    /// A new API port.
    pub port: Option<u16>,
    /// A new credential (sealed before storing; replaces the old one of either kind).
    pub credential: Option<ClusterCredential>,
    /// A new way to trust the cluster's certificate.
    pub trust: Option<ClusterTrust>,
    /// Whether the cluster is used at all.
    pub is_active: Option<bool>,
    /// Whether new class VMs may be placed here.
    pub allow_vm_deployment: Option<bool>,
    /// A new deployment priority.
    pub priority: Option<i64>,
    /// The new list of administrators (replaces the old list). Only adminers may change it.
    pub admin_users: Option<Vec<AdminEntry>>,
    /// The new administrators' group, or `Some(None)` for none. Only adminers may change it.
    pub admin_group: Option<Option<String>>,
    /// The new description, or `Some(None)` for none.
    pub description: Option<Option<String>>,
}

impl ClusterChange {
    /// The names of the fields the change sets (never their values: one is a secret), for the
    /// audit trail and logs.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("credential", self.credential.is_some()),
            ("trust", self.trust.is_some()),
            ("is_active", self.is_active.is_some()),
            ("allow_vm_deployment", self.allow_vm_deployment.is_some()),
            ("priority", self.priority.is_some()),
            ("admin_users", self.admin_users.is_some()),
            ("admin_group", self.admin_group.is_some()),
            ("description", self.description.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// Whether the change sets nothing.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// Whether the change touches who administers the cluster.
    pub fn changes_admins(&self) -> bool {
        self.admin_users.is_some() || self.admin_group.is_some()
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
    pub host: Host,
    /// API port.
    pub port: u16,
    /// The PVE user pvelab acts as.
    pub user: PveUser,
    /// The API token id when token authentication is used.
    pub api_token_id: Option<ApiTokenId>,
    /// How the cluster's TLS certificate is trusted.
    pub trust: ClusterTrust,
    /// The default cluster.
    pub is_default: bool,
    /// Used at all.
    pub is_active: bool,
    /// New class VMs may be placed here.
    pub allow_vm_deployment: bool,
    /// Deployment preference, higher first.
    pub priority: i64,
    /// Cluster administrators, each by local user name or by external id.
    pub admin_users: Vec<AdminEntry>,
    /// Cluster administrators by front-end group.
    pub admin_group: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

const COLUMNS: [Clusters; 18] = [
    Clusters::ClusterId,
    Clusters::Name,
    Clusters::Host,
    Clusters::Port,
    Clusters::User,
    Clusters::ApiTokenId,
    Clusters::VerifySsl,
    Clusters::TlsFingerprint,
    Clusters::TlsCaPem,
    Clusters::IsDefault,
    Clusters::IsActive,
    Clusters::AllowVmDeployment,
    Clusters::Priority,
    Clusters::AdminUsers,
    Clusters::AdminGroup,
    Clusters::Description,
    Clusters::CreatedAt,
    Clusters::UpdatedAt,
];

fn map(c: &mut Cols<'_, '_>) -> Result<Cluster> {
    Ok(Cluster {
        cluster_id: stored(ClusterId::parse(&c.next::<String>()?))?,
        name: c.next()?,
        host: stored(Host::parse(&c.next::<String>()?))?,
        port: read_port(c.next()?)?,
        user: stored(PveUser::parse(&c.next::<String>()?))?,
        api_token_id: c
            .next::<Option<String>>()?
            .map(|id| stored(ApiTokenId::parse(&id)))
            .transpose()?,
        trust: read_trust(c)?,
        is_default: c.flag()?,
        is_active: c.flag()?,
        allow_vm_deployment: c.flag()?,
        priority: c.next()?,
        admin_users: read_admins(&c.next::<String>()?)?,
        admin_group: c.next()?,
        description: c.next()?,
        created_at: ts_from_sql(&c.next::<String>()?)?,
        updated_at: ts_from_sql(&c.next::<String>()?)?,
    })
}

fn read_port(port: i64) -> Result<u16> {
    u16::try_from(port).map_err(|_| Error::internal(format!("a stored port is invalid: {port}")))
}

/// The trust from its three columns (`verify_ssl`, `tls_fingerprint`, `tls_ca_pem`), which the
/// schema's CHECKs keep to one meaning.
fn read_trust(c: &mut Cols<'_, '_>) -> Result<ClusterTrust> {
    let verify = c.flag()?;
    let fingerprint: Option<String> = c.next()?;
    let ca: Option<String> = c.next()?;
    match (verify, fingerprint, ca) {
        (false, None, None) => Ok(ClusterTrust::Insecure),
        (true, None, None) => Ok(ClusterTrust::SystemRoots),
        (true, Some(fp), None) => Ok(ClusterTrust::Fingerprint(stored(Fingerprint::parse(&fp))?)),
        (true, None, Some(pem)) => Ok(ClusterTrust::CaCertificate(stored(CaCertificate::parse(
            &pem,
        ))?)),
        _ => Err(Error::internal(
            "a stored cluster trust combines verify_ssl, a fingerprint and a CA",
        )),
    }
}

/// The values of the trust columns, in the order `verify_ssl`, `tls_fingerprint`, `tls_ca_pem`.
fn trust_values(trust: &ClusterTrust) -> [(Clusters, SimpleExpr); 3] {
    let (verify, fingerprint, ca) = match trust {
        ClusterTrust::SystemRoots => (true, None, None),
        ClusterTrust::Fingerprint(fp) => (true, Some(fp.to_string()), None),
        ClusterTrust::CaCertificate(ca) => (true, None, Some(ca.as_pem().to_owned())),
        ClusterTrust::Insecure => (false, None, None),
    };
    [
        (Clusters::VerifySsl, verify.into()),
        (Clusters::TlsFingerprint, fingerprint.into()),
        (Clusters::TlsCaPem, ca.into()),
    ]
}

/// `admin_users` as stored: one entry per line in its text form.
fn read_admins(text: &str) -> Result<Vec<AdminEntry>> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(|line| stored(AdminEntry::parse(line)))
        .collect()
}

fn admins_text(entries: &[AdminEntry]) -> String {
    entries.iter().map(|e| format!("{e}\n")).collect::<String>()
}

/// The values of the credential columns: `user`, `password`, `api_token_id`,
/// `api_token_secret`, with the secret sealed for this cluster.
fn credential_values(
    sealer: &Sealer,
    cluster: &ClusterId,
    credential: &ClusterCredential,
) -> Result<[(Clusters, SimpleExpr); 4]> {
    let none_text = || SimpleExpr::from(Option::<String>::None);
    let none_blob = || SimpleExpr::from(Value::Bytes(None));
    Ok(match credential {
        ClusterCredential::Password { user, password } => [
            (Clusters::User, user.as_str().into()),
            (
                Clusters::Password,
                sealer.seal(password, &context(cluster, PASSWORD))?.into(),
            ),
            (Clusters::ApiTokenId, none_text()),
            (Clusters::ApiTokenSecret, none_blob()),
        ],
        ClusterCredential::ApiToken { id, secret } => [
            (Clusters::User, id.user().as_str().into()),
            (Clusters::Password, none_blob()),
            (Clusters::ApiTokenId, id.as_str().into()),
            (
                Clusters::ApiTokenSecret,
                sealer.seal(secret, &context(cluster, TOKEN_SECRET))?.into(),
            ),
        ],
    })
}

fn select() -> sea_query::SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from(Clusters::Table)
        .to_owned()
}

const PASSWORD: &str = "password";
const TOKEN_SECRET: &str = "api token secret";

/// The associated data a secret is sealed with: a sealed value copied into another cluster's row
/// or column does not open.
fn context(cluster: &ClusterId, column: &str) -> String {
    format!("cluster {} {column}", cluster.as_str())
}

/// Adds a cluster, sealing its secret.
///
/// # Errors
/// [`Error::NameTaken`] when the id is taken; [`Error::DefaultClusterTaken`] when another
/// cluster is already the default; [`Error::Sealing`] if sealing fails.
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
    let now = now_sql();
    let mut values: Vec<(Clusters, SimpleExpr)> = vec![
        (Clusters::ClusterId, new.cluster_id.as_str().into()),
        (Clusters::Name, new.name.clone().into()),
        (Clusters::Host, new.host.as_str().into()),
        (Clusters::Port, i64::from(new.port).into()),
        (Clusters::IsDefault, new.is_default.into()),
        (Clusters::Priority, new.priority.into()),
        (Clusters::AdminUsers, admins_text(&new.admin_users).into()),
        (Clusters::AdminGroup, new.admin_group.clone().into()),
        (Clusters::Description, new.description.clone().into()),
        (Clusters::CreatedAt, now.clone().into()),
        (Clusters::UpdatedAt, now.into()),
    ];
    values.extend(credential_values(sealer, &new.cluster_id, &new.credential)?);
    values.extend(trust_values(&new.trust));
    let (columns, exprs): (Vec<_>, Vec<_>) = values.into_iter().unzip();
    let insert = Query::insert()
        .into_table(Clusters::Table)
        .columns(columns)
        .values_panic(exprs)
        .to_owned();
    execute(conn, &insert)?;
    get(conn, &new.cluster_id)
}

/// Applies `change` to the cluster `id`, raising its revision. A sealer is needed only when the
/// change carries a new credential.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::NoSealingKey`] for a new credential without a sealer;
/// [`Error::Sealing`] if sealing a new secret fails.
pub(crate) fn update(
    conn: &Connection,
    sealer: Option<&Sealer>,
    id: &ClusterId,
    change: &ClusterChange,
) -> Result<Cluster> {
    get(conn, id)?;
    let mut values: Vec<(Clusters, SimpleExpr)> = vec![
        (Clusters::UpdatedAt, now_sql().into()),
        (Clusters::Revision, Expr::col(Clusters::Revision).add(1)),
    ];
    if let Some(name) = &change.name {
        values.push((Clusters::Name, name.clone().into()));
    }
    if let Some(host) = &change.host {
        values.push((Clusters::Host, host.as_str().into()));
    }
    if let Some(port) = change.port {
        values.push((Clusters::Port, i64::from(port).into()));
    }
    if let Some(credential) = &change.credential {
        let sealer = sealer.ok_or(Error::NoSealingKey)?;
        values.extend(credential_values(sealer, id, credential)?);
    }
    if let Some(trust) = &change.trust {
        values.extend(trust_values(trust));
    }
    if let Some(active) = change.is_active {
        values.push((Clusters::IsActive, active.into()));
    }
    if let Some(allow) = change.allow_vm_deployment {
        values.push((Clusters::AllowVmDeployment, allow.into()));
    }
    if let Some(priority) = change.priority {
        values.push((Clusters::Priority, priority.into()));
    }
    if let Some(admins) = &change.admin_users {
        values.push((Clusters::AdminUsers, admins_text(admins).into()));
    }
    if let Some(group) = &change.admin_group {
        values.push((Clusters::AdminGroup, group.clone().into()));
    }
    if let Some(description) = &change.description {
        values.push((Clusters::Description, description.clone().into()));
    }
    let update = Query::update()
        .table(Clusters::Table)
        .values(values)
        .and_where(Expr::col(Clusters::ClusterId).eq(id.as_str()))
        .to_owned();
    execute(conn, &update)?;
    get(conn, id)
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
    find(conn, id)?.ok_or_else(|| Error::not_found(Entity::Cluster, id))
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

/// What an API client for a cluster is built from: address, trust, the credential still sealed,
/// and the row's revision (a cached client built from an older revision is stale).
#[derive(Debug, Clone)]
pub(crate) struct StoredConnection {
    /// Raised by every change of the row.
    pub(crate) revision: i64,
    /// API host.
    pub(crate) host: Host,
    /// API port.
    pub(crate) port: u16,
    /// How the certificate is trusted.
    pub(crate) trust: ClusterTrust,
    cluster: ClusterId,
    sealed: SealedCredential,
}

#[derive(Debug, Clone)]
enum SealedCredential {
    Password { user: PveUser, sealed: Vec<u8> },
    ApiToken { id: ApiTokenId, sealed: Vec<u8> },
}

impl StoredConnection {
    /// Opens the sealed secret, in memory only.
    ///
    /// # Errors
    /// [`Error::Sealing`] when the key differs from the one it was sealed with.
    pub(crate) fn credential(&self, sealer: &Sealer) -> Result<ClusterCredential> {
        Ok(match &self.sealed {
            SealedCredential::Password { user, sealed } => ClusterCredential::Password {
                user: user.clone(),
                password: sealer.open(sealed, &context(&self.cluster, PASSWORD))?,
            },
            SealedCredential::ApiToken { id, sealed } => ClusterCredential::ApiToken {
                id: id.clone(),
                secret: sealer.open(sealed, &context(&self.cluster, TOKEN_SECRET))?,
            },
        })
    }
}

/// The connection data of the cluster `id`.
///
/// # Errors
/// [`Error::NotFound`] when there is none; [`Error::Internal`] for a row without a credential.
pub(crate) fn connection(conn: &Connection, id: &ClusterId) -> Result<StoredConnection> {
    let select = Query::select()
        .columns([
            Clusters::Revision,
            Clusters::Host,
            Clusters::Port,
            Clusters::VerifySsl,
            Clusters::TlsFingerprint,
            Clusters::TlsCaPem,
            Clusters::User,
            Clusters::Password,
            Clusters::ApiTokenId,
            Clusters::ApiTokenSecret,
        ])
        .from(Clusters::Table)
        .and_where(Expr::col(Clusters::ClusterId).eq(id.as_str()))
        .to_owned();
    query_opt(conn, &select, |c| {
        let revision = c.next()?;
        let host = stored(Host::parse(&c.next::<String>()?))?;
        let port = read_port(c.next()?)?;
        let trust = read_trust(c)?;
        let user = stored(PveUser::parse(&c.next::<String>()?))?;
        let sealed = match (
            c.next::<Option<Vec<u8>>>()?,
            c.next::<Option<String>>()?,
            c.next::<Option<Vec<u8>>>()?,
        ) {
            (Some(sealed), None, None) => SealedCredential::Password { user, sealed },
            (None, Some(token_id), Some(sealed)) => SealedCredential::ApiToken {
                id: stored(ApiTokenId::parse(&token_id))?,
                sealed,
            },
            _ => {
                return Err(Error::internal(format!(
                    "cluster {:?} has no single stored credential",
                    id.as_str()
                )))
            }
        };
        Ok(StoredConnection {
            revision,
            host,
            port,
            trust,
            cluster: id.clone(),
            sealed,
        })
    })?
    .ok_or_else(|| Error::not_found(Entity::Cluster, id))
}

/// The unsealed credential of a cluster.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Sealing`] when the key differs from the one it was sealed with.
pub(crate) fn credential(
    conn: &Connection,
    sealer: &Sealer,
    id: &ClusterId,
) -> Result<ClusterCredential> {
    connection(conn, id)?.credential(sealer)
}
