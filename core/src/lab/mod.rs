//! The `Lab` facade: the embeddable entry point of pvelab-core.
//!
//! Every operation takes the acting user ([`Actor`]) and checks the permission table itself,
//! computing the actor's relation to the class or cluster from the database INSIDE the same
//! transaction as the change it guards, so a check can never go stale before the write. A
//! refusal is [`Error::NotPermitted`]; nothing silently does nothing.
//!
//! Three calls take no actor because they are how a front end identifies people in the first
//! place: [`Lab::ensure_user`] (a person the front end already knows, e.g. by Discord id),
//! [`Lab::login`] (a local user name and password) and [`Lab::actor`] (the stored role of an
//! identified user). The outbox calls ([`Lab::events_after`], [`Lab::next_events`],
//! [`Lab::ack_events`], [`Lab::prune_events`]) take none either: they serve the embedding
//! program itself, which delivers events to the people they name; nor does
//! [`Lab::take_due_submissions`], the scheduler's, which acts as the core's background work.
//! Everything else, reads included, takes the [`Actor`].
//!
//! All database work runs on tokio's blocking threads (one writer connection, a few readers);
//! the async methods never block
//! the runtime. `Lab` is cheap to clone and meant to be shared by all tasks of a front end.

mod audit;
mod bounded;
mod capacity;
mod checks;
mod classes;
mod cluster_clients;
mod clusters;
mod events;
mod guests;
mod join;
mod join_limit;
mod my_vms;
mod pool;
mod pools;
mod proxmox_errors;
mod publish;
mod reports;
mod sessions;
mod settings;
mod submissions;
mod sync;
mod templates;
mod usage;
mod users;
mod vm_actions;
mod vm_state;

pub use checks::{CheckRun, OwnCheckRun};
pub use classes::{StudentView, TokenRotation};
pub use cluster_clients::{ClusterTimeouts, ProxmoxRequests};
pub use clusters::{ClusterCheck, NodeCheck};
pub(crate) use events::announce_assignments;
pub(crate) use join::promote_waitlist;
pub use join::{JoinOutcome, LeaveOutcome, VmOutcome};
pub use my_vms::{MyVm, MyVms, WaitlistPlace};
pub use pools::ImportedClass;
pub(crate) use proxmox_errors::cluster_error;
pub use publish::{PublishOutcome, ReimageWait};
pub(crate) use sessions::{in_session, time_in_sessions, zone_of as session_zone};
pub use submissions::{DueSubmissions, SubmissionFailure};
pub use sync::KeepRunning;
pub(crate) use usage::charge_usage;
pub use usage::UsageUpdate;
pub use vm_state::VmState;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use self::cluster_clients::ClusterClients;
use crate::clock::Clock;
use crate::db::{self, Db};
use crate::error::{Error, Result};
use crate::events::EventBus;
use crate::jobs::{self, JobsConfig};
use crate::pools::{Pools, PoolsConfig};
use crate::rules::permissions::{authorize, Action, Actor, ClassRelation, Requirement};
use crate::seal::{Sealer, SealingKey};
use crate::store;
use crate::store::classes::Class;
use crate::types::{ClassId, Role, UserId};

/// Where the database lives, how secrets are sealed, which clock tells the time, and how the
/// background jobs reach the host's network.
#[derive(Debug, Clone)]
pub struct LabConfig {
    database: DatabaseLocation,
    sealing_key: Option<SealingKey>,
    clock: Clock,
    jobs: JobsConfig,
    pools: PoolsConfig,
    cluster_timeouts: ClusterTimeouts,
}

#[derive(Debug, Clone)]
enum DatabaseLocation {
    File(PathBuf),
    Memory,
}

impl LabConfig {
    /// A database in one SQLite file (created if missing); the normal setup.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            database: DatabaseLocation::File(path.into()),
            sealing_key: None,
            clock: Clock::system(),
            jobs: JobsConfig::default(),
            pools: PoolsConfig::default(),
            cluster_timeouts: ClusterTimeouts::default(),
        }
    }

    /// A private in-memory database that disappears with the `Lab` (tests and demos).
    pub fn in_memory() -> Self {
        Self {
            database: DatabaseLocation::Memory,
            sealing_key: None,
            clock: Clock::system(),
            jobs: JobsConfig::default(),
            pools: PoolsConfig::default(),
            cluster_timeouts: ClusterTimeouts::default(),
        }
    }

    /// The operator's key for sealing cluster credentials. Without one, storing a credential is
    /// refused with [`Error::NoSealingKey`]. The library never reads environment variables: the
    /// front end reads its key file or variable and passes the key here.
    pub fn with_sealing_key(mut self, key: SealingKey) -> Self {
        self.sealing_key = Some(key);
        self
    }

    /// The clock every "now" of the lab reads (the system clock by default). Tests pass a
    /// [`ManualClock`](crate::ManualClock) and move it instead of sleeping.
    pub fn with_clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// How the background jobs read the host's neighbour table, probe remote logins and jitter
    /// their ticks (by default: `/proc/net/arp`, TCP probes, a tenth of each interval).
    pub fn with_jobs(mut self, jobs: JobsConfig) -> Self {
        self.jobs = jobs;
        self
    }

    /// How pool work paces itself on Proxmox (parallelism, retries, polling); the defaults
    /// suit a real cluster.
    pub fn with_pools(mut self, pools: PoolsConfig) -> Self {
        self.pools = pools;
        self
    }

    /// How long the lab waits for Proxmox clusters (see [`ClusterTimeouts`] for the defaults).
    pub fn with_cluster_timeouts(mut self, timeouts: ClusterTimeouts) -> Self {
        self.cluster_timeouts = timeouts;
        self
    }
}

/// The embeddable core: storage, rules and permissions behind one handle.
///
/// # Examples
/// ```
/// use pvelab_core::model::{NewClass, TokenExpiry, VmOutcome};
/// use pvelab_core::types::{ClassName, ExternalId, PoolSize, Role};
/// use pvelab_core::Lab;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> pvelab_core::Result<()> {
/// let lab = Lab::open_in_memory().await?;
/// // A front end maps its users (e.g. Discord ids) to lab users on first contact.
/// let admin = lab.ensure_user(&ExternalId::parse("discord:1")?, Some("Ada")).await?;
/// let admin = lab.actor_with_role(admin.id, Role::Adminer);
/// let teacher = lab.ensure_user(&ExternalId::parse("discord:2")?, Some("Tom")).await?;
/// lab.set_role(&admin, teacher.id, Role::Teacher).await?;
/// let teacher = lab.actor(teacher.id).await?;
///
/// let class = lab
///     .create_class(&teacher, NewClass::new(ClassName::parse("net101")?, PoolSize::new(30)?))
///     .await?;
/// let token = lab.rotate_token(&teacher, class.id, TokenExpiry::Never).await?;
///
/// let student = lab.ensure_user(&ExternalId::parse("discord:3")?, Some("Sam")).await?;
/// let student = lab.actor(student.id).await?;
/// let joined = lab.join(&student, &token.token).await?;
/// // No VM is registered yet (the orchestration layer creates them), so Sam waits.
/// assert!(matches!(joined.vm, VmOutcome::Waitlisted { position: 1 }));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Lab {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Db,
    sealer: Option<Sealer>,
    events: EventBus,
    clock: Clock,
    jobs: jobs::Shared,
    pools: Pools,
    /// One Proxmox API client per cluster.
    clients: ClusterClients,
    /// Join attempts per user.
    join_limiter: Arc<join_limit::JoinLimiter>,
    /// The password hash unknown user names are checked against, made on first need.
    decoy: Arc<OnceLock<String>>,
}

impl Lab {
    /// Opens the lab: opens (or creates) the database and applies pending migrations.
    ///
    /// # Errors
    /// [`Error::SchemaTooNew`] when a newer pvelab wrote the database; [`Error::Internal`] when
    /// it cannot be opened or migrated.
    pub async fn open(config: LabConfig) -> Result<Self> {
        let clock = config.clock.clone();
        let db = match config.database {
            DatabaseLocation::File(path) => {
                db::run_blocking(move || Db::open_file_blocking(&path, clock)).await?
            }
            DatabaseLocation::Memory => {
                db::run_blocking(move || Db::open_memory_blocking(clock)).await?
            }
        };
        let rate = (config.pools.requests_per_second, config.pools.request_burst);
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                sealer: config.sealing_key.as_ref().map(Sealer::new),
                events: EventBus::new(),
                pools: Pools::new(config.pools, config.clock.now()),
                join_limiter: Arc::new(join_limit::JoinLimiter::new(config.clock.clone())),
                clock: config.clock,
                jobs: jobs::Shared::new(config.jobs),
                clients: ClusterClients::new(config.cluster_timeouts)
                    .with_rate_limit(rate.0, rate.1),
                decoy: Arc::default(),
            }),
        })
    }

    /// A lab over a fresh in-memory database without a sealing key.
    ///
    /// # Errors
    /// As [`Lab::open`].
    pub async fn open_in_memory() -> Result<Self> {
        Self::open(LabConfig::in_memory()).await
    }

    /// The schema version of the open database (the number of the last applied migration).
    ///
    /// # Errors
    /// [`Error::Internal`] when SQLite fails.
    pub async fn schema_version(&self) -> Result<i64> {
        self.db().read(|tx| db::migrate::current_version(tx)).await
    }

    /// The schema version this build writes.
    pub fn supported_schema_version() -> i64 {
        db::migrate::latest_version()
    }

    /// The acting user as stored: their id and their stored role. Takes no actor: it is how a
    /// front end turns a person it identified ([`Lab::ensure_user`], [`Lab::login`]) into one.
    ///
    /// Build one per request and drop it with the request: the role is read here, once, so an
    /// actor kept across requests keeps the role it was built with (a demoted teacher's new
    /// actor has lost the class rights; an old one would not have).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the user does not exist.
    pub async fn actor(&self, user: UserId) -> Result<Actor> {
        let stored = self
            .db()
            .read(move |tx| store::users::get(tx, user))
            .await?;
        Ok(Actor::new(stored.id, stored.role))
    }

    /// An actor whose role a front end granted from its own context (e.g. a Discord server role
    /// mapped to `teacher`). The front end is the embedding program and is trusted to map roles;
    /// the core still checks every operation against this role and the database relations.
    pub fn actor_with_role(&self, user: UserId, role: Role) -> Actor {
        Actor::new(user, role)
    }

    /// The lab's clock (what "now" is for every rule and stored time).
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The current time on the lab's clock.
    pub(crate) fn now(&self) -> jiff::Timestamp {
        self.inner.clock.now()
    }

    pub(crate) fn events(&self) -> &EventBus {
        &self.inner.events
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// What the background jobs share: their configuration and run guards.
    pub(crate) fn jobs_shared(&self) -> &jobs::Shared {
        &self.inner.jobs
    }

    /// The pool orchestration's process-local state (settings, clients, slots, claims).
    pub(crate) fn pools(&self) -> &Pools {
        &self.inner.pools
    }

    pub(crate) fn join_limiter(&self) -> Arc<join_limit::JoinLimiter> {
        Arc::clone(&self.inner.join_limiter)
    }

    pub(crate) fn decoy(&self) -> Arc<OnceLock<String>> {
        Arc::clone(&self.inner.decoy)
    }

    /// The one shape of most class operations: in ONE write transaction, load the class, check
    /// `action` for `actor` against the relation read in that same transaction, then `work`;
    /// for an audited action, record the audit entry in that transaction too (a refused or
    /// failed attempt is recorded after it, see `lab/audit.rs`).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown class (or one the actor may not see);
    /// [`Error::NotPermitted`]; whatever `work` returns.
    pub(crate) async fn class_write<T, F>(
        &self,
        actor: &Actor,
        action: Action,
        class: ClassId,
        work: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>, Class) -> Result<T> + Send + 'static,
    {
        let actor = *actor;
        let audited = audit::audited(action);
        let result = self
            .db()
            .write(move |tx| {
                crate::store::audit::acting_as(audit::who(&actor), || {
                    let stored = class_for(tx, &actor, action, class)?;
                    let value = work(tx, stored)?;
                    if audited {
                        audit::record_done(tx, &actor, action, Some(class))?;
                    }
                    Ok(value)
                })
            })
            .await;
        match &result {
            Ok(_) if audited => self.wake_consumers(1),
            Ok(_) => {}
            Err(e) => self.audit_failure(&actor, action, Some(class), e).await,
        }
        result
    }

    /// [`Lab::class_write`] for reads: one consistent snapshot, no write lock.
    ///
    /// # Errors
    /// As [`Lab::class_write`].
    pub(crate) async fn class_read<T, F>(
        &self,
        actor: &Actor,
        action: Action,
        class: ClassId,
        work: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>, Class) -> Result<T> + Send + 'static,
    {
        let actor = *actor;
        self.db()
            .read(move |tx| {
                let stored = class_for(tx, &actor, action, class)?;
                work(tx, stored)
            })
            .await
    }

    pub(crate) fn sealer(&self) -> Result<Sealer> {
        self.inner.sealer.clone().ok_or(Error::NoSealingKey)
    }
}

/// Loads `class` and checks `action` on it for `actor`, with the actor's relation to the class
/// read inside the same transaction `tx` as the change it guards. An unknown class is
/// [`Error::NotFound`] before any permission question.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::NotPermitted`] naming the action and the missing right.
pub(crate) fn class_for(
    tx: &rusqlite::Connection,
    actor: &Actor,
    action: Action,
    class: ClassId,
) -> Result<Class> {
    let stored = store::classes::get(tx, class)?;
    // Actions open to every user need no relation: skip two queries. The system actor has no
    // relation to any class; the permission table decides for it alone.
    let relation = match actor.user_id() {
        Some(user) if action.requirement() != Requirement::AnyUser => {
            store::enrollment::relation(tx, user, class)?
        }
        _ => ClassRelation::None,
    };
    authorize(actor, action, relation)?;
    Ok(stored)
}
