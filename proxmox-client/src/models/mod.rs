//! Reply types and parameter structs of the API calls.
//!
//! Replies decode leniently (see `lenient`): unknown fields are ignored, missing ones take
//! their default, numbers may be strings and booleans may be 0/1. They also derive `Serialize`
//! so that tools can print them as JSON.

mod agent;
mod agent_exec;
mod cluster;
mod guest;
mod guest_config;
mod node;
mod params;
mod pending;
mod rrd;
mod snapshot;
mod storage;
mod task;
mod version;

pub(crate) use agent::AgentResult;
pub use agent::{AgentInterface, AgentIpAddress, LxcInterface};
pub(crate) use agent_exec::ExecStarted;
pub use agent_exec::{AgentExecStatus, AgentUser, ExecParams, MAX_INPUT_DATA};
pub use cluster::{ClusterResource, ResourceType};
pub use guest::{GuestStatus, GuestSummary};
pub use guest_config::GuestConfig;
pub use node::{NodeStatus, NodeSummary};
pub use params::{CloneParams, ConfigUpdate, DeleteParams, ShutdownParams, SnapshotParams};
pub use pending::PendingEntry;
pub use rrd::{RrdCf, RrdPoint, RrdTimeframe};
pub use snapshot::SnapshotEntry;
pub use storage::{StorageContent, StorageSummary};
pub use task::{ExitStatus, TaskLogLine, TaskState, TaskStatus};
pub use version::Version;
