//! Domain newtypes: every value that comes from people or from Proxmox is parsed once into one of
//! these, so invalid input never reaches the rules or the database.
//!
//! Each constructor returns [`InvalidValue`] naming the field, the offending value and what is
//! allowed.

mod bounded;
mod checked_string;
mod cluster;
mod duration;
mod hours;
mod ids;
mod invalid;
mod limits;
mod names;
mod people;
mod resources;
mod role;
mod scope;
mod serde_text;
mod snapshot_name;
mod vm_ref;
mod vmid_scheme;

pub use cluster::{
    AdminEntry, AdminKind, ApiTokenId, CaCertificate, ClusterTrust, Fingerprint, Host, PveUser,
};
pub use duration::DurationText;
pub use hours::{ClassTimeZone, HoursWindow};
pub use ids::{ClassId, TemplateId, UserId, VmId};
pub use invalid::InvalidValue;
pub use limits::{IdleMinutes, IdleThreshold, QuotaWarnedLevel, UsageQuota};
pub use names::{ClassName, ClusterId, NodeName};
pub use people::{ExternalId, UserName};
pub use resources::{Cores, DiskGb, MemoryMb, PoolSize};
pub use role::Role;
pub use scope::Scope;
pub use snapshot_name::SnapshotName;
pub use vm_ref::VmRef;
pub use vmid_scheme::{SchemeKind, Slot, VmidScheme};
