//! How long a saga can run: a bound on every path through its state machine, from the model.
//!
//! Step Functions ends an execution whose own `TimeoutSeconds` expires as `TIMED_OUT`, and no
//! `Catch` sees it: a compensation cut there never finishes, and nobody is told what is left
//! held. So the state machine's timeout must never fall while anything can still run. It can be
//! proved from the model alone, because every Task attempt is bounded (by its `TimeoutSeconds`,
//! or by Lambda's own limit for an action without one), every retrier's attempts and back-off are
//! bounded, and the generated state machine has no loop. [`SagaInfo::worst_case`] adds them up
//! along every path; `saga!` refuses a declared `timeout_seconds` that is not above it and
//! derives one otherwise ([`SagaInfo::derived_timeout_seconds`]).

use crate::{RetriedFunction, SagaInfo, StepInfo};

/// The longest a Lambda function may run (15 minutes): what bounds an attempt of a Task without
/// `TimeoutSeconds`.
pub const LAMBDA_MAX_SECONDS: u32 = 900;

/// What each attempt is allowed on top of its own timeout for Step Functions' work around it
/// (scheduling the Lambda call, entering and leaving states, the states between Tasks). That
/// takes milliseconds on AWS; a whole second per attempt leaves a wide margin for a slow day.
pub const ATTEMPT_ALLOWANCE_SECONDS: u32 = 1;

/// The longest path through a saga's state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct WorstCase {
    /// Seconds, every Task on the path failing slowly until its last retry.
    pub seconds: f64,
    /// Which path, e.g. `ConfirmTrip fails, every compensation and the escalation run`.
    pub path: String,
}

impl StepInfo {
    /// The longest one attempt of the action can last.
    pub fn attempt_seconds(&self) -> u32 {
        self.timeout_seconds.unwrap_or(LAMBDA_MAX_SECONDS)
    }

    /// How many `Retry` entries the action's Task has: one for Lambda's service errors and, when
    /// the step has transient errors, one for them, both with the step's policy. Each counts
    /// its own retries.
    pub fn retriers(&self) -> u32 {
        if self.transient_errors.is_empty() {
            1
        } else {
            2
        }
    }

    /// The longest the action's Task can last: every attempt it can make runs until its
    /// timeout, and every retrier waits its whole back-off.
    pub fn worst_case_seconds(&self) -> f64 {
        let attempts = 1 + self.retriers() * self.retry.max_attempts;
        f64::from(attempts) * f64::from(self.attempt_seconds() + ATTEMPT_ALLOWANCE_SECONDS)
            + f64::from(self.retriers()) * self.retry.worst_case_wait_seconds()
    }
}

impl RetriedFunction {
    /// The longest the function's Task can last: every attempt runs until its timeout and the
    /// whole back-off is waited (its one retrier, on `States.ALL`).
    pub fn worst_case_seconds(&self) -> f64 {
        let attempts = 1 + self.retry.max_attempts;
        f64::from(attempts) * f64::from(self.timeout_seconds + ATTEMPT_ALLOWANCE_SECONDS)
            + self.retry.worst_case_wait_seconds()
    }
}

impl SagaInfo {
    /// The longest path through the state machine: for every point where the saga can fail,
    /// every Task on the way there at its slowest, then every compensation that runs after it
    /// and the escalation at theirs (a compensation that fails does not stop the others, so all
    /// of them and the escalation can run on one path); and the pivot's committed path.
    ///
    /// # Panics
    /// When the saga has no step (`saga!` refuses one).
    pub fn worst_case(&self) -> WorstCase {
        let escalation = self
            .escalation
            .as_ref()
            .map_or(0.0, RetriedFunction::worst_case_seconds);
        let actions_to = |failed: usize| -> f64 {
            self.steps[..=failed]
                .iter()
                .map(StepInfo::worst_case_seconds)
                .sum()
        };
        let last = self.steps.len() - 1;
        let mut paths = vec![WorstCase {
            seconds: actions_to(last),
            path: "every step succeeds".to_owned(),
        }];
        let pivot = self.pivot();
        // A pivot that fails and whose guard finds it took effect goes on: the guard is on every
        // path past it.
        let guard = pivot
            .and_then(|p| self.steps[p].compensation.as_ref())
            .map_or(0.0, RetriedFunction::worst_case_seconds);
        if let Some(p) = pivot {
            paths.push(WorstCase {
                seconds: actions_to(last) + guard,
                path: format!("{} fails after taking effect", self.steps[p].name()),
            });
        }
        for (index, step) in self.steps.iter().enumerate() {
            let (undo, path) = if pivot.is_some_and(|p| index > p) {
                (
                    guard + escalation,
                    format!(
                        "the pivot fails after taking effect, then {} fails and is escalated",
                        step.name()
                    ),
                )
            } else {
                let compensations: f64 = self
                    .compensated_after(index)
                    .filter_map(|s| s.compensation.as_ref())
                    .map(RetriedFunction::worst_case_seconds)
                    .sum();
                let escalated = if compensations > 0.0 { escalation } else { 0.0 };
                (
                    compensations + escalated,
                    format!(
                        "{} fails, then every compensation and the escalation run",
                        step.name()
                    ),
                )
            };
            paths.push(WorstCase {
                seconds: actions_to(index) + undo,
                path,
            });
        }
        paths
            .into_iter()
            .reduce(|longest, next| {
                if next.seconds > longest.seconds {
                    next
                } else {
                    longest
                }
            })
            .expect("there is always the path where every step succeeds")
    }

    /// The `TimeoutSeconds` of the Task state `state`: an action's when it declares one, a
    /// compensation's or the escalation's always; `None` for any other state.
    pub fn task_timeout_seconds(&self, state: &str) -> Option<u32> {
        self.steps
            .iter()
            .find_map(|step| {
                if step.state() == state {
                    return Some(step.timeout_seconds);
                }
                step.compensation
                    .as_ref()
                    .filter(|c| c.function.state == state)
                    .map(|c| Some(c.timeout_seconds))
            })
            .or_else(|| {
                self.escalation
                    .as_ref()
                    .filter(|e| e.function.state == state)
                    .map(|e| Some(e.timeout_seconds))
            })
            .flatten()
    }

    /// The state machine's `TimeoutSeconds` when the declaration gives none: the next whole
    /// minute above [`SagaInfo::worst_case`], so that it can never fall while a Task can still
    /// run. It only stops an execution that something outside the model holds (which the
    /// `TIMED_OUT` alarm then reports).
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a sum of bounded, non-negative seconds: far below u64::MAX"
    )]
    pub fn derived_timeout_seconds(&self) -> u64 {
        let worst = self.worst_case().seconds.ceil() as u64;
        (worst / 60 + 1) * 60
    }
}
