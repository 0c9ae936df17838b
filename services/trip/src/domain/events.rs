//! What a trip announces through the outbox.

use kernel::{DomainEvent, TripId};
use serde::Serialize;

use super::TripStatus;

/// A change of a trip's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum TripEvent {
    /// The saga started booking the trip.
    TripRequested {
        /// The trip.
        trip_id: TripId,
    },
    /// The saga started undoing the trip's steps: it can no longer be confirmed.
    TripCancelling {
        /// The trip.
        trip_id: TripId,
        /// The error that started compensation.
        reason: String,
    },
    /// The trip reached a final status.
    TripSettled {
        /// The trip.
        trip_id: TripId,
        /// `CONFIRMED`, `CANCELLED` or `NEEDS_ATTENTION`.
        status: TripStatus,
        /// Why, when it did not succeed.
        reason: Option<String>,
    },
}

impl DomainEvent for TripEvent {
    const AGGREGATE_TYPE: &'static str = "Trip";

    fn event_type(&self) -> &'static str {
        match self {
            TripEvent::TripRequested { .. } => "TripRequested",
            TripEvent::TripCancelling { .. } => "TripCancelling",
            TripEvent::TripSettled {
                status: TripStatus::Confirmed,
                ..
            } => "TripConfirmed",
            TripEvent::TripSettled {
                status: TripStatus::NeedsAttention,
                ..
            } => "TripNeedsAttention",
            TripEvent::TripSettled { .. } => "TripCancelled",
        }
    }

    fn aggregate_id(&self) -> String {
        match self {
            TripEvent::TripRequested { trip_id }
            | TripEvent::TripCancelling { trip_id, .. }
            | TripEvent::TripSettled { trip_id, .. } => trip_id.to_string(),
        }
    }
}
