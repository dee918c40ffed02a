//! Cross-crate integration tests: the Proxmox client against a real simulator started in
//! process (HTTPS on 127.0.0.1, port 0, pinned by its fingerprint), and the example programs
//! run to completion so they cannot rot. The fuzz corpus replays here on stable
//! (`fuzz_corpus`), beside property tests of the fuzzed parsers (`parser_props`) and hostile
//! text in every free-text option of the console (`hostile_input`); `token_guessing` computes
//! the odds of guessing a join token from the real constants; `bench_scenarios` runs the newer
//! benchmark scenarios at a tiny size.
//!
//! The simulator runs with `time_scale = 0.01` (a 3 s linked clone takes 30 ms), so the suite
//! takes seconds; waits poll conditions with deadlines and never sleep for a fixed time.

mod authorization;
mod bench_scenarios;
mod client_vs_sim;
mod discord_bot;
mod discord_fake;
mod examples;
mod fuzz_corpus;
mod hostile_input;
mod join_token_storage;
mod outage_commands;
mod parser_props;
mod support;
mod token_guessing;
