//! A typed, lenient, load-aware async client for the Proxmox VE API.
//!
//! Built for a classroom pool manager: it copes with how real PVE servers behave (numbers as
//! strings, 0/1 booleans, empty 401 bodies, tickets that silently expire after two hours, lock
//! timeouts, proxies that cannot reach a node) and keeps a cluster from being overrun (a rate
//! limit, a cap of concurrent requests per node, careful retries).
//!
//! ```no_run
//! # async fn demo() -> pvelab_proxmox::Result<()> {
//! use pvelab_proxmox::{Client, CloneParams, ExecParams, TaskWait};
//! let client = Client::builder("https://pve1.school.example:8006")
//!     .api_token("pvelab@pve!bot=00000000-1111-2222-3333-444444444444")
//!     .fingerprint("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89")
//!     .build()?;
//! let template = client.node("pve1").qemu(9000);
//! let upid = template.clone_vm(&CloneParams::new(101).name("lab-101")).await?;
//! client.wait_for_task(&upid).await?;
//! let vm = client.node("pve1").qemu(101);
//! client.wait_for_task(&vm.start().await?).await?;
//! // Later, once the guest agent answers: is nginx up inside the VM?
//! let check = ExecParams::new(["systemctl", "is-active", "nginx"]);
//! let done = vm.agent_run(&check, TaskWait::default()).await?;
//! println!("nginx: {}", done.stdout().trim());
//! # Ok(()) }
//! ```
//!
//! Layout:
//! - [`Client`] / [`ClientBuilder`]: the handle and its settings (`client.rs`, `builder.rs`).
//! - `auth.rs`: [`Auth`], tickets, single-flight renewal. `tls.rs`: [`Fingerprint`] pinning, CA
//!   files, insecure mode. `transport.rs`: [`RateLimit`], per-node caps, [`RetryPolicy`].
//! - `api/`: resource handlers ([`Node`], [`Qemu`], [`Lxc`], [`Cluster`], [`Storage`],
//!   [`Task`]); `models/`: reply and parameter types. VMs and containers share one
//!   implementation of the calls both have (`api/guest.rs`): status, config, pending changes
//!   ([`Qemu::pending`]), clone, power, resize, template, snapshots, rrddata, delete.
//! - Guest agent (`api/agent.rs`, `api/agent_exec.rs`): addresses
//!   ([`Qemu::wait_for_addresses`]), commands in the guest ([`Qemu::agent_exec`],
//!   [`Qemu::agent_exec_status`], [`Qemu::agent_run`] with [`ExecParams`] and
//!   [`AgentExecStatus`]) and logged-in users ([`Qemu::agent_get_users`]).
//! - [`Upid`], [`Client::wait_for_task`] (`task.rs`), [`Client::with_free_vmid`] (`vmid.rs`).
//! - `property/`: [`NetDevice`] and [`Disk`] property strings; `lenient.rs`: tolerant decoding.
//! - [`Error`]: one error enum whose variants a caller can act on; `reply.rs` turns PVE's
//!   error replies into it.
#![warn(missing_docs)]

mod api;
mod auth;
mod builder;
mod client;
mod counter;
mod envelope;
mod error;
mod form;
mod lenient;
mod models;
mod property;
mod reply;
mod task;
mod tls;
mod transport;
mod upid;
mod vmid;

pub use api::{Cluster, FromResource, Lxc, Node, Qemu, Storage, Task};
pub use auth::Auth;
pub use builder::ClientBuilder;
pub use client::Client;
pub use counter::RequestCounter;
pub use error::{Error, Result};
pub use models::*;
pub use property::{Disk, NetDevice};
pub use task::TaskWait;
pub use tls::Fingerprint;
pub use transport::{RateLimit, RetryPolicy, DEFAULT_PER_NODE_CONCURRENCY};
pub use upid::Upid;
pub use vmid::{MAX_VMID, MIN_VMID};
