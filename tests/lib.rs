//! Intentionally empty: this crate exists to hold the `it` integration-test binary.
