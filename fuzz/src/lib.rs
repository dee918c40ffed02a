//! The fuzz targets' properties: the same source file as `pvelab_tests::fuzz_props` (where the
//! corpus replay test runs them on stable), compiled here against the parsers' crates alone.

#[path = "../../tests/src/fuzz_props.rs"]
pub mod fuzz_props;
