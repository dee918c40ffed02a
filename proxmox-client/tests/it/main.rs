//! Integration tests of pvelab-proxmox against wiremock and small local HTTP(S) servers that
//! serve the shapes and quirks of a real PVE 9 API (see shared/pve/NOTES.md).

mod agent_exec;
mod auth;
mod containers;
mod endpoints;
mod errors;
mod example_cli;
mod load;
mod raw_server;
mod retry;
mod support;
mod tasks;
mod tls;
mod vmid;
