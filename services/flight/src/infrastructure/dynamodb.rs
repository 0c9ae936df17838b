//! The DynamoDB adapter: the flight service's items in the single table, written with the
//! kernel's [`StepTransaction`] (state change + outbox event + idempotency record, one
//! `TransactWriteItems`).
//!
//! # Items
//!
//! | item               | `PK`                              | `SK`                   | `entity_type`      | attributes |
//! |--------------------|-----------------------------------|------------------------|--------------------|------------|
//! | flight inventory   | `FLIGHT#<flight number>#<YYYY-MM-DD>` | `INVENTORY`        | `FLIGHT_INVENTORY` | `flight`, `date`, `seats_available` (N), `fare` (`"312.40 USD"`), `created_at` |
//! | seat reservation   | `TRIP#<trip id>`                  | `FLIGHT#<reservation id>` | `FLIGHT_BOOKING` | `reservation_id`, `trip_id`, `flight`, `date`, `passengers` (N), `total` (`"624.80 USD"`), `status` (`RESERVED`/`CANCELLED`), `reserved_by` (idempotency key), `cancelled_by` (once cancelled), `created_at` |
//! | idempotency record | `IDEMPOTENCY#<key>`               | `META`                 | `IDEMPOTENCY`      | kernel's; `result` is, for a reservation key, `{"outcome":"reserved","reservation":{…}}` or `{"outcome":"cancelled","cancelled_by":"<key>"}`, for a cancellation key a [`SeatCancellation`] |
//! | outbox event       | `OUTBOX#Flight#<flight>#<date>` (`SeatsReserved`, `SeatsReleased`), `OUTBOX#FlightReservation#<trip id>` (`ReservationVoided`) | `EVENT#<occurred at>#<event id>` | `OUTBOX` | kernel's |
//!
//! Keys are built with the kernel's [`Key`] constructors only (`flight_inventory`, `trip_flight`,
//! `trip`, `idempotency`), so the flight items sit in the table's documented key design. Every
//! inventory has its own partition: contention for seats stays on one flight and day.
//!
//! # Access patterns
//!
//! 1. **Seed a flight** (`add_flight`): `PutItem FLIGHT#<n>#<d> / INVENTORY`, condition
//!    `attribute_not_exists(PK)`; a failed condition means it exists and is kept.
//! 2. **Seats left, fare** (`inventory`): `GetItem FLIGHT#<n>#<d> / INVENTORY`, consistent read.
//! 3. **Reserve** (`reserve`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<reserve key> / META`, condition `attribute_not_exists(PK)` (kernel; a
//!      failure returns the stored result: the same reservation, or `AlreadyCancelled`);
//!    - `Update FLIGHT#<n>#<d> / INVENTORY SET seats_available = seats_available - :n`, condition
//!      `attribute_exists(PK) AND seats_available >= :n` (never oversells; the old item tells
//!      sold out, with the seats left, from no such flight);
//!    - `Put TRIP#<trip> / FLIGHT#<reservation id>`, condition `attribute_not_exists(PK)`;
//!    - `Put OUTBOX#Flight#<n>#<d> / EVENT#…` (`SeatsReserved`).
//! 4. **What did a reservation invocation do** (`reserve_action`): `GetItem IDEMPOTENCY#<action
//!    key> / META`, consistent read (kernel [`stored_result`]).
//! 5. **Release** (`release`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<cancel key> / META`, condition `attribute_not_exists(PK)`;
//!    - `Update FLIGHT#<n>#<d> / INVENTORY SET seats_available = seats_available + :n`, condition
//!      `attribute_exists(PK)`;
//!    - `Update TRIP#<trip> / FLIGHT#<reservation id> SET status = CANCELLED`, condition
//!      `status = RESERVED` (a reservation is released once, whatever the key);
//!    - `Update IDEMPOTENCY#<action key> / META SET result = {"outcome":"cancelled",…}`, condition
//!      `attribute_exists(PK)` (a late retry of the action now fails with `AlreadyCancelled`);
//!    - `Put OUTBOX#Flight#<n>#<d> / EVENT#…` (`SeatsReleased`).
//! 6. **Rule out a reservation that has not happened** (`void`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<cancel key> / META`, condition `attribute_not_exists(PK)`;
//!    - `Put IDEMPOTENCY#<action key> / META` with result `{"outcome":"cancelled",…}`, condition
//!      `attribute_not_exists(PK)` (fails when the action committed meanwhile: release it then);
//!    - `Put OUTBOX#FlightReservation#<trip> / EVENT#…` (`ReservationVoided`).
//!
//!    The marker lives as long as an idempotency record (30 days, TTL), beyond Step Functions'
//!    retry and redrive windows.
//! 7. **Record a cancellation with nothing to undo** (`record_cancellation`): `TransactWriteItems`
//!    of the `Put IDEMPOTENCY#<cancel key> / META` alone.
//! 8. **A trip's reservation** (`reservation_of_trip`): `Query PK = TRIP#<trip> AND
//!    begins_with(SK, "FLIGHT#")`, `ScanIndexForward = false`, `Limit = 1`, consistent read
//!    (reservation ids are UUIDv7, so the first item is the most recent).
//! 9. **A flight's events** ([`DynamoFlightRepository::flight_events`]): `Query PK =
//!    OUTBOX#Flight#<n>#<d> AND begins_with(SK, "EVENT#")`, oldest first (consumers normally get
//!    them from the table's stream).
//!
//! No GSI is needed: every pattern knows its partition key.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use kernel::dynamo::keys::{PK, sortable_timestamp};
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemProblem, ItemReader, Key, StepTransaction,
    TransactionOutcome, Write, idempotency, outbox, stored_result,
};
use kernel::{
    BookingId, BoxFuture, DomainEvent, EventEnvelope, InfraError, PassengerCount, TripId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{
    Fare, FlightDate, FlightInventory, FlightRepository, ReleaseOutcome, ReservationStatus,
    ReservationVoided, ReserveAction, ReserveOutcome, SeatCancellation, SeatReservation,
    SeatsReleased, SeatsReserved, VoidOutcome,
};

/// `entity_type` of inventory items.
const INVENTORY: &str = "FLIGHT_INVENTORY";
/// `entity_type` of reservation items (the key design's "flight booking of a trip").
const RESERVATION: &str = "FLIGHT_BOOKING";
/// The inventory's seat counter, the attribute the reservation condition guards.
const SEATS_AVAILABLE: &str = "seats_available";
/// The inventory's price of one seat.
const FARE: &str = "fare";
/// The kernel's idempotency record attribute holding the stored result (see
/// `kernel::dynamo::idempotency`).
const RESULT: &str = "result";

/// Labels of transaction writes, as reported in [`kernel::dynamo::ConditionFailed`].
const SEATS: &str = "seats";
const RESERVATION_WRITE: &str = "reservation";
const ACTION: &str = "action";

/// What a reservation key's idempotency record stores.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ReserveRecord {
    Reserved { reservation: SeatReservation },
    Cancelled { cancelled_by: String },
}

impl From<ReserveRecord> for ReserveAction {
    fn from(record: ReserveRecord) -> Self {
        match record {
            ReserveRecord::Reserved { reservation } => Self::Reserved(reservation),
            ReserveRecord::Cancelled { .. } => Self::Cancelled,
        }
    }
}

/// The flight service's store in a DynamoDB single table (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct DynamoFlightRepository {
    client: Client,
    table: String,
}

impl DynamoFlightRepository {
    /// The repository on `table`, reached with `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The events published about `flight` (`SeatsReserved`, `SeatsReleased`), oldest first:
    /// access pattern 9.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an outbox item does not map.
    pub async fn flight_events(
        &self,
        flight: &FlightDate,
    ) -> Result<Vec<EventEnvelope>, InfraError> {
        let partition = format!(
            "OUTBOX#{}#{}",
            SeatsReserved::AGGREGATE_TYPE,
            flight.aggregate_id()
        );
        let mut events = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :event)")
                .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
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

    async fn put_flight(&self, inventory: &FlightInventory) -> Result<(), InfraError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(inventory_item(inventory, OffsetDateTime::now_utc())))
            .condition_expression(format!("attribute_not_exists({PK})"))
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // The flight is already on sale: seeding keeps its stock.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(())
            }
            Err(error) => Err(InfraError::from_sdk("PutItem", error)),
        }
    }

    async fn get_inventory(
        &self,
        flight: &FlightDate,
    ) -> Result<Option<FlightInventory>, InfraError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(inventory_key(flight).to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetItem", e))?;
        output.item().map(inventory_from_item).transpose()
    }

    async fn query_reservation(
        &self,
        trip_id: TripId,
    ) -> Result<Option<SeatReservation>, InfraError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :flight)")
            .expression_attribute_values(
                ":pk",
                AttributeValue::S(Key::trip(trip_id).pk().to_owned()),
            )
            .expression_attribute_values(":flight", AttributeValue::S("FLIGHT#".to_owned()))
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
        Ok(record.map(ReserveAction::from))
    }

    async fn commit_reservation(
        &self,
        reservation: &SeatReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let flight = reservation.flight_date();
        let outcome = StepTransaction::new(&self.table, key.clone())
            .write(
                SEATS,
                Write::update(
                    &inventory_key(&flight),
                    format!("SET {SEATS_AVAILABLE} = {SEATS_AVAILABLE} - :n"),
                )
                .condition(format!(
                    "attribute_exists({PK}) AND {SEATS_AVAILABLE} >= :n"
                ))
                .number_value(":n", reservation.seats()),
            )
            .write(
                RESERVATION_WRITE,
                Write::put_new(reservation_item(reservation, key, now)),
            )
            .event(envelope(&SeatsReserved::of(reservation), now)?)
            .at(now)
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
            TransactionOutcome::ConditionFailed(failed) if failed.label == SEATS => {
                match failed.item {
                    None => Ok(ReserveOutcome::FlightNotFound),
                    Some(item) => Ok(ReserveOutcome::SoldOut {
                        seats_left: ItemReader::new(&item).number(SEATS_AVAILABLE)?,
                    }),
                }
            }
            TransactionOutcome::ConditionFailed(failed) => Err(InfraError::failed(format!(
                "reservation {} of {key}: write `{}` failed its condition",
                reservation.reservation_id, failed.label
            ))),
        }
    }

    async fn commit_release(
        &self,
        reservation: &SeatReservation,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<ReleaseOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let flight = reservation.flight_date();
        let cancelled = record_json(&ReserveRecord::Cancelled {
            cancelled_by: cancel_key.to_string(),
        })?;
        let outcome = StepTransaction::new(&self.table, cancel_key.clone())
            .write(
                SEATS,
                Write::update(
                    &inventory_key(&flight),
                    format!("SET {SEATS_AVAILABLE} = {SEATS_AVAILABLE} + :n"),
                )
                .condition(format!("attribute_exists({PK})"))
                .number_value(":n", reservation.seats()),
            )
            .write(
                RESERVATION_WRITE,
                Write::update(
                    &Key::trip_flight(reservation.trip_id, reservation.reservation_id),
                    "SET #status = :cancelled, cancelled_by = :by",
                )
                .condition("#status = :reserved")
                .name("#status", "status")
                .string_value(":cancelled", ReservationStatus::Cancelled.as_str())
                .string_value(":reserved", ReservationStatus::Reserved.as_str())
                .string_value(":by", cancel_key.as_str()),
            )
            .write(
                ACTION,
                Write::update(&Key::idempotency(action_key), "SET #result = :cancelled")
                    .condition(format!("attribute_exists({PK})"))
                    .name("#result", RESULT)
                    .string_value(":cancelled", cancelled),
            )
            .event(envelope(&SeatsReleased::of(reservation), now)?)
            .at(now)
            .commit(
                &self.client,
                SeatCancellation::released(reservation.seats()),
            )
            .await?;
        match outcome {
            TransactionOutcome::Committed(result)
            | TransactionOutcome::AlreadyProcessed(result) => Ok(ReleaseOutcome::Released(result)),
            TransactionOutcome::ConditionFailed(failed) if failed.label == RESERVATION_WRITE => {
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
        let marker = cancelled_marker(action_key, cancel_key, now)?;
        let event = ReservationVoided {
            trip_id,
            action_idempotency_key: action_key.to_string(),
        };
        let outcome = StepTransaction::new(&self.table, cancel_key.clone())
            .write(ACTION, Write::put_new(marker))
            .event(envelope(&event, now)?)
            .at(now)
            .commit(&self.client, SeatCancellation::nothing_to_undo())
            .await?;
        Ok(match outcome {
            TransactionOutcome::Committed(result)
            | TransactionOutcome::AlreadyProcessed(result) => VoidOutcome::Voided(result),
            // Only the marker has a condition: the action's record appeared since the look-up.
            TransactionOutcome::ConditionFailed(_) => VoidOutcome::ActionTookEffect,
        })
    }
}

impl FlightRepository for DynamoFlightRepository {
    fn add_flight<'a>(
        &'a self,
        inventory: &'a FlightInventory,
    ) -> BoxFuture<'a, Result<(), InfraError>> {
        Box::pin(self.put_flight(inventory))
    }

    fn inventory<'a>(
        &'a self,
        flight: &'a FlightDate,
    ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>> {
        Box::pin(self.get_inventory(flight))
    }

    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>> {
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
        reservation: &'a SeatReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(self.commit_reservation(reservation, key))
    }

    fn release<'a>(
        &'a self,
        reservation: &'a SeatReservation,
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
        result: SeatCancellation,
    ) -> BoxFuture<'a, Result<SeatCancellation, InfraError>> {
        Box::pin(
            StepTransaction::new(&self.table, cancel_key.clone())
                .commit_result(&self.client, result),
        )
    }
}

fn inventory_key(flight: &FlightDate) -> Key {
    Key::flight_inventory(&flight.flight, flight.date)
}

fn envelope(event: &impl DomainEvent, now: OffsetDateTime) -> Result<EventEnvelope, InfraError> {
    EventEnvelope::new(event, now)
        .map_err(|e| InfraError::failed(format!("serialising an event: {e}")))
}

fn record_json(record: &ReserveRecord) -> Result<String, InfraError> {
    serde_json::to_string(record)
        .map_err(|e| InfraError::failed(format!("serialising a reservation record: {e}")))
}

/// The idempotency record that rules out the reservation `action_key` (see
/// `kernel::dynamo::idempotency::marker_item`): a late reservation finds it and returns
/// [`ReserveRecord::Cancelled`] as its stored result.
fn cancelled_marker(
    action_key: &IdempotencyKey,
    cancel_key: &IdempotencyKey,
    now: OffsetDateTime,
) -> Result<Item, InfraError> {
    let result = record_json(&ReserveRecord::Cancelled {
        cancelled_by: cancel_key.to_string(),
    })?;
    Ok(idempotency::marker_item(action_key, result, now))
}

fn inventory_item(inventory: &FlightInventory, now: OffsetDateTime) -> Item {
    ItemBuilder::new(&inventory_key(inventory.flight()))
        .entity_type(INVENTORY)
        .display("flight", &inventory.flight().flight)
        .display("date", &inventory.flight().date)
        .number(SEATS_AVAILABLE, inventory.seats_available())
        .money(FARE, inventory.fare().amount())
        .string("created_at", sortable_timestamp(now))
        .build()
}

fn inventory_from_item(item: &Item) -> Result<FlightInventory, InfraError> {
    let reader = ItemReader::new(item);
    let flight = FlightDate::new(reader.parse("flight")?, reader.parse("date")?);
    let fare = Fare::new(reader.money(FARE)?)
        .map_err(|e| reader.error_for(FARE, ItemProblem::Invalid(e.to_string())))?;
    Ok(FlightInventory::new(
        flight,
        reader.number(SEATS_AVAILABLE)?,
        fare,
    ))
}

fn reservation_item(
    reservation: &SeatReservation,
    reserved_by: &IdempotencyKey,
    now: OffsetDateTime,
) -> Item {
    ItemBuilder::new(&Key::trip_flight(
        reservation.trip_id,
        reservation.reservation_id,
    ))
    .entity_type(RESERVATION)
    .display("reservation_id", &reservation.reservation_id)
    .display("trip_id", &reservation.trip_id)
    .display("flight", &reservation.flight)
    .display("date", &reservation.date)
    .number("passengers", reservation.passengers.get())
    .money("total", reservation.total)
    .string("status", reservation.status.as_str())
    .string("reserved_by", reserved_by.as_str())
    .string("created_at", sortable_timestamp(now))
    .build()
}

fn reservation_from_item(item: &Item) -> Result<SeatReservation, InfraError> {
    let reader = ItemReader::new(item);
    let passengers = PassengerCount::new(reader.number("passengers")?)
        .map_err(|e| reader.error_for("passengers", ItemProblem::Invalid(e.to_string())))?;
    Ok(SeatReservation {
        reservation_id: reader.parse::<BookingId>("reservation_id")?,
        trip_id: reader.parse::<TripId>("trip_id")?,
        flight: reader.parse("flight")?,
        date: reader.parse("date")?,
        passengers,
        total: reader.money("total")?,
        status: reader.parse("status")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::{CalendarDate, Currency, FlightNumber, Money};

    fn inventory() -> FlightInventory {
        FlightInventory::new(
            FlightDate::new(
                FlightNumber::parse("NH106").unwrap(),
                CalendarDate::parse("2026-05-01").unwrap(),
            ),
            7,
            Fare::new(Money::new(31_240, Currency::Usd)).unwrap(),
        )
    }

    #[test]
    fn inventory_items_use_the_kernel_key_and_round_trip() {
        let item = inventory_item(&inventory(), OffsetDateTime::UNIX_EPOCH);
        let reader = ItemReader::new(&item);
        assert_eq!(reader.string("PK").unwrap(), "FLIGHT#NH106#2026-05-01");
        assert_eq!(reader.string("SK").unwrap(), "INVENTORY");
        assert_eq!(reader.string("entity_type").unwrap(), INVENTORY);
        assert_eq!(reader.number::<u32>(SEATS_AVAILABLE).unwrap(), 7);
        assert_eq!(reader.string(FARE).unwrap(), "312.40 USD");
        assert_eq!(inventory_from_item(&item).unwrap(), inventory());
    }

    #[test]
    fn reservation_items_live_under_their_trip_and_round_trip() {
        let reservation = SeatReservation::new(
            BookingId::new(),
            TripId::new(),
            &inventory(),
            PassengerCount::new(3).unwrap(),
        );
        let key = IdempotencyKey::parse("exec-1:ReserveFlight").unwrap();
        let item = reservation_item(&reservation, &key, OffsetDateTime::UNIX_EPOCH);
        let reader = ItemReader::new(&item);
        assert_eq!(
            reader.string("PK").unwrap(),
            format!("TRIP#{}", reservation.trip_id)
        );
        assert_eq!(
            reader.string("SK").unwrap(),
            format!("FLIGHT#{}", reservation.reservation_id)
        );
        assert_eq!(reader.string("status").unwrap(), "RESERVED");
        assert_eq!(reservation_from_item(&item).unwrap(), reservation);
    }

    #[test]
    fn a_corrupt_item_is_store_failed_naming_the_attribute() {
        let mut item = inventory_item(&inventory(), OffsetDateTime::UNIX_EPOCH);
        item.insert(FARE.to_owned(), AttributeValue::S("-0.05 USD".to_owned()));
        let error = inventory_from_item(&item).unwrap_err();
        assert_eq!(error.name(), "StoreFailed");
        assert!(error.message().contains("`fare`"), "{error}");
    }

    #[test]
    fn the_cancelled_marker_is_a_kernel_idempotency_record() {
        let action = IdempotencyKey::parse("exec-1:ReserveFlight").unwrap();
        let cancel = IdempotencyKey::parse("exec-1:CancelFlight").unwrap();
        let item = cancelled_marker(&action, &cancel, OffsetDateTime::UNIX_EPOCH).unwrap();
        let reader = ItemReader::new(&item);
        assert_eq!(
            reader.string("PK").unwrap(),
            "IDEMPOTENCY#exec-1:ReserveFlight"
        );
        assert_eq!(reader.string("entity_type").unwrap(), "IDEMPOTENCY");
        let record: ReserveRecord = reader.json(RESULT).unwrap();
        assert!(
            matches!(record, ReserveRecord::Cancelled { cancelled_by } if cancelled_by == "exec-1:CancelFlight")
        );
    }
}
