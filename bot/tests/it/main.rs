//! Integration tests of the `pvelab` binary and its library: configuration files, console
//! scripts against a real lab, the simulated lab, and the real binary.

mod binary;
mod console_commands;
mod example_config;
mod sim_lab;
mod support;
