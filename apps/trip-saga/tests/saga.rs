//! The trip booking saga end to end: the generated state machine run by `asl-executor`, its
//! Task states invoking the real handlers in-process exactly as Lambda would (same payload,
//! same error names), on the in-memory store and on DynamoDB (moto).

#[path = "support/access.rs"]
mod access;

use std::collections::{BTreeMap, BTreeSet};

use asl_executor::{
    BoxFuture, EventKind, Execution, ExecutionOptions, LambdaError, LambdaInvocation,
    LambdaInvoker, LambdaTasks, StateMachine, Status,
};
use hotel::HotelCode;
use kernel::{CalendarDate, FlightNumber, Money, TripId};
use saga_runtime::local::InProcess;
use serde_json::{Value, json};
use trip::domain::TripStatus;
use trip_saga::TripContext;
use trip_saga::trip_booking::{ASL, Function};

const DAY: &str = "2026-12-01";

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).unwrap()
}

async fn seeded(context: TripContext) -> TripContext {
    let usd = |text: &str| Money::parse(text).unwrap();
    let flights = &context.flights;
    flights
        .add_flight(
            FlightNumber::parse("NH106").unwrap(),
            date(DAY),
            10,
            usd("300.00 USD"),
        )
        .await
        .unwrap();
    flights
        .add_flight(
            FlightNumber::parse("NH108").unwrap(),
            date(DAY),
            1,
            usd("300.00 USD"),
        )
        .await
        .unwrap();
    let hotels = &context.hotels;
    hotels
        .add_hotel(
            HotelCode::parse("TOKYO01").unwrap(),
            date(DAY),
            10,
            5,
            usd("150.00 USD"),
        )
        .await
        .unwrap();
    hotels
        .add_hotel(
            HotelCode::parse("FULL01").unwrap(),
            date(DAY),
            10,
            0,
            usd("150.00 USD"),
        )
        .await
        .unwrap();
    context
}

fn request(trip_id: TripId, flight: &str, hotel: &str, card: &str) -> Value {
    json!({
        "trip_id": trip_id,
        "flight": { "flight_number": flight, "date": DAY, "passengers": 2 },
        "hotel": { "hotel": hotel, "stay": { "start": DAY, "end": "2026-12-04" }, "guests": 2 },
        "payment": { "card": card }
    })
}

/// The saga's functions on one store, as the executor invokes them.
enum Functions {
    /// One context for all: what Lambda's environment gives every function.
    Shared(InProcess<Function>),
    /// A context per function, on a client that records the actions it sends; every call runs
    /// twice.
    Recording(access::Recording),
    /// One context; every invocation delivered this many times at once (a duplicate delivery
    /// racing the original), each answer checked against the others.
    AtOnce(TripContext, usize),
}

/// Whether an answer is a transient store error, which Step Functions retries.
fn is_transient(answer: &Result<Value, lambda_runtime::Diagnostic>) -> bool {
    answer.as_ref().is_err_and(|d| {
        ["StoreThrottled", "StoreUnavailable", "StoreConflict"].contains(&d.error_type.as_str())
    })
}

/// `payload` to `function`, `times` times at once. A copy that loses the race may answer with a
/// transient error (Step Functions would retry it): it is retried here as Step Functions would.
/// Every copy must end with the same answer.
async fn at_once(
    context: &TripContext,
    function: Function,
    payload: Value,
    times: usize,
) -> Result<Value, LambdaError> {
    let copies = (0..times).map(|_| {
        let payload = payload.clone();
        async move {
            let mut answer = function.invoke(context, payload.clone()).await;
            for _ in 0..5 {
                if !is_transient(&answer) {
                    break;
                }
                answer = function.invoke(context, payload.clone()).await;
            }
            answer
        }
    });
    let answers = futures::future::join_all(copies).await;
    let first = answers[0]
        .as_ref()
        .map_err(|d| (&d.error_type, &d.error_message));
    for other in &answers[1..] {
        assert_eq!(
            first,
            other
                .as_ref()
                .map_err(|d| (&d.error_type, &d.error_message)),
            "{function:?} answered differently to the same payload delivered {times} times at once"
        );
    }
    answers
        .into_iter()
        .next()
        .expect("at least one copy")
        .map_err(|d| LambdaError::Function {
            error_type: d.error_type,
            error_message: d.error_message,
        })
}

impl LambdaInvoker for &Functions {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        match self {
            Functions::Shared(in_process) => in_process.invoke(invocation),
            Functions::Recording(recording) => recording.invoke(invocation),
            Functions::AtOnce(context, times) => Box::pin(async move {
                let info = saga_runtime::local::function_for(
                    &trip_saga::trip_booking::SAGA,
                    invocation.function_name,
                )
                .unwrap_or_else(|| panic!("no function {}", invocation.function_name));
                let function = Function::from_name(&info.name).expect("a function of the saga");
                at_once(context, function, invocation.payload, *times).await
            }),
        }
    }
}

/// A seeded store, and the functions that run on it.
struct Saga {
    context: TripContext,
    functions: Functions,
}

async fn run(saga: &Saga, input: Value) -> Execution {
    let machine = StateMachine::from_json(ASL).expect("the generated ASL compiles");
    let tasks = LambdaTasks::new(&saga.functions);
    let options = ExecutionOptions {
        execution_name: format!("exec-{}", TripId::new()),
        ..ExecutionOptions::default()
    };
    machine.run(&tasks, input, &options).await
}

async fn seats(context: &TripContext, flight: &str) -> u32 {
    context
        .flights
        .seats_left(&FlightNumber::parse(flight).unwrap(), date(DAY))
        .await
        .unwrap()
        .unwrap()
}

async fn rooms(context: &TripContext, hotel: &str) -> Vec<u32> {
    let mut left = Vec::new();
    for night in ["2026-12-01", "2026-12-02", "2026-12-03"] {
        left.push(
            context
                .hotels
                .rooms_left(&HotelCode::parse(hotel).unwrap(), date(night))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    left
}

fn visited(execution: &Execution) -> Vec<&str> {
    execution.history.states_visited()
}

async fn happy_path(saga: &Saga) {
    let context = &saga.context;
    let trip_id = TripId::new();
    let execution = run(saga, request(trip_id, "NH106", "TOKYO01", "tok_visa_4242")).await;
    assert_eq!(execution.status, Status::Succeeded, "{}", execution.history);
    assert_eq!(
        visited(&execution),
        [
            "Start",
            "CreateTrip",
            "ReserveFlight",
            "ReserveHotel",
            "ProcessPayment",
            "ConfirmTrip"
        ]
    );
    assert_eq!(
        context.trips.get(trip_id).await.unwrap().unwrap().status,
        TripStatus::Confirmed
    );
    assert_eq!(seats(context, "NH106").await, 8);
    assert_eq!(rooms(context, "TOKYO01").await, [4, 4, 4]);
    let payment = context
        .payments
        .payment(trip_id)
        .await
        .unwrap()
        .expect("a payment");
    assert_eq!(
        payment.amount,
        Money::parse("1050.00 USD").unwrap(),
        "2 seats × 300 + 3 nights × 150"
    );
}

async fn sold_out_flight(saga: &Saga) {
    let context = &saga.context;
    let trip_id = TripId::new();
    let execution = run(saga, request(trip_id, "NH108", "TOKYO01", "tok_visa_4242")).await;
    assert_eq!(execution.status, Status::Failed);
    assert_eq!(
        execution.error.as_ref().unwrap().error,
        "SoldOut",
        "{}",
        execution.history
    );
    assert_eq!(
        visited(&execution),
        [
            "Start",
            "CreateTrip",
            "ReserveFlight",
            "CancelFlight",
            "CancelTrip",
            "CheckCompensations",
            "CheckFailure",
            "Compensated"
        ]
    );
    let trip = context.trips.get(trip_id).await.unwrap().unwrap();
    assert_eq!(trip.status, TripStatus::Cancelled);
    assert!(
        trip.reason.as_deref().unwrap().starts_with("SoldOut"),
        "{:?}",
        trip.reason
    );
    assert_eq!(seats(context, "NH108").await, 1, "nothing was taken");
}

async fn no_rooms(saga: &Saga) {
    let context = &saga.context;
    let before = seats(context, "NH106").await;
    let trip_id = TripId::new();
    let execution = run(saga, request(trip_id, "NH106", "FULL01", "tok_visa_4242")).await;
    assert_eq!(
        execution.error.as_ref().unwrap().error,
        "NoRooms",
        "{}",
        execution.history
    );
    assert_eq!(
        visited(&execution),
        [
            "Start",
            "CreateTrip",
            "ReserveFlight",
            "ReserveHotel",
            "CancelHotel",
            "CancelFlight",
            "CancelTrip",
            "CheckCompensations",
            "CheckFailure",
            "Compensated"
        ]
    );
    assert_eq!(
        seats(context, "NH106").await,
        before,
        "the flight's seats are released"
    );
    assert_eq!(
        context
            .flights
            .reservation(trip_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        flight::ReservationStatus::Cancelled
    );
    assert_eq!(
        context.trips.get(trip_id).await.unwrap().unwrap().status,
        TripStatus::Cancelled
    );
}

async fn declined_payment(saga: &Saga) {
    let context = &saga.context;
    let (seats_before, rooms_before) = (
        seats(context, "NH106").await,
        rooms(context, "TOKYO01").await,
    );
    let trip_id = TripId::new();
    let execution = run(
        saga,
        request(trip_id, "NH106", "TOKYO01", "tok_decline_insufficient"),
    )
    .await;
    assert_eq!(
        execution.error.as_ref().unwrap().error,
        "PaymentDeclined",
        "{}",
        execution.history
    );
    assert_eq!(
        visited(&execution),
        [
            "Start",
            "CreateTrip",
            "ReserveFlight",
            "ReserveHotel",
            "ProcessPayment",
            "RefundPayment",
            "CancelHotel",
            "CancelFlight",
            "CancelTrip",
            "CheckCompensations",
            "CheckFailure",
            "Compensated"
        ]
    );
    assert_everything_undone(context, trip_id, (seats_before, rooms_before)).await;
}

/// What happens to the trip just before its confirmation runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BeforeConfirming {
    /// An operator cancels it; the confirmation then runs.
    OperatorCancels,
    /// The confirmation's process dies before it reaches the store.
    Crash,
}

/// The saga's functions, with `what` happening to `trip_id` at its confirmation.
struct Interfering<'a> {
    functions: &'a Functions,
    context: &'a TripContext,
    trip_id: TripId,
    what: BeforeConfirming,
}

impl LambdaInvoker for &Interfering<'_> {
    fn invoke<'a>(
        &'a self,
        invocation: LambdaInvocation<'a>,
    ) -> BoxFuture<'a, Result<Value, LambdaError>> {
        Box::pin(async move {
            if invocation.state_name == "ConfirmTrip" {
                match self.what {
                    BeforeConfirming::OperatorCancels => {
                        let key = kernel::dynamo::IdempotencyKey::parse("operator:cancel").unwrap();
                        self.context
                            .trips
                            .cancel(self.trip_id, "cancelled by an operator", &key)
                            .await
                            .unwrap();
                    }
                    BeforeConfirming::Crash => {
                        return Err(LambdaError::Function {
                            error_type: "Runtime.ExitError".to_owned(),
                            error_message: "the process exited before it answered".to_owned(),
                        });
                    }
                }
            }
            (&self.functions).invoke(invocation).await
        })
    }
}

/// The pivot fails and its guard `LockTrip` finds that it cannot take effect any more: the
/// trip was cancelled by an operator while the saga ran (`ConfirmTrip` then refuses with
/// `TripNotPending`), or the confirmation crashed before it ran (the guard locks the pending
/// trip). Either way everything before the pivot is undone.
async fn confirmation_fails(saga: &Saga, what: BeforeConfirming) {
    let context = &saga.context;
    let (seats_before, rooms_before) = (
        seats(context, "NH106").await,
        rooms(context, "TOKYO01").await,
    );
    let trip_id = TripId::new();
    let interfering = Interfering {
        functions: &saga.functions,
        context,
        trip_id,
        what,
    };
    let machine = StateMachine::from_json(ASL).expect("the generated ASL compiles");
    let options = ExecutionOptions {
        execution_name: format!("exec-{}", TripId::new()),
        ..ExecutionOptions::default()
    };
    let execution = machine
        .run(
            &LambdaTasks::new(&interfering),
            request(trip_id, "NH106", "TOKYO01", "tok_visa_4242"),
            &options,
        )
        .await;
    let (error, reason) = match what {
        BeforeConfirming::OperatorCancels => ("TripNotPending", "cancelled by an operator"),
        BeforeConfirming::Crash => (
            "Runtime.ExitError",
            "Runtime.ExitError: the process exited before it answered",
        ),
    };
    assert_eq!(
        execution.error.as_ref().unwrap().error,
        error,
        "{}",
        execution.history
    );
    assert_eq!(
        visited(&execution),
        [
            "Start",
            "CreateTrip",
            "ReserveFlight",
            "ReserveHotel",
            "ProcessPayment",
            "ConfirmTrip",
            "LockTrip",
            "CheckPivot",
            "RefundPayment",
            "CancelHotel",
            "CancelFlight",
            "CancelTrip",
            "CheckCompensations",
            "CheckFailure",
            "Compensated"
        ]
    );
    assert_everything_undone(context, trip_id, (seats_before, rooms_before)).await;
    let trip = context.trips.get(trip_id).await.unwrap().unwrap();
    assert_eq!(trip.reason.as_deref(), Some(reason));
}

/// The trip is cancelled, the stock is back to `before` (NH106's seats, TOKYO01's rooms) and no
/// captured payment is left.
async fn assert_everything_undone(context: &TripContext, trip_id: TripId, before: (u32, Vec<u32>)) {
    assert_eq!(seats(context, "NH106").await, before.0);
    assert_eq!(rooms(context, "TOKYO01").await, before.1);
    let payment = context.payments.payment(trip_id).await.unwrap();
    assert!(
        payment
            .as_ref()
            .is_none_or(|p| p.status != payment::PaymentStatus::Captured),
        "no captured payment is left: {payment:?}"
    );
    assert_eq!(
        context.trips.get(trip_id).await.unwrap().unwrap().status,
        TripStatus::Cancelled
    );
}

/// An input that does not decode (a `StartExecution` that skipped the API's validation): no
/// step can run, no compensation either, and nothing retries a payload that fails the same way
/// each time; the escalation still runs, reads the trip id from the raw input and marks the
/// trip for an operator, saying why.
async fn undecodable_input(saga: &Saga) {
    let context = &saga.context;
    let trip_id = TripId::new();
    let mut input = request(trip_id, "NH106", "TOKYO01", "tok_visa_4242");
    input["flight"]["passengers"] = json!("two");
    let execution = run(saga, input).await;
    assert_eq!(execution.status, Status::Failed, "{}", execution.history);
    assert_eq!(
        execution.error.as_ref().unwrap().error,
        "TripBooking.CompensationFailed"
    );
    assert_eq!(
        visited(&execution),
        [
            "Start",
            "CreateTrip",
            "CancelTrip",
            "CheckCompensations",
            "EscalateTrip",
            "CompensationFailed"
        ]
    );
    let retries = execution
        .history
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::RetryScheduled { .. }))
        .count();
    assert_eq!(retries, 0, "{}", execution.history);
    let trip = context
        .trips
        .get(trip_id)
        .await
        .unwrap()
        .expect("the trip is recorded");
    assert_eq!(trip.status, TripStatus::NeedsAttention);
    let reason = trip.reason.unwrap();
    assert!(
        reason.contains("left undone: CancelTrip (Saga.InvalidPayload"),
        "{reason}"
    );
    assert!(
        reason.contains("the saga input does not decode"),
        "{reason}"
    );

    // Without even a trip id, the escalation has nothing to mark but still succeeds: the
    // execution ends `CompensationFailed`, not `EscalationFailed`.
    let execution = run(saga, json!({ "trip": "?" })).await;
    assert_eq!(
        execution.error.as_ref().unwrap().error,
        "TripBooking.CompensationFailed",
        "{}",
        execution.history
    );
}

async fn every_path(saga: &Saga) {
    happy_path(saga).await;
    sold_out_flight(saga).await;
    no_rooms(saga).await;
    declined_payment(saga).await;
    confirmation_fails(saga, BeforeConfirming::OperatorCancels).await;
    confirmation_fails(saga, BeforeConfirming::Crash).await;
    undecodable_input(saga).await;
}

#[tokio::test]
async fn on_the_in_memory_store() {
    let context = seeded(TripContext::in_memory()).await;
    let functions = Functions::Shared(InProcess::new(context.clone()));
    every_path(&Saga { context, functions }).await;
}

/// Every path with every invocation delivered three times at once, on the in-memory store: the
/// same answers, and the effects of a single delivery (the paths check the stock, the payment
/// and the trip). The in-memory store's futures finish without yielding, so its copies run one
/// after the other; the DynamoDB run below is where they really race.
#[tokio::test]
async fn on_the_in_memory_store_with_every_call_three_times_at_once() {
    let context = seeded(TripContext::in_memory()).await;
    let functions = Functions::AtOnce(context.clone(), 3);
    every_path(&Saga { context, functions }).await;
}

/// The same on DynamoDB (moto), twice at once: conditional writes decide the race there.
#[tokio::test]
async fn on_dynamodb_with_every_call_twice_at_once() {
    let table = kernel::testing::test_table().await;
    let context = seeded(TripContext::dynamodb(&table.client, &table.name)).await;
    let functions = Functions::AtOnce(context.clone(), 2);
    every_path(&Saga { context, functions }).await;
}

/// Every path on DynamoDB, each function with a client of its own that records what it sends,
/// and every invocation run twice (a response lost after its effect, then the retry): the
/// outcomes are those of a single run, and at the end each function has used exactly the table
/// actions the infrastructure grants it (`trip_saga::table_access`).
#[tokio::test]
async fn on_dynamodb_with_exactly_the_declared_table_actions() {
    let table = kernel::testing::test_table().await;
    let context = seeded(TripContext::dynamodb(&table.client, &table.name)).await;
    let recording = access::Recording::new(&table.client, &table.name);
    let saga = Saga {
        context,
        functions: Functions::Recording(recording),
    };
    every_path(&saga).await;
    let Functions::Recording(recording) = &saga.functions else {
        unreachable!()
    };
    let used = recording.actions();
    let declared: BTreeMap<&str, BTreeSet<String>> = Function::ALL
        .iter()
        .map(|&f| {
            let actions = trip_saga::table_access::actions(f);
            (f.name(), actions.iter().map(|a| (*a).to_owned()).collect())
        })
        .collect();
    assert_eq!(
        used, declared,
        "what each function sent (left) is not what trip_saga::table_access declares (right)"
    );
}

#[test]
fn every_function_of_the_saga_has_its_binary() {
    let saga = &trip_saga::trip_booking::SAGA;
    assert_eq!(saga.functions().count(), Function::ALL.len());
    for function in saga.functions() {
        assert_eq!(function.crate_name, "trip-saga");
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("src/bin/{}.rs", function.binary));
        assert!(bin.exists(), "{} is missing", bin.display());
        // The binary serves its own function's entrypoint (and so links no other handler).
        let entrypoint = format!(
            "trip_saga::serve(trip_saga::trip_booking::entrypoints::{})",
            function.binary.replace('-', "_")
        );
        let source = std::fs::read_to_string(&bin).unwrap();
        assert!(
            source.contains(&entrypoint),
            "{} does not call {entrypoint}",
            bin.display()
        );
    }
}

/// The committed manifest is the serde form of the model the macro built: the CLI, reading the
/// source, and rustc, compiling it, agree on everything, where the saga is declared included.
#[test]
fn the_committed_manifest_is_the_models_serde_form() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../generated/trip_booking.functions.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    let mut expected =
        serde_json::to_string_pretty(&saga_model::Manifest::of(&trip_saga::trip_booking::SAGA))
            .unwrap();
    expected.push('\n');
    assert_eq!(committed, expected, "run `cargo run -p saga-dsl`");
    assert_eq!(trip_saga::trip_booking::SAGA.declared_in, "trip_saga::saga");
}
