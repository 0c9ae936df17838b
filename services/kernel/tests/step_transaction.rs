//! `StepTransaction` against a real DynamoDB-compatible server (moto): the promises the flight,
//! hotel and payment services build on.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemReader, Key, SingleTable, StepTransaction,
    TransactionOutcome, Write, outbox, stored_result,
};
use kernel::testing::{TestTable, test_table};
use kernel::{AggregateVersion, CalendarDate, DomainEvent, EventEnvelope, FlightNumber, TripId};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct SeatsReserved {
    flight: String,
    seats: u32,
}

impl DomainEvent for SeatsReserved {
    const AGGREGATE_TYPE: &'static str = "Flight";
    fn event_type(&self) -> &'static str {
        "SeatsReserved"
    }
    fn aggregate_id(&self) -> String {
        self.flight.clone()
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Reservation {
    booking: String,
    seats: u32,
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn inventory() -> Key {
    Key::flight_inventory(
        &FlightNumber::parse("NH106").unwrap(),
        CalendarDate::parse("2026-05-01").unwrap(),
    )
}

fn reserved(seats: u32) -> EventEnvelope {
    EventEnvelope::now(&SeatsReserved {
        flight: "NH106#2026-05-01".to_owned(),
        seats,
    })
    .unwrap()
}

/// Takes `seats` from the inventory, as the flight service's reservation does.
fn reserve(table: &TestTable, idempotency_key: &str, seats: u32, booking: &Key) -> StepTransaction {
    StepTransaction::new(&table.name, key(idempotency_key))
        .write(
            "seats",
            Write::update(&inventory(), "SET available = available - :n")
                .condition("available >= :n")
                .number_value(":n", seats),
        )
        .write(
            "booking",
            Write::put_new(
                ItemBuilder::new(booking)
                    .entity_type("FLIGHT_BOOKING")
                    .number("seats", seats)
                    .build(),
            ),
        )
        .event(reserved(seats))
}

async fn put_inventory(table: &TestTable, available: u32) {
    table
        .client
        .put_item()
        .table_name(&table.name)
        .set_item(Some(
            ItemBuilder::new(&inventory())
                .number("available", available)
                .build(),
        ))
        .send()
        .await
        .unwrap();
}

async fn get(table: &TestTable, key: &Key) -> Option<Item> {
    let table = SingleTable::new(table.client.clone(), &table.name);
    table.get(key).await.unwrap()
}

async fn available(table: &TestTable) -> u32 {
    ItemReader::new(&get(table, &inventory()).await.unwrap())
        .number("available")
        .unwrap()
}

/// Every item of `entity_type` in the table (tests are small; a scan is fine here).
async fn items_of(table: &TestTable, entity_type: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let page = table
            .client
            .scan()
            .table_name(&table.name)
            .filter_expression("entity_type = :t")
            .expression_attribute_values(":t", AttributeValue::S(entity_type.to_owned()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return items;
        }
    }
}

fn booking_key() -> Key {
    Key::trip_flight(TripId::new(), kernel::BookingId::new())
}

#[tokio::test]
async fn a_state_change_its_outbox_event_and_its_idempotency_record_are_written_together() {
    let table = test_table().await;
    put_inventory(&table, 5).await;
    let booking = booking_key();
    let result = Reservation {
        booking: booking.sk().to_owned(),
        seats: 2,
    };

    let outcome = reserve(&table, "exec-1:ReserveFlight", 2, &booking)
        .commit(&table.client, result.clone())
        .await
        .unwrap();

    assert_eq!(outcome, TransactionOutcome::Committed(result.clone()));
    assert_eq!(available(&table).await, 3);
    assert!(get(&table, &booking).await.is_some());
    let stored: Option<Reservation> =
        stored_result(&table.client, &table.name, &key("exec-1:ReserveFlight"))
            .await
            .unwrap();
    assert_eq!(stored, Some(result));
    let record = get(&table, &Key::idempotency(&key("exec-1:ReserveFlight")))
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let record_ttl: i64 = ItemReader::new(&record).number("expires_at").unwrap();
    assert!(
        (now + 29 * 86_400..=now + 31 * 86_400).contains(&record_ttl),
        "30-day TTL, got {record_ttl}"
    );

    let events = items_of(&table, outbox::ENTITY_TYPE).await;
    assert_eq!(events.len(), 1);
    let event = outbox::event_from_item(&events[0]).unwrap();
    assert_eq!(event.event_type, "SeatsReserved");
    assert_eq!(event.aggregate_id, "NH106#2026-05-01");
    assert_eq!(event.payload["seats"], 2);
    let reader = ItemReader::new(&events[0]);
    assert_eq!(
        reader.string("idempotency_key").unwrap(),
        "exec-1:ReserveFlight"
    );
    let outbox_ttl: i64 = reader.number("expires_at").unwrap();
    assert!(
        (now + 6 * 86_400..=now + 8 * 86_400).contains(&outbox_ttl),
        "7-day TTL, got {outbox_ttl}"
    );
}

#[tokio::test]
async fn a_repeated_invocation_writes_nothing_and_returns_the_stored_result() {
    let table = test_table().await;
    put_inventory(&table, 5).await;
    let first_booking = booking_key();
    let first = Reservation {
        booking: first_booking.sk().to_owned(),
        seats: 2,
    };
    reserve(&table, "exec-1:ReserveFlight", 2, &first_booking)
        .commit(&table.client, first.clone())
        .await
        .unwrap();

    // The retry generates a new booking id, as a re-run handler would: it must not be used.
    let second_booking = booking_key();
    let second = Reservation {
        booking: second_booking.sk().to_owned(),
        seats: 2,
    };
    let outcome = reserve(&table, "exec-1:ReserveFlight", 2, &second_booking)
        .commit(&table.client, second)
        .await
        .unwrap();

    assert_eq!(outcome, TransactionOutcome::AlreadyProcessed(first));
    assert_eq!(available(&table).await, 3, "seats taken once");
    assert!(get(&table, &second_booking).await.is_none());
    assert_eq!(items_of(&table, outbox::ENTITY_TYPE).await.len(), 1);
    assert_eq!(items_of(&table, "IDEMPOTENCY").await.len(), 1);
}

#[tokio::test]
async fn a_repeated_invocation_wins_even_when_its_business_condition_now_fails() {
    let table = test_table().await;
    put_inventory(&table, 2).await;
    let first = Reservation {
        booking: "b-1".to_owned(),
        seats: 2,
    };
    reserve(&table, "exec-1:ReserveFlight", 2, &booking_key())
        .commit(&table.client, first.clone())
        .await
        .unwrap();
    assert_eq!(available(&table).await, 0);

    // A retry after a crash: the seats are gone (taken by the first run), the answer is still yes.
    let outcome = reserve(&table, "exec-1:ReserveFlight", 2, &booking_key())
        .commit(
            &table.client,
            Reservation {
                booking: "b-2".to_owned(),
                seats: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(outcome, TransactionOutcome::AlreadyProcessed(first));
}

#[tokio::test]
async fn a_failed_business_condition_writes_nothing_at_all() {
    let table = test_table().await;
    put_inventory(&table, 1).await;
    let booking = booking_key();

    let outcome = reserve(&table, "exec-1:ReserveFlight", 2, &booking)
        .commit(
            &table.client,
            Reservation {
                booking: "b-1".to_owned(),
                seats: 2,
            },
        )
        .await
        .unwrap();

    let TransactionOutcome::ConditionFailed(failed) = outcome else {
        panic!("expected sold out, got {outcome:?}")
    };
    assert_eq!(failed.label, "seats");
    let seen: u32 = ItemReader::new(failed.item.as_ref().expect("the item as it was"))
        .number("available")
        .unwrap();
    assert_eq!(seen, 1);
    assert_eq!(available(&table).await, 1);
    assert!(get(&table, &booking).await.is_none());
    assert!(
        items_of(&table, outbox::ENTITY_TYPE).await.is_empty(),
        "no outbox item"
    );
    let record: Option<Reservation> =
        stored_result(&table.client, &table.name, &key("exec-1:ReserveFlight"))
            .await
            .unwrap();
    assert_eq!(
        record, None,
        "no idempotency record: a later invocation decides afresh"
    );
}

#[tokio::test]
async fn concurrent_reservations_never_oversell() {
    let table = test_table().await;
    put_inventory(&table, 10).await;

    let attempts = (0..100).map(|i| {
        let table = table.clone();
        tokio::spawn(async move {
            // Retry transient errors as Step Functions would; business outcomes are final.
            loop {
                let outcome = reserve(
                    &table,
                    &format!("exec-{i}:ReserveFlight"),
                    1,
                    &booking_key(),
                )
                .commit(
                    &table.client,
                    Reservation {
                        booking: format!("b-{i}"),
                        seats: 1,
                    },
                )
                .await;
                match outcome {
                    Ok(outcome) => return outcome,
                    Err(error) if error.is_transient() => tokio::task::yield_now().await,
                    Err(error) => panic!("{error}"),
                }
            }
        })
    });
    let outcomes = futures::future::join_all(attempts).await;

    let committed = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(TransactionOutcome::Committed(_))))
        .count();
    let sold_out = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(TransactionOutcome::ConditionFailed(f)) if f.label == "seats"))
        .count();
    assert_eq!((committed, sold_out), (10, 90));
    assert_eq!(available(&table).await, 0);
    assert_eq!(items_of(&table, "FLIGHT_BOOKING").await.len(), 10);
    assert_eq!(items_of(&table, "IDEMPOTENCY").await.len(), 10);
    assert_eq!(items_of(&table, outbox::ENTITY_TYPE).await.len(), 10);
}

#[tokio::test]
async fn optimistic_locking_lets_one_of_two_writers_win() {
    let table = test_table().await;
    let trip = Key::trip(TripId::new());
    let item = |status: &str| {
        ItemBuilder::new(&trip)
            .entity_type("TRIP")
            .string("status", status)
            .build()
    };
    let created = StepTransaction::new(&table.name, key("exec-1:CreateTrip"))
        .write(
            "trip",
            Write::put_versioned(item("PENDING"), AggregateVersion::NEW),
        )
        .event(reserved(0))
        .commit(&table.client, ())
        .await
        .unwrap();
    assert_eq!(created, TransactionOutcome::Committed(()));

    let read = AggregateVersion::from_stored(1);
    let write = |k: &str, status: &str| {
        StepTransaction::new(&table.name, key(k))
            .write("trip", Write::put_versioned(item(status), read))
            .event(reserved(0))
            .commit(&table.client, ())
    };
    assert_eq!(
        write("exec-1:ConfirmTrip", "CONFIRMED").await.unwrap(),
        TransactionOutcome::Committed(())
    );
    let lost = write("exec-1:CancelTrip", "CANCELLED").await.unwrap();
    let TransactionOutcome::ConditionFailed(failed) = lost else {
        panic!("expected a lost race, got {lost:?}")
    };
    assert_eq!(
        ItemReader::new(&failed.item.unwrap())
            .number::<u64>("version")
            .unwrap(),
        2
    );
    let stored = get(&table, &trip).await.unwrap();
    assert_eq!(
        ItemReader::new(&stored).string("status").unwrap(),
        "CONFIRMED"
    );
}

#[tokio::test]
async fn a_compensation_finds_what_the_action_did_by_its_key() {
    let table = test_table().await;
    put_inventory(&table, 3).await;
    let booking = booking_key();
    let reservation = Reservation {
        booking: booking.sk().to_owned(),
        seats: 3,
    };
    reserve(&table, "exec-9:ReserveFlight", 3, &booking)
        .commit(&table.client, reservation.clone())
        .await
        .unwrap();

    // The action's output never reached the state machine; the compensation gets its key only.
    let found: Reservation =
        stored_result(&table.client, &table.name, &key("exec-9:ReserveFlight"))
            .await
            .unwrap()
            .unwrap();
    let release = StepTransaction::new(&table.name, key("exec-9:CancelFlight"))
        .write(
            "seats",
            Write::update(&inventory(), "SET available = available + :n")
                .number_value(":n", found.seats),
        )
        .write(
            "booking",
            Write::delete(&booking).condition("attribute_exists(PK)"),
        )
        .event(reserved(0));
    assert_eq!(
        release.clone().commit(&table.client, true).await.unwrap(),
        TransactionOutcome::Committed(true)
    );
    // Compensations are retried too: the second run releases nothing more.
    assert_eq!(
        release.commit(&table.client, false).await.unwrap(),
        TransactionOutcome::AlreadyProcessed(true)
    );
    assert_eq!(available(&table).await, 3);
}

#[tokio::test]
async fn the_table_has_the_documented_shape() {
    let table = test_table().await;
    let described = table
        .client
        .describe_table()
        .table_name(&table.name)
        .send()
        .await
        .unwrap();
    let description = described.table().unwrap();
    let stream = description.stream_specification().unwrap();
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type().unwrap().as_str(),
        "NEW_AND_OLD_IMAGES"
    );
    assert!(
        description.global_secondary_indexes().is_empty(),
        "no access pattern reads an index"
    );
    let ttl = table
        .client
        .describe_time_to_live()
        .table_name(&table.name)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(ttl.time_to_live_status().unwrap().as_str(), "ENABLED");
}
