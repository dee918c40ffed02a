//! Integration tests of pvelab-core through its public API (one test binary).

mod clusters;
mod concurrency;
mod defects;
mod events;
mod group_commit;
mod interleavings;
mod lab_classes;
mod lab_join;
mod lab_pool;
mod lab_users_settings;
mod migrations;
mod outbox;
mod permissions;
mod sealing;
mod support;
