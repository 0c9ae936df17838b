//! The contract every `FlightRepository` adapter must honour, exercised through `FlightService`.
//!
//! A test file provides a [`Subject`] (a fresh, empty store and a way to read back the outbox)
//! and expands [`contract_tests!`], which declares one `#[tokio::test]` per contract clause.

use std::sync::Arc;
use std::time::Duration;

use flight::domain::{FlightDate, FlightRepository};
use flight::{
    AddFlightError, CalendarDate, CancelSeats, Currency, FlightNumber, FlightService,
    IdempotencyKey, Money, PassengerCount, ReservationStatus, ReserveSeats, ReserveSeatsError,
    SeatCancellation, SeatReservation, TripId,
};
use kernel::{BoxFuture, EventEnvelope};

/// Reads the events published about a flight, oldest first.
pub(crate) type FlightEvents =
    Box<dyn Fn(FlightDate) -> BoxFuture<'static, Vec<EventEnvelope>> + Send + Sync>;

/// An adapter under test.
pub(crate) struct Subject {
    /// A fresh, empty store.
    pub(crate) repository: Arc<dyn FlightRepository>,
    /// How to read back its outbox.
    pub(crate) flight_events: FlightEvents,
}

/// Declares the contract's tests for `$subject`, an async expression giving a fresh [`Subject`].
macro_rules! contract_tests {
    ($subject:expr) => {
        $crate::contract::contract_tests!(@each $subject;
            reserve_then_cancel_restores_the_inventory,
            reserve_is_idempotent,
            cancel_is_idempotent,
            a_second_cancellation_finds_nothing_to_undo,
            sold_out_takes_nothing,
            unknown_flight_or_day_is_not_found,
            cancel_without_reservation_has_nothing_to_undo,
            late_reserve_after_cancel_is_already_cancelled,
            reserve_retried_after_compensation_is_already_cancelled,
            outbox_events_are_written_with_the_changes,
            adding_a_flight_again_keeps_its_stock,
            concurrent_reservations_never_oversell,
            reserve_racing_its_cancellation_always_ends_released,
            void_after_the_action_committed_changes_nothing,
        );
    };
    (@each $subject:expr; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                contract::$test($subject.await).await;
            }
        )*
    };
}
pub(crate) use contract_tests;

fn nh106() -> FlightNumber {
    FlightNumber::parse("NH106").unwrap()
}

fn may_1() -> CalendarDate {
    CalendarDate::parse("2026-05-01").unwrap()
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::Usd)
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

/// A reservation of `passengers` seats on NH106, 2026-05-01, by the invocation `exec:ReserveFlight`.
fn reserve(trip_id: TripId, exec: &str, passengers: u32) -> ReserveSeats {
    ReserveSeats {
        trip_id,
        flight: nh106(),
        date: may_1(),
        passengers: PassengerCount::new(passengers).unwrap(),
        idempotency_key: key(&format!("{exec}:ReserveFlight")),
    }
}

/// The compensation of [`reserve`]`(trip_id, exec, _)`, run as invocation `exec:<state>`.
fn cancel(trip_id: TripId, exec: &str, state: &str) -> CancelSeats {
    CancelSeats {
        trip_id,
        action_idempotency_key: key(&format!("{exec}:ReserveFlight")),
        idempotency_key: key(&format!("{exec}:{state}")),
    }
}

/// A service over `subject` with NH106 on 2026-05-01 on sale: `seats` seats at 312.40 USD.
async fn with_flight(subject: &Subject, seats: u32) -> FlightService {
    let service = FlightService::new(subject.repository.clone());
    service
        .add_flight(nh106(), may_1(), seats, usd(31_240))
        .await
        .unwrap();
    service
}

async fn seats_left(service: &FlightService) -> u32 {
    service
        .seats_left(&nh106(), may_1())
        .await
        .unwrap()
        .unwrap()
}

async fn event_types(subject: &Subject) -> Vec<String> {
    (subject.flight_events)(FlightDate::new(nh106(), may_1()))
        .await
        .into_iter()
        .map(|e| e.event_type)
        .collect()
}

pub(crate) async fn reserve_then_cancel_restores_the_inventory(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();

    let reservation = service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();
    assert_eq!(reservation.trip_id, trip);
    assert_eq!(
        (reservation.flight.clone(), reservation.date),
        (nh106(), may_1())
    );
    assert_eq!(u32::from(reservation.passengers), 2);
    assert_eq!(reservation.total, usd(62_480), "fare × passengers");
    assert_eq!(reservation.status, ReservationStatus::Reserved);
    assert_eq!(seats_left(&service).await, 3);
    assert_eq!(
        service.reservation(trip).await.unwrap(),
        Some(reservation.clone())
    );

    let cancelled = service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    assert_eq!(
        cancelled,
        SeatCancellation {
            released_seats: 2,
            nothing_to_undo: false
        }
    );
    assert_eq!(seats_left(&service).await, 5, "the seats are back on sale");
    assert_eq!(
        service.reservation(trip).await.unwrap(),
        Some(reservation.cancelled())
    );
}

pub(crate) async fn reserve_is_idempotent(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();

    let first = service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();
    let again = service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();
    assert_eq!(again, first, "the same reservation, same id");
    assert_eq!(seats_left(&service).await, 3, "seats taken once");
    assert_eq!(event_types(&subject).await, ["SeatsReserved"]);

    // Even when the flight has sold out since, the retry's answer is the first one's.
    service
        .reserve_seats(reserve(TripId::new(), "e2", 3))
        .await
        .unwrap();
    assert_eq!(seats_left(&service).await, 0);
    assert_eq!(
        service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap(),
        first
    );
}

pub(crate) async fn cancel_is_idempotent(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();
    service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();

    let first = service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    let again = service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    assert_eq!(first, SeatCancellation::released(2));
    assert_eq!(again, first, "a retry reports what the first run did");
    assert_eq!(seats_left(&service).await, 5, "released once");
    assert_eq!(
        event_types(&subject).await,
        ["SeatsReserved", "SeatsReleased"]
    );
}

pub(crate) async fn a_second_cancellation_finds_nothing_to_undo(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();
    service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();
    service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();

    // Another compensation invocation (another key) for the same action: nothing left to release.
    let other = service
        .cancel_seats(cancel(trip, "e1", "CancelFlightAgain"))
        .await
        .unwrap();
    assert_eq!(other, SeatCancellation::nothing_to_undo());
    assert_eq!(seats_left(&service).await, 5);
}

pub(crate) async fn sold_out_takes_nothing(subject: Subject) {
    let service = with_flight(&subject, 2).await;
    let trip = TripId::new();

    let error = service
        .reserve_seats(reserve(trip, "e1", 3))
        .await
        .unwrap_err();
    assert_eq!(saga_model::StepError::name(&error), "SoldOut");
    let ReserveSeatsError::SoldOut {
        requested,
        seats_left: left,
    } = error
    else {
        panic!("expected SoldOut, got {error:?}")
    };
    assert_eq!((u32::from(requested), left), (3, 2));
    assert_eq!(seats_left(&service).await, 2);
    assert_eq!(service.reservation(trip).await.unwrap(), None);
    assert!(
        event_types(&subject).await.is_empty(),
        "no event for a refusal"
    );

    // A refusal stores no record: once seats are back, the same invocation decides afresh.
    let exact = service.reserve_seats(reserve(trip, "e2", 2)).await.unwrap();
    assert_eq!(exact.total, usd(62_480));
    assert_eq!(
        seats_left(&service).await,
        0,
        "the last seats can be sold, no further"
    );
}

pub(crate) async fn unknown_flight_or_day_is_not_found(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();

    let other_day = ReserveSeats {
        date: CalendarDate::parse("2026-05-02").unwrap(),
        ..reserve(trip, "e1", 1)
    };
    let other_flight = ReserveSeats {
        flight: FlightNumber::parse("JL6").unwrap(),
        ..reserve(trip, "e2", 1)
    };
    for command in [other_day, other_flight] {
        let error = service.reserve_seats(command.clone()).await.unwrap_err();
        let ReserveSeatsError::FlightNotFound(flight) = error else {
            panic!("expected FlightNotFound, got {error:?}")
        };
        assert_eq!(
            flight,
            FlightDate::new(command.flight.clone(), command.date)
        );
        assert_eq!(
            service
                .seats_left(&command.flight, command.date)
                .await
                .unwrap(),
            None
        );
    }
    assert_eq!(seats_left(&service).await, 5);
    assert_eq!(service.reservation(trip).await.unwrap(), None);
}

pub(crate) async fn cancel_without_reservation_has_nothing_to_undo(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();

    // The action failed before writing (or never ran): its compensation still succeeds.
    let first = service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    assert_eq!(
        first,
        SeatCancellation {
            released_seats: 0,
            nothing_to_undo: true
        }
    );
    let again = service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(seats_left(&service).await, 5);
    assert_eq!(service.reservation(trip).await.unwrap(), None);
}

pub(crate) async fn late_reserve_after_cancel_is_already_cancelled(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();

    // Step Functions timed out the reservation and compensated; then the original invocation ran.
    service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    let late = service
        .reserve_seats(reserve(trip, "e1", 2))
        .await
        .unwrap_err();
    assert!(
        matches!(late, ReserveSeatsError::AlreadyCancelled),
        "{late:?}"
    );
    assert_eq!(saga_model::StepError::name(&late), "AlreadyCancelled");
    assert_eq!(seats_left(&service).await, 5, "no seat taken");
    assert_eq!(
        service.reservation(trip).await.unwrap(),
        None,
        "no reservation resurrected"
    );
    assert!(
        !event_types(&subject)
            .await
            .contains(&"SeatsReserved".to_owned())
    );

    // Another execution's reservation for the same trip is not affected.
    service.reserve_seats(reserve(trip, "e2", 2)).await.unwrap();
    assert_eq!(seats_left(&service).await, 3);
}

pub(crate) async fn reserve_retried_after_compensation_is_already_cancelled(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();
    service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();
    service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();

    let retry = service
        .reserve_seats(reserve(trip, "e1", 2))
        .await
        .unwrap_err();
    assert!(
        matches!(retry, ReserveSeatsError::AlreadyCancelled),
        "{retry:?}"
    );
    assert_eq!(seats_left(&service).await, 5);
    let stored: SeatReservation = service.reservation(trip).await.unwrap().unwrap();
    assert_eq!(stored.status, ReservationStatus::Cancelled);
}

pub(crate) async fn outbox_events_are_written_with_the_changes(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();
    let reservation = service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();

    let events = (subject.flight_events)(FlightDate::new(nh106(), may_1())).await;
    let [reserved] = events.as_slice() else {
        panic!("expected one event, got {events:?}")
    };
    assert_eq!(reserved.event_type, "SeatsReserved");
    assert_eq!(reserved.aggregate_type, "Flight");
    assert_eq!(reserved.aggregate_id, "NH106#2026-05-01");
    assert_eq!(
        reserved.payload["reservation_id"],
        reservation.reservation_id.to_string()
    );
    assert_eq!(reserved.payload["trip_id"], trip.to_string());
    assert_eq!(reserved.payload["seats"], 2);
    assert_eq!(reserved.payload["total"]["amount_minor"], 62_480);

    service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    let events = (subject.flight_events)(FlightDate::new(nh106(), may_1())).await;
    let released = events.last().unwrap();
    assert_eq!(released.event_type, "SeatsReleased");
    assert_eq!(
        released.payload["reservation_id"],
        reservation.reservation_id.to_string()
    );
    assert_eq!(released.payload["seats"], 2);
}

pub(crate) async fn adding_a_flight_again_keeps_its_stock(subject: Subject) {
    let service = with_flight(&subject, 5).await;
    service
        .reserve_seats(reserve(TripId::new(), "e1", 2))
        .await
        .unwrap();

    service
        .add_flight(nh106(), may_1(), 100, usd(1))
        .await
        .unwrap();
    assert_eq!(
        seats_left(&service).await,
        3,
        "re-seeding does not reset sold seats"
    );
    let next = service
        .reserve_seats(reserve(TripId::new(), "e2", 1))
        .await
        .unwrap();
    assert_eq!(next.total, usd(31_240), "nor the fare");

    let refused = service
        .add_flight(nh106(), may_1(), 1, usd(-1))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AddFlightError::InvalidFare { .. }),
        "a negative fare is the request's fault, not the store's: {refused:?}"
    );
    assert_eq!(seats_left(&service).await, 2, "and changes nothing");
}

/// How many times a reservation is retried on a transient error, as the saga's `Retry` would.
const TRANSIENT_RETRIES: u32 = 20;

pub(crate) async fn concurrent_reservations_never_oversell(subject: Subject) {
    let service = with_flight(&subject, 10).await;

    let attempts = (0..100).map(|i| {
        let service = service.clone();
        tokio::spawn(async move {
            let command = reserve(TripId::new(), &format!("exec-{i}"), 1);
            let mut retries = 0;
            loop {
                match service.reserve_seats(command.clone()).await {
                    Err(
                        ReserveSeatsError::StoreConflict(e)
                        | ReserveSeatsError::StoreThrottled(e)
                        | ReserveSeatsError::StoreUnavailable(e),
                    ) if retries < TRANSIENT_RETRIES => {
                        retries += 1;
                        backoff(retries, &e).await;
                    }
                    outcome => return outcome,
                }
            }
        })
    });
    let outcomes = futures::future::join_all(attempts).await;

    let mut reserved = 0;
    let mut sold_out = 0;
    for outcome in outcomes {
        match outcome.expect("task panicked") {
            Ok(_) => reserved += 1,
            Err(ReserveSeatsError::SoldOut { seats_left: 0, .. }) => sold_out += 1,
            Err(other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((reserved, sold_out), (10, 90));
    assert_eq!(
        seats_left(&service).await,
        0,
        "exactly the 10 seats, never below"
    );
    assert_eq!(
        event_types(&subject).await.len(),
        10,
        "one SeatsReserved per reservation"
    );
}

/// Waits a little longer after each transient failure, as the saga's `Retry` backs off.
async fn backoff(retry: u32, error: &flight::InfraError) {
    assert!(error.is_transient(), "{error}");
    tokio::time::sleep(Duration::from_millis(5 * u64::from(retry))).await;
}

pub(crate) async fn reserve_racing_its_cancellation_always_ends_released(subject: Subject) {
    let service = with_flight(&subject, 60).await;

    // Each trip's reservation and its compensation run at once, in either order: whichever
    // commits first, the seats end up back on sale and the trip holds no reserved seats.
    let pairs = (0..20).map(|i| {
        let service = service.clone();
        tokio::spawn(async move {
            let trip = TripId::new();
            let exec = format!("race-{i}");
            let reserving = {
                let service = service.clone();
                let command = reserve(trip, &exec, 3);
                tokio::spawn(async move { service.reserve_seats(command).await })
            };
            let cancelled = service
                .cancel_seats(cancel(trip, &exec, "CancelFlight"))
                .await
                .unwrap();
            let reserved = reserving.await.unwrap();
            (trip, reserved, cancelled)
        })
    });
    for pair in futures::future::join_all(pairs).await {
        let (trip, reserved, cancelled) = pair.unwrap();
        match reserved {
            // The reservation went first: the cancellation released it.
            Ok(_) => assert_eq!(cancelled, SeatCancellation::released(3)),
            // The cancellation went first: it ruled the reservation out.
            Err(ReserveSeatsError::AlreadyCancelled) => {
                assert_eq!(cancelled, SeatCancellation::nothing_to_undo());
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        let stored = service.reservation(trip).await.unwrap();
        assert!(
            stored.is_none_or(|r| r.status == ReservationStatus::Cancelled),
            "trip {trip} still holds seats"
        );
    }
    assert_eq!(seats_left(&service).await, 60);
}

pub(crate) async fn void_after_the_action_committed_changes_nothing(subject: Subject) {
    use flight::domain::ReservationVoided;
    use kernel::compensation::Void;

    let service = with_flight(&subject, 5).await;
    let trip = TripId::new();
    // The cancellation looked, saw nothing, and the reservation committed before it wrote.
    service.reserve_seats(reserve(trip, "e1", 2)).await.unwrap();
    let voided = EventEnvelope::now(&ReservationVoided {
        trip_id: trip,
        action_idempotency_key: "e1:ReserveFlight".to_owned(),
    })
    .unwrap();
    let outcome = subject
        .repository
        .records()
        .void(&key("e1:ReserveFlight"), &key("e1:CancelFlight"), voided)
        .await
        .unwrap();
    assert_eq!(outcome, Void::ActionTookEffect);
    assert_eq!(seats_left(&service).await, 3);

    // Nothing was recorded for the cancellation key, so the next round releases the seats.
    let cancelled = service
        .cancel_seats(cancel(trip, "e1", "CancelFlight"))
        .await
        .unwrap();
    assert_eq!(cancelled, SeatCancellation::released(2));
    assert_eq!(seats_left(&service).await, 5);
}
