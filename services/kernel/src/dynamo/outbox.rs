//! Outbox items: a domain event stored in the same transaction as the change it announces.
//!
//! The table's stream (NEW_AND_OLD_IMAGES) carries each outbox item's `INSERT` to consumers, so an
//! event is published if and only if its change committed, with no dual write. Consumers take
//! `INSERT` records whose `entity_type` is `OUTBOX` ([`is_outbox_item`]), decode them with
//! [`event_from_item`] and deduplicate on `event_id` (streams deliver at least once). The TTL
//! deletion of an outbox item also reaches the stream, as a `REMOVE`: ignore those.
//!
//! Item: `PK = OUTBOX#<aggregate type>#<aggregate id>`, `SK = EVENT#<occurred at>#<event id>`,
//! `entity_type = OUTBOX`, `event_id`, `event_type`, `aggregate_type`, `aggregate_id`,
//! `occurred_at` (RFC 3339, UTC), `payload` (JSON string), `idempotency_key` (the step invocation
//! that caused it), `expires_at` (TTL; [`DEFAULT_TTL`] after the event: streams keep records for 24
//! hours, the rest is time to replay or debug).

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::idempotency::IdempotencyKey;
use super::item::{Item, ItemBuilder, ItemError, ItemProblem, ItemReader};
use super::keys::{ENTITY_TYPE as ENTITY_TYPE_ATTRIBUTE, Key};
use crate::events::EventEnvelope;

/// How long an outbox item stays in the table.
pub const DEFAULT_TTL: Duration = Duration::days(7);

/// `entity_type` of outbox items.
pub const ENTITY_TYPE: &str = "OUTBOX";

/// The outbox item for `event`, caused by the step invocation `cause`.
///
/// # Errors
/// When the occurred-at time cannot be written as RFC 3339 (a year beyond 9999).
pub fn outbox_item(
    event: &EventEnvelope,
    cause: &IdempotencyKey,
    expires_at: OffsetDateTime,
) -> Result<Item, time::error::Format> {
    let key = Key::outbox(
        &event.aggregate_type,
        &event.aggregate_id,
        event.occurred_at,
        event.event_id,
    );
    Ok(ItemBuilder::new(&key)
        .entity_type(ENTITY_TYPE)
        .display("event_id", &event.event_id)
        .string("event_type", event.event_type.as_str())
        .string("aggregate_type", event.aggregate_type.as_str())
        .string("aggregate_id", event.aggregate_id.as_str())
        .string("occurred_at", event.occurred_at.format(&Rfc3339)?)
        // serde_json::Value always serialises.
        .string("payload", event.payload.to_string())
        .string("idempotency_key", cause.as_str())
        .expires_at(expires_at)
        .build())
}

/// Whether a stream image is an outbox item.
pub fn is_outbox_item(item: &Item) -> bool {
    matches!(
        ItemReader::new(item).string(ENTITY_TYPE_ATTRIBUTE),
        Ok(ENTITY_TYPE)
    )
}

/// The event an outbox item carries.
///
/// # Errors
/// When an attribute is missing or malformed.
pub fn event_from_item(item: &Item) -> Result<EventEnvelope, ItemError> {
    let reader = ItemReader::new(item);
    let occurred_at = reader.string("occurred_at")?;
    let occurred_at = OffsetDateTime::parse(occurred_at, &Rfc3339)
        .map_err(|e| reader.error_for("occurred_at", ItemProblem::Invalid(e.to_string())))?;
    Ok(EventEnvelope {
        event_id: reader.parse("event_id")?,
        event_type: reader.string("event_type")?.to_owned(),
        aggregate_type: reader.string("aggregate_type")?.to_owned(),
        aggregate_id: reader.string("aggregate_id")?.to_owned(),
        occurred_at,
        payload: reader.json("payload")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DomainEvent;
    use serde::Serialize;
    use time::macros::datetime;

    #[derive(Serialize)]
    struct SeatsReserved {
        seats: u8,
    }

    impl DomainEvent for SeatsReserved {
        const AGGREGATE_TYPE: &'static str = "Flight";
        fn event_type(&self) -> &'static str {
            "SeatsReserved"
        }
        fn aggregate_id(&self) -> String {
            "NH106#2026-05-01".to_owned()
        }
    }

    #[test]
    fn an_event_round_trips_through_its_item() {
        let at = datetime!(2026-05-01 00:00:00.25 UTC);
        let event = EventEnvelope::new(&SeatsReserved { seats: 2 }, at).unwrap();
        let cause = IdempotencyKey::parse("exec-1:ReserveFlight").unwrap();
        let item = outbox_item(&event, &cause, at + DEFAULT_TTL).unwrap();
        let reader = ItemReader::new(&item);
        assert_eq!(
            reader.string("PK").unwrap(),
            "OUTBOX#Flight#NH106#2026-05-01"
        );
        assert_eq!(
            reader.string("SK").unwrap(),
            format!("EVENT#2026-05-01T00:00:00.250000Z#{}", event.event_id)
        );
        assert_eq!(
            reader.string("idempotency_key").unwrap(),
            "exec-1:ReserveFlight"
        );
        assert!(is_outbox_item(&item));
        assert_eq!(event_from_item(&item).unwrap(), event);
    }

    #[test]
    fn a_broken_item_names_the_attribute() {
        let at = datetime!(2026-05-01 00:00 UTC);
        let event = EventEnvelope::new(&SeatsReserved { seats: 2 }, at).unwrap();
        let cause = IdempotencyKey::parse("k").unwrap();
        let mut item = outbox_item(&event, &cause, at).unwrap();
        item.remove("event_type");
        assert_eq!(
            event_from_item(&item).unwrap_err().attribute(),
            "event_type"
        );
        item.insert(
            "occurred_at".to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::S("yesterday".to_owned()),
        );
        assert_eq!(
            event_from_item(&item).unwrap_err().attribute(),
            "occurred_at"
        );
        assert!(!is_outbox_item(
            &crate::dynamo::ItemBuilder::new(&Key::new("a", "b")).build()
        ));
    }
}
