//! `generated/trip_table.nosql_workbench.json` is what `trip-local nosql-workbench` prints now:
//! the command books its sample trips on a moto_server it starts itself, as the regeneration
//! does, so this also checks that two runs model the same items.

use std::process::Command;

const MODEL_FILE: &str = "generated/trip_table.nosql_workbench.json";
const REGENERATE: &str =
    "cargo run -p trip-local -- nosql-workbench --out generated/trip_table.nosql_workbench.json";

#[test]
fn the_committed_nosql_workbench_model_is_current() {
    let output = Command::new(env!("CARGO_BIN_EXE_trip-local"))
        .arg("nosql-workbench")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(MODEL_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.as_bytes() == output.stdout,
        "{MODEL_FILE} is stale: run `{REGENERATE}` and commit the result"
    );
}

#[test]
fn an_aws_table_is_never_used_for_sample_trips() {
    let output = Command::new(env!("CARGO_BIN_EXE_trip-local"))
        .args(["--aws-table", "trips", "nosql-workbench"])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("never an AWS table"), "{stderr}");
}
