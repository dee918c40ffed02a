//! Integration tests of pvelab-core through its public API (one test binary).

mod clusters;
mod concurrency;
mod defects;
mod events;
mod interleavings;
mod lab_classes;
mod lab_join;
mod lab_pool;
mod lab_users_settings;
mod migrations;
mod outbox;
mod permissions;
mod pools_actions;
mod pools_crash;
mod pools_foreign;
mod pools_lifecycle;
mod pools_outage;
mod pools_provision;
mod pools_reconcile;
mod pools_resize;
mod pools_support;
mod sealing;
mod support;
