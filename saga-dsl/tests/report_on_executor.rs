//! The report's numbers against real runs: every path of every fixture saga and of the trip saga
//! executed on the local ASL interpreter (`asl-executor`), the emitted ASL with mocked Lambda
//! answers that make the execution take that path, without retries and with every retrier
//! exhausted. The states it enters must be the path's, and the transitions, invocations and
//! history events it records must be the report's.
//!
//! The mock knows only which Task should fail how; where the execution goes from there is the
//! ASL's business, so a wrong path in the report shows up as a different list of states.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use asl_executor::{
    BoxFuture, EventKind, Execution, ExecutionOptions, History, HistoryMode, LambdaError,
    LambdaInvocation, LambdaInvoker, LambdaTasks, StateMachine, StatesError, Status,
};
use saga_dsl::Compiled;
use saga_dsl::cli::discover::{Discovery, scan_file};
use saga_dsl::report::{self, End, Kind, Outcome, Path as SagaPath};
use saga_model::{FunctionKind, SagaInfo, reserved};
use serde_json::{Value, json};

const FIXTURES: [&str; 6] = [
    "one_step",
    "three_steps",
    "irreversible_last",
    "custom_retry",
    "custom_escalation",
    "pivot_forward",
];

/// The error every failing Task raises last: no retrier names it, so a Catch takes it.
const BOOM: &str = "Boom";

fn compile(relative: &str, crate_name: &str) -> Compiled {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).expect("the saga's source exists");
    let mut discovery = Discovery::default();
    scan_file(&path, &text, crate_name, None, &mut discovery);
    assert!(discovery.invalid.is_empty(), "{:?}", discovery.invalid);
    discovery.sagas.pop().expect("one saga").compiled
}

fn sagas() -> Vec<Compiled> {
    let mut sagas: Vec<Compiled> = FIXTURES
        .iter()
        .map(|stem| compile(&format!("../tests/fixtures/{stem}.rs"), "tests"))
        .collect();
    sagas.push(compile("../apps/trip-saga/src/saga.rs", "trip-saga"));
    sagas
}

/// What one attempt of a Task answers.
#[derive(Clone, Debug)]
enum Answer {
    Result,
    /// A result with this value: a pivot guard's `PivotCheck`.
    Value(Value),
    /// Lambda's own failure, as the invocation (not the function) fails.
    Service(&'static str),
    /// The function's error.
    Function(String),
    /// The function outlives the Task's timeout.
    Slow(u32),
}

/// Answers by state, in order; an attempt with no answer left returns a result.
struct Script {
    answers: Mutex<HashMap<String, VecDeque<Answer>>>,
    invocations: AtomicU64,
}

impl LambdaInvoker for Script {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let answer = self
            .answers
            .lock()
            .unwrap()
            .get_mut(invocation.state_name)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Answer::Result);
        let result = match answer {
            Answer::Result => Ok(json!({})),
            Answer::Value(value) => Ok(value),
            Answer::Service(name) => Err(LambdaError::Service(StatesError::new(name, "mocked"))),
            Answer::Function(name) => Err(LambdaError::Function {
                error_type: name,
                error_message: "mocked".to_owned(),
            }),
            Answer::Slow(timeout) => {
                invocation
                    .clock
                    .advance(Duration::from_secs(u64::from(timeout) + 1));
                Ok(json!({}))
            }
        };
        Box::pin(std::future::ready(result))
    }
}

/// The errors that make a Task's retriers retry as often as they may, in their order.
fn exhausting(saga: &SagaInfo, state: &str) -> Vec<Answer> {
    let function = saga
        .functions()
        .find(|f| f.state == state)
        .expect("a Task runs a function");
    match function.kind {
        FunctionKind::Action => {
            let step = saga.step(&function.name).expect("an action is a step's");
            let retries = step.retry.max_attempts as usize;
            let mut answers = vec![Answer::Service("Lambda.ServiceException"); retries];
            if let Some(transient) = step.transient_errors.first() {
                answers.extend(vec![Answer::Function(transient.to_string()); retries]);
            }
            answers
        }
        FunctionKind::Compensation | FunctionKind::Escalation => {
            let retry = saga
                .steps
                .iter()
                .filter_map(|s| s.compensation.as_ref())
                .chain(&saga.escalation)
                .find(|f| f.function.state == state)
                .expect("a compensation or the escalation")
                .retry;
            vec![Answer::Function(BOOM.to_owned()); retry.max_attempts as usize]
        }
    }
}

/// The last attempt of a Task that fails without being retried: an action's error no retrier
/// names; for a compensation or the escalation, which retry everything, the one error they
/// never retry.
fn failing(saga: &SagaInfo, state: &str) -> Answer {
    let is_action = saga.steps.iter().any(|s| s.state() == state);
    Answer::Function(if is_action {
        BOOM.to_owned()
    } else {
        reserved::INVALID_PAYLOAD.to_owned()
    })
}

/// Whether `path` goes on after the pivot's guard (the state after `CheckPivot` is a step or
/// `Committed`) rather than into the compensations.
fn commits(saga: &SagaInfo, path: &SagaPath) -> bool {
    let states: Vec<&str> = path.states().collect();
    states
        .iter()
        .position(|s| *s == saga_model::states::CHECK_PIVOT)
        .and_then(|at| states.get(at + 1))
        .is_some_and(|next| {
            *next == saga_model::states::COMMITTED || saga.steps.iter().any(|s| s.state() == *next)
        })
}

fn script(saga: &SagaInfo, path: &SagaPath, worst_case: bool) -> Script {
    let guard = saga
        .pivot()
        .and_then(|p| saga.steps[p].compensation.as_ref())
        .map(|g| g.function.state.to_string());
    let mut answers = HashMap::new();
    for visit in &path.visits {
        let Kind::Task { outcome, .. } = visit.kind else {
            continue;
        };
        let mut attempts: VecDeque<Answer> = if worst_case {
            exhausting(saga, &visit.state).into()
        } else {
            VecDeque::new()
        };
        attempts.push_back(match outcome {
            Outcome::Succeeds if guard.as_deref() == Some(visit.state.as_str()) => {
                Answer::Value(json!({ "committed": commits(saga, path) }))
            }
            Outcome::Succeeds => Answer::Result,
            Outcome::Fails if worst_case => Answer::Function(BOOM.to_owned()),
            Outcome::Fails => failing(saga, &visit.state),
            Outcome::TimesOut => {
                let step = saga.steps.iter().find(|s| s.state() == visit.state);
                Answer::Slow(step.and_then(|s| s.timeout_seconds).expect("a timeout"))
            }
        });
        answers.insert(visit.state.clone(), attempts);
    }
    Script {
        answers: Mutex::new(answers),
        invocations: AtomicU64::new(0),
    }
}

/// The events Step Functions would write for this run. The interpreter records one
/// `TaskScheduled` per attempt where Step Functions writes `TaskScheduled` then `TaskStarted`, and
/// records `RetryScheduled` and `CaughtError`, for which Step Functions writes nothing (see
/// `saga_dsl::report::aws`).
fn aws_events(history: &History) -> u64 {
    history
        .events()
        .iter()
        .map(|event| match event.kind {
            EventKind::TaskScheduled { .. } => 2,
            EventKind::RetryScheduled { .. } | EventKind::CaughtError { .. } => 0,
            EventKind::ExecutionStarted { .. }
            | EventKind::StateEntered { .. }
            | EventKind::StateExited { .. }
            | EventKind::TaskSucceeded { .. }
            | EventKind::TaskFailed { .. }
            | EventKind::ExecutionSucceeded { .. }
            | EventKind::ExecutionFailed { .. } => 1,
            ref other => panic!("the generated ASL writes no {other:?}"),
        })
        .sum()
}

fn retries(history: &History) -> u64 {
    history
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::RetryScheduled { .. }))
        .count() as u64
}

/// How the execution must end on `path`.
fn expected_error(saga: &SagaInfo, path: &SagaPath) -> Option<String> {
    let timed_out = path.visits.iter().any(|v| {
        matches!(
            v.kind,
            Kind::Task {
                outcome: Outcome::TimesOut,
                ..
            }
        )
    });
    match path.end {
        End::Succeeded | End::Committed => None,
        End::Compensated if timed_out => Some(saga.step_failed_error()),
        End::Compensated => Some(BOOM.to_owned()),
        End::CompensationFailed => Some(saga.compensation_failed_error()),
        End::EscalationFailed => Some(saga.escalation_failed_error()),
    }
}

fn run(machine: &StateMachine, script: &Script) -> Execution {
    let options = ExecutionOptions {
        history: HistoryMode::WithoutPayloads,
        ..ExecutionOptions::default()
    };
    futures::executor::block_on(machine.run(&LambdaTasks::new(script), json!({}), &options))
}

impl LambdaInvoker for &Script {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        (**self).invoke(invocation)
    }
}

#[test]
fn every_path_runs_as_the_report_counts_it() {
    let mut checked = 0;
    for compiled in sagas() {
        let saga = compiled.saga.info();
        let machine = StateMachine::from_json(&compiled.artifacts.asl).expect("the ASL compiles");
        for path in report::of(&saga).paths {
            for worst_case in [false, true] {
                let case = format!(
                    "{}: {} ({})",
                    saga.name,
                    path.label,
                    if worst_case {
                        "worst case"
                    } else {
                        "no retries"
                    }
                );
                let script = script(&saga, &path, worst_case);
                let execution = run(&machine, &script);
                let history = &execution.history;
                let pick = |counts: report::Counts| {
                    if worst_case {
                        counts.worst_case
                    } else {
                        counts.without_retries
                    }
                };
                assert_eq!(
                    history.states_visited(),
                    path.states().collect::<Vec<_>>(),
                    "{case}\n{history}"
                );
                let entered = history.states_visited().len() as u64;
                assert_eq!(
                    entered + retries(history),
                    pick(path.transitions()),
                    "{case}: transitions\n{history}"
                );
                assert_eq!(
                    script.invocations.load(Ordering::Relaxed),
                    pick(path.invocations()),
                    "{case}: invocations"
                );
                assert_eq!(
                    aws_events(history),
                    pick(path.history_events()),
                    "{case}: history events\n{history}"
                );
                let error = execution.error.as_ref().map(|e| e.error.clone());
                assert_eq!(error, expected_error(&saga, &path), "{case}\n{history}");
                let status = if matches!(path.end, End::Succeeded | End::Committed) {
                    Status::Succeeded
                } else {
                    Status::Failed
                };
                assert_eq!(execution.status, status, "{case}");
                checked += 1;
            }
        }
    }
    // Six fixtures and the trip saga, each path twice: a guard against a loop that ran nothing.
    assert!(checked >= 2 * 50, "only {checked} runs");
}
