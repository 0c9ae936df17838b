//! Behaviour that the conformance corpus cannot express: virtual time, history, options,
//! definition errors, real-time mode and the Lambda layer's routing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use asl_executor::{
    BoxFuture, DefinitionError, EventKind, ExecutionOptions, HistoryMode, LambdaError,
    LambdaInvocation, LambdaInvoker, LambdaTasks, Sleeper, StateMachine, StatesError, Status,
    SyncTaskFn, TaskHandler, TaskRequest, TimeMode,
};
use serde_json::{Value, json};

fn run(machine: &StateMachine, tasks: &dyn TaskHandler, input: Value) -> asl_executor::Execution {
    futures::executor::block_on(machine.run(tasks, input, &ExecutionOptions::default()))
}

fn machine(definition: &Value) -> StateMachine {
    StateMachine::from_value(definition).expect("valid definition")
}

/// Fails `failures` times with `Lambda.ServiceException`, then returns `{"ok": true}`.
fn flaky(failures: u32) -> SyncTaskFn<impl Fn(TaskRequest<'_>) -> Result<Value, StatesError>> {
    let calls = AtomicU32::new(0);
    SyncTaskFn(move |_: TaskRequest<'_>| {
        if calls.fetch_add(1, Ordering::Relaxed) < failures {
            Err(StatesError::new("Lambda.ServiceException", "try again"))
        } else {
            Ok(json!({"ok": true}))
        }
    })
}

fn retry_delays(execution: &asl_executor::Execution) -> Vec<Duration> {
    execution
        .history
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RetryScheduled { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect()
}

const TASK: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";

#[test]
fn retry_backoff_grows_is_capped_and_advances_virtual_time() {
    let m = machine(&json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": TASK, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3,
                   "MaxDelaySeconds": 10, "MaxAttempts": 3}]}}}));
    let wall = Instant::now();
    let execution = run(&m, &flaky(3), json!({}));
    assert_eq!(execution.status, Status::Succeeded);
    assert_eq!(
        retry_delays(&execution),
        [2, 6, 10].map(Duration::from_secs).to_vec()
    );
    assert_eq!(execution.stop_ms - execution.start_ms, 18_000);
    assert!(
        wall.elapsed() < Duration::from_secs(1),
        "virtual time must not sleep"
    );
}

#[test]
fn full_jitter_is_bounded_and_reproducible_per_seed() {
    let m = machine(&json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": TASK, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 4, "BackoffRate": 2,
                   "MaxAttempts": 3, "JitterStrategy": "FULL"}]}}}));
    let with_seed = |seed| {
        let options = ExecutionOptions {
            seed,
            ..ExecutionOptions::default()
        };
        retry_delays(&futures::executor::block_on(m.run(
            &flaky(3),
            json!({}),
            &options,
        )))
    };
    let first = with_seed(1);
    assert_eq!(first, with_seed(1));
    assert_ne!(first, with_seed(2));
    for (delay, cap) in first.iter().zip([4, 8, 16]) {
        assert!(
            *delay <= Duration::from_secs(cap),
            "{delay:?} exceeds {cap}s"
        );
    }
}

#[test]
fn waits_advance_the_virtual_clock_and_the_context_sees_it() {
    let m = machine(&json!({"StartAt": "Sleep", "States": {
        "Sleep": {"Type": "Wait", "Seconds": 86400, "Next": "Until"},
        "Until": {"Type": "Wait", "Timestamp": "2024-01-03T00:00:00Z", "Next": "Look"},
        "Look": {"Type": "Pass", "End": true, "Parameters": {
            "entered.$": "$$.State.EnteredTime", "started.$": "$$.Execution.StartTime"}}}}));
    let execution = run(&m, &flaky(0), json!({}));
    assert_eq!(
        execution.output,
        Some(json!({"entered": "2024-01-03T00:00:00Z", "started": "2024-01-01T00:00:00Z"}))
    );
    assert_eq!(execution.stop_ms - execution.start_ms, 2 * 86_400_000);
}

#[test]
fn execution_timeout_cuts_a_retry_backoff_short() {
    let m = machine(
        &json!({"TimeoutSeconds": 5, "StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": TASK, "End": true,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10}]}}}),
    );
    let execution = run(&m, &flaky(1), json!({}));
    assert_eq!(execution.status, Status::TimedOut);
    assert_eq!(execution.error.unwrap().error, "States.Timeout");
    assert_eq!(execution.stop_ms - execution.start_ms, 5_000);
}

#[test]
fn timeout_seconds_path_and_simulated_slow_tasks() {
    let m = machine(&json!({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": TASK, "TimeoutSecondsPath": "$.limit", "End": true}}}));
    let slow = SyncTaskFn(|req: TaskRequest<'_>| {
        req.clock.advance(Duration::from_secs(30));
        Ok(json!("late"))
    });
    let timed_out = run(&m, &slow, json!({"limit": 10}));
    assert_eq!(timed_out.status, Status::Failed);
    assert_eq!(timed_out.error.unwrap().error, "States.Timeout");
    assert_eq!(timed_out.stop_ms - timed_out.start_ms, 10_000);
    let in_time = run(&m, &slow, json!({"limit": 60}));
    assert_eq!(in_time.output, Some(json!("late")));
}

#[test]
fn history_reads_as_the_path_taken() {
    let m = machine(&json!({"StartAt": "Book", "States": {
        "Book": {"Type": "Task", "Resource": TASK, "Next": "Done",
                 "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 1}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Undo"}]},
        "Undo": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"}}}));
    let execution = run(&m, &flaky(2), json!({}));
    assert_eq!(execution.history.states_visited(), ["Book", "Undo", "Done"]);
    let expected = "\
+0.000s ExecutionStarted at 2024-01-01T00:00:00Z
+0.000s → Book (Task)
+0.000s     ⇢ arn:aws:lambda:us-east-1:123456789012:function:f
+0.000s     ✗ Lambda.ServiceException: try again
+0.000s     ↻ retry 1 in 1s after Lambda.ServiceException
+1.000s     ⇢ arn:aws:lambda:us-east-1:123456789012:function:f
+1.000s     ✗ Lambda.ServiceException: try again
+1.000s     ⤷ caught Lambda.ServiceException → Undo
+1.000s ← Book
+1.000s → Undo (Pass)
+1.000s ← Undo
+1.000s → Done (Succeed)
+1.000s ← Done
+1.000s ExecutionSucceeded
";
    assert_eq!(execution.history.to_string(), expected);
}

#[test]
fn history_modes_trade_detail_for_speed() {
    let m = machine(
        &json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK, "End": true}}}),
    );
    let with_mode = |history| {
        let options = ExecutionOptions {
            history,
            ..ExecutionOptions::default()
        };
        futures::executor::block_on(m.run(&flaky(0), json!({"in": 1}), &options)).history
    };
    let full = with_mode(HistoryMode::Full);
    let bare = with_mode(HistoryMode::WithoutPayloads);
    assert_eq!(full.events().len(), bare.events().len());
    assert!(matches!(
        &full.events()[1].kind,
        EventKind::StateEntered { input: Some(v), .. } if *v == json!({"in": 1})
    ));
    assert!(matches!(
        &bare.events()[1].kind,
        EventKind::StateEntered { input: None, .. }
    ));
    assert!(with_mode(HistoryMode::Off).events().is_empty());
}

/// Payloads are recorded as compact snapshots and rebuilt on read (a state's output and the
/// next state's input share one): every payload must still be the exact document.
#[test]
fn full_history_payloads_are_the_documents_that_flowed() {
    let m = machine(&json!({"StartAt": "Prep", "States": {
        "Prep": {"Type": "Pass", "Parameters": {"n": 1.5, "big": 18_446_744_073_709_551_615_u64,
                 "neg": -3, "items.$": "$.items"}, "Next": "Work"},
        "Work": {"Type": "Task", "Resource": TASK, "Parameters": {"items.$": "$.items", "k": "v"},
                 "ResultSelector": {"got.$": "$.echo"}, "ResultPath": "$.work", "Next": "Par"},
        "Par": {"Type": "Parallel", "ResultPath": "$.par", "End": true, "Branches": [
            {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Result": {"z": null}, "End": true}}}
        ]}
    }}));
    let echo = SyncTaskFn(|r: TaskRequest<'_>| Ok(json!({"echo": r.input, "b": [true, "é"]})));
    let execution = run(&m, &echo, json!({"items": [1, {"a": "x"}]}));
    assert_eq!(execution.status, Status::Succeeded);

    let prep_out = json!({"n": 1.5, "big": 18_446_744_073_709_551_615_u64, "neg": -3,
                          "items": [1, {"a": "x"}]});
    let task_in = json!({"items": [1, {"a": "x"}], "k": "v"});
    let task_out = json!({"echo": task_in, "b": [true, "é"]});
    let mut work_out = prep_out.clone();
    work_out["work"] = json!({"got": task_in});
    let mut par_out = work_out.clone();
    par_out["par"] = json!([{"z": null}]);
    let expected = [
        ("ExecutionStarted", json!({"items": [1, {"a": "x"}]})),
        ("StateEntered Prep", json!({"items": [1, {"a": "x"}]})),
        ("StateExited Prep", prep_out.clone()),
        ("StateEntered Work", prep_out),
        ("TaskScheduled Work", task_in),
        ("TaskSucceeded Work", task_out),
        ("StateExited Work", work_out.clone()),
        ("StateEntered Par", work_out.clone()),
        ("StateEntered Inner", work_out),
        ("StateExited Inner", json!({"z": null})),
        ("StateExited Par", par_out.clone()),
        ("ExecutionSucceeded", par_out),
    ];
    let recorded: Vec<(String, Value)> = execution
        .history
        .events()
        .iter()
        .filter_map(|e| {
            let (label, payload) = match &e.kind {
                EventKind::ExecutionStarted { input } => ("ExecutionStarted".into(), input),
                EventKind::StateEntered { name, input, .. } => {
                    (format!("StateEntered {name}"), input)
                }
                EventKind::StateExited { name, output } => (format!("StateExited {name}"), output),
                EventKind::TaskScheduled { name, input, .. } => {
                    (format!("TaskScheduled {name}"), input)
                }
                EventKind::TaskSucceeded { name, output } => {
                    (format!("TaskSucceeded {name}"), output)
                }
                EventKind::ExecutionSucceeded { output } => ("ExecutionSucceeded".into(), output),
                _ => return None,
            };
            Some((label, payload.clone().expect("Full records every payload")))
        })
        .collect();
    let expected: Vec<(String, Value)> = expected
        .into_iter()
        .map(|(l, v)| (l.to_owned(), v))
        .collect();
    assert_eq!(recorded, expected);
    // Exact, not only equal: key order and number representation survive the round trip.
    assert_eq!(
        recorded.last().map(|(_, v)| v.to_string()),
        execution.output.as_ref().map(Value::to_string)
    );
    // A clone reads the same events, and histories compare by content.
    assert_eq!(execution.history.clone(), execution.history);
}

#[test]
fn nested_states_are_recorded_one_level_deeper() {
    let m = machine(
        &json!({"StartAt": "Par", "States": {"Par": {"Type": "Parallel", "End": true,
        "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "End": true}}}]}}}),
    );
    let execution = run(&m, &flaky(0), json!({}));
    let depths: Vec<(String, u32)> = execution
        .history
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StateEntered { name, .. } => Some((name.to_string(), e.depth)),
            _ => None,
        })
        .collect();
    assert_eq!(depths, [("Par".to_owned(), 0), ("Inner".to_owned(), 1)]);
}

#[test]
fn uuid_and_random_follow_the_seed() {
    let m = machine(
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true,
        "Parameters": {"id.$": "States.UUID()", "n.$": "States.MathRandom(0, 1000000)"}}}}),
    );
    let with_seed = |seed| {
        let options = ExecutionOptions {
            seed,
            ..ExecutionOptions::default()
        };
        futures::executor::block_on(m.run(&flaky(0), json!({}), &options)).output
    };
    assert_eq!(with_seed(9), with_seed(9));
    assert_ne!(with_seed(9), with_seed(10));
}

#[test]
fn definition_errors_name_the_offending_field() {
    let cases = [
        (
            json!({"StartAt": "X", "States": {"A": {"Type": "Pass", "End": true}}}),
            "`StartAt` names `X`",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}),
            "`Next` names `Nowhere`",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}),
            "needs `Next` or `\"End\": true`",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Sleep", "End": true}}}),
            "unknown state type `Sleep`",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "InputPath": "a.b"}}}),
            "must start with `$`",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Parameters": {"x.$": "States.Nope()"}}}}),
            "unknown intrinsic function",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "B": {"Type": "Succeed"}}}),
            "unreachable state(s) B",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": TASK, "End": true,
            "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}}}),
            "`States.ALL` must appear alone",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [
            {"Variable": "$.a", "StringEquals": 1, "Next": "A"}]}}}),
            "wrong type",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}}}),
            "exactly one of",
        ),
    ];
    for (definition, needle) in cases {
        let error = StateMachine::from_value(&definition).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(needle),
            "`{message}` should mention `{needle}`"
        );
        assert!(matches!(error, DefinitionError::Invalid { .. }));
    }
    assert!(matches!(
        StateMachine::from_json("{not json").unwrap_err(),
        DefinitionError::Json(_)
    ));
    let located = StateMachine::from_value(&json!({"StartAt": "P", "States": {"P": {
        "Type": "Parallel", "End": true, "Branches": [{"StartAt": "Q", "States": {
            "Q": {"Type": "Pass", "Next": "Gone"}}}]}}}))
    .unwrap_err();
    assert_eq!(
        located.to_string(),
        "$.States.P.Branches[0].States.Q: `Next` names `Gone`, which is not a state in this scope"
    );
}

struct InProcess;

impl LambdaInvoker for InProcess {
    fn invoke<'a>(
        &'a self,
        call: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(async move {
            match call.function_name {
                "echo" => Ok(call.payload),
                "decline" => Err(LambdaError::Function {
                    error_type: "Declined".into(),
                    error_message: "no funds".into(),
                }),
                _ => Err(LambdaError::Service(StatesError::new(
                    "Lambda.ResourceNotFoundException",
                    call.function_name.to_owned(),
                ))),
            }
        })
    }
}

#[test]
fn lambda_tasks_route_by_resource() {
    let m = machine(&json!({"StartAt": "Echo", "States": {
        "Echo": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Parameters": {"FunctionName": "echo", "Payload": {"n": 1}},
                 "ResultSelector": {"n.$": "$.Payload.n", "status.$": "$.StatusCode"}, "Next": "Legacy"},
        "Legacy": {"Type": "Task", "Resource": "arn:aws:lambda:eu-west-1:1:function:echo", "Next": "Queue"},
        "Queue": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "ResultPath": "$.sqs", "Next": "Decline"},
        "Decline": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "decline"}, "End": true}}}));
    let sqs = SyncTaskFn(|req: TaskRequest<'_>| Ok(json!({"MessageId": req.state_name})));
    let tasks = LambdaTasks::new(InProcess).with_fallback(sqs);
    let execution = run(&m, &tasks, json!({}));
    assert_eq!(
        execution.history.states_visited(),
        ["Echo", "Legacy", "Queue", "Decline"]
    );
    let error = execution.error.unwrap();
    assert_eq!(error.error, "Declined");
    assert_eq!(
        error.cause.as_deref(),
        Some(r#"{"errorMessage":"no funds","errorType":"Declined","trace":[]}"#)
    );
    let queued = execution
        .history
        .events()
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StateExited { name, output } if &**name == "Queue" => output.clone(),
            _ => None,
        });
    assert_eq!(
        queued,
        Some(json!({"n": 1, "status": 200, "sqs": {"MessageId": "Queue"}}))
    );

    let without_fallback = LambdaTasks::new(InProcess);
    let unrouted = run(&m, &without_fallback, json!({}));
    assert_eq!(unrouted.error.unwrap().error, "States.Runtime");
}

struct TokioSleep;

impl Sleeper for TokioSleep {
    fn sleep(
        &self,
        duration: Duration,
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

struct SlowTask;

impl TaskHandler for SlowTask {
    fn invoke<'a>(&'a self, _: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(json!("too late"))
        })
    }
}

#[tokio::test]
async fn real_time_mode_sleeps_and_times_out_tasks() {
    let m = machine(&json!({"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 1, "Next": "T"},
        "T": {"Type": "Task", "Resource": TASK, "TimeoutSeconds": 1, "End": true}}}));
    let options = ExecutionOptions {
        time: TimeMode::Real(Arc::new(TokioSleep)),
        ..ExecutionOptions::default()
    };
    let wall = Instant::now();
    let execution = m.run(&SlowTask, json!({}), &options).await;
    let elapsed = wall.elapsed();
    assert_eq!(execution.error.unwrap().error, "States.Timeout");
    assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
}
