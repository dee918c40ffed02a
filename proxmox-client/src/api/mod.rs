//! Typed calls, grouped by resource handler: `client.node("pve1").qemu(100).status()`.
//!
//! Handlers own a cheap clone of the [`Client`](crate::Client), so they can be kept, moved into
//! tasks, and used concurrently.

mod agent;
mod agent_exec;
mod cluster;
mod guest;
mod kept;
mod lxc;
mod nodes;
mod qemu;
mod snapshot;
mod storage;
mod tasks;
mod version;

pub use cluster::Cluster;
pub use kept::FromResource;
pub use lxc::Lxc;
pub use nodes::Node;
pub use qemu::Qemu;
pub use storage::Storage;
pub use tasks::Task;
