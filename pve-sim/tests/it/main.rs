//! Integration tests of the simulator, speaking raw HTTP to a real server on loopback.

mod agent_exec;
mod auth_and_errors;
mod behaviour;
mod binary;
mod conformance;
mod faults_and_capacity;
mod provisioning;
mod scenarios;
mod support;
