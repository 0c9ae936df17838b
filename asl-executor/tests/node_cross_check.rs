//! Cross-checks asl-executor against an independent engine, the npm package
//! `aws-local-stepfunctions` (pinned in `conformance-node/package.json`), on every
//! conformance case. Cases marked `node_engine_differs` are documented divergences
//! (`tests/conformance/DIVERGENCES.md`): for those the engines must still disagree, so a
//! stale marker is noticed.
//!
//! Needs `npm ci --prefix asl-executor/conformance-node` first; it fails (never skips)
//! when the Node side is not installed.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{conformance_dir, load_cases, run_case};

#[derive(Debug, PartialEq)]
struct Outcome {
    status: String,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
}

fn node_outcomes() -> Vec<Value> {
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance-node");
    let installed = node_dir.join("node_modules/aws-local-stepfunctions/package.json");
    assert!(
        installed.exists(),
        "the Node cross-check engine is not installed ({} is missing).\n\
         Run `npm ci --prefix asl-executor/conformance-node` from the workspace root first.",
        installed.display()
    );
    let out = Command::new("node")
        .arg(node_dir.join("run-cases.mjs"))
        .arg(conformance_dir())
        .current_dir(&node_dir)
        .output()
        .expect("`node` must be on PATH to run the cross-check");
    assert!(
        out.status.success(),
        "run-cases.mjs failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("run-cases.mjs prints a JSON array")
}

#[test]
fn node_engine_agrees_on_every_case_not_marked_as_divergent() {
    let cases = load_cases();
    let node = node_outcomes();
    assert_eq!(
        node.len(),
        cases.len(),
        "the Node script saw a different set of cases"
    );
    let mut problems = Vec::new();
    for ((name, case), theirs) in cases.iter().zip(&node) {
        assert_eq!(theirs["file"], Value::String(name.clone()));
        let ours = run_case(case);
        let compare_cause = case.expected.cause.is_some();
        let ours = Outcome {
            status: ours.status.as_str().to_owned(),
            output: ours.output,
            error: ours.error.as_ref().map(|e| e.error.clone()),
            cause: ours.error.and_then(|e| e.cause).filter(|_| compare_cause),
        };
        let theirs = Outcome {
            status: theirs["status"].as_str().unwrap_or_default().to_owned(),
            output: theirs
                .get("output")
                .cloned()
                .filter(|_| ours.status == "SUCCEEDED"),
            error: theirs["error"].as_str().map(str::to_owned),
            cause: theirs["cause"]
                .as_str()
                .map(str::to_owned)
                .filter(|_| compare_cause),
        };
        match (&case.node_engine_differs, ours == theirs) {
            (None, false) => problems.push(format!(
                "{name}: engines disagree\n  ours:  {ours:?}\n  node:  {theirs:?}"
            )),
            (Some(reason), true) => problems.push(format!(
                "{name}: marked node_engine_differs ({reason}) but the engines now agree; \
                 remove the marker and its DIVERGENCES.md entry"
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
