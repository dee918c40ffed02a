//! Cross-crate integration tests: the Proxmox client against a real simulator started in
//! process (HTTPS on 127.0.0.1, port 0, pinned by its fingerprint), and the example programs
//! run to completion so they cannot rot.
//!
//! The simulator runs with `time_scale = 0.01` (a 3 s linked clone takes 30 ms), so the suite
//! takes seconds; waits poll conditions with deadlines and never sleep for a fixed time.

mod client_vs_sim;
mod discord_bot;
mod discord_fake;
mod examples;
mod support;
