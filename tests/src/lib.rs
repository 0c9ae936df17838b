//! Workspace-level tests of the saga DSL; the tests live in `tests/tests/`, their fixture sagas
//! in `tests/fixtures/` (outside `src/`, so `cargo run -p saga-dsl` does not generate them).
//!
//! ```text
//! cargo test -p saga-tests
//! ```
