//! The `saga-dsl` binary on a scratch workspace, as a newcomer would use it: write, `--check`
//! clean, `--check` failing after a hand edit, invalid DSL reported with its location and
//! never yielding ASL.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const THREE_STEPS: &str = include_str!("../../tests/fixtures/three_steps.rs");

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let krate = dir.path().join("trips");
    fs::create_dir_all(krate.join("src")).unwrap();
    fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"trips\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    fs::write(krate.join("src/lib.rs"), THREE_STEPS).unwrap();
    // A saga under tests/ is a fixture, not a deployed saga: the CLI must ignore it.
    fs::create_dir_all(krate.join("tests")).unwrap();
    fs::write(
        krate.join("tests/ignored.rs"),
        THREE_STEPS.replace("TripBooking", "IgnoredSaga"),
    )
    .unwrap();
    dir
}

fn saga_dsl(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saga-dsl"))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn write_then_check_then_detect_a_hand_edit() {
    let ws = workspace();
    let root = ws.path();
    let out = saga_dsl(root, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let generated = root.join("generated");
    let mut files: Vec<String> = fs::read_dir(&generated)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "trip_booking.asl.json",
            "trip_booking.functions.json",
            "trip_booking.mmd"
        ]
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(generated.join("trip_booking.functions.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["functions"][0]["crate"], "trips");

    let clean = saga_dsl(root, &["--check"]);
    assert!(clean.status.success(), "{}", text(&clean.stderr));
    assert!(text(&clean.stdout).contains("up to date (3 files)"));

    let asl = generated.join("trip_booking.asl.json");
    let edited = fs::read_to_string(&asl)
        .unwrap()
        .replace("\"MaxAttempts\": 3", "\"MaxAttempts\": 9");
    fs::write(&asl, edited).unwrap();
    fs::remove_file(generated.join("trip_booking.mmd")).unwrap();
    let stale = saga_dsl(root, &["--check"]);
    assert!(!stale.status.success());
    let stderr = text(&stale.stderr);
    assert!(
        stderr.contains("stale: ") && stderr.contains("trip_booking.asl.json"),
        "{stderr}"
    );
    assert!(
        stderr.contains("missing: ") && stderr.contains("trip_booking.mmd"),
        "{stderr}"
    );
    // The last line names the directory checked and the command that repairs it.
    let repair = format!("cargo run -p saga-dsl -- --root {}", root.display());
    assert!(
        stderr.contains(&format!("{} is out of date", generated.display()))
            && stderr.contains(&repair),
        "{stderr}"
    );

    // Regenerating repairs both.
    assert!(saga_dsl(root, &[]).status.success());
    assert!(saga_dsl(root, &["--check"]).status.success());
}

#[test]
fn a_renamed_saga_leaves_no_orphan_behind() {
    let ws = workspace();
    let root = ws.path();
    assert!(saga_dsl(root, &[]).status.success());
    let lib = root.join("trips/src/lib.rs");
    fs::write(
        &lib,
        THREE_STEPS
            .replace("saga TripBooking", "saga TravelBooking")
            .replace("trip_booking", "travel_booking"),
    )
    .unwrap();
    let check = saga_dsl(root, &["--check"]);
    assert!(!check.status.success());
    assert!(
        text(&check.stderr).contains("orphaned (no saga generates it)"),
        "{}",
        text(&check.stderr)
    );
    let write = saga_dsl(root, &[]);
    assert!(
        text(&write.stdout).contains("removed"),
        "{}",
        text(&write.stdout)
    );
    assert!(!root.join("generated/trip_booking.asl.json").exists());
    assert!(root.join("generated/travel_booking.asl.json").exists());
}

#[test]
fn invalid_dsl_is_located_and_writes_nothing() {
    let ws = workspace();
    let root = ws.path();
    let broken = THREE_STEPS.replace(
        "business_errors: [NoRooms],",
        "business_errors: [NoRooms],\n            transient_errors: [NoRooms],",
    );
    fs::write(root.join("trips/src/lib.rs"), &broken).unwrap();
    let out = saga_dsl(root, &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let line = broken
        .lines()
        .position(|l| l.contains("transient_errors: [NoRooms]"))
        .unwrap()
        + 1;
    let column = broken
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("NoRooms")
        .unwrap()
        + 1;
    assert!(
        stderr.contains(
            "error: error `NoRooms` is declared both business and transient in step `ReserveHotel`"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("trips/src/lib.rs:{line}:{column}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("transient_errors: [NoRooms],"),
        "the source line is shown: {stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(
        !root.join("generated").exists(),
        "invalid DSL must never yield ASL"
    );
}

/// The reference quotes the grammar "verbatim": it is the `///` block above `SagaDef`.
#[test]
fn the_reference_quotes_the_grammar_as_the_parser_documents_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let syntax = std::fs::read_to_string(root.join("saga-dsl/src/syntax.rs")).unwrap();
    let reference = std::fs::read_to_string(root.join("docs/saga-dsl.md")).unwrap();
    let start = syntax
        .find("/// ```text\n/// saga!")
        .expect("the grammar block");
    let grammar: Vec<&str> = syntax[start..]
        .lines()
        .skip(1)
        .take_while(|l| *l != "/// ```")
        .map(|l| l.strip_prefix("/// ").unwrap_or(""))
        .collect();
    let quoted = format!("```text\n{}\n```", grammar.join("\n"));
    assert!(
        reference.contains(&quoted),
        "docs/saga-dsl.md must quote the grammar of saga-dsl/src/syntax.rs:\n{quoted}"
    );
}
