//! Domain events and the envelope they travel in.
//!
//! An aggregate's change is announced by an event written to the outbox in the same transaction
//! as the change ([`crate::dynamo::StepTransaction::event`]); DynamoDB Streams then deliver the
//! outbox item to consumers. The envelope is the part every event shares: which aggregate, what
//! happened, when, and a payload that each event type defines.
//!
//! ```
//! use kernel::{DomainEvent, EventEnvelope, TripId};
//! use serde::Serialize;
//!
//! #[derive(Serialize)]
//! struct FlightReserved { trip_id: TripId, seats: u8 }
//!
//! impl DomainEvent for FlightReserved {
//!     const AGGREGATE_TYPE: &'static str = "Trip";
//!     fn event_type(&self) -> &'static str { "FlightReserved" }
//!     fn aggregate_id(&self) -> String { self.trip_id.to_string() }
//! }
//!
//! let event = FlightReserved { trip_id: TripId::new(), seats: 2 };
//! let envelope = EventEnvelope::now(&event).unwrap();
//! assert_eq!(envelope.event_type, "FlightReserved");
//! assert_eq!(envelope.payload["seats"], 2);
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::InfraError;
use crate::ids::EventId;

/// Something that happened to an aggregate, worth telling other parts of the system.
pub trait DomainEvent: Serialize {
    /// The kind of aggregate the event belongs to, e.g. `"Trip"`. Part of the outbox key.
    const AGGREGATE_TYPE: &'static str;

    /// The event's name in the past tense, e.g. `"FlightReserved"`; consumers dispatch on it.
    fn event_type(&self) -> &'static str;

    /// The id of the aggregate that changed.
    fn aggregate_id(&self) -> String;
}

/// An event with its identity and metadata; what the outbox stores and consumers receive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique per event: consumers deduplicate on it (streams deliver at least once).
    pub event_id: EventId,
    /// [`DomainEvent::event_type`].
    pub event_type: String,
    /// [`DomainEvent::AGGREGATE_TYPE`].
    pub aggregate_type: String,
    /// [`DomainEvent::aggregate_id`].
    pub aggregate_id: String,
    /// When the change happened, in UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The event itself, as JSON.
    pub payload: serde_json::Value,
}

impl EventEnvelope {
    /// Wraps `event`, stamped with `occurred_at` (normalised to UTC) and a new event id.
    ///
    /// # Errors
    /// When the event does not serialise to JSON.
    pub fn new<E: DomainEvent>(
        event: &E,
        occurred_at: OffsetDateTime,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            event_id: EventId::new(),
            event_type: event.event_type().to_owned(),
            aggregate_type: E::AGGREGATE_TYPE.to_owned(),
            aggregate_id: event.aggregate_id(),
            occurred_at: occurred_at.to_offset(time::UtcOffset::UTC),
            payload: serde_json::to_value(event)?,
        })
    }

    /// Wraps `event`, stamped with the current time.
    ///
    /// # Errors
    /// When the event does not serialise to JSON.
    pub fn now<E: DomainEvent>(event: &E) -> Result<Self, serde_json::Error> {
        Self::new(event, OffsetDateTime::now_utc())
    }

    /// Wraps `event` for a store's outbox, stamped with `occurred_at`. The store's own error: an
    /// event that does not serialise is a bug the same write would hit again, `StoreFailed`.
    ///
    /// # Errors
    /// `StoreFailed` when the event does not serialise to JSON.
    pub fn for_outbox<E: DomainEvent>(
        event: &E,
        occurred_at: OffsetDateTime,
    ) -> Result<Self, InfraError> {
        Self::new(event, occurred_at).map_err(|e| {
            InfraError::failed(format!("serialising a {} event: {e}", event.event_type()))
                .with_source(e)
        })
    }

    /// The payload as the consumer's type for this event.
    ///
    /// # Errors
    /// When the payload does not match `T`.
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.payload)
    }
}

/// An event for the kernel's own tests of what stores and transactions do with events.
#[cfg(test)]
pub(crate) mod test_event {
    /// Something named `.0` happened to the aggregate `Test` `t`.
    #[derive(Debug, serde::Serialize)]
    pub(crate) struct Happened(pub(crate) &'static str);

    impl super::DomainEvent for Happened {
        const AGGREGATE_TYPE: &'static str = "Test";
        fn event_type(&self) -> &'static str {
            self.0
        }
        fn aggregate_id(&self) -> String {
            "t".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Cancelled {
        reason: String,
    }

    impl DomainEvent for Cancelled {
        const AGGREGATE_TYPE: &'static str = "Trip";
        fn event_type(&self) -> &'static str {
            "TripCancelled"
        }
        fn aggregate_id(&self) -> String {
            "t-1".to_owned()
        }
    }

    #[test]
    fn the_envelope_round_trips_through_json_in_utc() {
        let event = Cancelled {
            reason: "sold out".to_owned(),
        };
        let envelope = EventEnvelope::new(&event, datetime!(2026-05-01 09:00 +09:00)).unwrap();
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["occurred_at"], json!("2026-05-01T00:00:00Z"));
        assert_eq!(json["aggregate_type"], json!("Trip"));
        assert_eq!(json["payload"], json!({ "reason": "sold out" }));
        let back: EventEnvelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, envelope);
        assert_eq!(back.payload_as::<Cancelled>().unwrap(), event);
    }

    #[test]
    fn every_envelope_gets_its_own_id() {
        let event = Cancelled {
            reason: String::new(),
        };
        assert_ne!(
            EventEnvelope::now(&event).unwrap().event_id,
            EventEnvelope::now(&event).unwrap().event_id
        );
    }
}
