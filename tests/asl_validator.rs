//! Every state machine we generate, the fixtures' and the committed `generated/` ones, is
//! accepted by `asl-validator` from npm. The test command installs it into
//! `tools/asl-validator/node_modules`; without it this test fails rather than skip.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;

use fixtures::{FIXTURES, compile_fixture};

fn validator() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tools/asl-validator/node_modules/.bin/asl-validator");
    assert!(
        bin.exists(),
        "{} is missing: run `npm ci --prefix tools/asl-validator` (the test command does)",
        bin.display()
    );
    bin
}

fn validate(file: &Path) {
    let output = Command::new(validator())
        .arg("--json-path")
        .arg(file)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "asl-validator rejects {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn fixture_definitions_are_valid_asl() {
    let dir = tempfile::tempdir().unwrap();
    for stem in FIXTURES {
        let file = dir.path().join(format!("{stem}.asl.json"));
        std::fs::write(&file, compile_fixture(stem).artifacts.asl).unwrap();
        validate(&file);
    }
}

#[test]
fn committed_definitions_are_valid_asl() {
    // Every saga declared in the workspace has its definition committed, and each is valid.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let expected = saga_dsl::cli::expected_files(&root).expect("the workspace's sagas compile");
    for name in expected.keys().filter(|name| name.ends_with(".asl.json")) {
        let committed = root.join("generated").join(name);
        assert!(
            committed.exists(),
            "{} is not committed: run `cargo run -p saga-dsl`",
            committed.display()
        );
        validate(&committed);
    }
}

#[test]
fn the_validator_rejects_a_broken_definition() {
    // Guards the guard: a dangling `Next` must make the validator fail.
    let dir = tempfile::tempdir().unwrap();
    let mut asl: serde_json::Value =
        serde_json::from_str(&compile_fixture("one_step").artifacts.asl).unwrap();
    asl["States"]["Send"]["Next"] = serde_json::json!("Nowhere");
    asl["States"]["Send"].as_object_mut().unwrap().remove("End");
    let file = dir.path().join("broken.asl.json");
    std::fs::write(&file, serde_json::to_string(&asl).unwrap()).unwrap();
    let output = Command::new(validator())
        .arg("--json-path")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!output.status.success());
}
