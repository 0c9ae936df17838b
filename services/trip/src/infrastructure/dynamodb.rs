//! Trips in the single table.
//!
//! | item | `PK` | `SK` |
//! |---|---|---|
//! | trip | `TRIP#<trip id>` | `META` |
//!
//! Attributes: `entity_type = TRIP`, `trip_id`, `status`, `reason` (optional), `request` (the
//! saga input as JSON, absent for a trip recorded by its compensation), `flight_total`,
//! `hotel_total` and `paid` (money, once confirmed), `version`.
//!
//! The item is the trip's published form: the search projection reads it from the table's
//! stream with [`trip_from_item`], the same reader this adapter uses.
//!
//! Access patterns:
//! - Read a trip: `GetItem PK = TRIP#<id>, SK = META`.
//! - Change a trip: a `StepTransaction` with `Put` on the condition `#version = :read_version` (or
//!   `attribute_not_exists(PK)` for a new trip), its outbox event and the step's idempotency
//!   record.
//!
//! No secondary index: listing trips by status (those an operator must finish) is not an access
//! pattern of any code path yet; the index comes with the first one.

use aws_sdk_dynamodb::Client;
use kernel::dynamo::keys::VERSION;
use kernel::dynamo::{
    Item, ItemBuilder, ItemReader, Key, SingleTable, StepTransaction, TransactionOutcome, Write,
};
use kernel::{AggregateVersion, BoxFuture, InfraError, TripId};

use crate::domain::{Charges, SaveOutcome, Trip, TripChange, TripRepository};

/// The `entity_type` of trip items.
pub const ENTITY: &str = "TRIP";

/// Trips in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoTripRepository {
    table: SingleTable,
}

impl DynamoTripRepository {
    /// Trips in `table`, which has the single-table design of [`kernel::dynamo::create_table`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            table: SingleTable::new(client, table),
        }
    }
}

impl TripRepository for DynamoTripRepository {
    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<Trip>, InfraError>> {
        Box::pin(self.get_trip(trip_id))
    }

    fn save(&self, change: TripChange) -> BoxFuture<'_, Result<SaveOutcome, InfraError>> {
        Box::pin(self.save_change(change))
    }
}

impl DynamoTripRepository {
    async fn get_trip(&self, trip_id: TripId) -> Result<Option<Trip>, InfraError> {
        let item = self.table.get(&Key::trip(trip_id)).await?;
        item.as_ref().map(trip_from_item).transpose()
    }

    async fn save_change(&self, change: TripChange) -> Result<SaveOutcome, InfraError> {
        let mut stored = change.trip.clone();
        stored.version = change.expected.next();
        let outcome = StepTransaction::new(self.table.name(), change.key)
            .write(
                "trip",
                Write::put_versioned(trip_item(&change.trip)?, change.expected),
            )
            .announce(&change.event)?
            .commit(self.table.client(), stored)
            .await?;
        Ok(match outcome {
            TransactionOutcome::Committed(trip) => SaveOutcome::Saved(trip),
            TransactionOutcome::AlreadyProcessed(trip) => SaveOutcome::AlreadyProcessed(trip),
            TransactionOutcome::ConditionFailed(_) => SaveOutcome::Stale,
        })
    }
}

/// The trip's item as it is stored at `trip.version`: what a stream record's image holds.
///
/// # Errors
/// When the request does not serialise.
pub fn stored_item(trip: &Trip) -> Result<Item, InfraError> {
    let mut item = trip_item(trip)?;
    item.insert(
        VERSION.to_owned(),
        aws_sdk_dynamodb::types::AttributeValue::N(trip.version.value().to_string()),
    );
    Ok(item)
}

/// The trip's attributes but its version, which the conditional write sets.
fn trip_item(trip: &Trip) -> Result<Item, InfraError> {
    let mut builder = ItemBuilder::new(&Key::trip(trip.trip_id))
        .entity_type(ENTITY)
        .display("trip_id", &trip.trip_id)
        .string("status", trip.status.as_str());
    if let Some(reason) = &trip.reason {
        builder = builder.string("reason", reason.clone());
    }
    if let Some(charges) = &trip.charges {
        builder = builder
            .money("flight_total", charges.flight)
            .money("hotel_total", charges.hotel)
            .money("paid", charges.paid);
    }
    if let Some(request) = &trip.request {
        builder = builder
            .json("request", request)
            .map_err(|e| InfraError::failed(format!("serialising a trip request: {e}")))?;
    }
    Ok(builder.build())
}

/// Reads a trip item (from the table, or a stream record's image).
///
/// # Errors
/// `StoreFailed` naming the attribute, when the item is not a trip as [`stored_item`] writes it.
pub fn trip_from_item(item: &Item) -> Result<Trip, InfraError> {
    let reader = ItemReader::new(item);
    let request = if reader.optional_string("request")?.is_some() {
        Some(reader.json("request")?)
    } else {
        None
    };
    let charges = if reader.optional_string("paid")?.is_some() {
        Some(Charges {
            flight: reader.money("flight_total")?,
            hotel: reader.money("hotel_total")?,
            paid: reader.money("paid")?,
        })
    } else {
        None
    };
    Ok(Trip {
        trip_id: reader.parse("trip_id")?,
        status: reader.parse("status")?,
        reason: reader.optional_string("reason")?.map(ToOwned::to_owned),
        request,
        charges,
        version: AggregateVersion::from_stored(reader.number("version")?),
    })
}
