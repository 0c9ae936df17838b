//! The budget of a saga: what each path through its state machine costs on Step Functions
//! (state transitions, Lambda invocations, history events, money) and the largest payload one of
//! its Tasks can receive.
//!
//! [`of`] reads the model ([`SagaInfo`]) only, never the generated ASL; it knows the shape the ASL
//! emitter gives every saga (`Start`, the steps, the compensations newest first,
//! `CheckCompensations`, the escalation, `CheckFailure`, `StepFailed` and the Fail states), the
//! retriers it puts on each Task and the payload each Task is sent. The tests cross-check that
//! knowledge against the emitted ASL and against the local executor.
//!
//! Every number that comes from AWS rather than from the model is a constant in [`aws`], with its
//! source.
//!
//! ```
//! let tokens: proc_macro2::TokenStream = quote::quote! {
//!     saga Checkout {
//!         input: Order,
//!         step Charge { action: payments::charge -> Receipt, irreversible }
//!     }
//! };
//! let compiled = saga_dsl::compile(tokens, saga_dsl::Origin::of_crate("shop")).unwrap();
//! let report = saga_dsl::report::of(&compiled.saga.info());
//! let happy = &report.paths[0];
//! assert_eq!(happy.states().collect::<Vec<_>>(), ["Start", "Charge"]);
//! assert_eq!(happy.transitions().without_retries, 2);
//! // Charge retries Lambda's service errors 3 times: 3 more transitions and invocations.
//! assert_eq!(happy.transitions().worst_case, 5);
//! assert_eq!(happy.invocations().worst_case, 4);
//! ```

use std::fmt;

use saga_model::states::{
    CHECK_COMPENSATIONS, CHECK_FAILURE, CHECK_PIVOT, COMMITTED, COMPENSATED, COMPENSATION_FAILED,
    ESCALATE, ESCALATION_FAILED, START, STEP_FAILED,
};
use saga_model::{RetryPolicy, SagaInfo, StepInfo};

/// What Step Functions charges, writes and accepts: the numbers the report uses that do not come
/// from the model. Checked against the AWS documentation as of 2026.
pub mod aws {
    /// Standard workflows: USD 0.025 per 1,000 state transitions (us-east-1 and most regions; a
    /// few cost more), expressed in thousandths of a dollar. "Step Functions counts a state
    /// transition each time a step of your workflow is executed … including retries"; "each retry
    /// will be charged as an additional state transition" (aws.amazon.com/step-functions/pricing).
    /// The free tier (4,000 transitions a month) is left out.
    pub const MILLIDOLLARS_PER_1000_TRANSITIONS: u64 = 25;

    /// "Maximum execution history size: 25,000 events. If the execution history reaches this
    /// quota, the execution will fail" (Step Functions developer guide, "Quotas", Standard
    /// workflows; "Avoid reaching the history quota" calls it a hard quota).
    pub const HISTORY_EVENTS_LIMIT: u64 = 25_000;

    /// "Maximum input or output size for a task, state, or execution: 262,144 bytes of data as a
    /// UTF-8 encoded string" (developer guide, "Quotas").
    pub const PAYLOAD_BYTES_LIMIT: u64 = 262_144;

    /// Execution (and state machine) names: 1 to 80 characters (API reference,
    /// `ExecutionListItem.name`, `StartExecution.name`).
    pub const NAME_CHARS: usize = 80;

    /// An execution's ARN, `$$.Execution.Id`: 1 to 256 characters (API reference,
    /// `ExecutionListItem.executionArn`).
    pub const EXECUTION_ARN_CHARS: usize = 256;

    /// A Task failure's `Error`: at most 256 characters, and its `Cause` at most 32,768 (API
    /// reference, `TaskFailedEventDetails`; `ExecutionFailedEventDetails` has the same limits).
    /// These are the limits of the history event; the report assumes that the error output a
    /// Catch writes into the state holds the same two strings (AWS documents no separate limit
    /// for it).
    pub const ERROR_CHARS: usize = 256;
    /// See [`ERROR_CHARS`].
    pub const CAUSE_CHARS: usize = 32_768;

    /// History events, by what happens. Step Functions' own event types (API reference,
    /// `HistoryEvent.type`) and the sequences it records, as the AWS-validated snapshots of
    /// LocalStack's Step Functions tests show them (`error_handling/test_task_service_lambda`,
    /// `scenarios/test_base_scenarios::…_with_retry_…`, `timeouts/test_timeouts`,
    /// `base/test_base`):
    /// - the execution: `ExecutionStarted`, then `ExecutionSucceeded` or `ExecutionFailed`;
    pub const EXECUTION_EVENTS: u64 = 2;
    /// - a Pass or Choice state: `…StateEntered`, `…StateExited`;
    pub const PASS_OR_CHOICE_EVENTS: u64 = 2;
    /// - a Fail state: `FailStateEntered` only (there is no `FailStateExited`), then the
    ///   execution's `ExecutionFailed`;
    pub const FAIL_EVENTS: u64 = 1;
    /// - a Task on the optimised Lambda integration (`arn:aws:states:::lambda:invoke`):
    ///   `TaskStateEntered`, `TaskScheduled`, `TaskStarted`, then `TaskSucceeded`, `TaskFailed` or
    ///   `TaskTimedOut`, then `TaskStateExited`, whether the task succeeded or a Catch caught its
    ///   error (an uncaught error skips the exit; the generator catches every error);
    pub const TASK_EVENTS: u64 = 5;
    /// - each retry of a Task: `TaskScheduled`, `TaskStarted`, `TaskFailed` again (the wait
    ///   before it writes nothing).
    pub const RETRY_EVENTS: u64 = 3;
}

/// The budget of one saga.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The saga's name.
    pub saga: String,
    /// The module that declares it; empty when unknown.
    pub declared_in: String,
    /// Every path the report covers: the happy path, then for each step its failures.
    pub paths: Vec<Path>,
    /// The Task that can receive the most.
    pub largest_payload: Payload,
}

/// One path through the state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// What happens, e.g. `ReserveHotel fails, a compensation fails`.
    pub label: String,
    /// How the execution ends.
    pub end: End,
    /// The states entered, in order.
    pub visits: Vec<Visit>,
}

/// How an execution ends: succeeded, or the Fail state it ends in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The last step succeeded.
    Succeeded,
    /// `Committed`: the pivot failed, but its guard found it took effect.
    Committed,
    /// `Compensated`: every completed step was undone.
    Compensated,
    /// `CompensationFailed`: something was left undone and the escalation ran.
    CompensationFailed,
    /// `EscalationFailed`: the escalation failed too.
    EscalationFailed,
}

impl End {
    /// `succeeded`, or the Fail state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            End::Succeeded => "succeeded",
            End::Committed => COMMITTED,
            End::Compensated => COMPENSATED,
            End::CompensationFailed => COMPENSATION_FAILED,
            End::EscalationFailed => ESCALATION_FAILED,
        }
    }
}

/// One state entered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visit {
    /// The state's name.
    pub state: String,
    /// What kind of state it is.
    pub kind: Kind,
}

/// The kinds of state the generator emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Pass state.
    Pass,
    /// A Choice state.
    Choice,
    /// A Fail state.
    Fail,
    /// A Succeed state.
    Succeed,
    /// A Task state that invokes a Lambda function.
    Task {
        /// How its last attempt ends on this path.
        outcome: Outcome,
        /// The retries its retriers allow in all: each retrier counts its own retries across the
        /// state's attempts ("a retrier's parameters apply across all visits to the retrier in
        /// the context of a single-state execution", developer guide, "Complex retry
        /// scenarios"), so the worst case is the sum of their `MaxAttempts`.
        retry_budget: u32,
    },
}

/// How a Task's last attempt ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returns a result.
    Succeeds,
    /// It fails with an error that a Catch sends on.
    Fails,
    /// It runs past the Task's `TimeoutSeconds` (`States.Timeout`).
    TimesOut,
}

/// A number without retries and in the worst case, where every retrier on the path is exhausted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    /// No Task is retried.
    pub without_retries: u64,
    /// Every Task on the path retries as often as its retriers allow.
    pub worst_case: u64,
}

impl Path {
    /// The names of the states entered, in order.
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.visits.iter().map(|v| v.state.as_str())
    }

    /// The retries of every Task on the path, when each exhausts its retriers.
    pub fn worst_case_retries(&self) -> u64 {
        self.visits
            .iter()
            .map(|v| u64::from(v.retry_budget()))
            .sum()
    }

    /// Billed state transitions: one per state entered, one per retry.
    pub fn transitions(&self) -> Counts {
        let states = self.visits.len() as u64;
        Counts {
            without_retries: states,
            worst_case: states + self.worst_case_retries(),
        }
    }

    /// Lambda invocations: one per Task attempt. An attempt that Lambda throttles
    /// (`Lambda.TooManyRequestsException`) counts too, although Lambda does not bill it.
    pub fn invocations(&self) -> Counts {
        let tasks = self.visits.iter().filter(|v| v.is_task()).count() as u64;
        Counts {
            without_retries: tasks,
            worst_case: tasks + self.worst_case_retries(),
        }
    }

    /// Events in the execution's history (see [`aws::EXECUTION_EVENTS`] and what follows it).
    pub fn history_events(&self) -> Counts {
        let states: u64 = self
            .visits
            .iter()
            .map(|v| match v.kind {
                // A Succeed state writes `SucceedStateEntered` and `SucceedStateExited` too.
                Kind::Pass | Kind::Choice | Kind::Succeed => aws::PASS_OR_CHOICE_EVENTS,
                Kind::Fail => aws::FAIL_EVENTS,
                Kind::Task { .. } => aws::TASK_EVENTS,
            })
            .sum();
        let without_retries = aws::EXECUTION_EVENTS + states;
        Counts {
            without_retries,
            worst_case: without_retries + aws::RETRY_EVENTS * self.worst_case_retries(),
        }
    }

    /// What 1,000 executions along this path cost on Step Functions, in thousandths of a dollar.
    pub fn cost_per_1000_executions(&self) -> Counts {
        // 1,000 executions of n transitions are n thousand transitions.
        let cost = |transitions: u64| transitions * aws::MILLIDOLLARS_PER_1000_TRANSITIONS;
        let transitions = self.transitions();
        Counts {
            without_retries: cost(transitions.without_retries),
            worst_case: cost(transitions.worst_case),
        }
    }
}

impl Visit {
    fn new(state: &str, kind: Kind) -> Self {
        Visit {
            state: state.to_owned(),
            kind,
        }
    }

    fn task(state: &str, outcome: Outcome, retry_budget: u32) -> Self {
        Visit::new(
            state,
            Kind::Task {
                outcome,
                retry_budget,
            },
        )
    }

    /// Whether the state invokes a Lambda function.
    pub fn is_task(&self) -> bool {
        matches!(self.kind, Kind::Task { .. })
    }

    /// The Task's retry budget; 0 for other states.
    pub fn retry_budget(&self) -> u32 {
        match self.kind {
            Kind::Task { retry_budget, .. } => retry_budget,
            _ => 0,
        }
    }
}

/// The retries an action's Task allows: the ASL emitter gives it one retrier for Lambda's service
/// errors and, when the step has transient errors, a second one; both use the step's policy.
pub fn action_retry_budget(step: &StepInfo) -> u32 {
    let retriers = if step.transient_errors.is_empty() {
        1
    } else {
        2
    };
    step.retry.max_attempts * retriers
}

/// The retries a compensation's or the escalation's Task allows: its `States.ALL` retrier (the
/// retrier before it, for `Saga.InvalidPayload`, allows none).
fn retried_function_budget(retry: &RetryPolicy) -> u32 {
    retry.max_attempts
}

/// The budget of `saga`.
///
/// # Panics
/// When `saga` has no step ([`crate::check`] refuses such a saga).
pub fn of(saga: &SagaInfo) -> Report {
    let mut paths = vec![happy_path(saga)];
    let pivot = saga.pivot();
    for (index, step) in saga.steps.iter().enumerate() {
        if pivot == Some(index) {
            paths.push(committed_path(saga, index));
        }
        if pivot.is_some_and(|p| index > p) {
            // After the pivot nothing is undone: a failure goes to the escalation.
            paths.push(failure_path(saga, index, Failure::Error, Undone::Escalated));
            if saga.escalation.is_some() {
                paths.push(failure_path(
                    saga,
                    index,
                    Failure::Error,
                    Undone::EscalationFailed,
                ));
            }
            continue;
        }
        paths.push(failure_path(saga, index, Failure::Error, Undone::Nothing));
        if saga.compensated_after(index).next().is_some() {
            paths.push(failure_path(saga, index, Failure::Error, Undone::Escalated));
            if saga.escalation.is_some() {
                paths.push(failure_path(
                    saga,
                    index,
                    Failure::Error,
                    Undone::EscalationFailed,
                ));
            }
        }
        if step.timeout_seconds.is_some() {
            paths.push(failure_path(saga, index, Failure::Timeout, Undone::Nothing));
        }
    }
    Report {
        saga: saga.name.to_string(),
        declared_in: saga.declared_in.to_string(),
        paths,
        largest_payload: largest_payload(saga),
    }
}

/// The pivot fails, its guard finds that it took effect after all, and the saga goes on.
fn committed_path(saga: &SagaInfo, pivot: usize) -> Path {
    let mut visits = vec![Visit::new(START, Kind::Pass)];
    for (index, step) in saga.steps.iter().enumerate() {
        let outcome = if index == pivot {
            Outcome::Fails
        } else {
            Outcome::Succeeds
        };
        visits.push(Visit::task(
            step.state(),
            outcome,
            action_retry_budget(step),
        ));
        if index == pivot {
            let guard = step.compensation.as_ref().expect("a pivot has a guard");
            visits.push(Visit::task(
                &guard.function.state,
                Outcome::Succeeds,
                retried_function_budget(&guard.retry),
            ));
            visits.push(Visit::new(CHECK_PIVOT, Kind::Choice));
        }
    }
    let end = if pivot + 1 == saga.steps.len() {
        visits.push(Visit::new(COMMITTED, Kind::Succeed));
        End::Committed
    } else {
        End::Succeeded
    };
    Path {
        label: format!("{} fails after taking effect", saga.steps[pivot].name()),
        end,
        visits,
    }
}

fn happy_path(saga: &SagaInfo) -> Path {
    let mut visits = vec![Visit::new(START, Kind::Pass)];
    visits.extend(
        saga.steps
            .iter()
            .map(|step| Visit::task(step.state(), Outcome::Succeeds, action_retry_budget(step))),
    );
    Path {
        label: "happy path".to_owned(),
        end: End::Succeeded,
        visits,
    }
}

/// How the failing step fails.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// With an error of its own (business, exhausted transient, or any other).
    Error,
    /// With `States.Timeout`: a `States.*` error, which `StepFailed` renames.
    Timeout,
}

/// What the compensations leave undone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Undone {
    /// Every compensation succeeds.
    Nothing,
    /// One fails after all its retries (the newest; any one costs the same), and the escalation
    /// runs.
    Escalated,
    /// As [`Undone::Escalated`], and the escalation fails after all its retries too.
    EscalationFailed,
}

fn failure_path(saga: &SagaInfo, failed: usize, failure: Failure, undone: Undone) -> Path {
    let mut visits = vec![Visit::new(START, Kind::Pass)];
    for step in &saga.steps[..failed] {
        visits.push(Visit::task(
            step.state(),
            Outcome::Succeeds,
            action_retry_budget(step),
        ));
    }
    let step = &saga.steps[failed];
    let outcome = match failure {
        Failure::Error => Outcome::Fails,
        Failure::Timeout => Outcome::TimesOut,
    };
    visits.push(Visit::task(
        step.state(),
        outcome,
        action_retry_budget(step),
    ));
    let after_pivot = saga.pivot().is_some_and(|p| failed > p);
    let mut compensations = 0;
    for (position, compensated) in saga.compensated_after(failed).enumerate() {
        if after_pivot {
            break;
        }
        let compensation = compensated
            .compensation
            .as_ref()
            .expect("compensated_after yields compensated steps");
        let fails = position == 0 && undone != Undone::Nothing;
        visits.push(Visit::task(
            &compensation.function.state,
            if fails {
                Outcome::Fails
            } else {
                Outcome::Succeeds
            },
            retried_function_budget(&compensation.retry),
        ));
        compensations += 1;
        if compensated.pivot {
            // A failed guard escalates at once: nothing may be undone.
            if fails {
                break;
            }
            visits.push(Visit::new(CHECK_PIVOT, Kind::Choice));
        }
    }
    if compensations > 0 {
        visits.push(Visit::new(CHECK_COMPENSATIONS, Kind::Choice));
    }
    let end = match undone {
        Undone::Nothing => {
            visits.push(Visit::new(CHECK_FAILURE, Kind::Choice));
            if failure == Failure::Timeout {
                visits.push(Visit::new(STEP_FAILED, Kind::Pass));
            }
            End::Compensated
        }
        Undone::Escalated | Undone::EscalationFailed => {
            let fails = undone == Undone::EscalationFailed;
            visits.push(match &saga.escalation {
                Some(escalation) => Visit::task(
                    &escalation.function.state,
                    if fails {
                        Outcome::Fails
                    } else {
                        Outcome::Succeeds
                    },
                    retried_function_budget(&escalation.retry),
                ),
                None => Visit::new(ESCALATE, Kind::Pass),
            });
            if fails {
                End::EscalationFailed
            } else {
                End::CompensationFailed
            }
        }
    };
    visits.push(Visit::new(end.as_str(), Kind::Fail));
    let label = if after_pivot {
        let escalation = if undone == Undone::EscalationFailed {
            ", and the escalation fails"
        } else {
            ""
        };
        format!(
            "{} fails after the pivot (escalated){escalation}",
            step.name()
        )
    } else {
        failure_label(step.name(), failure, undone)
    };
    Path { label, end, visits }
}

fn failure_label(step: &str, failure: Failure, undone: Undone) -> String {
    let failed = match failure {
        Failure::Error => "fails",
        Failure::Timeout => "times out",
    };
    let undone = match undone {
        Undone::Nothing => "",
        Undone::Escalated => ", a compensation fails",
        Undone::EscalationFailed => ", a compensation and the escalation fail",
    };
    format!("{step} {failed}{undone}")
}

impl Report {
    /// The path with the most history events in the worst case (the first of equals).
    pub fn longest_history(&self) -> &Path {
        self.paths
            .iter()
            .reduce(|best, next| {
                if next.history_events().worst_case > best.history_events().worst_case {
                    next
                } else {
                    best
                }
            })
            .expect("there is always the happy path")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render::report(self, f)
    }
}

mod payload;
mod render;

pub use payload::{Payload, TypedPart, largest_payload};

#[cfg(test)]
mod tests;
