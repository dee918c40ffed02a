//! The pure rules of a classroom lab: no database, no clock, no I/O. Callers pass the facts
//! (roles, relations, the current instant, samples) and get a decision, which keeps every rule
//! testable row by row.

pub mod cluster_admin;
pub mod hours;
pub mod idle;
pub mod permissions;
pub mod quota;
pub mod start;
