//! pvelab-core: the embeddable library behind pvelab, the classroom lab manager for Proxmox VE.
//!
//! A school embeds this crate in a front end (the Discord bot is one; a web portal or a CLI can be
//! others). The core owns the data model, its storage and every rule of a lab; front ends parse
//! input, call the core with the acting user, and render the answer. The core checks permissions
//! itself, so a front end may refuse early for a friendlier message but never instead.
//!
//! # The facade
//! Everything a front end needs is here: [`Lab`] (opened once from a [`LabConfig`]), the
//! [`Actor`] it hands out, the inputs and outputs of its operations in [`model`], the newtypes in
//! [`types`], the [`events`] it reports and the one [`Error`] type. Storage is internal: no
//! public path leads to SQL, and no foreign error type appears in the API.
//!
//! # Layout
//! - [`lab`](Lab): the facade. Every operation takes the acting user, checks the permission
//!   table with relations read in the same transaction as the change, and runs its SQLite work on
//!   blocking threads.
//! - [`model`]: the facade's inputs and outputs (classes, pool VMs, users, clusters, join
//!   tokens, settings, decisions).
//! - [`types`]: newtypes for every value from people or Proxmox; invalid input never gets past
//!   their constructors, and each rejection names the field and what is allowed.
//! - [`rules`]: pure decisions with no I/O: the permission table, restricted hours, the idle
//!   shutdown decision, quota arithmetic and the one "may this user start this VM now?".
//! - `checks` (its types are in [`model`]): in-VM checks, pure: a check's definition, what
//!   counts as passing, and how a run on one VM ended.
//! - [`events`]: what the core tells front ends (waitlist assignments, quota warnings,
//!   automatic shutdowns and why), written to an outbox in the transaction of each change and
//!   read by front ends from a durable cursor.
//! - [`jobs`]: background work started by [`Lab::start_jobs`]: the inventory of every cluster
//!   (one API call per tick), usage, quota, hours and idle enforcement, VM addresses, ISO and
//!   template synchronisation, each also run on demand with [`Lab::sync_now`].
//! - [`Clock`]: every "now" of the core; tests move a [`ManualClock`] instead of sleeping.
//! - Internal: `store` (one repository per aggregate, built with sea-query), `db` (connections,
//!   migrations from the workspace's `migrations/`), `seal` (credentials sealed at rest under
//!   the operator's [`SealingKey`]), `token` (join tokens: 128 random bits, stored only as a
//!   SHA-256 hash), `password` (argon2), `settings_keys` (typed system settings).
//!
//! # Example: embedding the core
//! A front end opens one [`Lab`], maps its people to lab users, and calls operations as them:
//! ```
//! use pvelab_core::model::{ClusterCredential, JoinToken, NewClass, NewCluster, NewPoolVm, TokenExpiry, VmOutcome};
//! use pvelab_core::types::{
//!     ClassName, ClusterId, ClusterTrust, ExternalId, Fingerprint, Host, PoolSize, PveUser, Role,
//! };
//! use pvelab_core::{Lab, LabConfig, SealingKey};
//! use secrecy::SecretString;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> pvelab_core::Result<()> {
//! # let dir = tempfile::tempdir().expect("tempdir");
//! # let path = dir.path().join("lab.db");
//! // The front end reads the operator's key (e.g. from PVELAB_SEALING_KEY) and passes it in;
//! // the library never reads the environment itself.
//! let key = SealingKey::generate();
//! let lab = Lab::open(LabConfig::file(&path).with_sealing_key(key)).await?;
//!
//! // People: the front end vouches for identities and maps roles from its own context.
//! let admin = lab.ensure_user(&ExternalId::parse("discord:100")?, Some("Ada")).await?;
//! let admin = lab.actor_with_role(admin.id, Role::Adminer);
//! let teacher = lab.ensure_user(&ExternalId::parse("discord:200")?, Some("Tom")).await?;
//! let teacher = lab.actor_with_role(teacher.id, Role::Teacher);
//!
//! // A cluster (its password is sealed, its certificate pinned), a class, and one registered
//! // student VM.
//! let pve = ClusterId::parse("pve1")?;
//! let password = ClusterCredential::Password {
//!     user: PveUser::parse("root@pam")?,
//!     password: SecretString::from("secret".to_owned()),
//! };
//! let pin = Fingerprint::parse(&["AB"; 32].join(":"))?;
//! let cluster = NewCluster::new(pve.clone(), Host::parse("10.0.0.2")?, password)
//!     .trust(ClusterTrust::Fingerprint(pin));
//! lab.add_cluster(&admin, cluster).await?;
//! let class = lab
//!     .create_class(&teacher, NewClass::new(ClassName::parse("net101")?, PoolSize::new(20)?))
//!     .await?;
//! let vmid = class.scheme.student_vmid(1).expect("slot 1 exists");
//! let vm = NewPoolVm { cluster_id: pve, vmid, manual: false, node: None, name: None, mac_address: None };
//! lab.register_vm(&teacher, class.id, vm).await?;
//!
//! // The teacher shares a token once; a student joins with it and gets the VM.
//! let token: JoinToken = lab.rotate_token(&teacher, class.id, TokenExpiry::Never).await?.token;
//! let student = lab.ensure_user(&ExternalId::parse("discord:300")?, Some("Sam")).await?;
//! let student = lab.actor(student.id).await?;
//! let joined = lab.join(&student, &token).await?;
//! assert!(matches!(joined.vm, VmOutcome::Assigned(ref got) if got.vmid == vmid));
//!
//! // A student may not manage the class: the core refuses with a typed error.
//! let refused = lab.rotate_token(&student, class.id, TokenExpiry::Never).await;
//! assert!(matches!(refused, Err(pvelab_core::Error::NotPermitted { .. })));
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub(crate) mod checks;
mod clock;
pub mod error;
pub mod events;
pub mod model;
pub mod types;

pub(crate) mod capacity;
pub(crate) mod db;
pub mod jobs;
pub(crate) mod lab;
pub(crate) mod password;
pub mod pools;
pub(crate) mod reports;
pub mod rules;
pub(crate) mod seal;
pub(crate) mod settings_keys;
pub(crate) mod store;
pub(crate) mod token;

pub use clock::{Clock, ManualClock};
pub use error::{Entity, Error, Result};
pub use lab::{Lab, LabConfig};
pub use model::Actor;
pub use seal::SealingKey;
