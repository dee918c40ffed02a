//! Fuzz target `config_toml`: the property `pvelab_fuzz::fuzz_props::config_toml` on each input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pvelab_fuzz::fuzz_props::config_toml(data));
