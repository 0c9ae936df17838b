//! The cases of the matrix: what each fault must end with, group by group, derived from the
//! saga's model.

use std::collections::BTreeSet;
use std::time::Duration;

use trip::domain::TripStatus;
use trip_local::faults::{FaultPlan, LOST_RESPONSE_ERROR, Times};

use crate::knowledge::{BOOKING, Booking, OPERATOR_REASON, Trigger, business_trigger};
use crate::model::{
    Compensation, End, calls_along, committed_path, compensated_path, happy_path, model, retries_of,
};

/// The error injected into a compensation: its `Retry` matches `States.ALL`.
pub(crate) const COMPENSATION_TRANSIENT: &str = "StoreUnavailable";

/// How each invocation of a state ends: `None` for success, else the error name.
pub(crate) type Attempts = Vec<Option<String>>;

pub(crate) fn failing(times: u32, error: &str) -> Attempts {
    (0..times).map(|_| Some(error.to_owned())).collect()
}

pub(crate) fn then_ok(mut attempts: Attempts) -> Attempts {
    attempts.push(None);
    attempts
}

/// What the trip's stored reason must say.
#[derive(Debug, Clone)]
pub(crate) enum Reason {
    /// No reason (a confirmed trip).
    Nothing,
    /// Starts with this (a cancelled trip: the error that started compensation).
    StartsWith(String),
    /// Contains every one of these (an escalated trip: what is left undone, and why).
    Contains(Vec<String>),
}

/// What a case must end with.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    /// `SUCCEEDED`, or `FAILED <error>`.
    pub(crate) outcome: String,
    /// The states entered, in order.
    pub(crate) path: Vec<String>,
    /// Every invocation, in order: state and error.
    pub(crate) calls: Vec<(String, Option<String>)>,
    /// Retries the executor scheduled.
    pub(crate) retries: usize,
    /// The trip's final status.
    pub(crate) trip: TripStatus,
    /// The trip's reason.
    pub(crate) reason: Reason,
    /// Whether the trip's request was recorded (`CreateTrip` ran).
    pub(crate) trip_created: bool,
    /// The actions whose effect happened.
    pub(crate) took_effect: BTreeSet<String>,
    /// Of those, the ones whose effect was undone.
    pub(crate) undone: BTreeSet<String>,
}

/// One execution of the matrix.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// `ReserveHotel: StoreThrottled ×3, then ok`.
    pub(crate) name: String,
    /// The state the fault is at (for the coverage check).
    pub(crate) target: String,
    pub(crate) booking: Booking,
    pub(crate) pre_cancelled: bool,
    pub(crate) faults: FaultPlan,
    pub(crate) expect: Expect,
}

/// A case that must succeed: every step took effect, nothing was undone.
pub(crate) fn succeeds(
    name: String,
    target: &str,
    faults: FaultPlan,
    attempts: &[(String, Attempts)],
) -> Case {
    let path = happy_path();
    Case {
        name,
        target: target.to_owned(),
        booking: BOOKING,
        pre_cancelled: false,
        faults,
        expect: Expect {
            outcome: "SUCCEEDED".to_owned(),
            calls: calls_along(&path, attempts),
            path,
            retries: retries_of(attempts),
            trip: TripStatus::Confirmed,
            reason: Reason::Nothing,
            trip_created: true,
            took_effect: model().steps.iter().map(|s| s.state.clone()).collect(),
            undone: BTreeSet::new(),
        },
    }
}

/// A case whose pivot fails after taking effect: the guard finds it committed, and the saga
/// ends as the happy path does, nothing undone.
pub(crate) fn commits(
    name: String,
    target: &str,
    faults: FaultPlan,
    attempts: &[(String, Attempts)],
) -> Case {
    let mut case = succeeds(name, target, faults, attempts);
    let path = committed_path();
    case.expect.calls = calls_along(&path, attempts);
    case.expect.path = path;
    case
}

/// How a case fails at a step.
pub(crate) struct Failure<'a> {
    /// The step.
    pub(crate) step: usize,
    /// Its error.
    pub(crate) error: &'a str,
    /// How it is brought about.
    pub(crate) trigger: Trigger,
    /// Whether the failing step's own effect happened (its response was lost).
    pub(crate) took_effect: bool,
}

/// What happens to the compensations of a failed case.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Undo<'a> {
    /// Every compensation completes.
    All,
    /// This one is left undone; the escalation marks the trip for an operator.
    Escalated(&'a Compensation),
    /// This one is left undone and the escalation fails too: nobody is told but the execution.
    NobodyTold(&'a Compensation),
    /// This one timed out on every attempt, so the state machine counts it left undone and
    /// escalates, although its effect happened each time (the function finished after Step
    /// Functions stopped waiting): the store shows it undone, the trip needs attention anyway.
    TimedOut(&'a Compensation),
}

impl Undo<'_> {
    /// The compensation left undone.
    fn left(self) -> Option<&'static Compensation> {
        match self {
            Undo::All => None,
            Undo::Escalated(c) | Undo::NobodyTold(c) | Undo::TimedOut(c) => model()
                .compensations
                .iter()
                .find(|known| known.state == c.state),
        }
    }

    /// Whether the effect of `action` stays: its compensation was left undone, or the pivot's
    /// guard failed, which undoes nothing at all (whether the pivot took effect is unknown).
    fn keeps(self, action: &str) -> bool {
        match self {
            // A guard that took effect locked the trip, and undid nothing.
            Undo::TimedOut(c) => c.guard,
            _ => self.left().is_some_and(|c| c.guard || c.undoes == action),
        }
    }
}

/// A case that fails at a step and compensates, or leaves one compensation undone.
pub(crate) fn compensates(
    name: String,
    target: &str,
    failure: &Failure<'_>,
    faults: FaultPlan,
    attempts: &[(String, Attempts)],
    undo: Undo<'_>,
) -> Case {
    let model = model();
    let states_error = failure.error.starts_with("States.");
    let end = match undo {
        Undo::All if states_error => End::CompensatedStatesError,
        Undo::All => End::Compensated,
        Undo::Escalated(_) | Undo::TimedOut(_) => End::Escalated,
        Undo::NobodyTold(_) => End::EscalationFailed,
    };
    let path = compensated_path(failure.step, end, undo.left().map(|c| c.state.as_str()));
    // The pivot's guard ran and locked the trip (cancelling) unless it is what failed.
    let locked = model.steps[failure.step].pivot && !undo.left().is_some_and(|c| c.guard);
    let mut took_effect: BTreeSet<String> = model.steps[..failure.step]
        .iter()
        .map(|s| s.state.clone())
        .collect();
    if failure.took_effect {
        took_effect.insert(model.steps[failure.step].state.clone());
    }
    let undone = took_effect
        .iter()
        .filter(|s| !undo.keeps(s))
        .cloned()
        .collect();
    let pre_cancelled = failure.trigger == Trigger::PreCancelled;
    let cancelled = Reason::StartsWith(if pre_cancelled {
        OPERATOR_REASON.to_owned()
    } else {
        failure.error.to_owned()
    });
    let (outcome, trip, reason) = match undo {
        Undo::All if states_error => (
            format!("FAILED {}", model.step_failed_error),
            TripStatus::Cancelled,
            cancelled,
        ),
        Undo::All => (
            format!("FAILED {}", failure.error),
            TripStatus::Cancelled,
            cancelled,
        ),
        Undo::Escalated(c) | Undo::TimedOut(c) => (
            format!("FAILED {}", model.compensation_failed_error),
            TripStatus::NeedsAttention,
            Reason::Contains(vec![
                format!("left undone: {} (", c.state),
                "; still held: ".to_owned(),
                format!("after {}", failure.error),
            ]),
        ),
        // The trip stays as the compensations left it when its own was left undone: pending,
        // or cancelling when the pivot's guard locked it.
        Undo::NobodyTold(c) if c.undoes == model.steps[0].state || c.guard => (
            format!("FAILED {}", model.escalation_failed_error),
            if locked {
                TripStatus::Cancelling
            } else {
                TripStatus::Pending
            },
            if locked {
                Reason::StartsWith(failure.error.to_owned())
            } else {
                Reason::Nothing
            },
        ),
        // The trip's own compensation found something still held and marked it for attention
        // itself: it never reads CANCELLED while something is held, even when nobody else can
        // be told.
        Undo::NobodyTold(_) => (
            format!("FAILED {}", model.escalation_failed_error),
            TripStatus::NeedsAttention,
            Reason::Contains(vec![
                "still held: ".to_owned(),
                format!("after {}", failure.error),
            ]),
        ),
    };
    let booking = match failure.trigger {
        Trigger::Booking(booking) => booking,
        Trigger::PreCancelled | Trigger::Injected => BOOKING,
    };
    Case {
        name,
        target: target.to_owned(),
        booking,
        pre_cancelled,
        faults,
        expect: Expect {
            outcome,
            calls: calls_along(&path, attempts),
            path,
            retries: retries_of(attempts),
            trip,
            reason,
            trip_created: took_effect.contains(&model.steps[0].state),
            took_effect,
            undone,
        },
    }
}

/// The business failure of `step` as a fault plan (empty unless it is injected) and the
/// attempts it makes at the step.
pub(crate) fn business_failure(step: usize) -> (String, Trigger, FaultPlan) {
    let step_model = &model().steps[step];
    let (error, trigger) = business_trigger(step_model);
    let faults = if trigger == Trigger::Injected {
        FaultPlan::none().fail(&step_model.state, &error, Times::Always)
    } else {
        FaultPlan::none()
    };
    (error, trigger, faults)
}

pub(crate) fn happy_cases() -> Vec<Case> {
    vec![succeeds(
        "happy path".to_owned(),
        "all",
        FaultPlan::none(),
        &[],
    )]
}

/// Group 2: A business failure at every step: the earlier steps are compensated, newest first.
pub(crate) fn business_cases() -> Vec<Case> {
    let model = model();
    (0..model.steps.len())
        .map(|i| {
            let step = &model.steps[i];
            let (error, trigger, faults) = business_failure(i);
            let how = match trigger {
                Trigger::Booking(b) => format!("{} + {}, card {}", b.flight, b.hotel, b.card),
                Trigger::PreCancelled => "trip cancelled before the saga".to_owned(),
                Trigger::Injected => "injected".to_owned(),
            };
            compensates(
                format!("{}: business failure {error} ({how})", step.state),
                &step.state,
                &Failure {
                    step: i,
                    error: &error,
                    trigger,
                    took_effect: false,
                },
                faults,
                &[(step.state.clone(), failing(1, &error))],
                Undo::All,
            )
        })
        .collect()
}

/// Group 2b: Every declared business error of every step, injected: caught at once, never retried.
pub(crate) fn declared_business_error_cases() -> Vec<Case> {
    let model = model();
    let mut cases = Vec::new();
    for (i, step) in model.steps.iter().enumerate() {
        for error in &step.business_errors {
            cases.push(compensates(
                format!("{}: declared business error {error}", step.state),
                &step.state,
                &Failure {
                    step: i,
                    error,
                    trigger: Trigger::Injected,
                    took_effect: false,
                },
                FaultPlan::none().fail(&step.state, error, Times::Always),
                &[(step.state.clone(), failing(1, error))],
                Undo::All,
            ));
        }
    }
    cases
}

/// Group 3a: Every declared transient error of every step, as often as its `Retry` rule allows:
/// absorbed.
pub(crate) fn transient_absorbed_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for step in &model().steps {
        let n = step.retries;
        for error in &step.transient_errors {
            cases.push(succeeds(
                format!("{}: {error} ×{n}, then ok", step.state),
                &step.state,
                FaultPlan::none().fail(&step.state, error, Times::First(n)),
                &[(step.state.clone(), then_ok(failing(n, error)))],
            ));
        }
    }
    cases
}

/// Group 3b: Every declared transient error of every step, every time: the retries run out and the
/// saga compensates.
pub(crate) fn transient_exhausted_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, step) in model().steps.iter().enumerate() {
        let attempts = step.retries + 1;
        for error in &step.transient_errors {
            cases.push(compensates(
                format!("{}: {error} on all {attempts} attempts", step.state),
                &step.state,
                &Failure {
                    step: i,
                    error,
                    trigger: Trigger::Injected,
                    took_effect: false,
                },
                FaultPlan::none().fail(&step.state, error, Times::Always),
                &[(step.state.clone(), failing(attempts, error))],
                Undo::All,
            ));
        }
    }
    cases
}

/// Group 4a: Every step's response lost as often as its `Retry` rule allows, after the effect
/// happened: the retries are idempotent, the effect happens once.
pub(crate) fn lost_response_cases() -> Vec<Case> {
    model()
        .steps
        .iter()
        .map(|step| {
            let n = step.retries;
            succeeds(
                format!("{}: response lost ×{n}, then ok", step.state),
                &step.state,
                FaultPlan::none().lose_response(&step.state, Times::First(n)),
                &[(step.state.clone(), then_ok(failing(n, LOST_RESPONSE_ERROR)))],
            )
        })
        .collect()
}

/// Group 4b: Every reversible step's response lost on every attempt: the saga gives up on a step
/// whose effect happened, so the step's own compensation must find and undo it. The pivot's
/// guard finds the pivot took effect instead: the saga ends as if it had succeeded, with
/// nothing undone (the trip CONFIRMED with its seats, rooms and payment).
///
/// An irreversible step has no compensation of its own, so it is left out.
pub(crate) fn lost_for_good_cases() -> Vec<Case> {
    let model = model();
    model
        .steps
        .iter()
        .enumerate()
        .filter(|(_, step)| step.compensation.is_some())
        .map(|(i, step)| {
            let attempts = step.retries + 1;
            if step.pivot {
                return commits(
                    format!(
                        "{}: response lost on all {attempts} attempts, the guard finds it took effect",
                        step.state
                    ),
                    &step.state,
                    FaultPlan::none().lose_response(&step.state, Times::Always),
                    &[(step.state.clone(), failing(attempts, LOST_RESPONSE_ERROR))],
                );
            }
            compensates(
                format!("{}: response lost on all {attempts} attempts", step.state),
                &step.state,
                &Failure {
                    step: i,
                    error: LOST_RESPONSE_ERROR,
                    trigger: Trigger::Injected,
                    took_effect: true,
                },
                FaultPlan::none().lose_response(&step.state, Times::Always),
                &[(step.state.clone(), failing(attempts, LOST_RESPONSE_ERROR))],
                Undo::All,
            )
        })
        .collect()
}

/// Group 4c: Every step with a `TimeoutSeconds` that runs past it: its effect happens after Step
/// Functions gave up (`States.Timeout`, not retried), so its own compensation must undo it.
pub(crate) fn timeout_cases() -> Vec<Case> {
    model()
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, step)| step.timeout_seconds.map(|t| (i, step, t)))
        .map(|(i, step, timeout)| {
            let late = Duration::from_secs(timeout + 1);
            compensates(
                format!(
                    "{}: {}s late, past its {timeout}s timeout",
                    step.state,
                    late.as_secs()
                ),
                &step.state,
                &Failure {
                    step: i,
                    error: "States.Timeout",
                    trigger: Trigger::Injected,
                    took_effect: true,
                },
                FaultPlan::none().delay(&step.state, late, Times::Always),
                // The function itself succeeds; the executor times the task out.
                &[(step.state.clone(), vec![None])],
                Undo::All,
            )
        })
        .collect()
}

/// A fault at compensation `c` of a saga that fails at its last step, so that every
/// compensation has an effect to undo.
pub(crate) fn at_compensation(
    name: &str,
    target: &str,
    faults: impl FnOnce(FaultPlan) -> FaultPlan,
    attempts: Vec<(String, Attempts)>,
    undo: Undo<'_>,
) -> Case {
    let model = model();
    let last = model.last_step();
    let (error, trigger, trigger_faults) = business_failure(last);
    let mut all_attempts = vec![(model.steps[last].state.clone(), failing(1, &error))];
    all_attempts.extend(attempts);
    compensates(
        format!(
            "{target}: {name}, after {} failed with {error}",
            model.steps[last].state
        ),
        target,
        &Failure {
            step: last,
            error: &error,
            trigger,
            took_effect: false,
        },
        faults(trigger_faults),
        &all_attempts,
        undo,
    )
}

/// Group 4d: Every compensation's response lost as often as its `Retry` rule allows: undone once.
pub(crate) fn compensation_lost_response_cases() -> Vec<Case> {
    model()
        .compensations
        .iter()
        .map(|c| {
            let n = c.retries;
            at_compensation(
                &format!("response lost ×{n}, then ok"),
                &c.state,
                |f| f.lose_response(&c.state, Times::First(n)),
                vec![(c.state.clone(), then_ok(failing(n, LOST_RESPONSE_ERROR)))],
                Undo::All,
            )
        })
        .collect()
}

/// Group 5: Every compensation fails transiently as often as its `Retry` rule allows, then
/// succeeds.
pub(crate) fn compensation_transient_cases() -> Vec<Case> {
    model()
        .compensations
        .iter()
        .map(|c| {
            let n = c.retries;
            at_compensation(
                &format!("{COMPENSATION_TRANSIENT} ×{n}, then ok"),
                &c.state,
                |f| f.fail(&c.state, COMPENSATION_TRANSIENT, Times::First(n)),
                vec![(c.state.clone(), then_ok(failing(n, COMPENSATION_TRANSIENT)))],
                Undo::All,
            )
        })
        .collect()
}

/// Group 6: Every compensation fails on every attempt: the others still run, the trip is escalated,
/// and what it should have undone is still held.
pub(crate) fn compensation_escalation_cases() -> Vec<Case> {
    model()
        .compensations
        .iter()
        .map(|c| {
            let attempts = c.retries + 1;
            at_compensation(
                &format!("{COMPENSATION_TRANSIENT} on all {attempts} attempts"),
                &c.state,
                |f| f.fail(&c.state, COMPENSATION_TRANSIENT, Times::Always),
                vec![(c.state.clone(), failing(attempts, COMPENSATION_TRANSIENT))],
                Undo::Escalated(c),
            )
        })
        .collect()
}

/// Group 6b: The escalation itself fails transiently as often as its `Retry` rule allows (after a
/// compensation was left undone), then records the trip for an operator.
pub(crate) fn escalation_transient_cases() -> Vec<Case> {
    let model = model();
    let n = model.escalation_retries;
    // Any compensation left undone leads to the escalation; the first one in the manifest.
    let c = &model.compensations[0];
    let undone = c.retries + 1;
    vec![at_compensation(
        &format!(
            "{COMPENSATION_TRANSIENT} ×{n}, then ok, after {} failed on all {undone} attempts",
            c.state
        ),
        &model.escalation,
        |f| {
            f.fail(&c.state, COMPENSATION_TRANSIENT, Times::Always)
                .fail(&model.escalation, COMPENSATION_TRANSIENT, Times::First(n))
        },
        vec![
            (c.state.clone(), failing(undone, COMPENSATION_TRANSIENT)),
            (
                model.escalation.clone(),
                then_ok(failing(n, COMPENSATION_TRANSIENT)),
            ),
        ],
        Undo::Escalated(c),
    )]
}

/// Group 6c: The escalation itself fails on every attempt after a compensation was left undone:
/// the execution ends `EscalationFailed` (not `CompensationFailed`, whose cause says the
/// escalation recorded what is left), and the store keeps what was left undone.
///
/// One case per compensation: the trip's own (the trip stays as it was), the pivot's guard
/// (nothing was undone) and each booking's (the trip's own compensation finds the booking still
/// held and marks the trip for attention itself: it never reads CANCELLED with something held).
pub(crate) fn escalation_failed_cases() -> Vec<Case> {
    let model = model();
    let n = model.escalation_retries + 1;
    model
        .compensations
        .iter()
        .map(|c| {
            let undone = c.retries + 1;
            at_compensation(
                &format!(
                    "{COMPENSATION_TRANSIENT} on all {n} attempts, after {} failed on all {undone} attempts",
                    c.state
                ),
                &model.escalation,
                |f| {
                    f.fail(&c.state, COMPENSATION_TRANSIENT, Times::Always)
                        .fail(&model.escalation, COMPENSATION_TRANSIENT, Times::Always)
                },
                vec![
                    (c.state.clone(), failing(undone, COMPENSATION_TRANSIENT)),
                    (model.escalation.clone(), failing(n, COMPENSATION_TRANSIENT)),
                ],
                Undo::NobodyTold(c),
            )
        })
        .collect()
}

/// How long a compensation is held up in group 6d: longer than Lambda lets a function run, and
/// longer than the whole saga was once allowed (900 s), which cut the compensations there.
pub(crate) const HUNG: Duration = Duration::from_mins(16);

/// The attempts of a compensation that outlasts its Task's timeout every time: each call
/// finishes (virtual time), and the executor has stopped waiting for it.
fn timed_out_attempts(c: &Compensation) -> Attempts {
    vec![None; usize::try_from(c.retries + 1).expect("few retries")]
}

/// Group 6d: Every compensation hangs on every attempt: each attempt times out at its Task's
/// `TimeoutSeconds`, is retried, and the compensation is recorded as left undone and escalated.
/// The execution never times out as a whole (no `Catch` would run: the trip would stay PENDING
/// with seats held, nobody told). Then the case of issue #11: a declined payment whose hotel
/// cancellation hangs.
pub(crate) fn compensation_timeout_cases() -> Vec<Case> {
    let model = model();
    let mut cases: Vec<Case> = model
        .compensations
        .iter()
        .map(|c| {
            at_compensation(
                &format!(
                    "{}s late on all {} attempts, past its timeout",
                    HUNG.as_secs(),
                    c.retries + 1
                ),
                &c.state,
                |f| f.delay(&c.state, HUNG, Times::Always),
                vec![(c.state.clone(), timed_out_attempts(c))],
                Undo::TimedOut(c),
            )
        })
        .collect();
    let payment = model
        .steps
        .iter()
        .position(|s| s.state == "ProcessPayment")
        .expect("the trip saga takes a payment");
    let (error, trigger) = business_trigger(&model.steps[payment]);
    let hotel = model
        .compensations
        .iter()
        .find(|c| c.state == "CancelHotel")
        .expect("the trip saga cancels its hotel");
    cases.push(compensates(
        format!(
            "CancelHotel: {}s late on all {} attempts, after {} failed with {error}",
            HUNG.as_secs(),
            hotel.retries + 1,
            model.steps[payment].state
        ),
        &hotel.state,
        &Failure {
            step: payment,
            error: &error,
            trigger,
            took_effect: false,
        },
        FaultPlan::none().delay(&hotel.state, HUNG, Times::Always),
        &[
            (model.steps[payment].state.clone(), failing(1, &error)),
            (hotel.state.clone(), timed_out_attempts(hotel)),
        ],
        Undo::TimedOut(hotel),
    ));
    cases
}
