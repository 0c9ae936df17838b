//! The one way a step changes state: its writes, the outbox items announcing them and its
//! idempotency record, in a single `TransactWriteItems`.
//!
//! Either all of it is written or none of it:
//!
//! * item 0 is the idempotency record (`IDEMPOTENCY#<key>`, condition `attribute_not_exists(PK)`),
//!   holding the step's result;
//! * then the caller's writes, each with a label and usually a condition (seats left, status);
//! * then one outbox item per event (`OUTBOX#…`).
//!
//! DynamoDB answers a cancelled transaction with one reason per item, in this order, which
//! [`StepTransaction::commit`] turns into a [`TransactionOutcome`]:
//!
//! | cancellation reasons                          | outcome                                           |
//! |-----------------------------------------------|---------------------------------------------------|
//! | item 0 `ConditionalCheckFailed`               | [`TransactionOutcome::AlreadyProcessed`] with the stored result (an earlier invocation committed) |
//! | a write's `ConditionalCheckFailed`            | [`TransactionOutcome::ConditionFailed`] naming the write (a business outcome) |
//! | `TransactionConflict`                         | `Err(StoreConflict)` (transient)                  |
//! | `ThrottlingError`, `ProvisionedThroughputExceeded` | `Err(StoreThrottled)` (transient)            |
//! | anything else (`ValidationError`, …)          | `Err(StoreFailed)`                                |
//!
//! No `ClientRequestToken` is sent: DynamoDB would then answer a repeated request with success
//! without telling us whether *this* call wrote, and a retry may carry a different result (a new
//! booking id); the idempotency record answers that question for any delay, not just 10 minutes.
//!
//! ```no_run
//! # async fn reserve(client: &aws_sdk_dynamodb::Client, key: kernel::dynamo::IdempotencyKey,
//! #                  event: kernel::EventEnvelope) -> Result<(), kernel::InfraError> {
//! use kernel::dynamo::{Key, StepTransaction, TransactionOutcome, Write};
//! use kernel::{CalendarDate, FlightNumber};
//!
//! let flight = FlightNumber::parse("NH106").unwrap();
//! let date = CalendarDate::parse("2026-05-01").unwrap();
//! let outcome = StepTransaction::new("trips", key)
//!     .write(
//!         "seats",
//!         Write::update(&Key::flight_inventory(&flight, date), "SET available = available - :n")
//!             .condition("available >= :n")
//!             .number_value(":n", 2),
//!     )
//!     .event(event)
//!     .commit(client, "booking-42".to_owned())
//!     .await?;
//! match outcome {
//!     TransactionOutcome::Committed(booking) | TransactionOutcome::AlreadyProcessed(booking) => {}
//!     TransactionOutcome::ConditionFailed(failed) => assert_eq!(failed.label, "seats"), // sold out
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, ConditionCheck, Delete, Put,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::{Duration, OffsetDateTime};

use super::idempotency::{self, IdempotencyKey};
use super::item::Item;
use super::keys::{Key, PK, VERSION};
use super::outbox;
use crate::aggregate::AggregateVersion;
use crate::error::{InfraError, InfraErrorKind, kind_of_code};
use crate::events::{DomainEvent, EventEnvelope};

/// DynamoDB's limit on items in one `TransactWriteItems`.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// One state-change write of a transaction, with its optional condition.
#[derive(Clone, Debug, PartialEq)]
#[must_use]
pub struct Write {
    kind: WriteKind,
    condition: Option<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

#[derive(Clone, Debug, PartialEq)]
enum WriteKind {
    Put(Item),
    Update { key: Key, expression: String },
    Delete(Key),
    Check(Key),
}

impl Write {
    fn of(kind: WriteKind) -> Self {
        Self {
            kind,
            condition: None,
            names: HashMap::new(),
            values: HashMap::new(),
        }
    }

    /// Writes `item` whole, replacing any item with its key.
    pub fn put(item: Item) -> Self {
        Self::of(WriteKind::Put(item))
    }

    /// Writes `item` only if no item has its key yet.
    pub fn put_new(item: Item) -> Self {
        Self::put(item).condition(format!("attribute_not_exists({PK})"))
    }

    /// Writes an aggregate read at version `read` (or new, [`AggregateVersion::NEW`]), storing
    /// `read.next()` in `version`, on the condition that nobody wrote it since: optimistic locking.
    /// A lost race shows up as [`TransactionOutcome::ConditionFailed`] for this write.
    pub fn put_versioned(mut item: Item, read: AggregateVersion) -> Self {
        item.insert(
            VERSION.to_owned(),
            AttributeValue::N(read.next().value().to_string()),
        );
        if read.is_new() {
            Self::put_new(item)
        } else {
            Self::put(item)
                .condition("#version = :read_version")
                .name("#version", VERSION)
                .number_value(":read_version", read.value())
        }
    }

    /// Applies an update expression (`SET …`, `ADD …`, `REMOVE …`) to the item with `key`.
    pub fn update(key: &Key, expression: impl Into<String>) -> Self {
        Self::of(WriteKind::Update {
            key: key.clone(),
            expression: expression.into(),
        })
    }

    /// Deletes the item with `key`.
    pub fn delete(key: &Key) -> Self {
        Self::of(WriteKind::Delete(key.clone()))
    }

    /// Writes nothing but requires `condition` to hold on the item with `key`.
    pub fn check(key: &Key, condition: impl Into<String>) -> Self {
        Self::of(WriteKind::Check(key.clone())).condition(condition)
    }

    /// The condition the item must meet for the whole transaction to commit.
    pub fn condition(mut self, expression: impl Into<String>) -> Self {
        self.condition = Some(expression.into());
        self
    }

    /// Binds an expression attribute name (`#name`), for reserved words or odd characters.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names
            .insert(placeholder.to_owned(), attribute.to_owned());
        self
    }

    /// Binds an expression attribute value (`:value`).
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }

    /// Binds a number expression value.
    pub fn number_value(self, placeholder: &str, value: impl Into<i128>) -> Self {
        self.value(placeholder, AttributeValue::N(value.into().to_string()))
    }

    /// Binds a string expression value.
    pub fn string_value(self, placeholder: &str, value: impl Into<String>) -> Self {
        self.value(placeholder, AttributeValue::S(value.into()))
    }

    fn into_transact_item(self, table: &str) -> Result<TransactWriteItem, InfraError> {
        let names = (!self.names.is_empty()).then_some(self.names);
        let values = (!self.values.is_empty()).then_some(self.values);
        // The item as it was when its condition failed: how a caller tells "sold out" from
        // "already cancelled" without another read.
        let on_failure = self
            .condition
            .as_ref()
            .map(|_| ReturnValuesOnConditionCheckFailure::AllOld);
        let built = match self.kind {
            WriteKind::Put(item) => Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .set_condition_expression(self.condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .set_return_values_on_condition_check_failure(on_failure)
                .build()
                .map(|put| TransactWriteItem::builder().put(put).build()),
            WriteKind::Update { key, expression } => Update::builder()
                .table_name(table)
                .set_key(Some(key.to_attributes()))
                .update_expression(expression)
                .set_condition_expression(self.condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .set_return_values_on_condition_check_failure(on_failure)
                .build()
                .map(|update| TransactWriteItem::builder().update(update).build()),
            WriteKind::Delete(key) => Delete::builder()
                .table_name(table)
                .set_key(Some(key.to_attributes()))
                .set_condition_expression(self.condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .set_return_values_on_condition_check_failure(on_failure)
                .build()
                .map(|delete| TransactWriteItem::builder().delete(delete).build()),
            WriteKind::Check(key) => ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(key.to_attributes()))
                .set_condition_expression(self.condition)
                .set_expression_attribute_names(names)
                .set_expression_attribute_values(values)
                .set_return_values_on_condition_check_failure(on_failure)
                .build()
                .map(|check| TransactWriteItem::builder().condition_check(check).build()),
        };
        built.map_err(|e| {
            InfraError::failed(format!("building a transaction item: {e}")).with_source(e)
        })
    }
}

/// What a committed-or-not step transaction means for the step.
#[derive(Clone, Debug, PartialEq)]
pub enum TransactionOutcome<R> {
    /// This invocation's writes, events and result are stored.
    Committed(R),
    /// An earlier invocation with the same idempotency key committed; this is the result it
    /// stored. Nothing was written now. The step must return it as if it had just run.
    AlreadyProcessed(R),
    /// A write's condition did not hold: a business outcome (sold out, already cancelled, lost an
    /// optimistic-locking race). Nothing was written, not even the idempotency record, so a later
    /// invocation decides afresh.
    ConditionFailed(ConditionFailed),
}

impl<R> TransactionOutcome<R> {
    /// The step's result, whether stored now or earlier; the failed condition otherwise.
    ///
    /// # Errors
    /// When a write's condition failed.
    pub fn into_result(self) -> Result<R, ConditionFailed> {
        match self {
            Self::Committed(r) | Self::AlreadyProcessed(r) => Ok(r),
            Self::ConditionFailed(failed) => Err(failed),
        }
    }
}

/// The write whose condition failed.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionFailed {
    /// The label the write was added with.
    pub label: &'static str,
    /// The item as it was (DynamoDB's `ALL_OLD`), or `None` when it did not exist.
    pub item: Option<Item>,
}

/// A step's state change: writes + outbox events + idempotency record, committed atomically.
#[derive(Clone, Debug)]
#[must_use]
pub struct StepTransaction {
    table: String,
    key: IdempotencyKey,
    writes: Vec<(&'static str, Write)>,
    events: Vec<EventEnvelope>,
    now: Option<OffsetDateTime>,
    idempotency_ttl: Duration,
    outbox_ttl: Duration,
}

impl StepTransaction {
    /// A transaction on `table` for the step invocation `key`.
    pub fn new(table: impl Into<String>, key: IdempotencyKey) -> Self {
        Self {
            table: table.into(),
            key,
            writes: Vec::new(),
            events: Vec::new(),
            now: None,
            idempotency_ttl: idempotency::DEFAULT_TTL,
            outbox_ttl: outbox::DEFAULT_TTL,
        }
    }

    /// Adds a state-change write; `label` names it in [`ConditionFailed`].
    pub fn write(mut self, label: &'static str, write: Write) -> Self {
        self.writes.push((label, write));
        self
    }

    /// Adds an event to the outbox. A transaction with writes must announce at least one.
    pub fn event(mut self, event: EventEnvelope) -> Self {
        self.events.push(event);
        self
    }

    /// Announces `event` in the outbox, stamped with the transaction's time (which it fixes, if
    /// [`StepTransaction::at`] did not): [`StepTransaction::event`] for a domain event.
    ///
    /// # Errors
    /// `StoreFailed` when the event does not serialise.
    pub fn announce(mut self, event: &impl DomainEvent) -> Result<Self, InfraError> {
        let now = *self.now.get_or_insert_with(OffsetDateTime::now_utc);
        let envelope = EventEnvelope::for_outbox(event, now)?;
        Ok(self.event(envelope))
    }

    /// The step invocation the transaction records.
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }

    /// Uses `now` instead of the clock for `created_at` and TTLs (tests, replays).
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }

    /// How long the idempotency record is kept (default 30 days).
    pub fn idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.idempotency_ttl = ttl;
        self
    }

    /// How long outbox items are kept (default 7 days).
    pub fn outbox_ttl(mut self, ttl: Duration) -> Self {
        self.outbox_ttl = ttl;
        self
    }

    /// Commits like [`StepTransaction::commit`] and answers the step's result, stored now or
    /// earlier. For transactions without conditional writes, most often a record alone (a
    /// compensation that had nothing to undo records that answer under its own key, so a retry
    /// returns the first answer).
    ///
    /// # Errors
    /// As [`StepTransaction::commit`]; `StoreFailed` if a write's condition fails after all.
    pub async fn commit_result<R>(self, client: &Client, result: R) -> Result<R, InfraError>
    where
        R: Serialize + DeserializeOwned,
    {
        let key = self.key.clone();
        self.commit(client, result)
            .await?
            .into_result()
            .map_err(|failed| {
                // No write is meant to have a condition that could fail; say so if one did.
                InfraError::failed(format!(
                    "recording {key}: unexpected failed condition on {}",
                    failed.label
                ))
            })
    }

    /// Commits the writes, the events and `result` as the step's stored result, all or nothing.
    ///
    /// # Errors
    /// `StoreConflict`, `StoreThrottled`, `StoreUnavailable` when a retry may succeed;
    /// `StoreFailed` when the transaction is malformed (writes without an event, more than
    /// [`MAX_TRANSACTION_ITEMS`] items, a rejected expression) or a stored result does not
    /// deserialise into `R`.
    pub async fn commit<R>(
        self,
        client: &Client,
        result: R,
    ) -> Result<TransactionOutcome<R>, InfraError>
    where
        R: Serialize + DeserializeOwned,
    {
        let labels: Vec<&'static str> = self.writes.iter().map(|(label, _)| *label).collect();
        let (table, key) = (self.table.clone(), self.key.clone());
        let items = self.into_items(&result)?;
        let sent = client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(error) = sent else {
            tracing::debug!(idempotency_key = %key, "step transaction committed");
            return Ok(TransactionOutcome::Committed(result));
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        else {
            return Err(InfraError::from_sdk("TransactWriteItems", error));
        };
        match classify(cancelled.cancellation_reasons(), &labels) {
            Cancellation::AlreadyProcessed(Some(record)) => {
                tracing::info!(idempotency_key = %key, "step already processed; returning its stored result");
                Ok(TransactionOutcome::AlreadyProcessed(
                    idempotency::result_of(&record)?,
                ))
            }
            Cancellation::AlreadyProcessed(None) => {
                // The reason came without the old item: read it back. Consistent read, and a
                // record is never deleted before its TTL, so it is there.
                let stored = idempotency::stored_result(client, &table, &key).await?;
                stored
                    .map(TransactionOutcome::AlreadyProcessed)
                    .ok_or_else(|| {
                        InfraError::conflict(format!(
                            "idempotency record {key} vanished after a conflict"
                        ))
                    })
            }
            Cancellation::ConditionFailed(failed) => {
                tracing::info!(idempotency_key = %key, write = failed.label, "step transaction condition failed");
                Ok(TransactionOutcome::ConditionFailed(failed))
            }
            Cancellation::Infra(error) => Err(error),
        }
    }

    /// The `TransactWriteItems` items in the documented order.
    fn into_items<R: Serialize>(self, result: &R) -> Result<Vec<TransactWriteItem>, InfraError> {
        if !self.writes.is_empty() && self.events.is_empty() {
            return Err(InfraError::failed(format!(
                "step {} changes state without announcing an event; add one with StepTransaction::event",
                self.key
            )));
        }
        let count = 1 + self.writes.len() + self.events.len();
        if count > MAX_TRANSACTION_ITEMS {
            return Err(InfraError::failed(format!(
                "step {} needs {count} items; one transaction holds at most {MAX_TRANSACTION_ITEMS}",
                self.key
            )));
        }
        let now = self.now.unwrap_or_else(OffsetDateTime::now_utc);
        let result_json = serde_json::to_string(result).map_err(|e| {
            InfraError::failed(format!("serialising the result of step {}: {e}", self.key))
        })?;
        let mut items = Vec::with_capacity(count);
        let record = idempotency::record_item(&self.key, result_json, now, self.idempotency_ttl);
        items.push(Write::put_new(record).into_transact_item(&self.table)?);
        for (_, write) in self.writes {
            items.push(write.into_transact_item(&self.table)?);
        }
        for event in &self.events {
            let item = outbox::outbox_item(event, &self.key, now + self.outbox_ttl)
                .map_err(|e| InfraError::failed(format!("event {}: {e}", event.event_id)))?;
            items.push(Write::put(item).into_transact_item(&self.table)?);
        }
        Ok(items)
    }
}

/// What a cancelled transaction means, from its per-item reasons.
#[derive(Debug)]
enum Cancellation {
    /// The idempotency record exists (with the stored record when DynamoDB returned it).
    AlreadyProcessed(Option<Item>),
    /// A caller's write failed its condition.
    ConditionFailed(ConditionFailed),
    /// Throttling, conflict or a rejected request.
    Infra(InfraError),
}

fn code(reason: &CancellationReason) -> &str {
    reason.code().unwrap_or("None")
}

fn classify(reasons: &[CancellationReason], labels: &[&'static str]) -> Cancellation {
    // A retry of a committed step usually fails its business conditions too (the seat it took is
    // gone): the idempotency record decides first.
    if let Some(record) = reasons
        .first()
        .filter(|r| code(r) == "ConditionalCheckFailed")
    {
        return Cancellation::AlreadyProcessed(record.item().cloned());
    }
    for (index, reason) in reasons.iter().enumerate().skip(1) {
        if code(reason) == "ConditionalCheckFailed" {
            return match labels.get(index - 1) {
                Some(label) => Cancellation::ConditionFailed(ConditionFailed {
                    label,
                    item: reason.item().cloned(),
                }),
                // Outbox puts are unconditional; if one ever fails a condition, it is our bug.
                None => Cancellation::Infra(InfraError::failed(format!(
                    "outbox item {index} failed a condition: {}",
                    reason.message().unwrap_or_default()
                ))),
            };
        }
    }
    let failing: Vec<&CancellationReason> = reasons.iter().filter(|r| code(r) != "None").collect();
    let kind = |k: InfraErrorKind| failing.iter().any(|r| kind_of_code(Some(code(r))) == k);
    let describe = failing
        .iter()
        .map(|r| format!("{} ({})", code(r), r.message().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!("transaction cancelled: {describe}");
    let error = if kind(InfraErrorKind::Conflict) {
        InfraError::conflict(message)
    } else if kind(InfraErrorKind::Throttled) {
        InfraError::throttled(message)
    } else {
        InfraError::failed(message)
    };
    Cancellation::Infra(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    fn with_item(code: &str, attribute: &str) -> CancellationReason {
        CancellationReason::builder()
            .code(code)
            .item(attribute, AttributeValue::S("x".to_owned()))
            .build()
    }

    #[test]
    fn the_idempotency_record_wins_over_business_conditions() {
        let reasons = [
            with_item("ConditionalCheckFailed", "result"),
            reason("ConditionalCheckFailed"),
        ];
        let Cancellation::AlreadyProcessed(Some(record)) = classify(&reasons, &["seats"]) else {
            panic!("expected already processed")
        };
        assert!(record.contains_key("result"));
        assert!(matches!(
            classify(&[reason("ConditionalCheckFailed")], &[]),
            Cancellation::AlreadyProcessed(None)
        ));
    }

    #[test]
    fn a_failed_write_is_named_by_its_label() {
        let reasons = [
            reason("None"),
            reason("None"),
            with_item("ConditionalCheckFailed", "available"),
            reason("None"),
        ];
        let Cancellation::ConditionFailed(failed) = classify(&reasons, &["trip", "seats"]) else {
            panic!("expected a condition failure")
        };
        assert_eq!(failed.label, "seats");
        assert!(failed.item.unwrap().contains_key("available"));
    }

    #[test]
    fn infrastructure_reasons_become_transient_or_failed() {
        let name = |reasons: &[CancellationReason]| match classify(reasons, &["a", "b"]) {
            Cancellation::Infra(e) => e.name(),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            name(&[
                reason("None"),
                reason("TransactionConflict"),
                reason("None")
            ]),
            "StoreConflict"
        );
        assert_eq!(
            name(&[reason("ThrottlingError"), reason("None"), reason("None")]),
            "StoreThrottled"
        );
        assert_eq!(
            name(&[reason("None"), reason("ProvisionedThroughputExceeded")]),
            "StoreThrottled"
        );
        assert_eq!(
            name(&[reason("None"), reason("ValidationError")]),
            "StoreFailed"
        );
        assert_eq!(
            name(&[
                reason("None"),
                reason("None"),
                reason("None"),
                reason("ConditionalCheckFailed")
            ]),
            "StoreFailed"
        );
    }

    fn event() -> EventEnvelope {
        EventEnvelope {
            event_id: crate::EventId::new(),
            event_type: "SeatsReserved".to_owned(),
            aggregate_type: "Flight".to_owned(),
            aggregate_id: "NH106".to_owned(),
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            payload: serde_json::json!({}),
        }
    }

    #[test]
    fn items_are_record_then_writes_then_events() {
        let key = IdempotencyKey::parse("exec:Step").unwrap();
        let items = StepTransaction::new("t", key)
            .write("a", Write::put(Item::new()))
            .write("b", Write::delete(&Key::new("x", "y")))
            .event(event())
            .into_items(&1)
            .unwrap();
        assert_eq!(items.len(), 4);
        let record = items[0].put().unwrap();
        assert_eq!(
            record.condition_expression(),
            Some("attribute_not_exists(PK)")
        );
        assert_eq!(record.item()["result"], AttributeValue::S("1".to_owned()));
        assert!(items[2].delete().is_some());
        assert_eq!(
            items[3].put().unwrap().item()["entity_type"],
            AttributeValue::S("OUTBOX".to_owned())
        );
        assert!(items[3].put().unwrap().condition_expression().is_none());
    }

    #[test]
    fn an_announced_event_is_stamped_with_the_transaction_time() {
        use crate::events::test_event::Happened;

        let key = IdempotencyKey::parse("exec:Step").unwrap();
        let at = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let transaction = StepTransaction::new("t", key.clone())
            .at(at)
            .announce(&Happened("Happened"))
            .unwrap();
        assert_eq!(transaction.key(), &key);
        assert_eq!(transaction.events[0].occurred_at, at);
        assert_eq!(transaction.events[0].event_type, "Happened");
        // Without `at`, announcing fixes the time the record is written at too.
        let unstamped = StepTransaction::new("t", key)
            .announce(&Happened("Happened"))
            .unwrap();
        assert_eq!(unstamped.now, Some(unstamped.events[0].occurred_at));
    }

    #[test]
    fn a_state_change_without_an_event_is_refused() {
        let key = IdempotencyKey::parse("exec:Step").unwrap();
        let error = StepTransaction::new("t", key.clone())
            .write("a", Write::put(Item::new()))
            .into_items(&1);
        assert_eq!(error.unwrap_err().name(), "StoreFailed");
        // Recording a result alone (a compensation with nothing to undo) needs no event.
        assert_eq!(
            StepTransaction::new("t", key).into_items(&1).unwrap().len(),
            1
        );
    }

    #[test]
    fn too_many_items_are_refused_before_sending() {
        let key = IdempotencyKey::parse("exec:Step").unwrap();
        let mut tx = StepTransaction::new("t", key).event(event());
        for _ in 0..99 {
            tx = tx.write("w", Write::delete(&Key::new("x", "y")));
        }
        assert!(
            tx.into_items(&())
                .unwrap_err()
                .message()
                .contains("at most 100")
        );
    }

    #[test]
    fn versioned_puts_lock_on_the_version_read() {
        let new = Write::put_versioned(Item::new(), AggregateVersion::NEW);
        assert_eq!(new.condition.as_deref(), Some("attribute_not_exists(PK)"));
        let WriteKind::Put(item) = &new.kind else {
            panic!()
        };
        assert_eq!(item[VERSION], AttributeValue::N("1".to_owned()));
        let later = Write::put_versioned(Item::new(), AggregateVersion::from_stored(4));
        assert_eq!(later.condition.as_deref(), Some("#version = :read_version"));
        assert_eq!(
            later.values[":read_version"],
            AttributeValue::N("4".to_owned())
        );
        let WriteKind::Put(item) = &later.kind else {
            panic!()
        };
        assert_eq!(item[VERSION], AttributeValue::N("5".to_owned()));
    }
}
