//! Fuzz target `console_line`: the property `pvelab_fuzz::fuzz_props::console_line` on each input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pvelab_fuzz::fuzz_props::console_line(data));
