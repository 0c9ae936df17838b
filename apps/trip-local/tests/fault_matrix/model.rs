//! The saga as the matrix sees it, read from its model (`trip_booking::SAGA`, what `saga!`
//! checked), never from the ASL or the source; and the paths an execution takes through the
//! generated state machine.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use saga_runtime::states::{
    CHECK_COMPENSATIONS, CHECK_FAILURE, CHECK_PIVOT, COMMITTED, COMPENSATED, COMPENSATION_FAILED,
    ESCALATION_FAILED, START, STEP_FAILED,
};
use trip_saga::trip_booking::SAGA;

use crate::cases::Attempts;

/// An action step.
#[derive(Debug)]
pub(crate) struct Step {
    /// Its Task state.
    pub(crate) state: String,
    /// The Task state of its compensation (the pivot's guard, on the pivot); `None` for an
    /// irreversible step.
    pub(crate) compensation: Option<String>,
    /// Whether it is the saga's pivot.
    pub(crate) pivot: bool,
    /// Declared `business_errors`: caught without a retry.
    pub(crate) business_errors: Vec<String>,
    /// Its `transient_errors` (the saga's default included): retried by the step's policy.
    pub(crate) transient_errors: Vec<String>,
    /// `max_attempts` of the step's policy: how many retries a transient error, or a lost
    /// response (a Lambda service error), gets.
    pub(crate) retries: u32,
    /// `timeout_seconds` of its Task, if it has one.
    pub(crate) timeout_seconds: Option<u64>,
}

/// A compensation.
#[derive(Debug)]
pub(crate) struct Compensation {
    /// Its Task state.
    pub(crate) state: String,
    /// The action state it undoes.
    pub(crate) undoes: String,
    /// Whether it is the pivot's guard (it undoes nothing itself: it locks, or finds the pivot
    /// took effect).
    pub(crate) guard: bool,
    /// `max_attempts` of its policy (on every error) before the escalation.
    pub(crate) retries: u32,
}

/// The whole saga.
#[derive(Debug)]
pub(crate) struct Model {
    /// The action steps, in the order they run.
    pub(crate) steps: Vec<Step>,
    /// The compensations, in manifest order.
    pub(crate) compensations: Vec<Compensation>,
    /// The escalation's Task state.
    pub(crate) escalation: String,
    /// `max_attempts` of the escalation's policy.
    pub(crate) escalation_retries: u32,
    /// Every Task state (the states that invoke a function).
    pub(crate) tasks: BTreeSet<String>,
    /// The error of the execution when a compensation is left undone.
    pub(crate) compensation_failed_error: String,
    /// The error of the execution when the escalation failed too.
    pub(crate) escalation_failed_error: String,
    /// The error of the execution when a step failed with a `States.*` error.
    pub(crate) step_failed_error: String,
}

impl Model {
    pub(crate) fn last_step(&self) -> usize {
        self.steps.len() - 1
    }
}

pub(crate) fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let escalation = SAGA
            .escalation
            .as_ref()
            .expect("the trip saga has an escalation function");
        Model {
            steps: SAGA
                .steps
                .iter()
                .map(|step| Step {
                    state: step.state().to_owned(),
                    compensation: step
                        .compensation
                        .as_ref()
                        .map(|c| c.function.state.to_string()),
                    pivot: step.pivot,
                    business_errors: step
                        .business_errors
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    transient_errors: step
                        .transient_errors
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    retries: step.retry.max_attempts,
                    timeout_seconds: step.timeout_seconds.map(u64::from),
                })
                .collect(),
            compensations: SAGA
                .steps
                .iter()
                .filter_map(|step| {
                    let c = step.compensation.as_ref()?;
                    Some(Compensation {
                        state: c.function.state.to_string(),
                        undoes: step.state().to_owned(),
                        guard: step.pivot,
                        retries: c.retry.max_attempts,
                    })
                })
                .collect(),
            escalation: escalation.function.state.to_string(),
            escalation_retries: escalation.retry.max_attempts,
            tasks: SAGA.functions().map(|f| f.state.to_string()).collect(),
            compensation_failed_error: SAGA.compensation_failed_error(),
            escalation_failed_error: SAGA.escalation_failed_error(),
            step_failed_error: SAGA.step_failed_error(),
        }
    })
}

/// How a failed execution ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Every compensation ran; the step's error was its own.
    Compensated,
    /// Every compensation ran; the step failed with a `States.*` error, wrapped.
    CompensatedStatesError,
    /// A compensation was left undone and the escalation ran.
    Escalated,
    /// A compensation was left undone and the escalation failed too.
    EscalationFailed,
}

pub(crate) fn happy_path() -> Vec<String> {
    std::iter::once(START.to_owned())
        .chain(model().steps.iter().map(|s| s.state.clone()))
        .collect()
}

/// The path of a failure at step `failed`: the steps up to it, the compensations of those steps
/// (its own included: its action may have taken effect), newest first, then the checks and
/// the end.
///
/// The pivot's guard is followed by `CheckPivot` (it locked the trip); when the guard itself is
/// the compensation that `fails`, the escalation comes at once and nothing is undone.
pub(crate) fn compensated_path(failed: usize, end: End, fails: Option<&str>) -> Vec<String> {
    let model = model();
    let mut path = happy_path();
    path.truncate(failed + 2);
    for step in model.steps[..=failed].iter().rev() {
        let Some(compensation) = &step.compensation else {
            continue;
        };
        path.push(compensation.clone());
        if step.pivot {
            if fails == Some(compensation.as_str()) {
                break;
            }
            path.push(CHECK_PIVOT.to_owned());
        }
    }
    path.push(CHECK_COMPENSATIONS.to_owned());
    let tail: &[&str] = match end {
        End::Compensated => &[CHECK_FAILURE, COMPENSATED],
        End::CompensatedStatesError => &[CHECK_FAILURE, STEP_FAILED, COMPENSATED],
        End::Escalated => &[&model.escalation, COMPENSATION_FAILED],
        End::EscalationFailed => &[&model.escalation, ESCALATION_FAILED],
    };
    path.extend(tail.iter().map(|s| (*s).to_owned()));
    path
}

/// The path of a failure at the pivot whose effect happened: its guard finds it committed and
/// the saga goes on (to the end).
pub(crate) fn committed_path() -> Vec<String> {
    let model = model();
    let pivot = model
        .steps
        .iter()
        .position(|s| s.pivot)
        .expect("the trip saga has a pivot");
    let mut path = happy_path();
    let guard = model.steps[pivot].compensation.clone().expect("a guard");
    path.insert(pivot + 2, CHECK_PIVOT.to_owned());
    path.insert(pivot + 2, guard);
    if pivot == model.last_step() {
        path.push(COMMITTED.to_owned());
    }
    path
}

/// Every invocation along `path`: each Task state once and successfully, unless `attempts`
/// says otherwise for it.
pub(crate) fn calls_along(
    path: &[String],
    attempts: &[(String, Attempts)],
) -> Vec<(String, Option<String>)> {
    let model = model();
    let mut calls = Vec::new();
    for state in path.iter().filter(|s| model.tasks.contains(*s)) {
        match attempts.iter().find(|(s, _)| s == state) {
            Some((_, outcomes)) => {
                calls.extend(outcomes.iter().map(|o| (state.clone(), o.clone())));
            }
            None => calls.push((state.clone(), None)),
        }
    }
    calls
}

pub(crate) fn retries_of(attempts: &[(String, Attempts)]) -> usize {
    attempts
        .iter()
        .map(|(_, a)| a.len().saturating_sub(1))
        .sum()
}
