//! Integration tests of pvelab-core through its public API (one test binary).

mod checks;
mod checks_support;
mod clusters;
mod concurrency;
mod defects;
mod events;
mod interleavings;
mod jobs_addresses;
mod jobs_enforce;
mod jobs_inventory;
mod jobs_scheduler;
mod jobs_support;
mod jobs_templates;
mod jobs_usage;
mod lab_classes;
mod lab_join;
mod lab_pool;
mod lab_users_settings;
mod migrations;
mod outbox;
mod permissions;
mod sealing;
mod submissions;
mod support;
