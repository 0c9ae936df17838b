//! The fixture sagas as the CLI sees them: compiled from their source files.

use std::path::{Path, PathBuf};

use saga_dsl::Compiled;
use saga_dsl::cli::discover::{Discovery, scan_file};

/// The fixture files, by stem.
pub(crate) const FIXTURES: [&str; 6] = [
    "one_step",
    "three_steps",
    "irreversible_last",
    "custom_retry",
    "custom_escalation",
    "pivot_forward",
];

pub(crate) fn fixture_path(stem: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{stem}.rs"))
}

/// Compiles the one saga in `fixtures/<stem>.rs`, as the test target `fixtures` includes it
/// (`mod <stem>`).
pub(crate) fn compile_fixture(stem: &str) -> Compiled {
    let path = fixture_path(stem);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let mut discovery = Discovery::default();
    let module = format!("fixtures::{stem}");
    scan_file(&path, &text, "tests", Some(&module), &mut discovery);
    assert!(
        discovery.invalid.is_empty(),
        "{stem}: {:?}",
        discovery.invalid
    );
    assert_eq!(discovery.sagas.len(), 1, "{stem}: expected one saga");
    discovery.sagas.pop().expect("one saga").compiled
}
