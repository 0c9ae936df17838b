//! Durable executions: checkpoints recorded before each top-level state, and an execution
//! resumed from any of them ending as the uninterrupted one did.

use std::sync::Mutex;

use asl_executor::{
    BoxFuture, Checkpoint, ExecutionOptions, Journal, Resume, StateMachine, StatesError, Status,
    SyncTaskFn, TaskRequest,
};
use serde_json::{Value, json};

const TASK: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

/// Every checkpoint, as a durable runner would store it: the state, its input, when it was
/// entered, and the path and retries before it.
#[derive(Default)]
struct Recorded(
    Mutex<Vec<(String, Value, i64)>>,
    Mutex<Vec<(Vec<String>, usize)>>,
);

impl Journal for Recorded {
    fn entered<'a>(&'a self, checkpoint: Checkpoint<'a>) -> BoxFuture<'a, ()> {
        self.0.lock().unwrap().push((
            checkpoint.state.to_owned(),
            checkpoint.input.clone(),
            checkpoint.entered_ms,
        ));
        let earlier = checkpoint.states_visited().into_iter().map(str::to_owned);
        self.1
            .lock()
            .unwrap()
            .push((earlier.collect(), checkpoint.retries()));
        Box::pin(std::future::ready(()))
    }
}

impl Recorded {
    fn states(&self) -> Vec<String> {
        self.0.lock().unwrap().iter().map(|c| c.0.clone()).collect()
    }

    fn earlier(&self) -> Vec<(Vec<String>, usize)> {
        self.1.lock().unwrap().clone()
    }
}

/// Three tasks that each add their name to `$.done`, a Choice, a Wait and a Parallel whose
/// branch is a task too: every kind of top-level state a saga has.
fn machine() -> StateMachine {
    let task = |name: &str, next: &str| {
        json!({"Type": "Task", "Resource": TASK, "Parameters": {"name": name, "done.$": "$.done"},
               "ResultPath": "$.done", "Next": next})
    };
    StateMachine::from_value(&json!({
        "StartAt": "A",
        "TimeoutSeconds": 100,
        "States": {
            "A": task("A", "Pause"),
            "Pause": {"Type": "Wait", "Seconds": 30, "Next": "B"},
            "B": task("B", "Both"),
            "Both": {"Type": "Parallel", "ResultPath": "$.branches", "Next": "Enough",
                     "Branches": [{"StartAt": "P", "States": {"P": {
                        "Type": "Task", "Resource": TASK,
                        "Parameters": {"name": "P", "done.$": "$.done"}, "End": true}}}]},
            "Enough": {"Type": "Choice", "Default": "C",
                       "Choices": [{"Variable": "$.stop", "BooleanEquals": true, "Next": "Done"}]},
            "C": task("C", "Done"),
            "Done": {"Type": "Succeed"}
        }
    }))
    .unwrap()
}

/// Appends the state's name to the list it was given.
fn tasks() -> SyncTaskFn<impl Fn(TaskRequest<'_>) -> Result<Value, StatesError>> {
    SyncTaskFn(|request: TaskRequest<'_>| {
        let mut done = request.input["done"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        done.push(request.input["name"].clone());
        Ok(Value::Array(done))
    })
}

fn input() -> Value {
    json!({"trip": 7, "done": [], "stop": false})
}

#[test]
fn every_top_level_state_is_recorded_before_it_runs_with_its_input() {
    let journal = Recorded::default();
    let options = ExecutionOptions::default();
    let execution =
        futures::executor::block_on(machine().run_durably(&tasks(), input(), &options, &journal));
    assert_eq!(execution.status, Status::Succeeded);
    // Not the Parallel's branch state `P` (only top-level states), nor the Choice and the
    // Succeed (they compute from their input alone).
    assert_eq!(journal.states(), ["A", "Pause", "B", "Both", "C"]);
    let recorded = journal.0.lock().unwrap();
    assert_eq!(recorded[0].1, input());
    assert_eq!(
        recorded[2].1["done"],
        json!(["A"]),
        "B's input is A's output"
    );
    assert_eq!(
        recorded[2].2 - recorded[1].2,
        30_000,
        "entered after the Wait"
    );
}

#[test]
fn resumed_from_any_checkpoint_it_ends_as_the_uninterrupted_run() {
    let options = ExecutionOptions::default();
    let journal = Recorded::default();
    let whole =
        futures::executor::block_on(machine().run_durably(&tasks(), input(), &options, &journal));
    let checkpoints = journal.0.lock().unwrap().clone();
    let earlier = journal.earlier();
    for ((state, state_input, entered_ms), (before, _)) in checkpoints.into_iter().zip(earlier) {
        let from = Resume {
            state: state.clone(),
            input: state_input,
            started_ms: whole.start_ms,
            entered_ms,
        };
        let again = Recorded::default();
        let resumed = futures::executor::block_on(machine().resume(
            &tasks(),
            input(),
            &from,
            &options,
            &again,
        ));
        assert_eq!(resumed.status, Status::Succeeded, "from {state}");
        assert_eq!(resumed.output, whole.output, "from {state}");
        assert_eq!(resumed.stop_ms, whole.stop_ms, "from {state}: same clock");
        assert_eq!(resumed.start_ms, whole.start_ms, "from {state}");
        assert_eq!(again.states().first(), Some(&state), "entered again first");
        assert_eq!(
            resumed.history.states_visited().first().copied(),
            Some(state.as_str())
        );
        // The path before the checkpoint and the resumed run's path are the whole path.
        let mut path: Vec<&str> = before.iter().map(String::as_str).collect();
        path.extend(resumed.history.states_visited());
        assert_eq!(path, whole.history.states_visited(), "from {state}");
    }
}

#[test]
fn a_checkpoint_knows_the_path_and_the_retries_before_it() {
    let machine = StateMachine::from_value(&json!({
        "StartAt": "Flaky",
        "States": {
            "Flaky": {"Type": "Task", "Resource": TASK, "Next": "Label",
                      "Retry": [{"ErrorEquals": ["Transient"], "MaxAttempts": 3}]},
            "Label": {"Type": "Pass", "Next": "Last"},
            "Last": {"Type": "Task", "Resource": TASK, "End": true}
        }
    }))
    .unwrap();
    let calls = Mutex::new(0);
    // Fails twice with a retryable error, then succeeds.
    let tasks = SyncTaskFn(|_: TaskRequest<'_>| {
        let mut calls = calls.lock().unwrap();
        *calls += 1;
        if *calls <= 2 {
            Err(StatesError::new("Transient", "try again"))
        } else {
            Ok(json!({}))
        }
    });
    let journal = Recorded::default();
    let execution = futures::executor::block_on(machine.run_durably(
        &tasks,
        json!({}),
        &ExecutionOptions::default(),
        &journal,
    ));
    assert_eq!(execution.status, Status::Succeeded);
    assert_eq!(journal.states(), ["Flaky", "Last"]);
    assert_eq!(
        journal.earlier(),
        [
            (vec![], 0),
            (vec!["Flaky".to_owned(), "Label".to_owned()], 2)
        ]
    );
}

#[test]
fn a_resumed_execution_times_out_from_its_original_start() {
    let options = ExecutionOptions::default();
    let started_ms = options.start_time_ms;
    // Entered 90 s into a machine with 100 s to run: the 30 s Wait outlives the deadline.
    let from = Resume {
        state: "Pause".into(),
        input: json!({"trip": 7, "done": ["A"], "stop": false}),
        started_ms,
        entered_ms: started_ms + 90_000,
    };
    let resumed = futures::executor::block_on(machine().resume(
        &tasks(),
        input(),
        &from,
        &options,
        &Recorded::default(),
    ));
    assert_eq!(resumed.status, Status::TimedOut);
    assert_eq!(resumed.stop_ms - started_ms, 100_000);
}

#[test]
fn a_state_the_definition_no_longer_has_fails_with_its_name() {
    let options = ExecutionOptions::default();
    let from = Resume {
        state: "Renamed".into(),
        input: input(),
        started_ms: options.start_time_ms,
        entered_ms: options.start_time_ms,
    };
    let resumed = futures::executor::block_on(machine().resume(
        &tasks(),
        input(),
        &from,
        &options,
        &Recorded::default(),
    ));
    assert_eq!(resumed.status, Status::Failed);
    let error = resumed.error.unwrap();
    assert_eq!(error.error, "States.Runtime");
    assert!(error.cause.unwrap().contains("'Renamed'"));
    // A branch's state is not a top-level state either.
    let branch = Resume {
        state: "P".into(),
        ..from
    };
    let resumed = futures::executor::block_on(machine().resume(
        &tasks(),
        input(),
        &branch,
        &options,
        &Recorded::default(),
    ));
    assert_eq!(resumed.status, Status::Failed);
}
