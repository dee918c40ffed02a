//! Fuzz target `join_token`: the property `pvelab_fuzz::fuzz_props::join_token` on each input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pvelab_fuzz::fuzz_props::join_token(data));
