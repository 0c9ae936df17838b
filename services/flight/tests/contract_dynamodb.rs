//! The repository contract on the DynamoDB adapter, against moto (`kernel::testing`): a fresh
//! table per test on one server per test binary. The tests fail, never skip, when moto cannot
//! start.

mod contract;

use std::sync::Arc;

use flight::DynamoFlightRepository;
use flight::domain::FlightDate;
use kernel::testing::test_table;

async fn dynamodb() -> contract::Subject {
    let table = test_table().await;
    let repository = Arc::new(DynamoFlightRepository::new(table.client, table.name));
    let reader = repository.clone();
    contract::Subject {
        repository,
        flight_events: Box::new(move |flight: FlightDate| {
            let reader = reader.clone();
            Box::pin(async move {
                // Read back from the table: the outbox item is really there.
                reader.flight_events(&flight).await.unwrap()
            })
        }),
    }
}

contract::contract_tests!(dynamodb());

/// What one reservation leaves in the table: the items of the documented design, all of them.
#[tokio::test]
async fn a_reservation_writes_its_items_in_one_transaction() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use flight::{
        CalendarDate, FlightNumber, FlightService, IdempotencyKey, Money, PassengerCount,
        ReserveSeats, TripId,
    };
    use kernel::dynamo::{ItemReader, Key, SingleTable};

    let table = test_table().await;
    let repository = Arc::new(DynamoFlightRepository::new(
        table.client.clone(),
        table.name.clone(),
    ));
    let service = FlightService::new(repository);
    let (flight, date) = (
        FlightNumber::parse("NH106").unwrap(),
        CalendarDate::parse("2026-05-01").unwrap(),
    );
    service
        .add_flight(flight.clone(), date, 5, Money::parse("312.40 USD").unwrap())
        .await
        .unwrap();
    let trip_id = TripId::new();
    let reservation = service
        .reserve_seats(ReserveSeats {
            trip_id,
            flight: flight.clone(),
            date,
            passengers: PassengerCount::new(2).unwrap(),
            idempotency_key: IdempotencyKey::parse("exec-1:ReserveFlight").unwrap(),
        })
        .await
        .unwrap();

    let single_table = SingleTable::new(table.client.clone(), &table.name);
    let get = async |key: Key| {
        let item = single_table.get(&key).await.unwrap();
        item.unwrap_or_else(|| panic!("no item {key}"))
    };
    let inventory = get(Key::flight_inventory(&flight, date)).await;
    assert_eq!(
        ItemReader::new(&inventory)
            .number::<u32>("seats_available")
            .unwrap(),
        3
    );
    let booking = get(Key::trip_flight(trip_id, reservation.reservation_id)).await;
    let booking = ItemReader::new(&booking);
    assert_eq!(booking.string("entity_type").unwrap(), "FLIGHT_BOOKING");
    assert_eq!(booking.string("status").unwrap(), "RESERVED");
    assert_eq!(
        booking.string("reserved_by").unwrap(),
        "exec-1:ReserveFlight"
    );
    assert_eq!(booking.string("total").unwrap(), "624.80 USD");
    let record = get(Key::idempotency(
        &IdempotencyKey::parse("exec-1:ReserveFlight").unwrap(),
    ))
    .await;
    let result: serde_json::Value = ItemReader::new(&record).json("result").unwrap();
    assert_eq!(result["outcome"], "reserved");
    assert_eq!(
        result["reservation"]["reservation_id"],
        reservation.reservation_id.to_string()
    );
    let outbox = table
        .client
        .query()
        .table_name(&table.name)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S("OUTBOX#Flight#NH106#2026-05-01".to_owned()),
        )
        .send()
        .await
        .unwrap();
    let [event] = outbox.items() else {
        panic!("expected one outbox item, got {:?}", outbox.items())
    };
    let event = ItemReader::new(event);
    assert_eq!(event.string("entity_type").unwrap(), "OUTBOX");
    assert_eq!(event.string("event_type").unwrap(), "SeatsReserved");
    assert_eq!(
        event.string("idempotency_key").unwrap(),
        "exec-1:ReserveFlight"
    );
}
