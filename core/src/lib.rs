//! pvelab-core: the embeddable library behind pvelab.
//!
//! (Overview to be written as the crate fills in.)
#![warn(missing_docs)]

// --- domain: types, pure rules, tokens, passwords, settings keys, events (owned by the domain work) ---
pub mod error;
pub mod password;
pub mod rules;
pub mod token;
pub mod types;

pub use error::{Error, Result};
// --- end domain ---

// --- store: migrations, database, sealing, repositories, the Lab facade (owned by the storage work) ---
pub(crate) mod db;
pub mod seal;
pub mod store;

pub use seal::SealingKey;
// --- end store ---
