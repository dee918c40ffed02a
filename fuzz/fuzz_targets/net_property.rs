//! Fuzz target `net_property`: the property `pvelab_fuzz::fuzz_props::net_property` on each input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pvelab_fuzz::fuzz_props::net_property(data));
