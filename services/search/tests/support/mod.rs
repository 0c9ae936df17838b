//! The change records of trips' lives, shared by the projection and replay tests.

#![allow(dead_code)] // each test binary uses its own part

use kernel::dynamo::{ItemBuilder, Key};
use kernel::stream::{Change, ChangeRecord};
use kernel::{AggregateVersion, Money, TripId};
use time::OffsetDateTime;
use trip::domain::{Charges, Trip, TripRequest, TripStatus};
use trip::infrastructure::stored_item;

pub(crate) const STREAM: &str = "arn:aws:dynamodb:us-east-1:000000000000:table/trips/stream/test";

pub(crate) fn request(trip_id: TripId) -> TripRequest {
    serde_json::from_value(serde_json::json!({
        "trip_id": trip_id,
        "flight": { "flight_number": "NH106", "date": "2026-12-03", "passengers": 2 },
        "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-03", "end": "2026-12-06" }, "guests": 2 },
        "payment": { "card": "tok_visa_4242" }
    }))
    .unwrap()
}

/// The trip at each version of a life that ends `last`: pending, then settled.
pub(crate) fn life(trip_id: TripId, last: TripStatus) -> Vec<Trip> {
    let (mut trip, _) = Trip::requested(request(trip_id));
    trip.version = AggregateVersion::NEW.next();
    let mut versions = vec![trip.clone()];
    let usd = |text| Money::parse(text).unwrap();
    let mut next = |change: &dyn Fn(&mut Trip)| {
        change(&mut trip);
        trip.version = trip.version.next();
        versions.push(trip.clone());
    };
    match last {
        TripStatus::Pending => {}
        TripStatus::Confirmed => next(&|t| {
            t.confirm(Charges {
                flight: usd("600.00 USD"),
                hotel: usd("450.00 USD"),
                paid: usd("1050.00 USD"),
            });
        }),
        // The pivot's guard locked it: compensations are running.
        TripStatus::Cancelling => next(&|t| {
            t.lock("TripNotPending".into());
        }),
        TripStatus::Cancelled => next(&|t| {
            t.cancel("SoldOut: no seat left".into());
        }),
        TripStatus::NeedsAttention => {
            next(&|t| {
                t.cancel("PaymentDeclined".into());
            });
            next(&|t| {
                t.needs_attention("left undone: CancelHotel".into());
            });
        }
    }
    versions
}

/// The records the table's stream holds for `versions`, and a REMOVE when `removed`.
pub(crate) fn records(versions: &[Trip], removed: bool) -> Vec<ChangeRecord> {
    let mut records = Vec::new();
    let mut old = None;
    let mut sequence = 100;
    let push = |old: Option<&Trip>, new: Option<&Trip>, seq: u64| {
        let trip_id = old.or(new).unwrap().trip_id;
        let image = |t: Option<&Trip>| t.map(|t| stored_item(t).unwrap());
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(i64::try_from(seq).unwrap());
        Change::new(Key::trip(trip_id), image(old), image(new)).into_record(
            format!("{seq:021}"),
            at,
            STREAM,
        )
    };
    for trip in versions {
        records.push(push(old, Some(trip), sequence));
        old = Some(trip);
        sequence += 1;
    }
    if removed {
        records.push(push(old, None, sequence));
    }
    records
}

/// An INSERT of a trip item that no version of the code writes (its id is no UUID, its status
/// no status): a poison record.
pub(crate) fn poison_record(sequence_number: &str) -> ChangeRecord {
    let item = ItemBuilder::new(&Key::trip(TripId::new()))
        .entity_type("TRIP")
        .string("trip_id", "not-a-uuid")
        .string("status", "TELEPORTED")
        .number("version", 1)
        .build();
    Change::new(Key::trip(TripId::new()), None, Some(item)).into_record(
        sequence_number.to_owned(),
        OffsetDateTime::UNIX_EPOCH,
        STREAM,
    )
}
