//! Properties every generated state machine has, checked on the graph of states rather than on
//! text: every Catch leads through compensations to a Fail, every compensation retries and has a
//! path to the escalation, and every state is reachable.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::collections::{BTreeSet, VecDeque};

use fixtures::{FIXTURES, compile_fixture};
use serde_json::Value;

struct Machine(Value);

impl Machine {
    fn state(&self, name: &str) -> &Value {
        let state = &self.0["States"][name];
        assert!(state.is_object(), "no state `{name}`");
        state
    }

    fn names(&self) -> BTreeSet<String> {
        self.0["States"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// Every state control can go to from `name`: Next, Default, Choice rules and Catch targets.
    fn successors(&self, name: &str) -> Vec<String> {
        let state = self.state(name);
        let mut next: Vec<String> = Vec::new();
        for key in ["Next", "Default"] {
            if let Some(n) = state[key].as_str() {
                next.push(n.to_owned());
            }
        }
        for list in ["Choices", "Catch"] {
            for entry in state[list].as_array().into_iter().flatten() {
                next.push(entry["Next"].as_str().unwrap().to_owned());
            }
        }
        next
    }

    fn reachable_from(&self, start: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::from([start.to_owned()]);
        let mut queue = VecDeque::from([start.to_owned()]);
        while let Some(name) = queue.pop_front() {
            for next in self.successors(&name) {
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
        seen
    }

    /// Follows only `Next`/`Default` (no error edges) from `start` to the end.
    fn normal_path(&self, start: &str) -> Vec<String> {
        let mut path = vec![start.to_owned()];
        let mut current = start.to_owned();
        loop {
            let state = self.state(&current);
            match state["Next"].as_str().or(state["Default"].as_str()) {
                Some(next) => {
                    assert!(!path.contains(&next.to_owned()), "loop at {next}");
                    path.push(next.to_owned());
                    current = next.to_owned();
                }
                None => return path,
            }
        }
    }
}

fn machines() -> Vec<(&'static str, Machine, saga_dsl::Saga)> {
    FIXTURES
        .iter()
        .map(|stem| {
            let compiled = compile_fixture(stem);
            (
                *stem,
                Machine(serde_json::from_str(&compiled.artifacts.asl).unwrap()),
                compiled.saga,
            )
        })
        .collect()
}

#[test]
fn every_state_is_reachable() {
    for (stem, machine, _) in machines() {
        let start = machine.0["StartAt"].as_str().unwrap();
        assert_eq!(machine.reachable_from(start), machine.names(), "{stem}");
    }
}

#[test]
fn every_catch_leads_through_the_compensations_to_a_fail() {
    for (stem, machine, saga) in machines() {
        for (index, step) in saga.steps.iter().enumerate() {
            let catch = &machine.state(&step.action.state)["Catch"];
            assert_eq!(catch.as_array().unwrap().len(), 1, "{stem}");
            assert_eq!(catch[0]["ErrorEquals"], serde_json::json!(["States.ALL"]));
            assert_eq!(
                catch[0]["ResultPath"], "$.failure",
                "{stem}: the error must not overwrite input or results"
            );
            let path = machine.normal_path(catch[0]["Next"].as_str().unwrap());
            // After the pivot the saga only goes forward: nothing is undone, the escalation runs.
            let after_pivot = saga.steps[..index].iter().any(|s| s.pivot);
            let expected: Vec<String> = saga.steps[..=index]
                .iter()
                .rev()
                .filter(|_| !after_pivot)
                .filter_map(|s| s.compensation.as_ref().map(|c| c.function.state.clone()))
                .collect();
            let compensations: Vec<String> = path
                .iter()
                .filter(|s| expected.contains(s))
                .cloned()
                .collect();
            assert_eq!(
                compensations, expected,
                "{stem}: failure of {} undoes newest first",
                step.action.state
            );
            assert_eq!(
                machine.state(path.last().unwrap())["Type"],
                "Fail",
                "{stem}: {path:?}"
            );
        }
    }
}

#[test]
fn every_compensation_retries_and_can_escalate() {
    for (stem, machine, saga) in machines() {
        for step in &saga.steps {
            let Some(compensation) = &step.compensation else {
                continue;
            };
            let task = machine.state(&compensation.function.state);
            let retry = task["Retry"].as_array().unwrap();
            assert_eq!(retry.len(), 2, "{stem}");
            // A payload that does not decode would fail every retry the same way: none.
            assert_eq!(
                retry[0],
                serde_json::json!({ "ErrorEquals": ["Saga.InvalidPayload"], "MaxAttempts": 0 })
            );
            assert_eq!(retry[1]["ErrorEquals"], serde_json::json!(["States.ALL"]));
            assert!(retry[1]["MaxAttempts"].as_u64().unwrap() > 0, "{stem}");
            assert!(
                task["Catch"][0]["ResultPath"]
                    .as_str()
                    .unwrap()
                    .starts_with("$.compensation_failures.")
            );
            let escalation = saga
                .escalation
                .as_ref()
                .map_or("Escalate", |e| e.function.state.as_str());
            let reachable = machine.reachable_from(&compensation.function.state);
            assert!(
                reachable.contains(escalation),
                "{stem}: {} cannot escalate",
                compensation.function.state
            );
            assert!(reachable.contains("CompensationFailed"), "{stem}");
            assert_eq!(machine.state("CompensationFailed")["Type"], "Fail");
        }
    }
}

/// The escalation's own failure is not reported as a recorded escalation: it ends in
/// `EscalationFailed`, whose cause points at `$.escalation_failure`.
#[test]
fn a_failing_escalation_ends_in_its_own_fail_state() {
    for (stem, machine, saga) in machines() {
        let Some(escalation) = &saga.escalation else {
            assert!(
                machine.0["States"].get("EscalationFailed").is_none(),
                "{stem}"
            );
            continue;
        };
        let task = machine.state(&escalation.function.state);
        assert_eq!(task["Next"], "CompensationFailed", "{stem}");
        assert_eq!(task["Catch"][0]["Next"], "EscalationFailed", "{stem}");
        assert_eq!(
            task["Catch"][0]["ResultPath"], "$.escalation_failure",
            "{stem}"
        );
        let fail = machine.state("EscalationFailed");
        assert_eq!(
            fail["Error"],
            format!("{}.EscalationFailed", saga.name),
            "{stem}"
        );
        assert!(
            fail["Cause"]
                .as_str()
                .unwrap()
                .contains("$.escalation_failure"),
            "{stem}"
        );
        assert!(
            !machine.state("CompensationFailed")["Cause"]
                .as_str()
                .unwrap()
                .contains("escalation_failure"),
            "{stem}"
        );
    }
}

/// No Fail state re-raises a `States.*` name: `CheckFailure` sends them through `StepFailed`,
/// which names them `<Saga>.StepFailed` with the original error leading the cause.
#[test]
fn step_functions_errors_are_wrapped_before_the_fail_state() {
    for (stem, machine, saga) in machines() {
        let check = machine.state("CheckFailure");
        assert_eq!(check["Type"], "Choice");
        assert_eq!(check["Default"], "Compensated", "{stem}");
        assert_eq!(
            check["Choices"],
            serde_json::json!([{ "Variable": "$.failure.Error", "StringMatches": "States.*", "Next": "StepFailed" }]),
            "{stem}"
        );
        let wrap = machine.state("StepFailed");
        assert_eq!(
            wrap["Parameters"]["Error"],
            format!("{}.StepFailed", saga.name)
        );
        assert_eq!(wrap["ResultPath"], "$.failure");
        assert_eq!(wrap["Next"], "Compensated");
        // Every way into `Compensated` passes the check.
        for (name, state) in machine.0["States"].as_object().unwrap() {
            if name == "StepFailed" {
                continue;
            }
            let mut targets = vec![&state["Next"], &state["Default"]];
            targets.extend(
                state["Catch"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| &c["Next"]),
            );
            assert!(
                !targets.iter().any(|t| *t == "Compensated") || name == "CheckFailure",
                "{stem}: {name} goes to Compensated without CheckFailure"
            );
        }
    }
}

#[test]
fn each_step_keeps_only_its_own_result() {
    for (stem, machine, saga) in machines() {
        for step in &saga.steps {
            let task = machine.state(&step.action.state);
            assert_eq!(
                task["ResultSelector"],
                serde_json::json!({ "output.$": "$.Payload" }),
                "{stem}"
            );
            assert_eq!(
                task["ResultPath"],
                format!("$.results.{}", step.action.name()),
                "{stem}"
            );
            assert_eq!(
                task["Parameters"]["FunctionName"],
                format!("${{{}FunctionArn}}", step.action.name())
            );
        }
    }
}

#[test]
fn the_comment_says_generated_do_not_edit() {
    for (stem, machine, _) in machines() {
        let comment = machine.0["Comment"].as_str().unwrap();
        assert!(
            comment.starts_with("Generated by saga-dsl") && comment.contains("Do not edit"),
            "{stem}"
        );
    }
}

/// The pivot's failure goes to its guard, then to `CheckPivot`: on to the next step (or the
/// `Committed` end) when the guard answers committed, otherwise to the earlier steps'
/// compensations; a guard that fails for good escalates at once, undoing nothing.
#[test]
fn the_pivot_goes_through_its_guard() {
    let mut pivots = 0;
    for (stem, machine, saga) in machines() {
        let Some(index) = saga.steps.iter().position(|s| s.pivot) else {
            continue;
        };
        pivots += 1;
        let pivot = &saga.steps[index];
        let guard = &pivot.compensation.as_ref().unwrap().function.state;
        assert_eq!(
            machine.state(&pivot.action.state)["Catch"][0]["Next"],
            guard.as_str(),
            "{stem}"
        );
        let guard_state = machine.state(guard);
        assert_eq!(guard_state["Next"], "CheckPivot", "{stem}");
        assert_eq!(
            guard_state["Catch"][0]["Next"], "CheckCompensations",
            "{stem}"
        );
        let check = machine.state("CheckPivot");
        let on = saga
            .steps
            .get(index + 1)
            .map_or("Committed", |s| s.action.state.as_str());
        assert_eq!(check["Choices"][0]["Next"], on, "{stem}");
        assert_eq!(check["Choices"][0]["BooleanEquals"], true, "{stem}");
        let earlier = saga.steps[..index]
            .iter()
            .rev()
            .find_map(|s| s.compensation.as_ref())
            .map_or("CheckCompensations", |c| c.function.state.as_str());
        assert_eq!(check["Default"], earlier, "{stem}");
        if on == "Committed" {
            assert_eq!(machine.state("Committed")["Type"], "Succeed", "{stem}");
        }
    }
    assert!(pivots > 0, "a fixture declares a pivot");
}

/// How long one state can keep an execution, read from the ASL alone (not from the model, which
/// derived the timeout): a Task makes its first attempt and every retry its retriers allow, each
/// until its `TimeoutSeconds` (without one, until Lambda stops the function, 15 minutes later)
/// plus the same one-second allowance per attempt the model grants Step Functions' own work, and
/// waits each retrier's whole back-off (capped by `MaxDelaySeconds`; jitter only shortens it);
/// a Wait state waits its `Seconds`.
fn longest_stay(state: &Value) -> f64 {
    match state["Type"].as_str() {
        Some("Task") => {
            let retry = state["Retry"].as_array().map_or(&[][..], Vec::as_slice);
            let mut attempts = 1.0;
            let mut back_off = 0.0;
            for retrier in retry {
                let retries = retrier["MaxAttempts"].as_u64().unwrap_or(3);
                let mut interval = retrier["IntervalSeconds"].as_f64().unwrap_or(1.0);
                let rate = retrier["BackoffRate"].as_f64().unwrap_or(2.0);
                let cap = retrier["MaxDelaySeconds"].as_f64().unwrap_or(f64::INFINITY);
                for _ in 0..retries {
                    back_off += interval.min(cap);
                    interval *= rate;
                }
                attempts += f64::from(u32::try_from(retries).unwrap());
            }
            let attempt = state["TimeoutSeconds"].as_f64().unwrap_or(900.0);
            attempts * (attempt + 1.0) + back_off
        }
        Some("Wait") => state["Seconds"].as_f64().unwrap_or(0.0),
        _ => 0.0,
    }
}

impl Machine {
    /// The longest an execution can run, and the states it goes through: the generated state
    /// machines have no loop, so this is the heaviest path of a DAG.
    fn longest_path(&self) -> (f64, Vec<String>) {
        fn walk(
            machine: &Machine,
            name: &str,
            memo: &mut std::collections::BTreeMap<String, (f64, Vec<String>)>,
            on_path: &mut BTreeSet<String>,
        ) -> (f64, Vec<String>) {
            if let Some(known) = memo.get(name) {
                return known.clone();
            }
            assert!(on_path.insert(name.to_owned()), "a loop through {name}");
            let (rest, mut path) = machine
                .successors(name)
                .iter()
                .map(|next| walk(machine, next, memo, on_path))
                .fold(
                    (0.0, Vec::new()),
                    |best, next| {
                        if next.0 > best.0 { next } else { best }
                    },
                );
            on_path.remove(name);
            path.insert(0, name.to_owned());
            let result = (longest_stay(machine.state(name)) + rest, path);
            memo.insert(name.to_owned(), result.clone());
            result
        }
        let start = self.0["StartAt"].as_str().unwrap();
        walk(
            self,
            start,
            &mut std::collections::BTreeMap::new(),
            &mut BTreeSet::new(),
        )
    }
}

/// Every state machine this workspace generates: the fixtures' and the committed ones in
/// `generated/` (the trip saga's), by name.
fn every_machine() -> Vec<(String, Machine)> {
    let mut all: Vec<(String, Machine)> = machines()
        .into_iter()
        .map(|(stem, machine, _)| (stem.to_owned(), machine))
        .collect();
    let generated = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../generated");
    for entry in std::fs::read_dir(&generated).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".asl.json") {
            let text = std::fs::read_to_string(&path).unwrap();
            all.push((name, Machine(serde_json::from_str(&text).unwrap())));
        }
    }
    assert!(all.iter().any(|(name, _)| name == "trip_booking.asl.json"));
    all
}

/// A state machine's own timeout cannot be caught: when it falls, the execution ends
/// `TIMED_OUT` wherever it is, a compensation half done and nobody told. So no path, with every
/// Task on it failing as slowly as it can until its last retry, may reach it.
#[test]
fn no_path_outlasts_the_state_machines_timeout() {
    for (name, machine) in every_machine() {
        let timeout = machine.0["TimeoutSeconds"]
            .as_f64()
            .unwrap_or_else(|| panic!("{name}: no TimeoutSeconds"));
        let (longest, path) = machine.longest_path();
        assert!(
            longest < timeout,
            "{name}: the path {path:?} can take {longest} s, but the execution times out after {timeout} s"
        );
    }
}

/// A compensation or an escalation that hangs must be an error like any other (retried, then
/// recorded and escalated), never a wait that only the execution's own timeout ends.
#[test]
fn every_compensation_and_escalation_task_has_a_timeout() {
    for (name, machine) in every_machine() {
        for (state, body) in machine.0["States"].as_object().unwrap() {
            let undoes = body["ResultPath"]
                .as_str()
                .is_some_and(|p| p.starts_with("$.compensations.") || p == "$.escalation");
            if body["Type"] == "Task" && undoes {
                assert!(
                    body["TimeoutSeconds"].as_u64().is_some_and(|t| t > 0),
                    "{name}: {state} has no TimeoutSeconds"
                );
            }
        }
    }
}

/// One step of a random saga.
#[derive(Debug, Clone)]
struct RandomStep {
    timeout: Option<u32>,
    transient: bool,
    retry: (u32, u32, f64, u32),
    compensation_timeout: u32,
    /// Irreversible (before any pivot) instead of compensable.
    irreversible: bool,
}

fn random_step() -> impl proptest::strategy::Strategy<Value = RandomStep> {
    use proptest::prelude::*;
    (
        proptest::option::of(1u32..=900),
        any::<bool>(),
        (0u32..=6, 1u32..=20, 1.0f64..=3.0, 0u32..=300),
        1u32..=900,
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(
                timeout,
                transient,
                (attempts, interval, rate, extra),
                compensation_timeout,
                irreversible,
            )| {
                RandomStep {
                    timeout,
                    transient,
                    retry: (attempts, interval, rate, interval + extra),
                    compensation_timeout,
                    irreversible,
                }
            },
        )
}

/// A random saga's declaration: its steps (one of them, perhaps, the pivot), an escalation or
/// not, a saga-level compensation policy.
fn random_saga(
    steps: &[RandomStep],
    pivot: Option<usize>,
    escalation: bool,
    declared: Option<u32>,
) -> proc_macro2::TokenStream {
    use quote::{format_ident, quote};
    let pivot = pivot.map(|p| p.min(steps.len() - 1));
    let items = steps.iter().enumerate().map(|(i, step)| {
        let name = format_ident!("Step{i}");
        let undo = format_ident!("Undo{i}");
        let (attempts, interval, rate, cap) = step.retry;
        let rate = proc_macro2::Literal::f64_unsuffixed(rate);
        let timeout = step.timeout.map(|t| quote!(timeout_seconds: #t,));
        let transient = step.transient.then(|| quote!(transient_errors: [Busy],));
        let compensation_timeout = step.compensation_timeout;
        let how = match pivot {
            Some(p) if i == p => quote! {
                pivot: #undo => undo, compensation_timeout_seconds: #compensation_timeout,
            },
            Some(p) if i > p => quote!(),
            _ if step.irreversible && pivot.is_none() => quote!(irreversible,),
            _ => quote! {
                compensation: #undo => undo, compensation_timeout_seconds: #compensation_timeout,
            },
        };
        quote! {
            step #name {
                action: act -> u32,
                #how
                #timeout
                #transient
                retry: { max_attempts: #attempts, interval_seconds: #interval, backoff_rate: #rate, max_delay_seconds: #cap },
            }
        }
    });
    let compensable = pivot.is_some() || steps.iter().any(|s| !s.irreversible);
    let escalation = (escalation && compensable).then(|| quote!(escalation: Page => page,));
    let declared = declared.map(|t| quote!(timeout_seconds: #t,));
    quote! {
        saga Random {
            input: In,
            compensation_retry: { max_attempts: 4, interval_seconds: 3, max_delay_seconds: 40 },
            #escalation
            #declared
            #(#items)*
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 256, ..Default::default() })]

    /// For any saga: the timeout the model derives is above the longest path the ASL alone
    /// allows, by less than the minute it rounds up to (so the model counts what the ASL runs),
    /// and a declared timeout that path can reach is refused.
    #[test]
    fn the_derived_timeout_is_the_next_minute_above_the_asls_longest_path(
        steps in proptest::collection::vec(random_step(), 1..=5),
        pivot in proptest::option::of(0usize..5),
        escalation in proptest::bool::ANY,
    ) {
        let origin = || saga_dsl::Origin::of_crate("random");
        let compiled = saga_dsl::compile(random_saga(&steps, pivot, escalation, None), origin())
            .expect("a valid saga");
        let machine = Machine(serde_json::from_str(&compiled.artifacts.asl).unwrap());
        let timeout = machine.0["TimeoutSeconds"].as_f64().unwrap();
        let (longest, path) = machine.longest_path();
        proptest::prop_assert!(longest < timeout, "{path:?}: {longest} s, timeout {timeout} s");
        proptest::prop_assert!(timeout <= longest.ceil() + 60.0, "{path:?}: {longest} s, timeout {timeout} s");
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "whole seconds, far below u32::MAX for these sagas"
        )]
        let reachable = longest.floor() as u32;
        let refused = saga_dsl::compile(random_saga(&steps, pivot, escalation, Some(reachable)), origin());
        proptest::prop_assert!(refused.is_err(), "timeout_seconds: {reachable} was accepted");
    }
}
