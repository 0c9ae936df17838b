//! The contract suite on [`DynamoHotelRepository`], against a real DynamoDB-compatible server
//! (moto, started by `kernel::testing`; the tests fail, never skip, when it cannot start), and
//! the item shapes the adapter documents.

mod contract;

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use hotel::{DynamoHotelRepository, HotelCode, HotelService, ReserveRooms};
use kernel::dynamo::{IdempotencyKey, Item, ItemReader, Key, SingleTable};
use kernel::testing::{TestTable, test_table};
use kernel::{CalendarDate, DateRange, EventEnvelope, GuestCount, Money, TripId};
use saga_model::StepError;

struct Dynamo {
    repository: DynamoHotelRepository,
    service: HotelService,
}

impl contract::Harness for Dynamo {
    fn service(&self) -> &HotelService {
        &self.service
    }

    async fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        self.repository.trip_events(trip_id).await.unwrap()
    }
}

async fn dynamo() -> Dynamo {
    let TestTable { client, name } = test_table().await;
    let repository = DynamoHotelRepository::new(client, name);
    Dynamo {
        service: HotelService::new(Arc::new(repository.clone())),
        repository,
    }
}

contract::contract_tests!(dynamo);

async fn get(table: &TestTable, key: &Key) -> Item {
    let table = SingleTable::new(table.client.clone(), &table.name);
    let item = table.get(key).await.unwrap();
    item.unwrap_or_else(|| panic!("no item {key}"))
}

#[tokio::test]
async fn items_have_the_documented_keys_and_attributes() {
    let table = test_table().await;
    let service = HotelService::new(Arc::new(DynamoHotelRepository::new(
        table.client.clone(),
        &table.name,
    )));
    let hotel = HotelCode::parse("TOKYO01").unwrap();
    let first = CalendarDate::parse("2026-12-01").unwrap();
    service
        .add_hotel(
            hotel.clone(),
            first,
            2,
            5,
            Money::parse("150.00 USD").unwrap(),
        )
        .await
        .unwrap();
    let trip = TripId::new();
    let reservation = service
        .reserve_rooms(ReserveRooms {
            trip_id: trip,
            hotel,
            stay: DateRange::new(first, CalendarDate::parse("2026-12-03").unwrap()).unwrap(),
            guests: GuestCount::new(2).unwrap(),
            idempotency_key: IdempotencyKey::parse("e1:ReserveHotel").unwrap(),
        })
        .await
        .unwrap();

    let night = get(&table, &Key::new("HOTEL#TOKYO01#2026-12-02", "INVENTORY")).await;
    let night = ItemReader::new(&night);
    assert_eq!(night.string("entity_type").unwrap(), "HOTEL_NIGHT");
    assert_eq!(night.number::<u32>("rooms_total").unwrap(), 5);
    assert_eq!(night.number::<u32>("rooms_available").unwrap(), 4);
    assert_eq!(night.string("nightly_rate").unwrap(), "150.00 USD");

    let booking = get(&table, &Key::trip_hotel(trip, reservation.reservation_id)).await;
    let booking = ItemReader::new(&booking);
    assert_eq!(booking.string("entity_type").unwrap(), "HOTEL_BOOKING");
    assert_eq!(booking.string("status").unwrap(), "RESERVED");
    assert_eq!(booking.string("total").unwrap(), "300.00 USD");
    assert_eq!(booking.string("stay_start").unwrap(), "2026-12-01");
    assert_eq!(booking.string("stay_end").unwrap(), "2026-12-03");
    assert_eq!(booking.string("reserved_by").unwrap(), "e1:ReserveHotel");

    let record = get(
        &table,
        &Key::idempotency(&IdempotencyKey::parse("e1:ReserveHotel").unwrap()),
    )
    .await;
    let result: serde_json::Value = ItemReader::new(&record).json("result").unwrap();
    assert_eq!(result["outcome"], "reserved");
    assert_eq!(result["reservation"]["rooms"], 1);
    assert!(matches!(
        record.get("expires_at"),
        Some(AttributeValue::N(_))
    ));
}

#[tokio::test]
async fn a_missing_table_is_store_failed() {
    let table = test_table().await;
    let service = HotelService::new(Arc::new(DynamoHotelRepository::new(
        table.client.clone(),
        "no-such-table",
    )));
    let error = service
        .reserve_rooms(ReserveRooms {
            trip_id: TripId::new(),
            hotel: HotelCode::parse("TOKYO01").unwrap(),
            stay: DateRange::new(
                CalendarDate::parse("2026-12-01").unwrap(),
                CalendarDate::parse("2026-12-02").unwrap(),
            )
            .unwrap(),
            guests: GuestCount::new(1).unwrap(),
            idempotency_key: IdempotencyKey::parse("e1:ReserveHotel").unwrap(),
        })
        .await
        .unwrap_err();
    assert_eq!(error.name(), "StoreFailed", "{error}");
}
