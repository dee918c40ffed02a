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
//! - Storage (migrations, the SQLite layer, sealed secrets, repositories and the `Lab` facade
//!   through which every operation runs as an acting user): see the modules below.
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
