//! Runs every case in `tests/conformance/*.json` on asl-executor and checks its expectations.

mod support;

use asl_executor::Status;
use support::{Case, load_cases, run_case};

fn check(name: &str, case: &Case) -> Result<(), String> {
    let execution = run_case(case);
    let expected = &case.expected;
    let mut problems = Vec::new();
    if execution.status.as_str() != expected.status {
        problems.push(format!(
            "status: expected {}, got {} ({:?})",
            expected.status, execution.status, execution.error
        ));
    }
    if execution.status == Status::Succeeded && execution.output != expected.output {
        problems.push(format!(
            "output: expected {}, got {}",
            expected
                .output
                .as_ref()
                .map_or("none".into(), ToString::to_string),
            execution
                .output
                .as_ref()
                .map_or("none".into(), ToString::to_string),
        ));
    }
    let error = execution.error.as_ref().map(|e| e.error.as_str());
    if error != expected.error.as_deref() {
        problems.push(format!(
            "error: expected {:?}, got {error:?}",
            expected.error
        ));
    }
    if let Some(cause) = &expected.cause {
        let got = execution.error.as_ref().and_then(|e| e.cause.as_deref());
        if got != Some(cause.as_str()) {
            problems.push(format!("cause: expected {cause:?}, got {got:?}"));
        }
    }
    let visited = execution.history.states_visited();
    if visited != expected.states {
        problems.push(format!(
            "states: expected {:?}, got {visited:?}",
            expected.states
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name} ({}):\n  {}\n{}",
            case.description,
            problems.join("\n  "),
            execution.history
        ))
    }
}

#[test]
fn every_conformance_case_meets_its_expectations() {
    let cases = load_cases();
    assert!(
        cases.len() >= 40,
        "the corpus must hold at least 40 cases, found {}",
        cases.len()
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(name, case)| check(name, case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
