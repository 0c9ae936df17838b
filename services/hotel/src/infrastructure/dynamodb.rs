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
//! 5. **What did a reservation invocation do** (`reserve_action`): `GetItem IDEMPOTENCY#<action
//!    key> / META`, consistent (kernel [`stored_result`]).
//! 6. **Release** (`release`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<cancel key> / META`, condition `attribute_not_exists(PK)`;
//!    - for each night, `Update HOTEL#<code>#<night> / INVENTORY SET rooms_available =
//!      rooms_available + :n`, condition `attribute_exists(PK)`;
//!    - `Update TRIP#<trip> / HOTEL#<reservation id> SET status = CANCELLED`, condition
//!      `status = RESERVED` (a reservation is released once, whatever the key);
//!    - `Update IDEMPOTENCY#<action key> / META SET result = {"outcome":"cancelled",…}`, condition
//!      `attribute_exists(PK)` (a late retry of the action now fails with `AlreadyCancelled`);
//!    - `Put OUTBOX#HotelReservation#<trip> / EVENT#…` (`RoomsReleased`).
//! 7. **Rule out a reservation that has not happened** (`void`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<cancel key> / META`, condition `attribute_not_exists(PK)`;
//!    - `Put IDEMPOTENCY#<action key> / META` with result `{"outcome":"cancelled",…}`, condition
//!      `attribute_not_exists(PK)` (fails when the action committed meanwhile: release it then);
//!    - `Put OUTBOX#HotelReservation#<trip> / EVENT#…` (`RoomsReleased`, nothing released).
//!
//!    The marker lives as long as an idempotency record (30 days, TTL), beyond Step Functions'
//!    retry and redrive windows.
//! 8. **Record a cancellation with nothing to undo** (`record_cancellation`):
//!    `TransactWriteItems` of the `Put IDEMPOTENCY#<cancel key> / META` alone.
//! 9. **A trip's reservation** (`reservation_of_trip`): `Query PK = TRIP#<trip> AND
//!    begins_with(SK, "HOTEL#")`, `ScanIndexForward = false`, `Limit = 1`, consistent
//!    (reservation ids are UUIDv7, so the first item is the most recent).
//! 10. **A trip's hotel events** ([`DynamoHotelRepository::trip_events`]): `Query PK =
//!     OUTBOX#HotelReservation#<trip> AND begins_with(SK, "EVENT#")`, oldest first (consumers
//!     normally get them from the table's stream).
//!
//! No GSI is needed: every pattern knows its partition key.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use kernel::dynamo::keys::{PK, sortable_timestamp};
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemReader, Key, StepTransaction, TransactionOutcome, Write,
    idempotency, outbox, stored_result,
};
use kernel::{BoxFuture, CalendarDate, DateRange, DomainEvent, EventEnvelope, InfraError, TripId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{
    AGGREGATE_TYPE, HotelCode, HotelNight, HotelRepository, ReleaseOutcome, ReservationStatus,
    ReserveAction, ReserveOutcome, RoomCancellation, RoomNight, RoomReservation, RoomsReleased,
    RoomsReserved, VoidOutcome,
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

/// The hotel's items in a DynamoDB single table.
#[derive(Clone, Debug)]
pub struct DynamoHotelRepository {
    client: Client,
    table: String,
}

impl DynamoHotelRepository {
    /// The adapter on `table` (the single table, created with `kernel::dynamo::create_table` or
    /// by CDK).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The outbox events of `trip_id`'s hotel reservation, oldest first (access pattern 10).
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an item does not map.
    pub async fn trip_events(&self, trip_id: TripId) -> Result<Vec<EventEnvelope>, InfraError> {
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :event)")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(format!("OUTBOX#{AGGREGATE_TYPE}#{trip_id}")),
                )
                .expression_attribute_values(":event", AttributeValue::S("EVENT#".to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("Query", e))?;
            for item in page.items() {
                events.push(outbox::event_from_item(item)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(events);
            }
        }
    }

    async fn put_night(&self, night: &RoomNight, now: OffsetDateTime) -> Result<(), InfraError> {
        let sent = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(night_item(night, now)))
            .condition_expression(format!("attribute_not_exists({PK})"))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            // The night is on sale already: keep it, with what reservations took from it.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(InfraError::from_sdk("PutItem", e)),
        }
    }

    async fn get_night(
        &self,
        hotel: &HotelCode,
        night: CalendarDate,
    ) -> Result<Option<RoomNight>, InfraError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(night_key(hotel, night).to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetItem", e))?;
        output.item().map(night_from_item).transpose()
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
        let mut nights = Vec::new();
        for round in 0..BATCH_ROUNDS {
            let Some(request) = pending.take() else { break };
            if round > 0 {
                // Unprocessed keys mean throttling: back off before asking again.
                tokio::time::sleep(Duration::from_millis(50 << round)).await;
            }
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("BatchGetItem", e))?;
            if let Some(items) = output.responses().and_then(|r| r.get(&self.table)) {
                for item in items {
                    nights.push(night_from_item(item)?);
                }
            }
            pending = output
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
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

    async fn query_reservation(
        &self,
        trip_id: TripId,
    ) -> Result<Option<RoomReservation>, InfraError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :hotel)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("TRIP#{trip_id}")))
            .expression_attribute_values(":hotel", AttributeValue::S("HOTEL#".to_owned()))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("Query", e))?;
        output
            .items()
            .first()
            .map(reservation_from_item)
            .transpose()
    }

    async fn get_reserve_action(
        &self,
        action_key: &IdempotencyKey,
    ) -> Result<Option<ReserveAction>, InfraError> {
        let record: Option<ReserveRecord> =
            stored_result(&self.client, &self.table, action_key).await?;
        Ok(record.map(|record| match record {
            ReserveRecord::Reserved { reservation } => ReserveAction::Reserved(reservation),
            ReserveRecord::Cancelled { .. } => ReserveAction::Cancelled,
        }))
    }

    async fn commit_reservation(
        &self,
        reservation: &RoomReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let nights: Vec<CalendarDate> = reservation.stay.each_night().collect();
        let mut transaction = StepTransaction::new(&self.table, key.clone()).at(now);
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
        let outcome = transaction
            .write(
                "reservation",
                Write::put_new(reservation_item(reservation, key, now)),
            )
            .event(envelope(&RoomsReserved::of(reservation), now)?)
            .commit(
                &self.client,
                ReserveRecord::Reserved {
                    reservation: reservation.clone(),
                },
            )
            .await?;
        match outcome {
            TransactionOutcome::Committed(record)
            | TransactionOutcome::AlreadyProcessed(record) => Ok(match record {
                ReserveRecord::Reserved { reservation } => ReserveOutcome::Reserved(reservation),
                ReserveRecord::Cancelled { .. } => ReserveOutcome::AlreadyCancelled,
            }),
            TransactionOutcome::ConditionFailed(failed) => {
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
        }
    }

    async fn commit_release(
        &self,
        reservation: &RoomReservation,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<ReleaseOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let mut transaction = StepTransaction::new(&self.table, cancel_key.clone()).at(now);
        for (label, night) in NIGHT_LABELS.iter().zip(reservation.stay.each_night()) {
            transaction = transaction.write(
                label,
                Write::update(
                    &night_key(&reservation.hotel, night),
                    "SET rooms_available = rooms_available + :n",
                )
                .condition(format!("attribute_exists({PK})"))
                .number_value(":n", reservation.rooms),
            );
        }
        let marker = record_json(&ReserveRecord::Cancelled {
            cancelled_by: cancel_key.to_string(),
        })?;
        let outcome = transaction
            .write(
                "reservation",
                Write::update(
                    &Key::trip_hotel(reservation.trip_id, reservation.reservation_id),
                    "SET #status = :cancelled, cancelled_by = :by",
                )
                .condition("#status = :reserved")
                .name("#status", "status")
                .string_value(":cancelled", ReservationStatus::Cancelled.as_str())
                .string_value(":reserved", ReservationStatus::Reserved.as_str())
                .string_value(":by", cancel_key.as_str()),
            )
            .write(
                "action",
                Write::update(&Key::idempotency(action_key), "SET #result = :marker")
                    .condition(format!("attribute_exists({PK})"))
                    .name("#result", "result")
                    .string_value(":marker", marker),
            )
            .event(envelope(&RoomsReleased::of(reservation), now)?)
            .commit(&self.client, RoomCancellation::released(reservation.rooms))
            .await?;
        match outcome {
            TransactionOutcome::Committed(result)
            | TransactionOutcome::AlreadyProcessed(result) => Ok(ReleaseOutcome::Released(result)),
            // `status = RESERVED` failed on an existing reservation: released already. A missing
            // reservation (no old item) is bad data, not a release.
            TransactionOutcome::ConditionFailed(failed)
                if failed.label == "reservation" && failed.item.is_some() =>
            {
                Ok(ReleaseOutcome::AlreadyReleased)
            }
            TransactionOutcome::ConditionFailed(failed) => Err(InfraError::failed(format!(
                "releasing reservation {}: the {} item is missing",
                reservation.reservation_id, failed.label
            ))),
        }
    }

    async fn commit_void(
        &self,
        trip_id: TripId,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<VoidOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let outcome = StepTransaction::new(&self.table, cancel_key.clone())
            .at(now)
            .write(
                "action",
                Write::put_new(cancelled_marker(action_key, cancel_key, now)?),
            )
            .event(envelope(&RoomsReleased::nothing_reserved(trip_id), now)?)
            .commit(&self.client, RoomCancellation::nothing_to_undo())
            .await?;
        Ok(match outcome {
            TransactionOutcome::Committed(result)
            | TransactionOutcome::AlreadyProcessed(result) => VoidOutcome::Voided(result),
            TransactionOutcome::ConditionFailed(_) => VoidOutcome::ActionTookEffect,
        })
    }
}

impl HotelRepository for DynamoHotelRepository {
    fn add_nights<'a>(&'a self, nights: &'a [RoomNight]) -> BoxFuture<'a, Result<(), InfraError>> {
        Box::pin(async move {
            let now = OffsetDateTime::now_utc();
            for night in nights {
                self.put_night(night, now).await?;
            }
            Ok(())
        })
    }

    fn night<'a>(
        &'a self,
        hotel: &'a HotelCode,
        night: CalendarDate,
    ) -> BoxFuture<'a, Result<Option<RoomNight>, InfraError>> {
        Box::pin(self.get_night(hotel, night))
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
        Box::pin(self.query_reservation(trip_id))
    }

    fn reserve_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>> {
        Box::pin(self.get_reserve_action(action_key))
    }

    fn reserve<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(self.commit_reservation(reservation, key))
    }

    fn release<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>> {
        Box::pin(self.commit_release(reservation, action_key, cancel_key))
    }

    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
        Box::pin(self.commit_void(trip_id, action_key, cancel_key))
    }

    fn record_cancellation<'a>(
        &'a self,
        cancel_key: &'a IdempotencyKey,
        result: RoomCancellation,
    ) -> BoxFuture<'a, Result<RoomCancellation, InfraError>> {
        Box::pin(
            StepTransaction::new(&self.table, cancel_key.clone())
                .commit_result(&self.client, result),
        )
    }
}

/// `HOTEL#<code>#<night>` / `INVENTORY`: one partition per hotel-night.
fn night_key(hotel: &HotelCode, night: CalendarDate) -> Key {
    Key::new(format!("HOTEL#{hotel}#{night}"), "INVENTORY")
}

fn envelope(event: &impl DomainEvent, now: OffsetDateTime) -> Result<EventEnvelope, InfraError> {
    EventEnvelope::new(event, now)
        .map_err(|e| InfraError::failed(format!("serialising an event: {e}")).with_source(e))
}

fn record_json(record: &ReserveRecord) -> Result<String, InfraError> {
    serde_json::to_string(record)
        .map_err(|e| InfraError::failed(format!("serialising a record: {e}")).with_source(e))
}

/// The idempotency record that rules out the reservation `action_key` (see
/// `kernel::dynamo::idempotency::marker_item`): the action's own `StepTransaction` finds it and
/// returns [`ReserveRecord::Cancelled`] as its stored result.
fn cancelled_marker(
    action_key: &IdempotencyKey,
    cancel_key: &IdempotencyKey,
    now: OffsetDateTime,
) -> Result<Item, InfraError> {
    let marker = record_json(&ReserveRecord::Cancelled {
        cancelled_by: cancel_key.to_string(),
    })?;
    Ok(idempotency::marker_item(action_key, marker, now))
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
