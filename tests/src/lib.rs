//! pvelab-tests: tests and benchmarks that cross the workspace's crates.
//!
//! - `tests/it/`: one integration test binary. `client_vs_sim/` runs the Proxmox client against
//!   a real simulated cluster started in-process (every endpoint, both kinds of authentication,
//!   error mapping, retries under injected faults, counted with the simulator's request counters);
//!   `examples.rs` runs the example programs of `pvelab-examples` so they cannot rot.
//! - `src/bin/bench.rs`: the benchmark program,
//!   `cargo run --release -p pvelab-tests --bin bench -- <scenario> [--json]`. Each scenario
//!   prints its figures beside a reference measured in the same run, as a ratio, so figures
//!   compare across noisy machines. Today: `join-burst` (concurrent joins through the core on a
//!   file database, against raw SQLite write transactions).
//! - `src/discord/`: `FakeDiscord`, a local Discord (REST and gateway on loopback) for
//!   end-to-end tests of the bot with the real poise/serenity stack.
//! - [`fuzz_props`]: the properties the fuzz targets in `fuzz/` check, shared with the corpus
//!   replay test (`tests/it/fuzz_corpus.rs`) that runs them on stable.
#![warn(missing_docs)]

pub mod discord;
pub mod fuzz_props;
