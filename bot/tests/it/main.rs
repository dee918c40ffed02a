//! Integration tests of the `pvelab` binary and its library: configuration files, console
//! scripts against a real lab, the simulated lab, and the real binary.

mod binary;
mod checks_submissions;
mod cluster_config;
mod console_commands;
mod console_dms;
mod console_pools;
mod example_config;
mod notify;
mod ops_http;
mod rate_limits;
mod reports;
mod run_service;
mod sessions;
mod sim_lab;
mod support;
