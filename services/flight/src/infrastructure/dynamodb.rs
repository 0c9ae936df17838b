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
//! 4. **Compensate** (the kernel's [`TableRecords`] writes, with the flight's parts): `undo`
//!    gives the seats back with `Update FLIGHT#<n>#<d> / INVENTORY SET seats_available =
//!    seats_available + :n`, condition `attribute_exists(PK)`, cancels `TRIP#<trip> /
//!    FLIGHT#<reservation id>` (`RESERVED` → `CANCELLED`, `cancelled_by`) and announces
//!    `SeatsReleased`; `void` announces `ReservationVoided`.
//! 5. **A trip's reservation** (`reservation_of_trip`): `Query PK = TRIP#<trip> AND
//!    begins_with(SK, "FLIGHT#")`, `ScanIndexForward = false`, `Limit = 1`, consistent read
//!    (reservation ids are UUIDv7, so the first item is the most recent).
//! 6. **A flight's events** ([`DynamoFlightRepository::flight_events`]): `Query PK =
//!    OUTBOX#Flight#<n>#<d> AND begins_with(SK, "EVENT#")`, oldest first (consumers normally get
//!    them from the table's stream).
//!
//! No GSI is needed: every pattern knows its partition key.

use aws_sdk_dynamodb::Client;
use kernel::compensation::{Action, CompensationRecords, CompensationStore, Undo};
use kernel::dynamo::compensation::{ActionRecord, EffectItem, TableRecords};
use kernel::dynamo::keys::{PK, sortable_timestamp};
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemProblem, ItemReader, Key, SingleTable, StepTransaction,
    Write,
};
use kernel::{
    BookingId, BoxFuture, DomainEvent, EventEnvelope, InfraError, PassengerCount, TripId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{
    Fare, FlightDate, FlightInventory, FlightRepository, ReservationStatus, ReserveOutcome,
    SeatCancellation, SeatReservation, SeatsReleased, SeatsReserved,
};

/// `entity_type` of inventory items.
const INVENTORY: &str = "FLIGHT_INVENTORY";
/// `entity_type` of reservation items (the key design's "flight booking of a trip").
const RESERVATION: &str = "FLIGHT_BOOKING";
/// The inventory's seat counter, the attribute the reservation condition guards.
const SEATS_AVAILABLE: &str = "seats_available";
/// The inventory's price of one seat.
const FARE: &str = "fare";

/// Labels of transaction writes, as reported in [`kernel::dynamo::ConditionFailed`].
const SEATS: &str = "seats";
const RESERVATION_WRITE: &str = "reservation";

/// What a reservation key's idempotency record stores.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ReserveRecord {
    Reserved { reservation: SeatReservation },
    Cancelled { cancelled_by: String },
}

impl ActionRecord for ReserveRecord {
    type Effect = SeatReservation;

    fn took_effect(reservation: SeatReservation) -> Self {
        Self::Reserved { reservation }
    }

    fn compensated_by(compensation: &IdempotencyKey) -> Self {
        Self::Cancelled {
            cancelled_by: compensation.to_string(),
        }
    }

    fn into_action(self) -> Action<SeatReservation> {
        match self {
            Self::Reserved { reservation } => Action::TookEffect(reservation),
            Self::Cancelled { .. } => Action::Compensated,
        }
    }
}

/// The flight service's store in a DynamoDB single table (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct DynamoFlightRepository {
    table: SingleTable,
    records: TableRecords<ReserveRecord>,
}

impl DynamoFlightRepository {
    /// The repository on `table`, reached with `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = SingleTable::new(client, table);
        Self {
            records: TableRecords::new(table.clone()),
            table,
        }
    }

    /// The events published about `flight` (`SeatsReserved`, `SeatsReleased`), oldest first:
    /// access pattern 6.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an outbox item does not map.
    pub async fn flight_events(
        &self,
        flight: &FlightDate,
    ) -> Result<Vec<EventEnvelope>, InfraError> {
        self.table
            .events(SeatsReserved::AGGREGATE_TYPE, &flight.aggregate_id())
            .await
    }

    async fn commit_reservation(
        &self,
        reservation: &SeatReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let transaction = StepTransaction::new(self.table.name(), key.clone())
            .at(now)
            .write(
                SEATS,
                Write::update(
                    &inventory_key(&reservation.flight_date()),
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
            .announce(&SeatsReserved::of(reservation))?;
        let committed = self
            .records
            .commit_action(transaction, reservation.clone())
            .await?;
        match committed {
            Ok(Action::TookEffect(reservation)) => Ok(ReserveOutcome::Reserved(reservation)),
            Ok(Action::Compensated) => Ok(ReserveOutcome::AlreadyCancelled),
            Err(failed) if failed.label == SEATS => match failed.item {
                None => Ok(ReserveOutcome::FlightNotFound),
                Some(item) => Ok(ReserveOutcome::SoldOut {
                    seats_left: ItemReader::new(&item).number(SEATS_AVAILABLE)?,
                }),
            },
            Err(failed) => Err(InfraError::failed(format!(
                "reservation {} of {key}: write `{}` failed its condition",
                reservation.reservation_id, failed.label
            ))),
        }
    }

    async fn release(
        &self,
        reservation: &SeatReservation,
        action: &IdempotencyKey,
        cancel: &IdempotencyKey,
    ) -> Result<Undo<SeatCancellation>, InfraError> {
        let seats_back = StepTransaction::new(self.table.name(), cancel.clone())
            .write(
                SEATS,
                Write::update(
                    &inventory_key(&reservation.flight_date()),
                    format!("SET {SEATS_AVAILABLE} = {SEATS_AVAILABLE} + :n"),
                )
                .condition(format!("attribute_exists({PK})"))
                .number_value(":n", reservation.seats()),
            )
            .announce(&SeatsReleased::of(reservation))?;
        let cancelled = EffectItem {
            label: RESERVATION_WRITE,
            key: Key::trip_flight(reservation.trip_id, reservation.reservation_id),
            in_effect: ReservationStatus::Reserved.as_str(),
            undone: ReservationStatus::Cancelled.as_str(),
            undone_by: "cancelled_by",
        };
        let released = SeatCancellation::released(reservation.seats());
        self.records
            .undo(seats_back, cancelled, action, released)
            .await
    }
}

impl FlightRepository for DynamoFlightRepository {
    fn add_flight<'a>(
        &'a self,
        inventory: &'a FlightInventory,
    ) -> BoxFuture<'a, Result<(), InfraError>> {
        let item = inventory_item(inventory, OffsetDateTime::now_utc());
        Box::pin(async move {
            // A flight already on sale keeps its stock: seeding is idempotent.
            self.table.put_if_absent(item).await?;
            Ok(())
        })
    }

    fn inventory<'a>(
        &'a self,
        flight: &'a FlightDate,
    ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>> {
        Box::pin(async move {
            let item = self.table.get(&inventory_key(flight)).await?;
            item.as_ref().map(inventory_from_item).transpose()
        })
    }

    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>> {
        Box::pin(async move {
            let partition = Key::trip_partition(trip_id);
            let item = self.table.last(&partition, "FLIGHT#").await?;
            item.as_ref().map(reservation_from_item).transpose()
        })
    }

    fn reserve<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(self.commit_reservation(reservation, key))
    }
}

impl CompensationStore for DynamoFlightRepository {
    type Effect = SeatReservation;
    type Outcome = SeatCancellation;

    fn records(&self) -> &dyn CompensationRecords<SeatReservation, SeatCancellation> {
        &self.records
    }

    fn undo<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<SeatCancellation>, InfraError>> {
        Box::pin(self.release(reservation, action, compensation))
    }
}

fn inventory_key(flight: &FlightDate) -> Key {
    Key::flight_inventory(&flight.flight, flight.date)
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
    use aws_sdk_dynamodb::types::AttributeValue;
    use kernel::{CalendarDate, Currency, FlightNumber, Money};

    use super::*;

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
    fn action_records_keep_their_json() {
        let cancel = IdempotencyKey::parse("exec-1:CancelFlight").unwrap();
        assert_eq!(
            serde_json::to_value(ReserveRecord::compensated_by(&cancel)).unwrap(),
            serde_json::json!({ "outcome": "cancelled", "cancelled_by": "exec-1:CancelFlight" })
        );
        let reservation = SeatReservation::new(
            BookingId::new(),
            TripId::new(),
            &inventory(),
            PassengerCount::new(1).unwrap(),
        );
        let stored = serde_json::to_value(ReserveRecord::took_effect(reservation.clone())).unwrap();
        assert_eq!(stored["outcome"], "reserved");
        let read: ReserveRecord = serde_json::from_value(stored).unwrap();
        assert_eq!(read.into_action(), Action::TookEffect(reservation));
    }
}
