//! The budget report of every fixture saga and of the trip saga: insta snapshots of the text
//! `cargo run -p saga-dsl -- report` prints, and cross-checks of what the report assumes about
//! the state machine against the ASL the emitter really writes (the report reads the model only).

#[path = "support/fixtures.rs"]
mod fixtures;
#[allow(
    dead_code,
    reason = "shared with the `fixtures` target; only `payload` is used here"
)]
mod support;

use std::path::Path;

use fixtures::{FIXTURES, compile_fixture};
use saga_dsl::Compiled;
use saga_dsl::cli::discover::{Discovery, scan_file};
use saga_dsl::report::{self, Kind, Report, aws};
use serde_json::{Map, Value, json};
use support::{Execution, payload};

/// The trip saga, compiled from its source as the CLI finds it.
fn trip_saga() -> Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../apps/trip-saga/src/saga.rs");
    let text = std::fs::read_to_string(&path).expect("the trip saga exists");
    let mut discovery = Discovery::default();
    scan_file(
        Path::new("apps/trip-saga/src/saga.rs"),
        &text,
        "trip-saga",
        Some("trip_saga::saga"),
        &mut discovery,
    );
    assert!(discovery.invalid.is_empty(), "{:?}", discovery.invalid);
    discovery.sagas.pop().expect("one saga").compiled
}

/// Every saga the tests know, by snapshot name.
fn sagas() -> Vec<(String, Compiled)> {
    let mut sagas: Vec<(String, Compiled)> = FIXTURES
        .iter()
        .map(|stem| ((*stem).to_owned(), compile_fixture(stem)))
        .collect();
    sagas.push(("trip_booking".to_owned(), trip_saga()));
    sagas
}

#[test]
fn reports() {
    for (name, compiled) in sagas() {
        let report = report::of(&compiled.saga.info());
        insta::assert_snapshot!(format!("{name}.report"), report.to_string());
    }
}

/// The reference quotes the trip saga's report as the CLI prints it today.
#[test]
fn the_reference_quotes_the_trip_sagas_report() {
    let report = report::of(&trip_saga().saga.info()).to_string();
    let reference =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/saga-dsl.md"))
            .unwrap();
    assert!(
        reference.contains(report.trim_end()),
        "docs/saga-dsl.md quotes a stale report; paste `cargo run -p saga-dsl -- report --saga TripBooking`:\n{report}"
    );
}

/// The ASL of one saga, as JSON.
struct Asl(Value);

impl Asl {
    fn of(compiled: &Compiled) -> Self {
        Asl(serde_json::from_str(&compiled.artifacts.asl).expect("the ASL is JSON"))
    }

    fn state(&self, name: &str) -> &Value {
        let state = &self.0["States"][name];
        assert!(state.is_object(), "no state `{name}` in the ASL");
        state
    }

    /// The retries a Task's retriers allow in all.
    fn retry_budget(&self, name: &str) -> u64 {
        self.state(name)["Retry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["MaxAttempts"].as_u64().expect("MaxAttempts"))
            .sum()
    }

    /// Where control can go from `name`, and whether an error can take it there.
    fn can_go(&self, from: &str, to: &str) -> bool {
        let state = self.state(from);
        let targets = ["Next", "Default"]
            .into_iter()
            .filter_map(|key| state[key].as_str())
            .chain(["Choices", "Catch"].into_iter().flat_map(|list| {
                state[list]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|entry| entry["Next"].as_str())
            }));
        targets.into_iter().any(|target| target == to)
    }
}

#[test]
fn every_path_is_a_walk_through_the_emitted_state_machine() {
    for (name, compiled) in sagas() {
        let asl = Asl::of(&compiled);
        let report = report::of(&compiled.saga.info());
        for path in &report.paths {
            let states: Vec<&str> = path.states().collect();
            assert_eq!(states[0], asl.0["StartAt"], "{name}: {}", path.label);
            for pair in states.windows(2) {
                assert!(
                    asl.can_go(pair[0], pair[1]),
                    "{name}: {}: no way from {} to {}",
                    path.label,
                    pair[0],
                    pair[1]
                );
            }
            for visit in &path.visits {
                let kind = asl.state(&visit.state)["Type"].as_str().unwrap();
                let expected = match visit.kind {
                    Kind::Pass => "Pass",
                    Kind::Choice => "Choice",
                    Kind::Fail => "Fail",
                    Kind::Succeed => "Succeed",
                    Kind::Task { .. } => "Task",
                };
                assert_eq!(kind, expected, "{name}: {}", visit.state);
            }
            let last = asl.state(states.last().unwrap());
            assert!(
                last["Type"] == "Fail" || last["Type"] == "Succeed" || last["End"] == true,
                "{name}: {} ends in a final state",
                path.label
            );
        }
    }
}

#[test]
fn retry_budgets_are_the_sums_of_the_emitted_max_attempts() {
    for (name, compiled) in sagas() {
        let asl = Asl::of(&compiled);
        let report = report::of(&compiled.saga.info());
        for visit in report.paths.iter().flat_map(|p| &p.visits) {
            if visit.is_task() {
                assert_eq!(
                    u64::from(visit.retry_budget()),
                    asl.retry_budget(&visit.state),
                    "{name}: {}",
                    visit.state
                );
            }
        }
    }
}

/// The state data when the largest payload is sent: every typed value a one-character `0`, every
/// failure's texts empty, every compensation failed.
fn state_data(compiled: &Compiled) -> Value {
    let info = compiled.saga.info();
    let last = info.steps.len() - 1;
    let results: Map<String, Value> = info.steps[..last]
        .iter()
        .map(|s| (s.name().to_owned(), json!({ "output": 0 })))
        .collect();
    // A failed pivot guard escalates before the other compensations run: never both undone.
    let others = info.compensated_after(last).filter(|s| !s.pivot).count();
    let failures: Map<String, Value> = info
        .compensated_after(last)
        .filter(|s| !(s.pivot && others > 0))
        .map(|s| {
            let name = &s.compensation.as_ref().unwrap().function.name;
            (name.to_string(), json!({ "Error": "", "Cause": "" }))
        })
        .collect();
    json!({
        "input": 0,
        "results": results,
        "failure": { "Error": "", "Cause": "" },
        "compensations": {},
        "compensation_failures": failures,
    })
}

#[test]
fn the_largest_payload_is_what_the_emitted_parameters_send() {
    for (name, compiled) in sagas() {
        let report: Report = report::of(&compiled.saga.info());
        let largest = &report.largest_payload;
        let budget = report
            .paths
            .iter()
            .flat_map(|p| &p.visits)
            .find(|v| v.state == largest.task)
            .map(report::Visit::retry_budget)
            .expect("the Task is on some path");
        // Names at the longest AWS allows, as the report assumes.
        let execution = Execution {
            name: "n".repeat(aws::NAME_CHARS),
            id: "a".repeat(aws::EXECUTION_ARN_CHARS),
        };
        let sent = payload(
            &compiled.artifacts.asl,
            &largest.task,
            &state_data(&compiled),
            &execution,
            budget,
        );
        let text = sent.to_string();
        assert_eq!(
            largest.fixed_chars,
            text.chars().count() - largest.typed.len(),
            "{name}: {} is sent {text}",
            largest.task
        );
        let failures = text.matches(r#""Error":"","Cause":"""#).count();
        assert_eq!(largest.failures, failures, "{name}: {text}");
    }
}
