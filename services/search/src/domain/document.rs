//! The search document: one per trip, denormalized from the trip item, and what a change record
//! does to it.

use hotel::HotelCode;
use kernel::{CalendarDate, FlightNumber, GuestCount, PassengerCount, TripId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use trip::domain::{Charges, Trip, TripStatus};

/// A trip as search shows it: status and outcome, what was booked, what it cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TripDocument {
    /// The trip.
    pub trip_id: TripId,
    /// Its status.
    pub status: TripStatus,
    /// Why it is cancelled (the error that started compensation) or needs attention (what was
    /// left undone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The flight, when the trip's request is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flight: Option<FlightSummary>,
    /// The hotel stay, when the trip's request is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotel: Option<StaySummary>,
    /// What the trip cost, once confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charges: Option<Charges>,
    /// When the trip last changed (the change record's time, RFC 3339 UTC).
    pub updated_at: String,
    /// The trip item's version this document was built from: a document is only ever replaced
    /// by one built from a later version.
    pub version: u64,
}

/// The flight of a trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlightSummary {
    /// e.g. `NH106`.
    pub flight_number: FlightNumber,
    /// The day of departure: what the search filters on.
    pub departure_date: CalendarDate,
    /// Seats booked.
    pub passengers: PassengerCount,
}

/// The hotel stay of a trip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StaySummary {
    /// The hotel.
    pub hotel: HotelCode,
    /// The first night.
    pub check_in: CalendarDate,
    /// The day after the last night.
    pub check_out: CalendarDate,
    /// Guests.
    pub guests: GuestCount,
}

impl TripDocument {
    /// The document of `trip` as stored at its version, changed at `updated_at`. The card token
    /// of the request is left out: search has no use for it.
    pub fn of(trip: &Trip, updated_at: String) -> Self {
        let request = trip.request.as_ref();
        Self {
            trip_id: trip.trip_id,
            status: trip.status,
            reason: trip.reason.clone(),
            flight: request.map(|r| FlightSummary {
                flight_number: r.flight.flight_number.clone(),
                departure_date: r.flight.date,
                passengers: r.flight.passengers,
            }),
            hotel: request.map(|r| StaySummary {
                hotel: r.hotel.hotel.clone(),
                check_in: r.hotel.stay.start(),
                check_out: r.hotel.stay.end(),
                guests: r.hotel.guests,
            }),
            charges: trip.charges,
            updated_at,
            version: trip.version.value(),
        }
    }

    /// The day the trip departs, when known: trips without one (their creation never ran) are
    /// found by id only.
    pub fn departure_date(&self) -> Option<CalendarDate> {
        self.flight.as_ref().map(|f| f.departure_date)
    }
}

/// What one change record asks of the search table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Projection {
    /// The trip at `document.version`: replaces an older document, or creates it.
    Upsert(TripDocument),
    /// The trip item was deleted at `version`: the document becomes a tombstone, so that an
    /// older record delivered late cannot bring it back.
    Remove {
        /// The trip.
        trip_id: TripId,
        /// The version of the deleted item (its old image's).
        version: u64,
        /// When it was deleted.
        removed_at: String,
    },
}

impl Projection {
    /// The trip it is about.
    pub fn trip_id(&self) -> TripId {
        match self {
            Projection::Upsert(document) => document.trip_id,
            Projection::Remove { trip_id, .. } => *trip_id,
        }
    }

    /// Whether it supersedes what the search table holds at `stored` (a document's version and
    /// whether it is a tombstone): the one rule every store applies, atomically.
    ///
    /// A later version wins; at the same version a tombstone beats the document (the item was
    /// deleted after that write) and nothing else changes. Applying records in any order, any
    /// number of times, therefore ends at the document of the last change.
    pub fn supersedes(&self, stored: Option<Stored>) -> bool {
        let Some(stored) = stored else { return true };
        match self {
            Projection::Upsert(document) => document.version > stored.version,
            Projection::Remove { version, .. } => {
                *version > stored.version || (*version == stored.version && !stored.removed)
            }
        }
    }
}

/// The version of what the search table holds for a trip, and whether it is a tombstone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The version.
    pub version: u64,
    /// A tombstone.
    pub removed: bool,
}
