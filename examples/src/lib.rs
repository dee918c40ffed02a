//! pvelab-examples: small programs that show how to embed `pvelab-core` and use the Proxmox client.
//!
//! Each program lives in `src/bin/` and needs no real Proxmox VE installation:
//! - `embed_core` (`cargo run -p pvelab-examples --bin embed_core`): opens a lab on a temporary
//!   SQLite file, creates a class, shares a join token, lets students join (one waits in line) and
//!   frees a VM for the waiting student, then reopens the lab and delivers the events from the
//!   core's outbox.
//! - `client_tour` (`cargo run -p pvelab-examples --bin client_tour`): starts the simulated cluster
//!   in-process, pins its certificate, lists nodes and templates, clones a VM, starts it and waits
//!   for its address.
//!
//! Both programs expose their main logic as a `run` function that the workspace's cross-crate
//! tests call, so they cannot silently stop working.
#![warn(missing_docs)]
