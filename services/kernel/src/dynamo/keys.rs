//! The single table's key design.
//!
//! Every item has string keys `PK` (partition) and `SK` (sort), built from an entity prefix and
//! the entity's id joined with `#`. Items that are read together share a partition, so one Query
//! returns them; items written under contention (inventory) get a partition each.
//!
//! | item                     | `PK`                                   | `SK`                                | written by        |
//! |--------------------------|----------------------------------------|-------------------------------------|-------------------|
//! | trip                     | `TRIP#<trip id>`                       | `META`                              | trip service      |
//! | flight booking of a trip | `TRIP#<trip id>`                       | `FLIGHT#<booking id>`               | flight service    |
//! | hotel booking of a trip  | `TRIP#<trip id>`                       | `HOTEL#<booking id>`                | hotel service     |
//! | payment of a trip        | `TRIP#<trip id>`                       | `PAYMENT#<payment id>`              | payment service   |
//! | seats of a flight on a day | `FLIGHT#<flight number>#<YYYY-MM-DD>` | `INVENTORY`                         | flight service    |
//! | rooms of a hotel on a night | `HOTEL#<hotel code>#<YYYY-MM-DD>`    | `INVENTORY`                         | hotel service     |
//! | idempotency record       | `IDEMPOTENCY#<idempotency key>`        | `META`                              | every step ([`super::StepTransaction`]) |
//! | outbox event             | `OUTBOX#<aggregate type>#<aggregate id>` | `EVENT#<occurred at>#<event id>`  | every step ([`super::StepTransaction`]) |
//!
//! Access patterns (every one a GetItem or a Query on the base table, which has no secondary
//! index: a service that needs one adds it with the pattern it serves):
//!
//! 1. Load a trip with all its bookings and payment: `Query PK = TRIP#<id>` (the `META` item
//!    sorts after `FLIGHT#…`/`HOTEL#…` and before `PAYMENT#…`; callers dispatch on `SK`).
//! 2. Load one booking: `GetItem TRIP#<id> / FLIGHT#<booking id>`.
//! 3. Reserve or release seats: conditional `UpdateItem` on `FLIGHT#<number>#<date> / INVENTORY`
//!    (`seats_available >= :n`; hotels the same per night with `rooms_available`), one partition per
//!    flight and day so contention stays on that flight.
//! 4. Find what a step invocation did (a retry, or a compensation given the action's key):
//!    `GetItem IDEMPOTENCY#<key> / META` ([`super::stored_result`]).
//! 5. Read an aggregate's events in order: `Query PK = OUTBOX#<type>#<id>, SK begins_with EVENT#`
//!    (occurred-at is fixed-width UTC, so text order is time order). Consumers normally get them
//!    from the table's stream instead.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::ids::{BookingId, EventId, PaymentId, TripId};
use crate::values::{CalendarDate, FlightNumber};

/// The partition key attribute.
pub const PK: &str = "PK";
/// The sort key attribute.
pub const SK: &str = "SK";
/// The TTL attribute: epoch seconds after which DynamoDB deletes the item (within days, not
/// exactly; readers must not treat a present item as unexpired).
pub const EXPIRES_AT: &str = "expires_at";
/// Names the kind of item, so stream consumers can dispatch without parsing keys.
pub const ENTITY_TYPE: &str = "entity_type";
/// The optimistic-locking attribute of aggregates ([`crate::AggregateVersion`]).
pub const VERSION: &str = "version";

/// The `SK` of an entity's main item.
pub const META: &str = "META";

/// A primary key of the single table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pk: String,
    sk: String,
}

impl Key {
    /// A key from its two parts. Prefer the named constructors, which keep the design above.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The trip's own item: `TRIP#<id>` / `META`.
    pub fn trip(trip: TripId) -> Self {
        Self::new(Self::trip_partition(trip), META)
    }

    /// A flight booking of a trip: `TRIP#<id>` / `FLIGHT#<booking id>`.
    pub fn trip_flight(trip: TripId, booking: BookingId) -> Self {
        Self::new(Self::trip_partition(trip), format!("FLIGHT#{booking}"))
    }

    /// A hotel booking of a trip: `TRIP#<id>` / `HOTEL#<booking id>`.
    pub fn trip_hotel(trip: TripId, booking: BookingId) -> Self {
        Self::new(Self::trip_partition(trip), format!("HOTEL#{booking}"))
    }

    /// A payment of a trip: `TRIP#<id>` / `PAYMENT#<payment id>`.
    pub fn trip_payment(trip: TripId, payment: PaymentId) -> Self {
        Self::new(Self::trip_partition(trip), format!("PAYMENT#{payment}"))
    }

    /// The seat inventory of a flight on a day: `FLIGHT#<number>#<date>` / `INVENTORY`.
    pub fn flight_inventory(flight: &FlightNumber, date: CalendarDate) -> Self {
        Self::new(format!("FLIGHT#{flight}#{date}"), "INVENTORY")
    }

    /// The idempotency record of a step invocation: `IDEMPOTENCY#<key>` / `META`.
    pub fn idempotency(key: &super::IdempotencyKey) -> Self {
        Self::new(format!("IDEMPOTENCY#{}", key.as_str()), META)
    }

    /// An outbox event: `OUTBOX#<aggregate type>#<aggregate id>` /
    /// `EVENT#<occurred at, UTC, microseconds>#<event id>`.
    pub fn outbox(
        aggregate_type: &str,
        aggregate_id: &str,
        occurred_at: OffsetDateTime,
        event: EventId,
    ) -> Self {
        Self::new(
            Self::outbox_partition(aggregate_type, aggregate_id),
            format!("EVENT#{}#{event}", sortable_timestamp(occurred_at)),
        )
    }

    /// The partition of an aggregate's outbox events: `OUTBOX#<aggregate type>#<aggregate id>`.
    pub fn outbox_partition(aggregate_type: &str, aggregate_id: &str) -> String {
        format!("OUTBOX#{aggregate_type}#{aggregate_id}")
    }

    /// The partition of a trip's items (the trip, its bookings, its payment): `TRIP#<id>`.
    pub fn trip_partition(trip: TripId) -> String {
        format!("TRIP#{trip}")
    }

    /// The partition key.
    pub fn pk(&self) -> &str {
        &self.pk
    }

    /// The sort key.
    pub fn sk(&self) -> &str {
        &self.sk
    }

    /// `{PK, SK}` as DynamoDB attributes, for GetItem/UpdateItem/DeleteItem.
    pub fn to_attributes(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(self.pk.clone())),
            (SK.to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

/// `2026-05-01T09:30:00.000000Z`: fixed width, UTC, so text order is time order.
pub fn sortable_timestamp(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        // Only years beyond 9999 fail to format; clamp instead of panicking on a bad clock.
        .unwrap_or_else(|_| "9999-12-31T23:59:59.999999Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_follow_the_design() {
        let trip = TripId::parse("0192f0c4-7b1e-7c3a-9d2e-3f4a5b6c7d8e").unwrap();
        assert_eq!(
            Key::trip(trip).to_string(),
            "TRIP#0192f0c4-7b1e-7c3a-9d2e-3f4a5b6c7d8e / META"
        );
        let flight = FlightNumber::parse("NH106").unwrap();
        let date = CalendarDate::parse("2026-05-01").unwrap();
        assert_eq!(
            Key::flight_inventory(&flight, date).pk(),
            "FLIGHT#NH106#2026-05-01"
        );
        let key = crate::dynamo::IdempotencyKey::parse("exec-1:ReserveFlight").unwrap();
        assert_eq!(
            Key::idempotency(&key).pk(),
            "IDEMPOTENCY#exec-1:ReserveFlight"
        );
        let attributes = Key::trip(trip).to_attributes();
        assert_eq!(attributes[SK], AttributeValue::S("META".to_owned()));
    }

    #[test]
    fn timestamps_sort_as_text() {
        let earlier = sortable_timestamp(datetime!(2026-05-01 09:00:00.5 +09:00));
        let later = sortable_timestamp(datetime!(2026-05-01 00:00:00.75 UTC));
        assert_eq!(earlier, "2026-05-01T00:00:00.500000Z");
        assert!(earlier < later);
    }
}
