//! The contract of the hotel service's storage: every [`hotel::HotelRepository`] adapter, driven
//! through [`HotelService`], must pass each case here. `contract_in_memory.rs` and
//! `contract_dynamodb.rs` run the same cases with [`contract_tests!`], one `#[tokio::test]` each.

use std::future::Future;
use std::sync::Arc;

use hotel::{
    CancelRooms, CancelRoomsError, HotelCode, HotelService, ReservationStatus, ReserveRooms,
    ReserveRoomsError, RoomCancellation, RoomReservation,
};
use kernel::dynamo::IdempotencyKey;
use kernel::{CalendarDate, DateRange, EventEnvelope, GuestCount, Money, TripId};
use saga_model::StepError;

/// What a case needs from an adapter: the service on it, and the outbox to look at.
pub(crate) trait Harness: Send + Sync + 'static {
    /// The service on the adapter under test (a fresh, empty store per case).
    fn service(&self) -> &HotelService;
    /// The outbox events of `trip_id`'s hotel reservation, oldest first.
    fn trip_events(&self, trip_id: TripId) -> impl Future<Output = Vec<EventEnvelope>> + Send;
}

/// Writes one `#[tokio::test]` per contract case, each on a harness from `$new` (an async fn).
macro_rules! contract_tests {
    ($new:path) => {
        $crate::contract::contract_tests!(@cases $new;
            seeding_is_idempotent_and_keeps_taken_rooms,
            a_reservation_takes_rooms_on_every_night_of_the_stay,
            the_same_key_reserves_once_and_returns_the_same_reservation,
            an_unknown_hotel_or_a_night_not_on_sale_is_hotel_not_found,
            a_short_night_is_no_rooms_and_takes_nothing_on_any_night,
            a_cancellation_gives_back_every_night_once,
            a_late_action_after_its_cancellation_is_already_cancelled,
            a_cancellation_before_the_action_rules_it_out,
            a_cancellation_after_a_refused_reservation_has_nothing_to_undo,
            a_second_cancellation_key_finds_nothing_left_to_undo,
            concurrent_reservations_never_oversell,
            concurrent_retries_of_one_reservation_take_rooms_once,
            concurrent_cancellations_release_once,
            a_reservation_racing_its_cancellation_leaves_nothing_taken,
        );
    };
    (@cases $new:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case(Arc::new($new().await)).await;
            }
        )*
    };
}
pub(crate) use contract_tests;

const FIRST_NIGHT: &str = "2026-12-01";
/// Nights on sale from [`FIRST_NIGHT`]: 2026-12-01 to 2026-12-10.
const NIGHTS_ON_SALE: u32 = 10;

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).unwrap()
}

fn stay(start: &str, end: &str) -> DateRange {
    DateRange::new(date(start), date(end)).unwrap()
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn tokyo() -> HotelCode {
    HotelCode::parse("TOKYO01").unwrap()
}

fn usd(text: &str) -> Money {
    Money::parse(text).unwrap()
}

/// Puts TOKYO01 on sale: `rooms` rooms a night at 150.00 USD for [`NIGHTS_ON_SALE`] nights.
async fn seed(h: &impl Harness, rooms: u32) {
    h.service()
        .add_hotel(
            tokyo(),
            date(FIRST_NIGHT),
            NIGHTS_ON_SALE,
            rooms,
            usd("150.00 USD"),
        )
        .await
        .unwrap();
}

fn reserve(trip_id: TripId, stay: DateRange, guests: u32, action: &str) -> ReserveRooms {
    ReserveRooms {
        trip_id,
        hotel: tokyo(),
        stay,
        guests: GuestCount::new(guests).unwrap(),
        idempotency_key: key(action),
    }
}

fn cancel(trip_id: TripId, action: &str, cancellation: &str) -> CancelRooms {
    CancelRooms {
        trip_id,
        action_idempotency_key: key(action),
        idempotency_key: key(cancellation),
    }
}

async fn rooms_left(h: &impl Harness, night: &str) -> Option<u32> {
    h.service().rooms_left(&tokyo(), date(night)).await.unwrap()
}

/// Rooms left on each night from `first` to `last` inclusive.
async fn rooms_by_night(h: &impl Harness, nights: &[&str]) -> Vec<u32> {
    let mut left = Vec::new();
    for night in nights {
        left.push(rooms_left(h, night).await.expect("night on sale"));
    }
    left
}

fn event_types(events: &[EventEnvelope]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

/// Runs `attempt` until it stops failing with a transient store error, as the saga's `Retry`
/// would; business outcomes and `StoreFailed` are returned.
async fn retrying<T, E: StepError, F: Future<Output = Result<T, E>>>(
    mut attempt: impl FnMut() -> F,
) -> Result<T, E> {
    loop {
        match attempt().await {
            Err(e)
                if ["StoreThrottled", "StoreUnavailable", "StoreConflict"].contains(&e.name()) =>
            {
                tokio::task::yield_now().await;
            }
            other => return other,
        }
    }
}

pub(crate) async fn seeding_is_idempotent_and_keeps_taken_rooms(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    h.service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-01", "2026-12-02"),
            2,
            "e1:ReserveHotel",
        ))
        .await
        .unwrap();
    // Seeding again, even with other numbers, changes nothing that is on sale.
    h.service()
        .add_hotel(tokyo(), date(FIRST_NIGHT), 12, 9, usd("99.00 USD"))
        .await
        .unwrap();
    assert_eq!(
        rooms_left(&*h, "2026-12-01").await,
        Some(4),
        "taken room kept"
    );
    assert_eq!(
        rooms_left(&*h, "2026-12-10").await,
        Some(5),
        "rate and rooms kept"
    );
    assert_eq!(
        rooms_left(&*h, "2026-12-11").await,
        Some(9),
        "new nights added"
    );
    assert_eq!(rooms_left(&*h, "2026-12-13").await, None, "not on sale");
    let unknown = HotelCode::parse("NOWHERE").unwrap();
    assert_eq!(
        h.service()
            .rooms_left(&unknown, date(FIRST_NIGHT))
            .await
            .unwrap(),
        None
    );
    // The original rate still prices a stay.
    let priced = h
        .service()
        .reserve_rooms(reserve(
            TripId::new(),
            stay("2026-12-10", "2026-12-11"),
            1,
            "e2:ReserveHotel",
        ))
        .await
        .unwrap();
    assert_eq!(priced.total, usd("150.00 USD"));
}

pub(crate) async fn a_reservation_takes_rooms_on_every_night_of_the_stay(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    let the_stay = stay("2026-12-02", "2026-12-05");

    let reservation = h
        .service()
        .reserve_rooms(reserve(trip, the_stay, 3, "e1:ReserveHotel"))
        .await
        .unwrap();

    assert_eq!(reservation.trip_id, trip);
    assert_eq!(reservation.hotel, tokyo());
    assert_eq!(reservation.stay, the_stay);
    assert_eq!(reservation.rooms, 2, "3 guests take 2 rooms");
    assert_eq!(
        reservation.total,
        usd("900.00 USD"),
        "3 nights × 2 rooms × 150"
    );
    assert_eq!(reservation.status, ReservationStatus::Reserved);
    let nights = [
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
        "2026-12-05",
    ];
    assert_eq!(
        rooms_by_night(&*h, &nights).await,
        [5, 3, 3, 3, 5],
        "check-out night untouched"
    );
    assert_eq!(
        h.service().reservation(trip).await.unwrap(),
        Some(reservation.clone())
    );
    assert_eq!(h.service().reservation(TripId::new()).await.unwrap(), None);

    let events = h.trip_events(trip).await;
    assert_eq!(event_types(&events), ["RoomsReserved"]);
    let payload = &events[0].payload;
    assert_eq!(payload["rooms"], 2);
    assert_eq!(payload["hotel"], "TOKYO01");
    assert_eq!(
        payload["reservation_id"],
        reservation.reservation_id.to_string()
    );
    assert_eq!(events[0].aggregate_type, "HotelReservation");
}

pub(crate) async fn the_same_key_reserves_once_and_returns_the_same_reservation(
    h: Arc<impl Harness>,
) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    let command = reserve(trip, stay("2026-12-01", "2026-12-03"), 2, "e1:ReserveHotel");

    let first = h.service().reserve_rooms(command.clone()).await.unwrap();
    let second = h.service().reserve_rooms(command).await.unwrap();

    assert_eq!(second, first, "same reservation id, same everything");
    assert_eq!(
        rooms_by_night(&*h, &["2026-12-01", "2026-12-02"]).await,
        [4, 4]
    );
    assert_eq!(event_types(&h.trip_events(trip).await), ["RoomsReserved"]);
}

pub(crate) async fn an_unknown_hotel_or_a_night_not_on_sale_is_hotel_not_found(
    h: Arc<impl Harness>,
) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    let mut unknown = reserve(trip, stay("2026-12-01", "2026-12-03"), 2, "e1:ReserveHotel");
    unknown.hotel = HotelCode::parse("NOWHERE").unwrap();

    let error = h.service().reserve_rooms(unknown).await.unwrap_err();
    let ReserveRoomsError::HotelNotFound(night) = &error else {
        panic!("expected HotelNotFound, got {error:?}")
    };
    assert_eq!(
        (night.hotel.as_str(), night.night),
        ("NOWHERE", date("2026-12-01"))
    );
    assert_eq!(error.name(), "HotelNotFound");

    // On sale until the night of 12-10: a stay running past it is refused on the first gap.
    let error = h
        .service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-09", "2026-12-13"),
            2,
            "e2:ReserveHotel",
        ))
        .await
        .unwrap_err();
    let ReserveRoomsError::HotelNotFound(night) = &error else {
        panic!("expected HotelNotFound, got {error:?}")
    };
    assert_eq!(night.night, date("2026-12-11"));
    assert!(error.to_string().contains("2026-12-11"), "{error}");
    assert_eq!(
        rooms_by_night(&*h, &["2026-12-09", "2026-12-10"]).await,
        [5, 5]
    );
    assert_eq!(h.service().reservation(trip).await.unwrap(), None);
    assert!(h.trip_events(trip).await.is_empty());
}

pub(crate) async fn a_short_night_is_no_rooms_and_takes_nothing_on_any_night(h: Arc<impl Harness>) {
    seed(&*h, 2).await;
    let blocker = TripId::new();
    h.service()
        .reserve_rooms(reserve(
            blocker,
            stay("2026-12-03", "2026-12-04"),
            3,
            "b:ReserveHotel",
        ))
        .await
        .unwrap();
    let trip = TripId::new();
    let command = reserve(trip, stay("2026-12-01", "2026-12-05"), 1, "e1:ReserveHotel");

    let error = h
        .service()
        .reserve_rooms(command.clone())
        .await
        .unwrap_err();

    let ReserveRoomsError::NoRooms {
        night,
        requested,
        rooms_left,
    } = error
    else {
        panic!("expected NoRooms, got {error:?}")
    };
    assert_eq!((night, requested, rooms_left), (date("2026-12-03"), 1, 0));
    let nights = ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"];
    assert_eq!(
        rooms_by_night(&*h, &nights).await,
        [2, 2, 0, 2],
        "no night taken"
    );
    assert_eq!(h.service().reservation(trip).await.unwrap(), None);
    assert!(h.trip_events(trip).await.is_empty());

    // A refusal records nothing: once rooms free up, the same invocation decides afresh.
    h.service()
        .cancel_rooms(cancel(blocker, "b:ReserveHotel", "b:CancelHotel"))
        .await
        .unwrap();
    let reservation = h.service().reserve_rooms(command).await.unwrap();
    assert_eq!(reservation.rooms, 1);
    assert_eq!(rooms_by_night(&*h, &nights).await, [1, 1, 1, 1]);
}

pub(crate) async fn a_cancellation_gives_back_every_night_once(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    // Another trip holds a room, so a double release would show (5 - 1 + 2 + 2 > 5 - 1).
    h.service()
        .reserve_rooms(reserve(
            TripId::new(),
            stay("2026-12-01", "2026-12-04"),
            1,
            "o:ReserveHotel",
        ))
        .await
        .unwrap();
    let trip = TripId::new();
    let reservation = h
        .service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-01", "2026-12-04"),
            4,
            "e1:ReserveHotel",
        ))
        .await
        .unwrap();
    let nights = ["2026-12-01", "2026-12-02", "2026-12-03"];
    assert_eq!(rooms_by_night(&*h, &nights).await, [2, 2, 2]);

    let command = cancel(trip, "e1:ReserveHotel", "e1:CancelHotel");
    let cancelled = h.service().cancel_rooms(command.clone()).await.unwrap();
    let again = h.service().cancel_rooms(command).await.unwrap();

    assert_eq!(
        cancelled,
        RoomCancellation {
            released_rooms: 2,
            nothing_to_undo: false
        }
    );
    assert_eq!(again, cancelled, "a retry answers what the first call did");
    assert_eq!(
        rooms_by_night(&*h, &nights).await,
        [4, 4, 4],
        "released once, on every night"
    );
    let stored = h.service().reservation(trip).await.unwrap().unwrap();
    assert_eq!(stored.status, ReservationStatus::Cancelled);
    assert_eq!(stored.reservation_id, reservation.reservation_id);
    let events = h.trip_events(trip).await;
    assert_eq!(event_types(&events), ["RoomsReserved", "RoomsReleased"]);
    assert_eq!(events[1].payload["released_rooms"], 2);
    assert_eq!(
        events[1].payload["reservation_id"],
        reservation.reservation_id.to_string()
    );
}

pub(crate) async fn a_late_action_after_its_cancellation_is_already_cancelled(
    h: Arc<impl Harness>,
) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    let command = reserve(trip, stay("2026-12-01", "2026-12-03"), 2, "e1:ReserveHotel");
    h.service().reserve_rooms(command.clone()).await.unwrap();
    h.service()
        .cancel_rooms(cancel(trip, "e1:ReserveHotel", "e1:CancelHotel"))
        .await
        .unwrap();

    let error = h.service().reserve_rooms(command).await.unwrap_err();

    assert!(
        matches!(error, ReserveRoomsError::AlreadyCancelled),
        "{error:?}"
    );
    assert_eq!(error.name(), "AlreadyCancelled");
    assert_eq!(
        rooms_by_night(&*h, &["2026-12-01", "2026-12-02"]).await,
        [5, 5]
    );
    assert_eq!(
        event_types(&h.trip_events(trip).await),
        ["RoomsReserved", "RoomsReleased"]
    );
}

pub(crate) async fn a_cancellation_before_the_action_rules_it_out(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    let command = cancel(trip, "e1:ReserveHotel", "e1:CancelHotel");

    let cancelled = h.service().cancel_rooms(command.clone()).await.unwrap();
    let again = h.service().cancel_rooms(command).await.unwrap();

    assert_eq!(
        cancelled,
        RoomCancellation {
            released_rooms: 0,
            nothing_to_undo: true
        }
    );
    assert_eq!(again, cancelled);
    let events = h.trip_events(trip).await;
    assert_eq!(
        event_types(&events),
        ["RoomsReleased"],
        "one event, not one per retry"
    );
    assert_eq!(events[0].payload["released_rooms"], 0);
    assert!(events[0].payload["reservation_id"].is_null());

    // The timed-out action arrives late: it must not take rooms.
    let late = h
        .service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-01", "2026-12-03"),
            2,
            "e1:ReserveHotel",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(late, ReserveRoomsError::AlreadyCancelled),
        "{late:?}"
    );
    assert_eq!(
        rooms_by_night(&*h, &["2026-12-01", "2026-12-02"]).await,
        [5, 5]
    );
    assert_eq!(h.service().reservation(trip).await.unwrap(), None);
}

pub(crate) async fn a_cancellation_after_a_refused_reservation_has_nothing_to_undo(
    h: Arc<impl Harness>,
) {
    seed(&*h, 1).await;
    let trip = TripId::new();
    let refused = h
        .service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-01", "2026-12-02"),
            4,
            "e1:ReserveHotel",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.name(), "NoRooms");

    let cancelled = h
        .service()
        .cancel_rooms(cancel(trip, "e1:ReserveHotel", "e1:CancelHotel"))
        .await
        .unwrap();

    assert!(cancelled.nothing_to_undo);
    assert_eq!(rooms_left(&*h, "2026-12-01").await, Some(1));
}

pub(crate) async fn a_second_cancellation_key_finds_nothing_left_to_undo(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    h.service()
        .reserve_rooms(reserve(
            TripId::new(),
            stay("2026-12-01", "2026-12-02"),
            1,
            "o:ReserveHotel",
        ))
        .await
        .unwrap();
    let trip = TripId::new();
    h.service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-01", "2026-12-02"),
            2,
            "e1:ReserveHotel",
        ))
        .await
        .unwrap();

    let first = h
        .service()
        .cancel_rooms(cancel(trip, "e1:ReserveHotel", "e1:CancelHotel"))
        .await
        .unwrap();
    let second = h
        .service()
        .cancel_rooms(cancel(trip, "e1:ReserveHotel", "redrive:CancelHotel"))
        .await
        .unwrap();

    assert_eq!(first.released_rooms, 1);
    assert_eq!(
        second,
        RoomCancellation {
            released_rooms: 0,
            nothing_to_undo: true
        }
    );
    assert_eq!(rooms_left(&*h, "2026-12-01").await, Some(4));
}

pub(crate) async fn concurrent_reservations_never_oversell(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    let nights = ["2026-12-01", "2026-12-02"];
    let attempts = (0..50).map(|i| {
        let h = Arc::clone(&h);
        tokio::spawn(async move {
            let command = reserve(
                TripId::new(),
                stay("2026-12-01", "2026-12-03"),
                1,
                &format!("e{i}:ReserveHotel"),
            );
            retrying(|| h.service().reserve_rooms(command.clone())).await
        })
    });
    let outcomes: Vec<Result<RoomReservation, ReserveRoomsError>> =
        futures::future::join_all(attempts)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();

    let reserved = outcomes.iter().filter(|o| o.is_ok()).count();
    let no_rooms = outcomes
        .iter()
        .filter(|o| matches!(o, Err(ReserveRoomsError::NoRooms { rooms_left: 0, .. })))
        .count();
    assert_eq!((reserved, no_rooms), (5, 45), "{outcomes:?}");
    assert_eq!(
        rooms_by_night(&*h, &nights).await,
        [0, 0],
        "no night below zero"
    );
}

pub(crate) async fn concurrent_retries_of_one_reservation_take_rooms_once(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    let trip = TripId::new();
    let command = reserve(trip, stay("2026-12-01", "2026-12-03"), 2, "e1:ReserveHotel");
    let attempts = (0..10).map(|_| {
        let (h, command) = (Arc::clone(&h), command.clone());
        tokio::spawn(async move { retrying(|| h.service().reserve_rooms(command.clone())).await })
    });
    let reservations: Vec<RoomReservation> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|o| o.unwrap().unwrap())
        .collect();

    assert!(
        reservations.iter().all(|r| *r == reservations[0]),
        "{reservations:?}"
    );
    assert_eq!(
        rooms_by_night(&*h, &["2026-12-01", "2026-12-02"]).await,
        [4, 4]
    );
    assert_eq!(event_types(&h.trip_events(trip).await), ["RoomsReserved"]);
}

pub(crate) async fn concurrent_cancellations_release_once(h: Arc<impl Harness>) {
    seed(&*h, 5).await;
    h.service()
        .reserve_rooms(reserve(
            TripId::new(),
            stay("2026-12-01", "2026-12-03"),
            1,
            "o:ReserveHotel",
        ))
        .await
        .unwrap();
    let trip = TripId::new();
    h.service()
        .reserve_rooms(reserve(
            trip,
            stay("2026-12-01", "2026-12-03"),
            4,
            "e1:ReserveHotel",
        ))
        .await
        .unwrap();
    let attempts = (0..10).map(|i| {
        let h = Arc::clone(&h);
        tokio::spawn(async move {
            let command = cancel(trip, "e1:ReserveHotel", &format!("c{i}:CancelHotel"));
            retrying(|| h.service().cancel_rooms(command.clone())).await
        })
    });
    let results: Vec<RoomCancellation> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|o| o.unwrap().unwrap())
        .collect();

    let released: Vec<_> = results.iter().filter(|r| !r.nothing_to_undo).collect();
    assert_eq!(
        released,
        [&RoomCancellation {
            released_rooms: 2,
            nothing_to_undo: false
        }]
    );
    assert_eq!(
        rooms_by_night(&*h, &["2026-12-01", "2026-12-02"]).await,
        [4, 4]
    );
}

pub(crate) async fn a_reservation_racing_its_cancellation_leaves_nothing_taken(
    h: Arc<impl Harness>,
) {
    seed(&*h, 5).await;
    let nights = ["2026-12-01", "2026-12-02"];
    for round in 0..5 {
        let trip = TripId::new();
        let action = format!("r{round}:ReserveHotel");
        let command = reserve(trip, stay("2026-12-01", "2026-12-03"), 2, &action);
        let compensation = cancel(trip, &action, &format!("r{round}:CancelHotel"));
        let reserving = {
            let h = Arc::clone(&h);
            tokio::spawn(
                async move { retrying(|| h.service().reserve_rooms(command.clone())).await },
            )
        };
        let cancelling = {
            let h = Arc::clone(&h);
            tokio::spawn(async move {
                retrying(|| h.service().cancel_rooms(compensation.clone())).await
            })
        };
        let (reserved, cancelled) = (reserving.await.unwrap(), cancelling.await.unwrap());
        let cancelled: RoomCancellation =
            cancelled.unwrap_or_else(|e: CancelRoomsError| panic!("{e}"));

        // Either order is fine; what is not fine is rooms left taken, or a cancellation that
        // claims to have released what it did not.
        match reserved {
            Ok(reservation) => {
                assert_eq!(cancelled.released_rooms, reservation.rooms, "round {round}");
            }
            Err(ReserveRoomsError::AlreadyCancelled) => assert!(cancelled.nothing_to_undo),
            Err(other) => panic!("round {round}: {other:?}"),
        }
        assert_eq!(rooms_by_night(&*h, &nights).await, [5, 5], "round {round}");
    }
}
