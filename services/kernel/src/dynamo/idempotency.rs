//! Idempotency records: what a step invocation returned, stored in the same transaction as its
//! effect so that a retry finds it and returns the same result instead of acting twice.
//!
//! Item: `PK = IDEMPOTENCY#<key>`, `SK = META`, `entity_type = IDEMPOTENCY`, `idempotency_key`,
//! `result` (the step's output as a JSON string), `created_at` (RFC 3339), `expires_at` (TTL,
//! epoch seconds; [`DEFAULT_TTL`] after creation).
//!
//! There is no "in progress" state (as AWS Lambda Powertools has): the record is written in the
//! same `TransactWriteItems` as the change it guards, so it exists exactly when the change does.
//! No payload hash is stored either: the key is `<execution name>:<state name>`, and an execution's
//! input never changes, so one key always comes with one payload.

use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};

use super::item::{Item, ItemBuilder, ItemReader};
use super::keys::Key;
use crate::error::InfraError;

/// How long a record is kept: longer than any retry, and than Step Functions' 14-day redrive
/// window, so a redriven execution still finds what its steps did.
pub const DEFAULT_TTL: Duration = Duration::days(30);

/// `entity_type` of idempotency records.
pub const ENTITY_TYPE: &str = "IDEMPOTENCY";

/// The attribute holding the serialised result.
pub(crate) const RESULT: &str = "result";

/// The key of one step invocation: the step context's `idempotency_key`
/// (`<execution name>:<state name>`), the same on every retry of that state in that execution.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest accepted key, in bytes; DynamoDB allows 2048 for a partition key and the prefix
    /// takes a few.
    pub const MAX_LEN: usize = 1024;

    /// Checks a key.
    ///
    /// # Errors
    /// When it is empty, longer than [`Self::MAX_LEN`] bytes or contains control characters.
    pub fn parse(key: &str) -> Result<Self, crate::values::ValueError> {
        if key.is_empty() || key.len() > Self::MAX_LEN || key.chars().any(char::is_control) {
            return Err(crate::values::ValueError::new(
                "idempotency key",
                key,
                "expected 1 to 1024 bytes without control characters",
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The record stored for `key` with `result` (already JSON).
pub(crate) fn record_item(
    key: &IdempotencyKey,
    result_json: String,
    now: OffsetDateTime,
    ttl: Duration,
) -> Item {
    ItemBuilder::new(&Key::idempotency(key))
        .entity_type(ENTITY_TYPE)
        .string("idempotency_key", key.as_str())
        .string(RESULT, result_json)
        .string("created_at", super::keys::sortable_timestamp(now))
        .expires_at(now + ttl)
        .build()
}

/// The record a compensation writes under another invocation's key, `action_key`, to rule that
/// action out: the shape [`StepTransaction`](super::StepTransaction) gives its own record, with
/// [`DEFAULT_TTL`], so the action's transaction, should it run late, finds the record and returns
/// `result_json` (the action's "compensated" answer, already JSON) as its stored result. Write it
/// with [`Write::put_new`](super::Write::put_new): the condition fails when the action committed
/// first.
pub fn marker_item(action_key: &IdempotencyKey, result_json: String, now: OffsetDateTime) -> Item {
    record_item(action_key, result_json, now, DEFAULT_TTL)
}

/// The result stored in a record item.
pub(crate) fn result_of<R: DeserializeOwned>(item: &Item) -> Result<R, InfraError> {
    Ok(ItemReader::new(item).json(RESULT)?)
}

/// The result a step invocation stored, if it committed.
///
/// Access pattern: `GetItem IDEMPOTENCY#<key> / META`, strongly consistent (a retry that follows a
/// commit closely must see it). Compensations use it with the action's key to learn what the
/// action did when its output never reached the state machine (a timeout after the write).
///
/// # Errors
/// `StoreThrottled`/`StoreUnavailable` from DynamoDB; `StoreFailed` when the stored result does
/// not deserialise into `R`.
pub async fn stored_result<R: DeserializeOwned>(
    client: &Client,
    table: &str,
    key: &IdempotencyKey,
) -> Result<Option<R>, InfraError> {
    let output = client
        .get_item()
        .table_name(table)
        .set_key(Some(Key::idempotency(key).to_attributes()))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| InfraError::from_sdk("GetItem", e))?;
    output.item().map(result_of).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_are_bounded_and_printable() {
        assert!(IdempotencyKey::parse("exec-1:ReserveFlight").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a\nb").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(1025)).is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(1024)).is_ok());
    }

    #[test]
    fn the_record_holds_the_result_and_a_ttl() {
        let key = IdempotencyKey::parse("exec-1:ReserveFlight").unwrap();
        let now = datetime!(2026-05-01 00:00 UTC);
        let item = record_item(&key, r#"{"booking":"b-1"}"#.to_owned(), now, DEFAULT_TTL);
        let reader = ItemReader::new(&item);
        assert_eq!(
            reader.string("PK").unwrap(),
            "IDEMPOTENCY#exec-1:ReserveFlight"
        );
        assert_eq!(reader.string("entity_type").unwrap(), "IDEMPOTENCY");
        assert_eq!(
            reader.number::<i64>("expires_at").unwrap(),
            (now + Duration::days(30)).unix_timestamp()
        );
        let result: serde_json::Value = result_of(&item).unwrap();
        assert_eq!(result["booking"], "b-1");
    }
}
