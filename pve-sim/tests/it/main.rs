//! Integration tests of the simulator, speaking raw HTTP to a real server on loopback.

mod auth_and_errors;
mod behaviour;
mod binary;
mod conformance;
mod faults_and_capacity;
mod scenarios;
mod support;
