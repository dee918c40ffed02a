//! Fuzz target `upid`: the property `pvelab_fuzz::fuzz_props::upid` on each input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pvelab_fuzz::fuzz_props::upid(data));
