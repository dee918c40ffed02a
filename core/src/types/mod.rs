//! Domain newtypes: every value that comes from people or from Proxmox is parsed once into one of
//! these, so invalid input never reaches the rules or the database.
//!
//! Each constructor returns [`InvalidValue`] naming the field, the offending value and what is
//! allowed.

mod bounded;
mod cluster;
mod hours;
mod ids;
mod invalid;
mod limits;
mod names;
mod resources;
mod role;
mod serde_text;
mod vmid_scheme;

pub use cluster::{
    AdminEntry, AdminKind, ApiTokenId, CaCertificate, ClusterTrust, Fingerprint, Host, PveUser,
};
pub use hours::{ClassTimeZone, HoursWindow};
pub use ids::{ClassId, UserId, VmId};
pub use invalid::InvalidValue;
pub use limits::{IdleMinutes, IdleThreshold, UsageQuota};
pub use names::{ClassName, ClusterId, NodeName};
pub use resources::{Cores, DiskGb, MemoryMb, PoolSize};
pub use role::Role;
pub use vmid_scheme::{SchemeKind, Slot, VmidScheme};
