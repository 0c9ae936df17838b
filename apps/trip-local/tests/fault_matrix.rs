//! The fault matrix: the trip saga end to end on the executor with the real handlers, with a
//! fault at every step and every compensation, on the in-memory store and on DynamoDB (moto).
//!
//! The matrix is generated from the saga itself: the action steps, their compensations and
//! their retry limits come from the generated manifest and state machine
//! (`trip_saga::trip_booking::{MANIFEST, ASL}`), the declared business and transient errors from the
//! `saga!` declaration (`apps/trip-saga/src/saga.rs`). A new step is covered by every group
//! without a change here, except for two tables that say what only a person can: what the step
//! leaves in the store ([`effect_of`]) and, optionally, a request that really makes it fail
//! ([`business_trigger`]); a step missing from the first fails
//! `the_matrix_knows_every_step_of_the_saga`.
//!
//! Every case asserts the execution's status and error, the exact states visited, every
//! invocation (state and error, in order), the number of retries, the trip as stored, and what
//! the store holds: the flight and hotel reservations, the payment, and the stock of the whole
//! catalogue compared with the seeded one. Each case runs on a fresh store (a new in-memory
//! context, or a new table on the shared moto server), so the cases of a test run concurrently
//! and their stock checks are exact.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use flight::ReservationStatus as SeatStatus;
use hotel::ReservationStatus as RoomStatus;
use kernel::dynamo::IdempotencyKey;
use kernel::{Money, TripId};
use payment::PaymentStatus;
use saga_dsl::cli::discover::{Discovery, scan_file};
use serde_json::Value;
use trip::domain::TripStatus;
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::execution::{Report, Saga};
use trip_local::faults::{FaultPlan, LOST_RESPONSE_ERROR, Times};
use trip_local::store::{
    FULL_HOTEL, HOTEL, Inventory, ONE_SEAT_FLIGHT, ROOMY_FLIGHT, inventory, seed,
};
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, MANIFEST};

/// The `saga!` declaration: the only place the business errors of each step are listed.
const DECLARATION: &str = include_str!("../../trip-saga/src/saga.rs");
const DECLARATION_FILE: &str = "apps/trip-saga/src/saga.rs";

/// The states the generator adds around the steps (see `generated/trip_booking.mmd`).
const CHECK: &str = "CheckCompensations";
const COMPENSATED: &str = "Compensated";
const COMPENSATION_FAILED: &str = "CompensationFailed";

/// The error injected into a compensation: its `Retry` matches `States.ALL`.
const COMPENSATION_TRANSIENT: &str = "StoreUnavailable";

/// What `trip_request` books: two passengers on one flight, one room for the three nights.
const SEATS_BOOKED: u32 = 2;
const ROOMS_BOOKED: u32 = 1;
/// 2 seats × 300.00 + 3 nights × 1 room × 150.00, at the seeded prices.
const TRIP_PRICE: &str = "1050.00 USD";

/// The reason an operator cancelled a trip with before its saga ran (the real trigger of
/// `CreateTrip`'s `AlreadySettled`).
const OPERATOR_REASON: &str = "cancelled by an operator before its saga ran";

// ---------------------------------------------------------------------------------------------
// The saga, as the generated artefacts and the declaration describe it.
// ---------------------------------------------------------------------------------------------

/// An action step.
#[derive(Debug)]
struct Step {
    /// Its Task state.
    state: String,
    /// The Task state of its compensation; `None` for an irreversible step.
    compensation: Option<String>,
    /// Declared `business_errors`: caught without a retry.
    business_errors: Vec<String>,
    /// Declared `transient_errors`: retried by the step's own `Retry` rule.
    transient_errors: Vec<String>,
    /// `MaxAttempts` of that rule: how many retries a transient error gets.
    transient_retries: u32,
    /// `MaxAttempts` of the rule on Lambda's service errors (a lost response).
    service_retries: u32,
    /// `TimeoutSeconds` of its Task state, if it has one.
    timeout_seconds: Option<u64>,
}

/// A compensation.
#[derive(Debug)]
struct Compensation {
    /// Its Task state.
    state: String,
    /// The action state it undoes.
    undoes: String,
    /// `MaxAttempts` of its `Retry` rule (on every error) before the escalation.
    retries: u32,
}

/// The whole saga.
#[derive(Debug)]
struct Model {
    /// The first state.
    start: String,
    /// The action steps, in the order they run.
    steps: Vec<Step>,
    /// The compensations, in manifest order.
    compensations: Vec<Compensation>,
    /// The escalation's Task state.
    escalation: String,
    /// Every Task state (the states that invoke a function).
    tasks: BTreeSet<String>,
    /// The error of the execution when a compensation is left undone.
    compensation_failed_error: String,
}

impl Model {
    fn last_step(&self) -> usize {
        self.steps.len() - 1
    }
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(build_model)
}

fn text(value: &Value, what: &str) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {value}"))
        .to_owned()
}

fn max_attempts(retrier: &Value) -> u32 {
    let attempts = retrier["MaxAttempts"]
        .as_u64()
        .unwrap_or_else(|| panic!("no MaxAttempts in {retrier}"));
    u32::try_from(attempts).expect("MaxAttempts fits in u32")
}

/// The `Retry` rule of `state` for Lambda's service errors (`lambda`) or for the others.
fn retrier<'a>(asl_state: &'a Value, state: &str, lambda: bool) -> &'a Value {
    let rules = asl_state["Retry"]
        .as_array()
        .unwrap_or_else(|| panic!("{state} has no Retry"));
    let matching: Vec<&Value> = rules
        .iter()
        .filter(|rule| {
            rule["ErrorEquals"]
                .as_array()
                .is_some_and(|names| names.iter().any(is_lambda_error) == lambda)
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{state}: expected one Retry rule {} Lambda's errors, found {matching:?}",
        if lambda { "for" } else { "besides" }
    );
    matching[0]
}

fn is_lambda_error(name: &Value) -> bool {
    name.as_str().is_some_and(|n| n.starts_with("Lambda."))
}

fn error_names(rule: &Value) -> Vec<String> {
    rule["ErrorEquals"]
        .as_array()
        .expect("ErrorEquals is a list")
        .iter()
        .map(|n| text(n, "an error name"))
        .collect()
}

fn build_model() -> Model {
    let asl: Value = serde_json::from_str(ASL).expect("the generated ASL is JSON");
    let manifest: Value = serde_json::from_str(MANIFEST).expect("the manifest is JSON");
    let states = asl["States"].as_object().expect("States is an object");
    let functions = manifest["functions"]
        .as_array()
        .expect("the manifest lists functions");
    let of_kind = |kind: &str| -> Vec<String> {
        functions
            .iter()
            .filter(|f| f["kind"] == kind)
            .map(|f| text(&f["state"], "a function's state"))
            .collect()
    };
    let actions = of_kind("action");
    let escalations = of_kind("escalation");
    assert_eq!(escalations.len(), 1, "one escalation: {escalations:?}");

    // The actions run in manifest order: StartAt, then `Next` from Task to Task.
    let start = text(&asl["StartAt"], "StartAt");
    let mut chain = Vec::new();
    let mut next = states[&start]["Next"].as_str();
    while let Some(state) = next {
        chain.push(state.to_owned());
        next = states[state]["Next"].as_str();
    }
    assert_eq!(
        chain, actions,
        "the success path runs the manifest's actions"
    );

    let compensations: Vec<Compensation> = of_kind("compensation")
        .into_iter()
        .map(|state| {
            let asl_state = &states[&state];
            // `States.Format('{}:ReserveFlight', $$.Execution.Name)`: the action it undoes.
            let key = text(
                &asl_state["Parameters"]["Payload"]["action_idempotency_key.$"],
                "action_idempotency_key.$",
            );
            let undoes = key
                .split_once("{}:")
                .and_then(|(_, rest)| rest.split_once('\''))
                .map_or_else(
                    || panic!("{state}: cannot read the action of {key}"),
                    |(action, _)| action.to_owned(),
                );
            let rules = asl_state["Retry"]
                .as_array()
                .expect("a compensation retries");
            assert_eq!(rules.len(), 1, "{state}: one Retry rule");
            assert_eq!(error_names(&rules[0]), ["States.ALL"], "{state}");
            Compensation {
                retries: max_attempts(&rules[0]),
                state,
                undoes,
            }
        })
        .collect();

    let declared = declared_steps(DECLARATION);
    let declared_names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        declared_names, actions,
        "the declaration's steps are the manifest's actions"
    );
    let steps = declared
        .into_iter()
        .map(|declared| {
            let state = declared.name;
            let asl_state = &states[&state];
            let transient = retrier(asl_state, &state, false);
            assert_eq!(
                error_names(transient),
                declared.transient_errors,
                "{state}: the ASL retries exactly the declared transient errors"
            );
            let compensation = compensations
                .iter()
                .find(|c| c.undoes == state)
                .map(|c| c.state.clone());
            Step {
                transient_retries: max_attempts(transient),
                service_retries: max_attempts(retrier(asl_state, &state, true)),
                timeout_seconds: asl_state["TimeoutSeconds"].as_u64(),
                business_errors: declared.business_errors,
                transient_errors: declared.transient_errors,
                compensation,
                state,
            }
        })
        .collect();

    let tasks = states
        .iter()
        .filter(|(_, s)| s["Type"] == "Task")
        .map(|(name, _)| name.clone())
        .collect();
    for state in [CHECK, COMPENSATED, COMPENSATION_FAILED] {
        assert!(states.contains_key(state), "the ASL has no {state} state");
    }
    Model {
        start,
        steps,
        compensations,
        escalation: escalations[0].clone(),
        tasks,
        compensation_failed_error: text(
            &states[COMPENSATION_FAILED]["Error"],
            "CompensationFailed's Error",
        ),
    }
}

/// A step as the `saga!` declaration writes it.
#[derive(Debug)]
struct Declared {
    name: String,
    business_errors: Vec<String>,
    transient_errors: Vec<String>,
}

/// The steps of the `saga!` declaration, read by the DSL's own parser (what `saga-dsl` and the
/// macro compile), with their error lists.
fn declared_steps(source: &str) -> Vec<Declared> {
    let mut discovery = Discovery::default();
    scan_file(
        Path::new(DECLARATION_FILE),
        source,
        "trip-saga",
        &mut discovery,
    );
    assert!(
        discovery.invalid.is_empty(),
        "{DECLARATION_FILE} compiles: {:?}",
        discovery.invalid
    );
    let [found] = discovery.sagas.as_slice() else {
        panic!("{DECLARATION_FILE} declares exactly one saga");
    };
    found
        .compiled
        .saga
        .steps
        .iter()
        .map(|step| Declared {
            name: step.action.name.clone(),
            business_errors: step.business_errors.clone(),
            transient_errors: step.transient_errors.clone(),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What the steps do to the store, and how to make them fail for real.
// ---------------------------------------------------------------------------------------------

/// What an action leaves in the store when it takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// The trip record, pending (its compensation cancels it).
    Trip,
    /// A flight reservation holding seats.
    Seats,
    /// A hotel reservation holding rooms on every night of the stay.
    Rooms,
    /// A captured payment.
    Payment,
    /// The trip confirmed.
    Confirmation,
}

/// The one table a new step must be added to: what it leaves in the store.
fn effect_of(state: &str) -> Option<Effect> {
    match state {
        "CreateTrip" => Some(Effect::Trip),
        "ReserveFlight" => Some(Effect::Seats),
        "ReserveHotel" => Some(Effect::Rooms),
        "ProcessPayment" => Some(Effect::Payment),
        "ConfirmTrip" => Some(Effect::Confirmation),
        _ => None,
    }
}

/// What a trip asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Booking {
    flight: &'static str,
    hotel: &'static str,
    card: &'static str,
}

/// A trip every step accepts.
const BOOKING: Booking = Booking {
    flight: ROOMY_FLIGHT,
    hotel: HOTEL,
    card: GOOD_CARD,
};

/// How a business failure is brought about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// A request the step really refuses.
    Booking(Booking),
    /// The trip was cancelled by an operator before its saga ran.
    PreCancelled,
    /// The error is injected (no request makes the step fail by itself).
    Injected,
}

/// The business failure of `step`: a request that really makes it fail where there is one (the
/// seeded catalogue has a one-seat flight and a full hotel; the payment provider declines
/// `tok_decline_…` cards), else the step's first declared business error, injected.
fn business_trigger(step: &Step) -> (String, Trigger) {
    let real = match step.state.as_str() {
        "CreateTrip" => Some(("AlreadySettled", Trigger::PreCancelled)),
        "ReserveFlight" => Some((
            "SoldOut",
            Trigger::Booking(Booking {
                flight: ONE_SEAT_FLIGHT,
                ..BOOKING
            }),
        )),
        "ReserveHotel" => Some((
            "NoRooms",
            Trigger::Booking(Booking {
                hotel: FULL_HOTEL,
                ..BOOKING
            }),
        )),
        "ProcessPayment" => Some((
            "PaymentDeclined",
            Trigger::Booking(Booking {
                card: DECLINED_CARD,
                ..BOOKING
            }),
        )),
        _ => None,
    };
    if let Some((error, trigger)) = real {
        assert!(
            step.business_errors.iter().any(|e| e == error),
            "{}: {error} is not a declared business error ({:?})",
            step.state,
            step.business_errors
        );
        (error.to_owned(), trigger)
    } else {
        let error = step
            .business_errors
            .first()
            .unwrap_or_else(|| panic!("{} declares no business error", step.state));
        (error.clone(), Trigger::Injected)
    }
}

// ---------------------------------------------------------------------------------------------
// Cases.
// ---------------------------------------------------------------------------------------------

/// Which store the services use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    InMemory,
    DynamoDb,
}

/// How each invocation of a state ends: `None` for success, else the error name.
type Attempts = Vec<Option<String>>;

fn failing(times: u32, error: &str) -> Attempts {
    (0..times).map(|_| Some(error.to_owned())).collect()
}

fn then_ok(mut attempts: Attempts) -> Attempts {
    attempts.push(None);
    attempts
}

/// What the trip's stored reason must say.
#[derive(Debug, Clone)]
enum Reason {
    /// No reason (a confirmed trip).
    Nothing,
    /// Starts with this (a cancelled trip: the error that started compensation).
    StartsWith(String),
    /// Contains every one of these (an escalated trip: what is left undone, and why).
    Contains(Vec<String>),
}

/// What a case must end with.
#[derive(Debug, Clone)]
struct Expect {
    /// `SUCCEEDED`, or `FAILED <error>`.
    outcome: String,
    /// The states entered, in order.
    path: Vec<String>,
    /// Every invocation, in order: state and error.
    calls: Vec<(String, Option<String>)>,
    /// Retries the executor scheduled.
    retries: usize,
    /// The trip's final status.
    trip: TripStatus,
    /// The trip's reason.
    reason: Reason,
    /// Whether the trip's request was recorded (`CreateTrip` ran).
    trip_created: bool,
    /// The actions whose effect happened.
    took_effect: BTreeSet<String>,
    /// Of those, the ones whose effect was undone.
    undone: BTreeSet<String>,
}

/// One execution of the matrix.
#[derive(Debug, Clone)]
struct Case {
    /// `ReserveHotel: StoreThrottled ×3, then ok`.
    name: String,
    /// The state the fault is at (for the coverage check).
    target: String,
    booking: Booking,
    pre_cancelled: bool,
    faults: FaultPlan,
    expect: Expect,
}

fn happy_path() -> Vec<String> {
    let model = model();
    std::iter::once(model.start.clone())
        .chain(model.steps.iter().map(|s| s.state.clone()))
        .collect()
}

/// The path of a failure at step `failed`: the steps up to it, the compensations of those steps
/// (its own included: its action may have taken effect), newest first, then the check and its
/// end.
fn compensated_path(failed: usize, escalated: bool) -> Vec<String> {
    let model = model();
    let mut path = vec![model.start.clone()];
    path.extend(model.steps[..=failed].iter().map(|s| s.state.clone()));
    path.extend(
        model.steps[..=failed]
            .iter()
            .rev()
            .filter_map(|s| s.compensation.clone()),
    );
    path.push(CHECK.to_owned());
    if escalated {
        path.extend([model.escalation.clone(), COMPENSATION_FAILED.to_owned()]);
    } else {
        path.push(COMPENSATED.to_owned());
    }
    path
}

/// Every invocation along `path`: each Task state once and successfully, unless `attempts`
/// says otherwise for it.
fn calls_along(path: &[String], attempts: &[(String, Attempts)]) -> Vec<(String, Option<String>)> {
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

fn retries_of(attempts: &[(String, Attempts)]) -> usize {
    attempts
        .iter()
        .map(|(_, a)| a.len().saturating_sub(1))
        .sum()
}

/// A case that must succeed: every step took effect, nothing was undone.
fn succeeds(
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

/// How a case fails at a step.
struct Failure<'a> {
    /// The step.
    step: usize,
    /// Its error.
    error: &'a str,
    /// How it is brought about.
    trigger: Trigger,
    /// Whether the failing step's own effect happened (its response was lost).
    took_effect: bool,
}

/// A case that fails at a step and compensates; `escalated` names the compensation left undone.
fn compensates(
    name: String,
    target: &str,
    failure: &Failure<'_>,
    faults: FaultPlan,
    attempts: &[(String, Attempts)],
    escalated: Option<&Compensation>,
) -> Case {
    let model = model();
    let path = compensated_path(failure.step, escalated.is_some());
    let mut took_effect: BTreeSet<String> = model.steps[..failure.step]
        .iter()
        .map(|s| s.state.clone())
        .collect();
    if failure.took_effect {
        took_effect.insert(model.steps[failure.step].state.clone());
    }
    let undone = took_effect
        .iter()
        .filter(|s| escalated.is_none_or(|c| c.undoes != **s))
        .cloned()
        .collect();
    let pre_cancelled = failure.trigger == Trigger::PreCancelled;
    let (outcome, trip, reason) = match escalated {
        None => (
            format!("FAILED {}", failure.error),
            TripStatus::Cancelled,
            Reason::StartsWith(if pre_cancelled {
                OPERATOR_REASON.to_owned()
            } else {
                failure.error.to_owned()
            }),
        ),
        Some(c) => (
            format!("FAILED {}", model.compensation_failed_error),
            TripStatus::NeedsAttention,
            Reason::Contains(vec![
                format!("left undone: {} (", c.state),
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
fn business_failure(step: usize) -> (String, Trigger, FaultPlan) {
    let step_model = &model().steps[step];
    let (error, trigger) = business_trigger(step_model);
    let faults = if trigger == Trigger::Injected {
        FaultPlan::none().fail(&step_model.state, &error, Times::Always)
    } else {
        FaultPlan::none()
    };
    (error, trigger, faults)
}

// ---------------------------------------------------------------------------------------------
// The groups of the matrix.
// ---------------------------------------------------------------------------------------------

fn happy_cases() -> Vec<Case> {
    vec![succeeds(
        "happy path".to_owned(),
        "all",
        FaultPlan::none(),
        &[],
    )]
}

/// Group 2: A business failure at every step: the earlier steps are compensated, newest first.
fn business_cases() -> Vec<Case> {
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
                None,
            )
        })
        .collect()
}

/// Group 2b: Every declared business error of every step, injected: caught at once, never retried.
fn declared_business_error_cases() -> Vec<Case> {
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
                None,
            ));
        }
    }
    cases
}

/// Group 3a: Every declared transient error of every step, as often as its `Retry` rule allows:
/// absorbed.
fn transient_absorbed_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for step in &model().steps {
        let n = step.transient_retries;
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
fn transient_exhausted_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, step) in model().steps.iter().enumerate() {
        let attempts = step.transient_retries + 1;
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
                None,
            ));
        }
    }
    cases
}

/// Group 4a: Every step's response lost as often as its `Retry` rule allows, after the effect
/// happened: the retries are idempotent, the effect happens once.
fn lost_response_cases() -> Vec<Case> {
    model()
        .steps
        .iter()
        .map(|step| {
            let n = step.service_retries;
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
/// whose effect happened, so the step's own compensation must find and undo it.
///
/// An irreversible step has no compensation of its own, so it is left out. Known gap, not
/// asserted: `ConfirmTrip=lose-response:always` confirms the trip, then the earlier steps'
/// compensations release its seats, rooms and payment while it stays CONFIRMED (`CancelTrip`
/// leaves a confirmed trip as it is) and the execution ends `Compensated`, not escalated.
fn lost_for_good_cases() -> Vec<Case> {
    let model = model();
    model
        .steps
        .iter()
        .enumerate()
        .filter(|(_, step)| step.compensation.is_some())
        .map(|(i, step)| {
            let attempts = step.service_retries + 1;
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
                None,
            )
        })
        .collect()
}

/// Group 4c: Every step with a `TimeoutSeconds` that runs past it: its effect happens after Step
/// Functions gave up (`States.Timeout`, not retried), so its own compensation must undo it.
fn timeout_cases() -> Vec<Case> {
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
                None,
            )
        })
        .collect()
}

/// A fault at compensation `c` of a saga that fails at its last step, so that every
/// compensation has an effect to undo.
fn at_compensation(
    name: &str,
    target: &str,
    c: &Compensation,
    faults: impl FnOnce(FaultPlan) -> FaultPlan,
    attempts: Vec<(String, Attempts)>,
    escalated: bool,
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
        escalated.then_some(c),
    )
}

/// Group 4d: Every compensation's response lost as often as its `Retry` rule allows: undone once.
fn compensation_lost_response_cases() -> Vec<Case> {
    model()
        .compensations
        .iter()
        .map(|c| {
            let n = c.retries;
            at_compensation(
                &format!("response lost ×{n}, then ok"),
                &c.state,
                c,
                |f| f.lose_response(&c.state, Times::First(n)),
                vec![(c.state.clone(), then_ok(failing(n, LOST_RESPONSE_ERROR)))],
                false,
            )
        })
        .collect()
}

/// Group 5: Every compensation fails transiently as often as its `Retry` rule allows, then
/// succeeds.
fn compensation_transient_cases() -> Vec<Case> {
    model()
        .compensations
        .iter()
        .map(|c| {
            let n = c.retries;
            at_compensation(
                &format!("{COMPENSATION_TRANSIENT} ×{n}, then ok"),
                &c.state,
                c,
                |f| f.fail(&c.state, COMPENSATION_TRANSIENT, Times::First(n)),
                vec![(c.state.clone(), then_ok(failing(n, COMPENSATION_TRANSIENT)))],
                false,
            )
        })
        .collect()
}

/// Group 6: Every compensation fails on every attempt: the others still run, the trip is escalated,
/// and what it should have undone is still held.
fn compensation_escalation_cases() -> Vec<Case> {
    model()
        .compensations
        .iter()
        .map(|c| {
            let attempts = c.retries + 1;
            at_compensation(
                &format!("{COMPENSATION_TRANSIENT} on all {attempts} attempts"),
                &c.state,
                c,
                |f| f.fail(&c.state, COMPENSATION_TRANSIENT, Times::Always),
                vec![(c.state.clone(), failing(attempts, COMPENSATION_TRANSIENT))],
                true,
            )
        })
        .collect()
}

/// Group 6b: The escalation itself fails transiently as often as its `Retry` rule allows (after a
/// compensation was left undone), then records the trip for an operator.
fn escalation_transient_cases() -> Vec<Case> {
    let model = model();
    let asl: Value = serde_json::from_str(ASL).expect("the generated ASL is JSON");
    let rules = asl["States"][&model.escalation]["Retry"]
        .as_array()
        .expect("the escalation retries");
    let n = max_attempts(&rules[0]);
    // Any compensation left undone leads to the escalation; the first one in the manifest.
    let c = &model.compensations[0];
    let undone = c.retries + 1;
    vec![at_compensation(
        &format!(
            "{COMPENSATION_TRANSIENT} ×{n}, then ok, after {} failed on all {undone} attempts",
            c.state
        ),
        &model.escalation,
        c,
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
        true,
    )]
}

// ---------------------------------------------------------------------------------------------
// Running and checking a case.
// ---------------------------------------------------------------------------------------------

/// A fresh, seeded store of `kind` and the saga on it.
async fn fresh_saga(kind: StoreKind) -> Saga {
    let context = match kind {
        StoreKind::InMemory => TripContext::in_memory(),
        StoreKind::DynamoDb => {
            let table = kernel::testing::test_table().await;
            TripContext::dynamodb(&table.client, &table.name)
        }
    };
    let saga = Saga::new(context);
    seed(saga.context()).await.expect("seeding the catalogue");
    saga
}

/// Mismatches of one case, collected so that a case reports all of them at once.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn eq<T: PartialEq + Debug>(&mut self, what: &str, actual: &T, expected: &T) {
        if actual != expected {
            self.0.push(format!(
                "{what}:\n      expected {expected:?}\n      got      {actual:?}"
            ));
        }
    }

    fn that(&mut self, what: &str, ok: bool, detail: impl FnOnce() -> String) {
        if !ok {
            self.0.push(format!("{what}: {}", detail()));
        }
    }
}

/// The stock `seeded` less what a trip of `booking` still holds.
fn stock_left(seeded: &Inventory, booking: Booking, seats: bool, rooms: bool) -> Inventory {
    let mut stock = seeded.clone();
    if seats {
        match booking.flight {
            ROOMY_FLIGHT => stock.roomy_flight_seats -= SEATS_BOOKED,
            ONE_SEAT_FLIGHT => stock.one_seat_flight_seats -= SEATS_BOOKED,
            other => panic!("no stock for flight {other}"),
        }
    }
    if rooms {
        let nights = match booking.hotel {
            HOTEL => &mut stock.hotel_rooms,
            FULL_HOTEL => &mut stock.full_hotel_rooms,
            other => panic!("no stock for hotel {other}"),
        };
        for night in nights {
            *night -= ROOMS_BOOKED;
        }
    }
    stock
}

/// The state machine's result of `state` (kept under `$.results`), when it succeeded.
fn kept_result<'a>(report: &'a Report, state: &str) -> Option<&'a Value> {
    report
        .execution
        .output
        .as_ref()
        .map(|output| &output["results"][state]["output"])
}

/// Runs `case` on a fresh store of `kind`; `Err` lists every mismatch.
async fn run_case(kind: StoreKind, case: Case, seed: u64) -> Result<(), String> {
    let saga = fresh_saga(kind).await;
    let context = saga.context();
    let seeded = inventory(context).await.map_err(|e| e.to_string())?;
    let trip_id = TripId::new();
    if case.pre_cancelled {
        let key = IdempotencyKey::parse("operator:CancelTrip").expect("a valid key");
        context
            .trips
            .cancel(trip_id, OPERATOR_REASON, &key)
            .await
            .map_err(|e| e.to_string())?;
    }
    let b = case.booking;
    let request = trip_request(trip_id, b.flight, b.hotel, b.card);
    let report = saga
        .run(request, case.faults.clone(), Arc::new(()), seed)
        .await
        .map_err(|e| e.to_string())?;
    let mut checks = Checks::default();
    check_execution(&mut checks, &case.expect, &report);
    check_store(&mut checks, &case, context, &report, trip_id, &seeded)
        .await
        .map_err(|e| e.to_string())?;
    if checks.0.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} (faults: {}, trip {trip_id}):\n  - {}\n  history:\n{}",
            case.name,
            case.faults,
            checks.0.join("\n  - "),
            report.execution.history
        ))
    }
}

fn check_execution(checks: &mut Checks, expect: &Expect, report: &Report) {
    checks.eq("outcome", &report.outcome(), &expect.outcome);
    let path: Vec<&str> = report.states_visited();
    let expected_path: Vec<&str> = expect.path.iter().map(String::as_str).collect();
    checks.eq("states visited", &path, &expected_path);
    let calls: Vec<(String, Option<String>)> = report
        .calls
        .iter()
        .map(|c| (c.state.clone(), c.error().map(str::to_owned)))
        .collect();
    checks.eq("invocations (state, error)", &calls, &expect.calls);
    checks.eq("retries", &report.retries(), &expect.retries);
    match &report.trip {
        None => checks.0.push("the trip is not stored".to_owned()),
        Some(trip) => {
            checks.eq("trip status", &trip.status, &expect.trip);
            checks.eq(
                "trip request recorded",
                &trip.request.is_some(),
                &expect.trip_created,
            );
            let reason = trip.reason.as_deref();
            let ok = match &expect.reason {
                Reason::Nothing => reason.is_none(),
                Reason::StartsWith(start) => reason.is_some_and(|r| r.starts_with(start.as_str())),
                Reason::Contains(parts) => {
                    reason.is_some_and(|r| parts.iter().all(|p| r.contains(p.as_str())))
                }
            };
            checks.that("trip reason", ok, || {
                format!("expected {:?}, got {reason:?}", expect.reason)
            });
        }
    }
}

/// The store, read back through the services: each action's effect is there exactly when it
/// happened, released exactly when it was undone, and the stock is the seeded one less what is
/// still held.
async fn check_store(
    checks: &mut Checks,
    case: &Case,
    context: &TripContext,
    report: &Report,
    trip_id: TripId,
    seeded: &Inventory,
) -> Result<(), kernel::InfraError> {
    let expect = &case.expect;
    let state_of = |effect: Effect| -> Option<&String> {
        model()
            .steps
            .iter()
            .map(|s| &s.state)
            .find(|s| effect_of(s) == Some(effect))
    };
    // `Some(true)`: took effect and still held; `Some(false)`: took effect and undone.
    let held = |effect: Effect| -> Option<bool> {
        state_of(effect)
            .filter(|s| expect.took_effect.contains(*s))
            .map(|s| !expect.undone.contains(s))
    };
    let succeeded = report.execution.output.is_some();

    let seats = context.flights.reservation(trip_id).await?;
    let expected_seats = held(Effect::Seats).map(|held| {
        if held {
            SeatStatus::Reserved
        } else {
            SeatStatus::Cancelled
        }
    });
    checks.eq(
        "flight reservation",
        &seats.as_ref().map(|r| r.status),
        &expected_seats,
    );
    if let Some(seats) = &seats {
        checks.eq(
            "seats reserved",
            &u32::from(seats.passengers.get()),
            &SEATS_BOOKED,
        );
        checks.eq(
            "flight reserved",
            &seats.flight.to_string(),
            &case.booking.flight.to_owned(),
        );
    }

    let rooms = context.hotels.reservation(trip_id).await?;
    let expected_rooms = held(Effect::Rooms).map(|held| {
        if held {
            RoomStatus::Reserved
        } else {
            RoomStatus::Cancelled
        }
    });
    checks.eq(
        "hotel reservation",
        &rooms.as_ref().map(|r| r.status),
        &expected_rooms,
    );
    if let Some(rooms) = &rooms {
        checks.eq("rooms reserved", &rooms.rooms, &ROOMS_BOOKED);
        checks.eq(
            "hotel reserved",
            &rooms.hotel.to_string(),
            &case.booking.hotel.to_owned(),
        );
    }

    let payment = context.payments.payment(trip_id).await?;
    let expected_payment = held(Effect::Payment).map(|held| {
        if held {
            PaymentStatus::Captured
        } else {
            PaymentStatus::Refunded
        }
    });
    checks.eq(
        "payment",
        &payment.as_ref().map(|p| p.status),
        &expected_payment,
    );
    if let Some(payment) = &payment {
        checks.eq(
            "amount charged",
            &payment.amount,
            &Money::parse(TRIP_PRICE).expect("a valid amount"),
        );
    }

    // What the state machine kept as each step's result is what the store holds: a retry after
    // a lost response answered with the effect the lost call made, not a second one.
    if succeeded {
        let kept = |effect: Effect| state_of(effect).and_then(|s| kept_result(report, s));
        let stored = [
            (Effect::Seats, seats.as_ref().map(serde_json::to_value)),
            (Effect::Rooms, rooms.as_ref().map(serde_json::to_value)),
            (Effect::Payment, payment.as_ref().map(serde_json::to_value)),
        ];
        for (effect, stored) in stored {
            let stored = stored.transpose().expect("a stored record serialises");
            checks.eq(
                &format!("{effect:?}: the result kept by the state machine is the stored one"),
                &kept(effect),
                &stored.as_ref(),
            );
        }
    }

    let stock = inventory(context).await?;
    let expected_stock = stock_left(
        seeded,
        case.booking,
        held(Effect::Seats) == Some(true),
        held(Effect::Rooms) == Some(true),
    );
    checks.eq("stock", &stock, &expected_stock);
    Ok(())
}

/// Runs `cases` concurrently on `kind`, after checking that they cover exactly `targets` (the
/// states the group must cover, from the manifest) and number `count`; fails with every failing
/// case named.
async fn run_all(kind: StoreKind, cases: Vec<Case>, targets: &[&str], count: usize) {
    assert!(count > 0, "a group of the matrix must have cases");
    assert_eq!(
        cases.len(),
        count,
        "cases: {:#?}",
        cases.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    let covered: BTreeSet<&str> = cases.iter().map(|c| c.target.as_str()).collect();
    let targets: BTreeSet<&str> = targets.iter().copied().collect();
    assert_eq!(covered, targets, "the states the cases put a fault at");
    let total = cases.len();
    let mut running = Vec::new();
    for (i, case) in cases.into_iter().enumerate() {
        let name = case.name.clone();
        let seed = u64::try_from(i).expect("few cases");
        running.push((name, tokio::spawn(run_case(kind, case, seed))));
    }
    let mut failures = Vec::new();
    for (name, handle) in running {
        match handle.await {
            Ok(Ok(())) => {}
            Ok(Err(problems)) => failures.push(problems),
            Err(e) => failures.push(format!("{name}: panicked: {}", panic_message(e))),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed on {kind:?}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a non-string panic".to_owned()),
        Err(error) => error.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// What the matrix must cover, counted from the manifest and the declaration.
// ---------------------------------------------------------------------------------------------

fn manifest_states(kind: &str) -> Vec<&'static str> {
    static MANIFEST_JSON: OnceLock<Value> = OnceLock::new();
    let manifest =
        MANIFEST_JSON.get_or_init(|| serde_json::from_str(MANIFEST).expect("manifest JSON"));
    manifest["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter(|f| f["kind"] == kind)
        .map(|f| f["state"].as_str().expect("a state"))
        .collect()
}

fn actions() -> Vec<&'static str> {
    manifest_states("action")
}

fn compensations() -> Vec<&'static str> {
    manifest_states("compensation")
}

fn reversible_actions() -> Vec<&'static str> {
    let undone: Vec<String> = model()
        .compensations
        .iter()
        .map(|c| c.undoes.clone())
        .collect();
    actions()
        .into_iter()
        .filter(|a| undone.iter().any(|u| u == a))
        .collect()
}

fn timed_actions() -> Vec<&'static str> {
    let asl: Value = serde_json::from_str(ASL).expect("the generated ASL is JSON");
    actions()
        .into_iter()
        .filter(|a| asl["States"][*a]["TimeoutSeconds"].is_u64())
        .collect()
}

fn declared_business_errors() -> usize {
    declared_steps(DECLARATION)
        .iter()
        .map(|d| d.business_errors.len())
        .sum()
}

fn declared_transient_errors() -> usize {
    declared_steps(DECLARATION)
        .iter()
        .map(|d| d.transient_errors.len())
        .sum()
}

#[test]
fn the_matrix_knows_every_step_of_the_saga() {
    let model = model();
    assert_eq!(
        model
            .steps
            .iter()
            .map(|s| s.state.as_str())
            .collect::<Vec<_>>(),
        actions()
    );
    assert_eq!(
        model
            .compensations
            .iter()
            .map(|c| c.state.as_str())
            .collect::<Vec<_>>(),
        compensations()
    );
    for step in &model.steps {
        assert!(
            effect_of(&step.state).is_some(),
            "the fault matrix does not know what {} leaves in the store: add it to `effect_of`",
            step.state
        );
        assert!(
            !step.business_errors.is_empty(),
            "{}: no business error",
            step.state
        );
        assert!(
            !step.transient_errors.is_empty() && step.transient_retries > 0,
            "{}: no transient error, or no retry",
            step.state
        );
        assert!(
            step.service_retries > 0,
            "{}: no retry of a lost response",
            step.state
        );
        let _ = business_trigger(step);
    }
    for c in &model.compensations {
        assert!(
            model.steps.iter().any(|s| s.state == c.undoes),
            "{} undoes {}, which is not a step",
            c.state,
            c.undoes
        );
        assert!(c.retries > 0, "{}: no retry", c.state);
    }
    // Every step's effect is a different one: the store checks tell them apart.
    let effects: BTreeSet<String> = model
        .steps
        .iter()
        .map(|s| format!("{:?}", effect_of(&s.state)))
        .collect();
    assert_eq!(effects.len(), model.steps.len());
}

/// One test per group and store; each runs every case of its group and names the failing ones.
macro_rules! fault_matrix {
    ($($store:ident => $kind:expr;)*) => {$(
        mod $store {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn happy_path() {
                run_all($kind, happy_cases(), &["all"], 1).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_business_failure_at_every_step_compensates_the_earlier_steps_newest_first() {
                run_all($kind, business_cases(), &actions(), actions().len()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_declared_business_error_is_caught_without_a_retry() {
                run_all(
                    $kind,
                    declared_business_error_cases(),
                    &actions(),
                    declared_business_errors(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn transient_errors_up_to_the_retry_limit_are_absorbed_at_every_step() {
                run_all(
                    $kind,
                    transient_absorbed_cases(),
                    &actions(),
                    declared_transient_errors(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn transient_errors_past_the_retry_limit_compensate_at_every_step() {
                run_all(
                    $kind,
                    transient_exhausted_cases(),
                    &actions(),
                    declared_transient_errors(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_lost_response_at_every_step_is_retried_idempotently() {
                run_all($kind, lost_response_cases(), &actions(), actions().len()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_step_whose_response_is_always_lost_is_undone_by_its_own_compensation() {
                run_all(
                    $kind,
                    lost_for_good_cases(),
                    &reversible_actions(),
                    reversible_actions().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_step_that_times_out_after_taking_effect_is_undone_by_its_own_compensation() {
                run_all($kind, timeout_cases(), &timed_actions(), timed_actions().len()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn a_lost_response_at_every_compensation_is_retried_idempotently() {
                run_all(
                    $kind,
                    compensation_lost_response_cases(),
                    &compensations(),
                    compensations().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_compensation_absorbs_transient_failures() {
                run_all(
                    $kind,
                    compensation_transient_cases(),
                    &compensations(),
                    compensations().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn every_compensation_that_keeps_failing_escalates_and_the_others_still_run() {
                run_all(
                    $kind,
                    compensation_escalation_cases(),
                    &compensations(),
                    compensations().len(),
                )
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn the_escalation_absorbs_transient_failures() {
                run_all(
                    $kind,
                    escalation_transient_cases(),
                    &manifest_states("escalation"),
                    manifest_states("escalation").len(),
                )
                .await;
            }
        }
    )*};
}

fault_matrix! {
    in_memory => StoreKind::InMemory;
    dynamodb => StoreKind::DynamoDb;
}
