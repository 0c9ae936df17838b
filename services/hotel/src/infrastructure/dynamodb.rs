//! The DynamoDB adapter: the hotel service's items in the single table, written with the
//! kernel's [`StepTransaction`] (state change + outbox event + idempotency record, one
//! `TransactWriteItems`).
//!
//! # Items
//!
//! | item               | `PK`                              | `SK`                  | `entity_type`   | attributes |
//! |--------------------|-----------------------------------|-----------------------|-----------------|------------|
//! | hotel night        | `HOTEL#<hotel code>#<YYYY-MM-DD>` | `INVENTORY`           | `HOTEL_NIGHT`   | `hotel`, `night`, `rooms_total` (N), `rooms_available` (N), `nightly_rate` (`"150.00 USD"`), `created_at` |
//! | room reservation   | `TRIP#<trip id>`                  | `HOTEL#<reservation id>` | `HOTEL_BOOKING` | `reservation_id`, `trip_id`, `hotel`, `stay_start`, `stay_end` (check-out), `rooms` (N), `total` (`"450.00 USD"`), `status` (`RESERVED`/`CANCELLED`), `reserved_by` (idempotency key), `cancelled_by` (once cancelled), `created_at` |
//! | idempotency record | `IDEMPOTENCY#<key>`               | `META`                | `IDEMPOTENCY`   | kernel's; `result` is, for a reservation key, `{"outcome":"reserved","reservation":{…}}` or `{"outcome":"cancelled","cancelled_by":"<key>"}`, for a cancellation key a [`RoomCancellation`] |
//! | outbox event       | `OUTBOX#HotelReservation#<trip id>` | `EVENT#<occurred at>#<event id>` | `OUTBOX` | kernel's (`RoomsReserved`, `RoomsReleased`) |
//!
//! Inventory is one item per hotel-night, each in its own partition, as the kernel's key design
//! gives inventory (`FLIGHT#<number>#<date>` for seats): contention for rooms stays on one hotel
//! and night, and a stay's nights are independent items that one transaction changes together.
//! The reservation sits under its trip with the kernel's [`Key::trip_hotel`].
//!
//! # Access patterns
//!
//! 1. **Seed a hotel** (`add_nights`): per night, `PutItem HOTEL#<code>#<night> / INVENTORY`,
//!    condition `attribute_not_exists(PK)`; a failed condition means the night exists and is
//!    kept (its rooms and rate).
//! 2. **Rooms left on a night** (`night`): `GetItem HOTEL#<code>#<night> / INVENTORY`, consistent.
//! 3. **A stay's nights and rates** (`nights`): `BatchGetItem` of `HOTEL#<code>#<night> /
//!    INVENTORY` for each night of the stay (at most 30), consistent; unprocessed keys are asked
//!    again.
//! 4. **Reserve** (`reserve`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<reserve key> / META`, condition `attribute_not_exists(PK)` (kernel; a
//!      failure returns the stored result: the same reservation, or `AlreadyCancelled`);
//!    - for each night, `Update HOTEL#<code>#<night> / INVENTORY SET rooms_available =
//!      rooms_available - :n`, condition `attribute_exists(PK) AND rooms_available >= :n`
//!      (never oversells; the old item tells "no rooms", with the rooms left, from "not on
//!      sale"; the write's label tells which night);
//!    - `Put TRIP#<trip> / HOTEL#<reservation id>`, condition `attribute_not_exists(PK)`;
//!    - `Put OUTBOX#HotelReservation#<trip> / EVENT#…` (`RoomsReserved`).
//!
//!    At most 1 + 30 + 1 + 1 = 33 items, within DynamoDB's 100.
//! 5. **Compensate** (the kernel's [`TableRecords`] writes, with the hotel's parts): `undo`
//!    gives the rooms back with, for each night, `Update HOTEL#<code>#<night> / INVENTORY SET
//!    rooms_available = rooms_available + :n`, condition `attribute_exists(PK)`, cancels
//!    `TRIP#<trip> / HOTEL#<reservation id>` (`RESERVED` → `CANCELLED`, `cancelled_by`) and
//!    announces `RoomsReleased`; `void` announces `RoomsReleased` with nothing released. An undo
//!    writes at most 1 + 30 + 2 + 1 = 34 items.
//! 6. **A trip's reservation** (`reservation_of_trip`): `Query PK = TRIP#<trip> AND
//!    begins_with(SK, "HOTEL#")`, `ScanIndexForward = false`, `Limit = 1`, consistent
//!    (reservation ids are UUIDv7, so the first item is the most recent).
//! 7. **A trip's hotel events** ([`DynamoHotelRepository::trip_events`]): `Query PK =
//!    OUTBOX#HotelReservation#<trip> AND begins_with(SK, "EVENT#")`, oldest first (consumers
//!    normally get them from the table's stream).
//!
//! No GSI is needed: every pattern knows its partition key.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use kernel::compensation::{Action, CompensationRecords, CompensationStore, Undo};
use kernel::dynamo::compensation::{ActionRecord, EffectItem, TableRecords};
use kernel::dynamo::keys::{PK, sortable_timestamp};
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemReader, Key, SingleTable, StepTransaction, Write,
};
use kernel::{BoxFuture, CalendarDate, DateRange, EventEnvelope, InfraError, TripId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{
    AGGREGATE_TYPE, HotelCode, HotelNight, HotelRepository, ReservationStatus, ReserveOutcome,
    RoomCancellation, RoomNight, RoomReservation, RoomsReleased, RoomsReserved,
};

/// `entity_type` of hotel-night inventory items.
pub const NIGHT_ENTITY: &str = "HOTEL_NIGHT";
/// `entity_type` of room reservation items.
pub const RESERVATION_ENTITY: &str = "HOTEL_BOOKING";

/// The labels of a stay's night writes, by the night's position in the stay: a failed condition
/// comes back with its write's label, and the label has to be `'static`. One per night a
/// [`DateRange`] can hold.
const NIGHT_LABELS: [&str; DateRange::MAX_NIGHTS as usize] = [
    "night 1", "night 2", "night 3", "night 4", "night 5", "night 6", "night 7", "night 8",
    "night 9", "night 10", "night 11", "night 12", "night 13", "night 14", "night 15", "night 16",
    "night 17", "night 18", "night 19", "night 20", "night 21", "night 22", "night 23", "night 24",
    "night 25", "night 26", "night 27", "night 28", "night 29", "night 30",
];

/// How many times `nights` asks again for keys `BatchGetItem` left unprocessed (throttling)
/// before giving up with `StoreThrottled`.
const BATCH_ROUNDS: u32 = 5;

/// What a reservation key's idempotency record holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ReserveRecord {
    /// The reservation it made (as made: status `RESERVED`).
    Reserved { reservation: RoomReservation },
    /// Released or ruled out by the cancellation `cancelled_by`.
    Cancelled { cancelled_by: String },
}

impl ActionRecord for ReserveRecord {
    type Effect = RoomReservation;

    fn took_effect(reservation: RoomReservation) -> Self {
        Self::Reserved { reservation }
    }

    fn compensated_by(compensation: &IdempotencyKey) -> Self {
        Self::Cancelled {
            cancelled_by: compensation.to_string(),
        }
    }

    fn into_action(self) -> Action<RoomReservation> {
        match self {
            Self::Reserved { reservation } => Action::TookEffect(reservation),
            Self::Cancelled { .. } => Action::Compensated,
        }
    }
}

/// The hotel's items in a DynamoDB single table.
#[derive(Clone, Debug)]
pub struct DynamoHotelRepository {
    table: SingleTable,
    records: TableRecords<ReserveRecord>,
}

impl DynamoHotelRepository {
    /// The adapter on `table` (the single table, created with `kernel::dynamo::create_table` or
    /// by CDK).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = SingleTable::new(client, table);
        Self {
            records: TableRecords::new(table.clone()),
            table,
        }
    }

    /// The outbox events of `trip_id`'s hotel reservation, oldest first (access pattern 7).
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an item does not map.
    pub async fn trip_events(&self, trip_id: TripId) -> Result<Vec<EventEnvelope>, InfraError> {
        self.table
            .events(AGGREGATE_TYPE, &trip_id.to_string())
            .await
    }

    async fn get_nights(
        &self,
        hotel: &HotelCode,
        stay: DateRange,
    ) -> Result<Vec<RoomNight>, InfraError> {
        let keys = stay
            .each_night()
            .map(|night| night_key(hotel, night).to_attributes())
            .collect::<Vec<_>>();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| InfraError::failed(format!("BatchGetItem keys: {e}")))?,
        );
        let table = self.table.name();
        let mut nights = Vec::new();
        for round in 0..BATCH_ROUNDS {
            let Some(request) = pending.take() else { break };
            if round > 0 {
                // Unprocessed keys mean throttling: back off before asking again.
                tokio::time::sleep(Duration::from_millis(50 << round)).await;
            }
            let output = self
                .table
                .client()
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("BatchGetItem", e))?;
            if let Some(items) = output.responses().and_then(|r| r.get(table)) {
                for item in items {
                    nights.push(night_from_item(item)?);
                }
            }
            pending = output
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
        }
        if pending.is_some() {
            return Err(InfraError::throttled(format!(
                "BatchGetItem left nights of {hotel} unread after {BATCH_ROUNDS} rounds"
            )));
        }
        // BatchGetItem returns items in no particular order.
        nights.sort_by_key(|n| n.night().night);
        Ok(nights)
    }

    async fn commit_reservation(
        &self,
        reservation: &RoomReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let nights: Vec<CalendarDate> = reservation.stay.each_night().collect();
        let mut transaction = StepTransaction::new(self.table.name(), key.clone()).at(now);
        for (label, night) in NIGHT_LABELS.iter().zip(&nights) {
            transaction = transaction.write(
                label,
                Write::update(
                    &night_key(&reservation.hotel, *night),
                    "SET rooms_available = rooms_available - :n",
                )
                .condition(format!("attribute_exists({PK}) AND rooms_available >= :n"))
                .number_value(":n", reservation.rooms),
            );
        }
        let transaction = transaction
            .write(
                "reservation",
                Write::put_new(reservation_item(reservation, key, now)),
            )
            .announce(&RoomsReserved::of(reservation))?;
        let committed = self
            .records
            .commit_action(transaction, reservation.clone())
            .await?;
        let failed = match committed {
            Ok(Action::TookEffect(reservation)) => {
                return Ok(ReserveOutcome::Reserved(reservation));
            }
            Ok(Action::Compensated) => return Ok(ReserveOutcome::AlreadyCancelled),
            Err(failed) => failed,
        };
        let position = NIGHT_LABELS.iter().position(|l| *l == failed.label);
        let Some(&night) = position.and_then(|i| nights.get(i)) else {
            // Only a night can fail: the reservation id is new.
            return Err(InfraError::failed(format!(
                "reserving rooms: the {} write failed its condition",
                failed.label
            )));
        };
        match failed.item {
            None => Ok(ReserveOutcome::NightNotOnSale(night)),
            Some(item) => Ok(ReserveOutcome::NoRooms {
                night,
                rooms_left: ItemReader::new(&item).number("rooms_available")?,
            }),
        }
    }

    async fn release(
        &self,
        reservation: &RoomReservation,
        action: &IdempotencyKey,
        cancel: &IdempotencyKey,
    ) -> Result<Undo<RoomCancellation>, InfraError> {
        let mut rooms_back = StepTransaction::new(self.table.name(), cancel.clone());
        for (label, night) in NIGHT_LABELS.iter().zip(reservation.stay.each_night()) {
            rooms_back = rooms_back.write(
                label,
                Write::update(
                    &night_key(&reservation.hotel, night),
                    "SET rooms_available = rooms_available + :n",
                )
                .condition(format!("attribute_exists({PK})"))
                .number_value(":n", reservation.rooms),
            );
        }
        let rooms_back = rooms_back.announce(&RoomsReleased::of(reservation))?;
        let cancelled = EffectItem {
            label: "reservation",
            key: Key::trip_hotel(reservation.trip_id, reservation.reservation_id),
            in_effect: ReservationStatus::Reserved.as_str(),
            undone: ReservationStatus::Cancelled.as_str(),
            undone_by: "cancelled_by",
        };
        let released = RoomCancellation::released(reservation.rooms);
        self.records
            .undo(rooms_back, cancelled, action, released)
            .await
    }
}

impl HotelRepository for DynamoHotelRepository {
    fn add_nights<'a>(&'a self, nights: &'a [RoomNight]) -> BoxFuture<'a, Result<(), InfraError>> {
        Box::pin(async move {
            let now = OffsetDateTime::now_utc();
            for night in nights {
                // A night on sale already keeps what reservations took from it, and its rate.
                self.table.put_if_absent(night_item(night, now)).await?;
            }
            Ok(())
        })
    }

    fn night<'a>(
        &'a self,
        hotel: &'a HotelCode,
        night: CalendarDate,
    ) -> BoxFuture<'a, Result<Option<RoomNight>, InfraError>> {
        Box::pin(async move {
            let item = self.table.get(&night_key(hotel, night)).await?;
            item.as_ref().map(night_from_item).transpose()
        })
    }

    fn nights<'a>(
        &'a self,
        hotel: &'a HotelCode,
        stay: DateRange,
    ) -> BoxFuture<'a, Result<Vec<RoomNight>, InfraError>> {
        Box::pin(self.get_nights(hotel, stay))
    }

    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<RoomReservation>, InfraError>> {
        Box::pin(async move {
            let partition = Key::trip_partition(trip_id);
            let item = self.table.last(&partition, "HOTEL#").await?;
            item.as_ref().map(reservation_from_item).transpose()
        })
    }

    fn reserve<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(self.commit_reservation(reservation, key))
    }
}

impl CompensationStore for DynamoHotelRepository {
    type Effect = RoomReservation;
    type Outcome = RoomCancellation;

    fn records(&self) -> &dyn CompensationRecords<RoomReservation, RoomCancellation> {
        &self.records
    }

    fn undo<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<RoomCancellation>, InfraError>> {
        Box::pin(self.release(reservation, action, compensation))
    }
}

/// `HOTEL#<code>#<night>` / `INVENTORY`: one partition per hotel-night.
fn night_key(hotel: &HotelCode, night: CalendarDate) -> Key {
    Key::new(format!("HOTEL#{hotel}#{night}"), "INVENTORY")
}

fn night_item(night: &RoomNight, now: OffsetDateTime) -> Item {
    let id = night.night();
    ItemBuilder::new(&night_key(&id.hotel, id.night))
        .entity_type(NIGHT_ENTITY)
        .display("hotel", &id.hotel)
        .display("night", &id.night)
        .number("rooms_total", night.rooms_total())
        .number("rooms_available", night.rooms_available())
        .money("nightly_rate", night.nightly_rate())
        .string("created_at", sortable_timestamp(now))
        .build()
}

fn night_from_item(item: &Item) -> Result<RoomNight, InfraError> {
    let reader = ItemReader::new(item);
    let night = HotelNight {
        hotel: reader.parse("hotel")?,
        night: reader.parse("night")?,
    };
    RoomNight::restore(
        night,
        reader.number("rooms_total")?,
        reader.number("rooms_available")?,
        reader.money("nightly_rate")?,
    )
    .map_err(|e| {
        let problem = kernel::dynamo::ItemProblem::Invalid(e.to_string());
        reader.error_for("rooms_available", problem).into()
    })
}

fn reservation_item(
    reservation: &RoomReservation,
    reserved_by: &IdempotencyKey,
    now: OffsetDateTime,
) -> Item {
    ItemBuilder::new(&Key::trip_hotel(
        reservation.trip_id,
        reservation.reservation_id,
    ))
    .entity_type(RESERVATION_ENTITY)
    .display("reservation_id", &reservation.reservation_id)
    .display("trip_id", &reservation.trip_id)
    .display("hotel", &reservation.hotel)
    .display("stay_start", &reservation.stay.start())
    .display("stay_end", &reservation.stay.end())
    .number("rooms", reservation.rooms)
    .money("total", reservation.total)
    .string("status", reservation.status.as_str())
    .string("reserved_by", reserved_by.as_str())
    .string("created_at", sortable_timestamp(now))
    .build()
}

fn reservation_from_item(item: &Item) -> Result<RoomReservation, InfraError> {
    let reader = ItemReader::new(item);
    let stay =
        DateRange::new(reader.parse("stay_start")?, reader.parse("stay_end")?).map_err(|e| {
            let problem = kernel::dynamo::ItemProblem::Invalid(e.to_string());
            InfraError::from(reader.error_for("stay_end", problem))
        })?;
    Ok(RoomReservation {
        reservation_id: reader.parse("reservation_id")?,
        trip_id: reader.parse("trip_id")?,
        hotel: reader.parse("hotel")?,
        stay,
        rooms: reader.number("rooms")?,
        total: reader.money("total")?,
        status: reader.parse("status")?,
    })
}
