//! Integration tests of the pvelab binary and its library.
