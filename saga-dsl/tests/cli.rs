//! The `saga-dsl` binary on a scratch workspace, as a newcomer would use it: write, `--check`
//! clean, `--check` failing after a hand edit, invalid DSL reported with its location and
//! never yielding ASL, the workspace found from the current directory, two sagas of one name
//! located, and `report`.

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

/// Runs the binary in `dir`, without `--root`.
fn saga_dsl_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_saga-dsl"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// [`workspace`] with a `[workspace]` manifest at its root, as cargo would build it.
fn cargo_workspace() -> tempfile::TempDir {
    let ws = workspace();
    fs::write(
        ws.path().join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"trips\"]\n",
    )
    .unwrap();
    ws
}

/// 1-based line and column of `needle`'s first occurrence in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .find_map(|(i, line)| line.find(needle).map(|c| (i + 1, c + 1)))
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

#[test]
fn without_root_the_workspace_of_the_current_directory_is_used_and_named() {
    let ws = cargo_workspace();
    let root = ws.path().canonicalize().unwrap();
    // From deep inside a member, as `cargo run` from a subdirectory would be: the binary must
    // act on this workspace, not on the checkout it was built in.
    let write = saga_dsl_in(&root.join("trips/src"), &[]);
    assert!(write.status.success(), "{}", text(&write.stderr));
    let stdout = text(&write.stdout);
    assert!(
        stdout.starts_with(&format!("workspace: {}\n", root.display())),
        "{stdout}"
    );
    assert!(root.join("generated/trip_booking.asl.json").is_file());
    assert!(!root.join("trips/generated").exists());

    let check = saga_dsl_in(&root.join("trips"), &["--check"]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let stdout = text(&check.stdout);
    assert!(
        stdout.contains(&format!("workspace: {}", root.display()))
            && stdout.contains("generated/ is up to date (3 files)"),
        "{stdout}"
    );
}

#[test]
fn a_package_outside_any_workspace_is_its_own_root() {
    let ws = workspace();
    let package = ws.path().canonicalize().unwrap().join("trips");
    let out = saga_dsl_in(&package.join("src"), &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!("workspace: {}", package.display())),
        "{}",
        text(&out.stdout)
    );
    assert!(package.join("generated/trip_booking.asl.json").is_file());
}

#[test]
fn outside_any_cargo_project_it_fails_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&[][..], &["--check"], &["report"]] {
        let out = saga_dsl_in(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("no Cargo.toml in") && stderr.contains("--root"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("generated").exists());
}

#[test]
fn two_sagas_of_one_name_are_both_located() {
    let ws = cargo_workspace();
    let root = ws.path();
    let other = root.join("other");
    fs::create_dir_all(other.join("src")).unwrap();
    fs::write(
        other.join("Cargo.toml"),
        "[package]\nname = \"other\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    // The same saga, two lines further down.
    let moved = format!("\n\n{THREE_STEPS}");
    fs::write(other.join("src/lib.rs"), &moved).unwrap();
    let out = saga_dsl(root, &["--check"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let (line, column) = position(THREE_STEPS, "TripBooking {");
    assert!(
        stderr.contains("two sagas generate `trip_booking.*`"),
        "{stderr}"
    );
    // Both declarations, each at its name, in the order the search found them.
    let first = format!("`TripBooking` at other/src/lib.rs:{}:{column}", line + 2);
    let second = format!("`TripBooking` at trips/src/lib.rs:{line}:{column}");
    assert!(
        stderr.contains(&format!("{first} and {second}")),
        "{stderr}"
    );
}

#[test]
fn report_prints_every_saga_or_the_one_asked_for() {
    let ws = workspace();
    let root = ws.path();
    let all = saga_dsl(root, &["report"]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    let stdout = text(&all.stdout);
    assert!(stdout.contains("TripBooking (trips)"), "{stdout}");
    assert!(
        stdout.contains("happy path")
            && stdout.contains("ReserveHotel fails, a compensation fails"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("IgnoredSaga"),
        "fixtures under tests/ are not reported"
    );
    assert!(!root.join("generated").exists(), "report writes nothing");

    let one = saga_dsl(root, &["report", "--saga", "TripBooking"]);
    assert!(one.status.success(), "{}", text(&one.stderr));
    assert_eq!(text(&one.stdout), stdout);

    let unknown = saga_dsl(root, &["report", "--saga", "Nope"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no saga is named `Nope`; the workspace has: TripBooking"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn generation_flags_do_not_mix_with_report() {
    let ws = workspace();
    for args in [&["--check", "report"][..], &["--out", "x", "report"]] {
        let out = saga_dsl(ws.path(), args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains("`report` takes neither"),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(!ws.path().join("generated").exists());
    assert!(!ws.path().join("x").exists());
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
