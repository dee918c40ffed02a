//! Integration tests of the `pvelab` binary and its library: configuration files, the console
//! through the library and through the real binary.

mod binary;
mod example_config;
