//! The `pvelab` binary.

fn main() {}
