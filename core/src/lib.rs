//! pvelab-core: the embeddable library behind pvelab, the classroom lab manager for Proxmox VE.
//!
//! A school embeds this crate in a front end (the Discord bot is one; a web portal or a CLI can be
//! others). The core owns the data model, its storage and every rule of a lab; front ends parse
//! input, call the core with the acting user, and render the answer. The core checks permissions
//! itself, so a front end may refuse early for a friendlier message but never instead.
//!
//! # Layout
//! - [`types`]: newtypes for every value from people or Proxmox (class names, roles, VMIDs and
//!   the classic / wide VMID plans, sizes, hour windows, time zones); invalid input never gets
//!   past their constructors, and each rejection names the field and what is allowed.
//! - [`rules`]: pure decisions with no I/O: the permission table, restricted hours, the idle
//!   shutdown decision, quota arithmetic and the one "may this user start this VM now?".
//! - [`token`]: join tokens (128 random bits, stored only as a hash, compared in constant time)
//!   and their expiry. [`password`]: argon2 hashes for front ends with logins.
//! - [`settings_keys`]: the typed system settings with defaults and validation.
//! - [`events`]: the broadcast bus on which the core tells front ends what happened (waitlist
//!   assignments, quota warnings, automatic shutdowns and why).
//! - [`error`]: the one error type; every variant is something a caller can act on.
//! - [`lab`]: the [`Lab`] facade, the entry point a front end embeds. Every operation takes the
//!   acting user, checks the permission table with relations read in the same transaction as
//!   the change, and runs its SQLite work on blocking threads. Joining enrolls and assigns a VM
//!   (or a waitlist place) atomically; events are published after commit.
//! - [`store`]: repositories, one module per aggregate (users, clusters, settings, classes,
//!   enrollment and co-owners, pool VMs, waitlist, usage), returning domain records built with
//!   sea-query. The record types ([`store::classes::Class`], [`store::pool::PoolVm`], ...) are
//!   public; the functions are internal to the facade.
//! - [`seal`]: cluster secrets sealed at rest (XChaCha20-Poly1305) under the operator's
//!   [`SealingKey`]; without a key, storing a secret is refused.
//! - The schema is the numbered SQL files of `migrations/` in the workspace, embedded at compile
//!   time and applied by [`Lab::open`] (one transaction each; a newer database is refused).
//!
//! # Example: embedding the core
//! A front end opens one [`Lab`], maps its people to lab users, and calls operations as them:
//! ```
//! use pvelab_core::lab::VmOutcome;
//! use pvelab_core::store::classes::NewClass;
//! use pvelab_core::store::clusters::{ClusterCredential, NewCluster};
//! use pvelab_core::store::pool::NewPoolVm;
//! use pvelab_core::token::TokenExpiry;
//! use pvelab_core::types::{ClassName, ClusterId, PoolSize, Role};
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
//! let admin = lab.ensure_user("discord:100", Some("Ada")).await?;
//! let admin = lab.actor_with_role(admin.id, Role::Adminer);
//! let teacher = lab.ensure_user("discord:200", Some("Tom")).await?;
//! lab.set_role(&admin, teacher.id, Role::Teacher).await?;
//! let teacher = lab.actor(teacher.id).await?;
//!
//! // A cluster (its password is sealed), a class, and one registered student VM.
//! let pve = ClusterId::parse("pve1")?;
//! let password = ClusterCredential::Password(SecretString::from("secret".to_owned()));
//! lab.add_cluster(&admin, NewCluster::new(pve.clone(), "10.0.0.2", "root@pam", password))
//!     .await?;
//! let class = lab
//!     .create_class(&teacher, NewClass::new(ClassName::parse("net101")?, PoolSize::new(20)?))
//!     .await?;
//! let vmid = class.scheme.student_vmid(1).expect("slot 1 exists");
//! let vm = NewPoolVm { cluster_id: pve, vmid, manual: false, node: None, name: None, mac_address: None };
//! lab.register_vm(&teacher, class.id, vm).await?;
//!
//! // The teacher shares a token once; a student joins with it and gets the VM.
//! let token = lab.rotate_token(&teacher, class.id, TokenExpiry::Never).await?.token;
//! let student = lab.ensure_user("discord:300", Some("Sam")).await?;
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
//!
//! # Example: a rule decision
//! ```
//! use pvelab_core::rules::permissions::{authorize, Action, Actor, ClassRelation};
//! use pvelab_core::types::{Role, UserId};
//!
//! let student = Actor::new(UserId::new(7), Role::User);
//! assert!(authorize(&student, Action::JoinClass, ClassRelation::None).is_ok());
//! let refusal = authorize(&student, Action::ResizePool, ClassRelation::None).unwrap_err();
//! assert_eq!(
//!     refusal.to_string(),
//!     "you may not resize the pool: that needs the teacher role and being this class's \
//!      teacher or co-owner, or the adminer role"
//! );
//! ```
#![warn(missing_docs)]

// --- domain: types, pure rules, tokens, passwords, settings keys, events (owned by the domain work) ---
pub mod error;
pub mod events;
pub mod password;
pub mod rules;
pub mod settings_keys;
pub mod token;
pub mod types;

pub use error::{Error, Result};
// --- end domain ---

// --- store: migrations, database, sealing, repositories, the Lab facade (owned by the storage work) ---
pub(crate) mod db;
pub mod lab;
pub mod seal;
pub mod store;

pub use lab::{Lab, LabConfig};
pub use seal::SealingKey;
// --- end store ---
