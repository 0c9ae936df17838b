//! [`DynamoLedger`]: the built-in provider's ledger in the single table, written with the
//! kernel's [`StepTransaction`] (state change + outbox event + idempotency record, one
//! `TransactWriteItems`), with the [`decline_rules`](super::decline_rules).
//!
//! # Items
//!
//! | item               | `PK`                      | `SK`                     | `entity_type` | attributes |
//! |--------------------|---------------------------|--------------------------|---------------|------------|
//! | payment            | `TRIP#<trip id>`          | `PAYMENT#<payment id>`   | `PAYMENT`     | `payment_id`, `trip_id`, `amount` (`"1050.00 USD"`), `card` (the token), `status` (`CAPTURED`/`REFUNDED`), `captured_by` (idempotency key), `refunded_by` (once refunded), `created_at` |
//! | idempotency record | `IDEMPOTENCY#<key>`       | `META`                   | `IDEMPOTENCY` | kernel's; `result` is, for a payment key, `{"outcome":"captured","receipt":{…}}` or `{"outcome":"refunded","refunded_by":"<key>"}` (refunded, or ruled out before it ran), for a refund key a [`RefundReceipt`] |
//! | outbox event       | `OUTBOX#Payment#<trip id>` | `EVENT#<occurred at>#<event id>` | `OUTBOX` | kernel's (`PaymentCaptured`, `PaymentRefunded`) |
//!
//! The payment sits under its trip with the kernel's [`Key::trip_payment`]. A declined charge
//! writes nothing (the rules are deterministic, so a retry is declined again).
//!
//! # Access patterns
//!
//! 1. **What did a payment invocation do** (`charge_action`, and the first step of `capture`):
//!    `GetItem IDEMPOTENCY#<action key> / META`, consistent (kernel [`stored_result`]). `capture`
//!    asks first so that a key with a record gets that record's answer even if the rules would
//!    now decline it.
//! 2. **Capture** (`capture`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<payment key> / META`, condition `attribute_not_exists(PK)` (kernel; a
//!      failure, when a concurrent retry won, returns the stored result);
//!    - `Put TRIP#<trip> / PAYMENT#<payment id>`, condition `attribute_not_exists(PK)`;
//!    - `Put OUTBOX#Payment#<trip> / EVENT#…` (`PaymentCaptured`).
//! 3. **Refund** (`refund`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<refund key> / META`, condition `attribute_not_exists(PK)`;
//!    - `Update TRIP#<trip> / PAYMENT#<payment id> SET status = REFUNDED`, condition
//!      `status = CAPTURED` (a payment is refunded once, whatever the key);
//!    - `Update IDEMPOTENCY#<action key> / META SET result = {"outcome":"refunded",…}`, condition
//!      `attribute_exists(PK)` (a late retry of the action now fails with `AlreadyRefunded`);
//!    - `Put OUTBOX#Payment#<trip> / EVENT#…` (`PaymentRefunded`).
//! 4. **Rule out a payment that has not happened** (`void`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<refund key> / META`, condition `attribute_not_exists(PK)`;
//!    - `Put IDEMPOTENCY#<action key> / META` with result `{"outcome":"refunded",…}`, condition
//!      `attribute_not_exists(PK)` (fails when the action captured meanwhile: refund it then);
//!    - `Put OUTBOX#Payment#<trip> / EVENT#…` (`PaymentRefunded`, nothing refunded).
//!
//!    The marker lives as long as an idempotency record (30 days, TTL), beyond Step Functions'
//!    retry and redrive windows.
//! 5. **Record a refund with nothing to undo** (`record_refund`): `TransactWriteItems` of the
//!    `Put IDEMPOTENCY#<refund key> / META` alone.
//! 6. **A trip's payment** (`payment_of_trip`): `Query PK = TRIP#<trip> AND begins_with(SK,
//!    "PAYMENT#")`, `ScanIndexForward = false`, `Limit = 1`, consistent (payment ids are UUIDv7,
//!    so the first item is the most recent).
//! 7. **A trip's payment events** ([`DynamoLedger::trip_events`]): `Query PK = OUTBOX#Payment#<trip>
//!    AND begins_with(SK, "EVENT#")`, oldest first (consumers normally get them from the table's
//!    stream).
//!
//! No GSI is needed: every pattern knows its partition key.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use kernel::dynamo::keys::{PK, sortable_timestamp};
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemReader, Key, StepTransaction, TransactionOutcome, Write,
    idempotency, outbox, stored_result,
};
use kernel::{BoxFuture, DomainEvent, EventEnvelope, InfraError, TripId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::decline_rules;
use crate::domain::{
    AGGREGATE_TYPE, CaptureOutcome, CardToken, Charge, ChargeAction, PaymentCaptured,
    PaymentProvider, PaymentReceipt, PaymentRefunded, PaymentStatus, RefundOutcome, RefundReceipt,
    VoidOutcome,
};

/// `entity_type` of payment items.
pub const PAYMENT_ENTITY: &str = "PAYMENT";

/// What a payment key's idempotency record holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum ChargeRecord {
    /// The payment it captured (as captured: status `CAPTURED`).
    Captured { receipt: PaymentReceipt },
    /// Refunded, or ruled out, by the refund `refunded_by`.
    Refunded { refunded_by: String },
}

impl From<ChargeRecord> for ChargeAction {
    fn from(record: ChargeRecord) -> Self {
        match record {
            ChargeRecord::Captured { receipt } => Self::Captured(receipt),
            ChargeRecord::Refunded { .. } => Self::Refunded,
        }
    }
}

/// The built-in payment provider's ledger in a DynamoDB single table.
#[derive(Clone, Debug)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    /// The ledger on `table` (the single table, created with `kernel::dynamo::create_table` or
    /// by CDK).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The outbox events of `trip_id`'s payment, oldest first (access pattern 7).
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an item does not map.
    pub async fn trip_events(&self, trip_id: TripId) -> Result<Vec<EventEnvelope>, InfraError> {
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :event)")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(format!("OUTBOX#{AGGREGATE_TYPE}#{trip_id}")),
                )
                .expression_attribute_values(":event", AttributeValue::S("EVENT#".to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("Query", e))?;
            for item in page.items() {
                events.push(outbox::event_from_item(item)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(events);
            }
        }
    }

    async fn query_payment(&self, trip_id: TripId) -> Result<Option<PaymentReceipt>, InfraError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :payment)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("TRIP#{trip_id}")))
            .expression_attribute_values(":payment", AttributeValue::S("PAYMENT#".to_owned()))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("Query", e))?;
        output.items().first().map(payment_from_item).transpose()
    }

    async fn get_charge_action(
        &self,
        action_key: &IdempotencyKey,
    ) -> Result<Option<ChargeAction>, InfraError> {
        let record: Option<ChargeRecord> =
            stored_result(&self.client, &self.table, action_key).await?;
        Ok(record.map(ChargeAction::from))
    }

    async fn commit_capture(
        &self,
        charge: &Charge,
        key: &IdempotencyKey,
    ) -> Result<CaptureOutcome, InfraError> {
        match self.get_charge_action(key).await? {
            Some(ChargeAction::Captured(receipt)) => return Ok(CaptureOutcome::Captured(receipt)),
            Some(ChargeAction::Refunded) => return Ok(CaptureOutcome::AlreadyRefunded),
            None => {}
        }
        if let Err(reason) = decline_rules::screen(charge.amount, &charge.card) {
            return Ok(CaptureOutcome::Declined(reason));
        }
        let now = OffsetDateTime::now_utc();
        let receipt = PaymentReceipt::captured(charge);
        let outcome = StepTransaction::new(&self.table, key.clone())
            .at(now)
            .write(
                "payment",
                Write::put_new(payment_item(&receipt, &charge.card, key, now)),
            )
            .event(envelope(&PaymentCaptured::of(&receipt), now)?)
            .commit(&self.client, ChargeRecord::Captured { receipt })
            .await?;
        match outcome {
            TransactionOutcome::Committed(record)
            | TransactionOutcome::AlreadyProcessed(record) => {
                Ok(match ChargeAction::from(record) {
                    ChargeAction::Captured(receipt) => CaptureOutcome::Captured(receipt),
                    ChargeAction::Refunded => CaptureOutcome::AlreadyRefunded,
                })
            }
            // The payment id is new: its put cannot fail unless ids collide.
            TransactionOutcome::ConditionFailed(failed) => Err(InfraError::failed(format!(
                "capturing payment {}: the {} write failed its condition",
                charge.payment_id, failed.label
            ))),
        }
    }

    async fn commit_refund(
        &self,
        receipt: &PaymentReceipt,
        action_key: &IdempotencyKey,
        refund_key: &IdempotencyKey,
    ) -> Result<RefundOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let marker = record_json(&ChargeRecord::Refunded {
            refunded_by: refund_key.to_string(),
        })?;
        let outcome = StepTransaction::new(&self.table, refund_key.clone())
            .at(now)
            .write(
                "payment",
                Write::update(
                    &Key::trip_payment(receipt.trip_id, receipt.payment_id),
                    "SET #status = :refunded, refunded_by = :by",
                )
                .condition("#status = :captured")
                .name("#status", "status")
                .string_value(":refunded", PaymentStatus::Refunded.as_str())
                .string_value(":captured", PaymentStatus::Captured.as_str())
                .string_value(":by", refund_key.as_str()),
            )
            .write(
                "action",
                Write::update(&Key::idempotency(action_key), "SET #result = :marker")
                    .condition(format!("attribute_exists({PK})"))
                    .name("#result", "result")
                    .string_value(":marker", marker),
            )
            .event(envelope(&PaymentRefunded::of(receipt), now)?)
            .commit(&self.client, RefundReceipt::refunded(receipt.amount))
            .await?;
        match outcome {
            TransactionOutcome::Committed(result)
            | TransactionOutcome::AlreadyProcessed(result) => Ok(RefundOutcome::Refunded(result)),
            // `status = CAPTURED` failed on an existing payment: refunded already. A missing
            // payment (no old item) is bad data, not a refund.
            TransactionOutcome::ConditionFailed(failed)
                if failed.label == "payment" && failed.item.is_some() =>
            {
                Ok(RefundOutcome::AlreadyRefunded)
            }
            TransactionOutcome::ConditionFailed(failed) => Err(InfraError::failed(format!(
                "refunding payment {}: the {} item is missing",
                receipt.payment_id, failed.label
            ))),
        }
    }

    async fn commit_void(
        &self,
        trip_id: TripId,
        action_key: &IdempotencyKey,
        refund_key: &IdempotencyKey,
    ) -> Result<VoidOutcome, InfraError> {
        let now = OffsetDateTime::now_utc();
        let outcome = StepTransaction::new(&self.table, refund_key.clone())
            .at(now)
            .write(
                "action",
                Write::put_new(refunded_marker(action_key, refund_key, now)?),
            )
            .event(envelope(&PaymentRefunded::nothing_taken(trip_id), now)?)
            .commit(&self.client, RefundReceipt::nothing_to_undo())
            .await?;
        Ok(match outcome {
            TransactionOutcome::Committed(result)
            | TransactionOutcome::AlreadyProcessed(result) => VoidOutcome::Voided(result),
            TransactionOutcome::ConditionFailed(_) => VoidOutcome::ActionTookEffect,
        })
    }
}

impl PaymentProvider for DynamoLedger {
    fn payment_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<PaymentReceipt>, InfraError>> {
        Box::pin(self.query_payment(trip_id))
    }

    fn charge_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ChargeAction>, InfraError>> {
        Box::pin(self.get_charge_action(action_key))
    }

    fn capture<'a>(
        &'a self,
        charge: &'a Charge,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<CaptureOutcome, InfraError>> {
        Box::pin(self.commit_capture(charge, key))
    }

    fn refund<'a>(
        &'a self,
        receipt: &'a PaymentReceipt,
        action_key: &'a IdempotencyKey,
        refund_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<RefundOutcome, InfraError>> {
        Box::pin(self.commit_refund(receipt, action_key, refund_key))
    }

    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        refund_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
        Box::pin(self.commit_void(trip_id, action_key, refund_key))
    }

    fn record_refund<'a>(
        &'a self,
        refund_key: &'a IdempotencyKey,
        result: RefundReceipt,
    ) -> BoxFuture<'a, Result<RefundReceipt, InfraError>> {
        Box::pin(
            StepTransaction::new(&self.table, refund_key.clone())
                .commit_result(&self.client, result),
        )
    }
}

fn envelope(event: &impl DomainEvent, now: OffsetDateTime) -> Result<EventEnvelope, InfraError> {
    EventEnvelope::new(event, now)
        .map_err(|e| InfraError::failed(format!("serialising an event: {e}")).with_source(e))
}

fn record_json(record: &ChargeRecord) -> Result<String, InfraError> {
    serde_json::to_string(record)
        .map_err(|e| InfraError::failed(format!("serialising a record: {e}")).with_source(e))
}

/// The idempotency record that rules out the payment `action_key` (see
/// `kernel::dynamo::idempotency::marker_item`): the action finds it and answers
/// [`ChargeRecord::Refunded`].
fn refunded_marker(
    action_key: &IdempotencyKey,
    refund_key: &IdempotencyKey,
    now: OffsetDateTime,
) -> Result<Item, InfraError> {
    let marker = record_json(&ChargeRecord::Refunded {
        refunded_by: refund_key.to_string(),
    })?;
    Ok(idempotency::marker_item(action_key, marker, now))
}

fn payment_item(
    receipt: &PaymentReceipt,
    card: &CardToken,
    captured_by: &IdempotencyKey,
    now: OffsetDateTime,
) -> Item {
    ItemBuilder::new(&Key::trip_payment(receipt.trip_id, receipt.payment_id))
        .entity_type(PAYMENT_ENTITY)
        .display("payment_id", &receipt.payment_id)
        .display("trip_id", &receipt.trip_id)
        .money("amount", receipt.amount)
        .display("card", card)
        .string("status", receipt.status.as_str())
        .string("captured_by", captured_by.as_str())
        .string("created_at", sortable_timestamp(now))
        .build()
}

fn payment_from_item(item: &Item) -> Result<PaymentReceipt, InfraError> {
    let reader = ItemReader::new(item);
    Ok(PaymentReceipt {
        payment_id: reader.parse("payment_id")?,
        trip_id: reader.parse("trip_id")?,
        amount: reader.money("amount")?,
        status: reader.parse("status")?,
    })
}
