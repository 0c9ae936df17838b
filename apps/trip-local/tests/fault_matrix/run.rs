//! Running a case on a fresh store and checking the execution and the store against it.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

use flight::ReservationStatus as SeatStatus;
use hotel::ReservationStatus as RoomStatus;
use kernel::dynamo::IdempotencyKey;
use kernel::{Money, TripId};
use payment::PaymentStatus;
use serde_json::Value;
use trip_local::demo::trip_request;
use trip_local::execution::{Report, Saga};
use trip_local::store::{
    FULL_HOTEL, HOTEL, Inventory, ONE_SEAT_FLIGHT, ROOMY_FLIGHT, inventory, seed,
};
use trip_saga::TripContext;

use crate::cases::{Case, Expect, Reason};
use crate::knowledge::{
    Booking, Effect, OPERATOR_REASON, ROOMS_BOOKED, SEATS_BOOKED, TRIP_PRICE, effect_of,
};
use crate::model::model;

/// Which store the services use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreKind {
    InMemory,
    DynamoDb,
}

/// A fresh, seeded store of `kind` and the saga on it.
pub(crate) async fn fresh_saga(kind: StoreKind) -> Saga {
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
pub(crate) struct Checks(Vec<String>);

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
pub(crate) fn stock_left(
    seeded: &Inventory,
    booking: Booking,
    seats: bool,
    rooms: bool,
) -> Inventory {
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
pub(crate) fn kept_result<'a>(report: &'a Report, state: &str) -> Option<&'a Value> {
    report
        .execution
        .output
        .as_ref()
        .map(|output| &output["results"][state]["output"])
}

/// Runs `case` on a fresh store of `kind`; `Err` lists every mismatch.
pub(crate) async fn run_case(kind: StoreKind, case: Case, seed: u64) -> Result<(), String> {
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

pub(crate) fn check_execution(checks: &mut Checks, expect: &Expect, report: &Report) {
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

/// The Task state whose action has `effect`.
fn state_of(effect: Effect) -> Option<&'static String> {
    model()
        .steps
        .iter()
        .map(|s| &s.state)
        .find(|s| effect_of(s) == Some(effect))
}

/// `Some(true)`: the effect happened and is still held; `Some(false)`: it happened and was
/// undone; `None`: it never happened.
fn held(expect: &Expect, effect: Effect) -> Option<bool> {
    state_of(effect)
        .filter(|s| expect.took_effect.contains(*s))
        .map(|s| !expect.undone.contains(s))
}

/// What the state machine kept as each step's result is what the store holds: a retry after a
/// lost response answered with the effect the lost call made, not a second one.
fn check_kept_results(
    checks: &mut Checks,
    report: &Report,
    stored: [(Effect, Option<serde_json::Result<Value>>); 3],
) {
    if report.execution.output.is_none() {
        return;
    }
    for (effect, stored) in stored {
        let stored = stored.transpose().expect("a stored record serialises");
        let kept = state_of(effect).and_then(|s| kept_result(report, s));
        checks.eq(
            &format!("{effect:?}: the result kept by the state machine is the stored one"),
            &kept,
            &stored.as_ref(),
        );
    }
}

/// The store, read back through the services: each action's effect is there exactly when it
/// happened, released exactly when it was undone, and the stock is the seeded one less what is
/// still held.
pub(crate) async fn check_store(
    checks: &mut Checks,
    case: &Case,
    context: &TripContext,
    report: &Report,
    trip_id: TripId,
    seeded: &Inventory,
) -> Result<(), kernel::InfraError> {
    let held = |effect: Effect| held(&case.expect, effect);

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

    let stored = [
        (Effect::Seats, seats.as_ref().map(serde_json::to_value)),
        (Effect::Rooms, rooms.as_ref().map(serde_json::to_value)),
        (Effect::Payment, payment.as_ref().map(serde_json::to_value)),
    ];
    check_kept_results(checks, report, stored);

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
pub(crate) async fn run_all(kind: StoreKind, cases: Vec<Case>, targets: &[&str], count: usize) {
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

pub(crate) fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a non-string panic".to_owned()),
        Err(error) => error.to_string(),
    }
}
