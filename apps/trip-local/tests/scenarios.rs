//! Every demo scenario, asserted on what the executor reports and what the store holds: on the
//! in-memory store, and on DynamoDB (moto).

use std::sync::Arc;

use kernel::TripId;
use trip::domain::TripStatus;
use trip_local::demo::{ScenarioRun, run_scenario, scenarios};
use trip_local::execution::Saga;
use trip_local::functions::Call;
use trip_local::store::{Inventory, inventory, seed};
use trip_saga::TripContext;

const HAPPY_PATH: [&str; 6] = [
    "Start",
    "CreateTrip",
    "ReserveFlight",
    "ReserveHotel",
    "ProcessPayment",
    "ConfirmTrip",
];

async fn seeded(context: TripContext) -> Saga {
    let saga = Saga::new(context);
    seed(saga.context()).await.unwrap();
    saga
}

/// Runs scenario `label` and returns it with the stock before and after.
async fn scenario(saga: &Saga, label: char) -> (ScenarioRun, Inventory, Inventory) {
    let scenario = scenarios().into_iter().find(|s| s.label == label).unwrap();
    let before = inventory(saga.context()).await.unwrap();
    let run = run_scenario(saga, &scenario, Arc::new(())).await.unwrap();
    let after = inventory(saga.context()).await.unwrap();
    (run, before, after)
}

fn trip_status(run: &ScenarioRun) -> TripStatus {
    run.report.trip.as_ref().expect("the trip is stored").status
}

fn calls_of<'a>(run: &'a ScenarioRun, state: &str) -> Vec<&'a Call> {
    run.report
        .calls
        .iter()
        .filter(|c| c.state == state)
        .collect()
}

fn errors_of(run: &ScenarioRun, state: &str) -> Vec<Option<String>> {
    calls_of(run, state)
        .iter()
        .map(|c| c.error().map(str::to_owned))
        .collect()
}

/// Two seats and one room on each of the three nights left the stock.
fn took_one_trip(before: &Inventory, after: &Inventory) {
    assert_eq!(before.roomy_flight_seats - after.roomy_flight_seats, 2);
    for night in 0..3 {
        assert_eq!(before.hotel_rooms[night] - after.hotel_rooms[night], 1);
    }
}

async fn happy_path(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'a').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "SUCCEEDED",
        "{}",
        report.execution.history
    );
    assert_eq!(report.states_visited(), HAPPY_PATH);
    assert_eq!(report.retries(), 0);
    assert_eq!(report.calls.len(), 5, "one call per step");
    assert_eq!(trip_status(&run), TripStatus::Confirmed);
    took_one_trip(&before, &after);
    assert_eq!((run.holdings.seats, run.holdings.rooms), (2, 1));
}

async fn sold_out_flight(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'b').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "FAILED SoldOut",
        "{}",
        report.execution.history
    );
    assert_eq!(
        report.states_visited(),
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
    let trip = report.trip.as_ref().unwrap();
    assert_eq!(trip.status, TripStatus::Cancelled);
    assert!(
        trip.reason.as_deref().unwrap().starts_with("SoldOut"),
        "{:?}",
        trip.reason
    );
    assert_eq!(before, after, "nothing was taken");
}

async fn no_rooms(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'c').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "FAILED NoRooms",
        "{}",
        report.execution.history
    );
    assert_eq!(
        report.states_visited(),
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
    assert_eq!(trip_status(&run), TripStatus::Cancelled);
    assert_eq!(before, after, "the flight's seats were given back");
    assert_eq!((run.holdings.seats, run.holdings.rooms), (0, 0));
}

const PAYMENT_COMPENSATED: [&str; 12] = [
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
    "Compensated",
];

async fn declined_payment(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'd').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "FAILED PaymentDeclined",
        "{}",
        report.execution.history
    );
    assert_eq!(report.states_visited(), PAYMENT_COMPENSATED);
    assert_eq!(trip_status(&run), TripStatus::Cancelled);
    assert_eq!(before, after, "seats and rooms were given back");
    let payment = saga
        .context()
        .payments
        .payment(report.trip_id)
        .await
        .unwrap();
    assert!(
        payment.is_none_or(|p| p.status != payment::PaymentStatus::Captured),
        "no money is kept"
    );
}

async fn transient_errors(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'e').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "SUCCEEDED",
        "{}",
        report.execution.history
    );
    assert_eq!(
        report.states_visited(),
        HAPPY_PATH,
        "a retry does not re-enter the state"
    );
    assert_eq!(report.retries(), 2);
    assert_eq!(
        errors_of(&run, "ReserveHotel"),
        [
            Some("StoreThrottled".into()),
            Some("StoreThrottled".into()),
            None
        ]
    );
    assert!(
        report.clock_ms() >= 0,
        "back-offs run on the execution clock"
    );
    assert_eq!(trip_status(&run), TripStatus::Confirmed);
    took_one_trip(&before, &after);
}

async fn lost_response(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'f').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "SUCCEEDED",
        "{}",
        report.execution.history
    );
    assert_eq!(report.states_visited(), HAPPY_PATH);
    assert_eq!(report.retries(), 1);
    assert_eq!(
        errors_of(&run, "ReserveFlight"),
        [Some("Lambda.ServiceException".into()), None]
    );
    assert_eq!(
        calls_of(&run, "ReserveFlight")[0].injected.as_deref(),
        Some("ran, response lost")
    );
    assert_eq!(trip_status(&run), TripStatus::Confirmed);
    // The handler ran twice, the seats were taken once: exactly one reservation.
    assert_eq!(before.roomy_flight_seats - after.roomy_flight_seats, 2);
    took_one_trip(&before, &after);
    let stored = saga
        .context()
        .flights
        .reservation(report.trip_id)
        .await
        .unwrap()
        .expect("a reservation");
    let output = report.execution.output.as_ref().unwrap();
    assert_eq!(
        output["results"]["ReserveFlight"]["output"]["reservation_id"],
        serde_json::to_value(stored.reservation_id).unwrap(),
        "the retry answered with the reservation the lost call made"
    );
    assert_eq!(stored.status, flight::ReservationStatus::Reserved);
}

async fn escalation(saga: &Saga) {
    let (run, before, after) = scenario(saga, 'g').await;
    let report = &run.report;
    assert_eq!(
        report.outcome(),
        "FAILED TripBooking.CompensationFailed",
        "{}",
        report.execution.history
    );
    let mut path = PAYMENT_COMPENSATED[..10].to_vec();
    path.extend(["EscalateTrip", "CompensationFailed"]);
    assert_eq!(report.states_visited(), path);
    assert_eq!(
        errors_of(&run, "CancelHotel"),
        vec![Some("StoreUnavailable".to_owned()); 7],
        "the first attempt and all six retries fail"
    );
    let trip = report.trip.as_ref().unwrap();
    assert_eq!(trip.status, TripStatus::NeedsAttention);
    assert!(trip.reason.is_some());
    // The seats were given back; the rooms stay taken until an operator releases them.
    assert_eq!(before.roomy_flight_seats, after.roomy_flight_seats);
    for night in 0..3 {
        assert_eq!(before.hotel_rooms[night] - after.hotel_rooms[night], 1);
    }
    assert_eq!((run.holdings.seats, run.holdings.rooms), (0, 1));
}

#[tokio::test]
async fn every_scenario_on_the_in_memory_store() {
    let saga = seeded(TripContext::in_memory()).await;
    happy_path(&saga).await;
    sold_out_flight(&saga).await;
    no_rooms(&saga).await;
    declined_payment(&saga).await;
    transient_errors(&saga).await;
    lost_response(&saga).await;
    escalation(&saga).await;
}

#[tokio::test]
async fn the_demo_lists_every_scenario_in_order() {
    let labels: String = scenarios().iter().map(|s| s.label).collect();
    assert_eq!(labels, "abcdefg");
}

#[tokio::test]
async fn every_scenario_on_dynamodb() {
    let table = kernel::testing::test_table().await;
    let saga = seeded(TripContext::dynamodb(&table.client, &table.name)).await;
    happy_path(&saga).await;
    sold_out_flight(&saga).await;
    no_rooms(&saga).await;
    declined_payment(&saga).await;
    transient_errors(&saga).await;
    lost_response(&saga).await;
    escalation(&saga).await;
}

#[tokio::test]
async fn an_injected_delay_runs_on_the_virtual_clock_and_can_time_a_step_out() {
    use trip_local::demo::{GOOD_CARD, trip_request};
    use trip_local::faults::FaultPlan;
    use trip_local::store::{HOTEL, ROOMY_FLIGHT};

    let saga = seeded(TripContext::in_memory()).await;
    let request = || trip_request(TripId::new(), ROOMY_FLIGHT, HOTEL, GOOD_CARD);

    let slow: FaultPlan = FaultPlan::parse_all(&["ProcessPayment=delay:5s"]).unwrap();
    let report = saga.run(request(), slow, Arc::new(()), 0).await.unwrap();
    assert_eq!(report.outcome(), "SUCCEEDED");
    assert!(report.clock_ms() >= 5_000, "{}", report.clock_ms());
    assert!(report.wall.as_secs() < 5, "virtual time does not sleep");

    // ReserveFlight's TimeoutSeconds is 30; States.Timeout is not retried, so it compensates.
    // No Fail state raises a `States.*` name: the execution fails with the saga's own, the
    // timeout leading the cause.
    let too_slow = FaultPlan::parse_all(&["ReserveFlight=delay:40s"]).unwrap();
    let report = saga
        .run(request(), too_slow, Arc::new(()), 0)
        .await
        .unwrap();
    assert_eq!(
        report.outcome(),
        "FAILED TripBooking.StepFailed",
        "{}",
        report.execution.history
    );
    let error = report.execution.error.as_ref().unwrap();
    let cause = error.cause.as_deref().unwrap_or_default();
    assert!(cause.starts_with("States.Timeout: "), "{cause}");
    let trip = report.trip.unwrap();
    assert_eq!(trip.status, TripStatus::Cancelled);
    assert!(trip.reason.unwrap().starts_with("States.Timeout"));
}

#[tokio::test]
async fn connect_creates_the_table_once_and_reuses_it() {
    use trip_local::store::{Store, connect};

    let server = kernel::testing::shared_server();
    let store = Store::DynamoDb {
        endpoint: server.endpoint().to_owned(),
        table: format!("trip-local-{}", TripId::new()),
    };
    let saga = Saga::new(connect(&store).await.unwrap());
    seed(saga.context()).await.unwrap();
    let (run, _, _) = scenario(&saga, 'a').await;
    assert_eq!(run.report.outcome(), "SUCCEEDED");
    let again = Saga::new(connect(&store).await.unwrap());
    let stock = inventory(again.context()).await.unwrap();
    assert_eq!(
        stock.roomy_flight_seats, 198,
        "the second connection sees the first one's data"
    );
}

/// The payloads a Task was sent are kept only when asked for, as Step Functions' logging keeps
/// execution data only with `includeExecutionData`; the path and retries are always there.
#[tokio::test]
async fn payloads_are_recorded_only_when_asked_for() {
    use asl_executor::{EventKind, HistoryMode};
    use trip_local::demo::{GOOD_CARD, trip_request};
    use trip_local::faults::FaultPlan;
    use trip_local::store::{HOTEL, ROOMY_FLIGHT};

    let sent_to_payment = |report: &trip_local::execution::Report| {
        report
            .execution
            .history
            .events()
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::TaskScheduled { name, input, .. } if &**name == "ProcessPayment" => {
                    Some(input.clone())
                }
                _ => None,
            })
            .expect("ProcessPayment was scheduled")
    };
    for (saga, payloads) in [
        (seeded(TripContext::in_memory()).await, false),
        (
            seeded(TripContext::in_memory())
                .await
                .with_history(HistoryMode::Full),
            true,
        ),
    ] {
        let trip_id = TripId::new();
        let request = trip_request(trip_id, ROOMY_FLIGHT, HOTEL, GOOD_CARD);
        let report = saga
            .run(request, FaultPlan::none(), Arc::new(()), 0)
            .await
            .unwrap();
        assert_eq!(report.outcome(), "SUCCEEDED");
        assert_eq!(report.states_visited(), HAPPY_PATH);
        let input = sent_to_payment(&report);
        assert_eq!(input.is_some(), payloads);
        if let Some(input) = input {
            assert_eq!(
                input["Payload"]["input"]["trip_id"],
                trip_id.to_string(),
                "{input}"
            );
        }
    }
}
