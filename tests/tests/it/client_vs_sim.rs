//! The client's behaviours against a real simulator: every endpoint the product uses, both
//! kinds of authentication, TLS pinning, the error shapes the simulator sends as PVE does, and
//! retries under injected faults.

mod agent_and_lxc;
mod agent_exec;
mod auth;
mod containers;
mod contention;
mod errors;
mod faults;
mod lifecycle;
mod provisioning;
mod reads;
