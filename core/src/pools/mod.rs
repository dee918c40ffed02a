//! Pools on real clusters: provisioning, resizing, VM actions and reconciliation.
//!
//! The database records intent (a class, its pool size and specs, who holds what) and, per pool
//! VM, the step its creation has reached; Proxmox records fact. This module brings fact to
//! intent, step by step, the way a Kubernetes controller does, only smaller:
//!
//! - `marker`: the one printer and parser of the marker line that tells pvelab's VMs apart;
//! - `facts`: what Proxmox reported, in the core's terms;
//! - `placement`, `plan`: PURE functions from intent, recorded steps and facts to actions
//!   (unit-tested without I/O).
#![allow(dead_code)]

pub(crate) mod facts;
pub(crate) mod marker;
pub(crate) mod placement;
pub(crate) mod plan;
