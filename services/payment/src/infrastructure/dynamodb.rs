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
//! 1. **What did a payment invocation do** (the first step of `capture`, and the compensation's
//!    look-up): `GetItem IDEMPOTENCY#<action key> / META`, consistent (kernel
//!    [`TableRecords::look_up`]). `capture` asks first so that a key with a record gets that
//!    record's answer even if the rules would now decline it.
//! 2. **Capture** (`capture`): `TransactWriteItems` of
//!    - `Put IDEMPOTENCY#<payment key> / META`, condition `attribute_not_exists(PK)` (kernel; a
//!      failure, when a concurrent retry won, returns the stored result);
//!    - `Put TRIP#<trip> / PAYMENT#<payment id>`, condition `attribute_not_exists(PK)`;
//!    - `Put OUTBOX#Payment#<trip> / EVENT#…` (`PaymentCaptured`).
//! 3. **Compensate** (the kernel's [`TableRecords`] writes, with the ledger's parts): `undo`
//!    refunds `TRIP#<trip> / PAYMENT#<payment id>` (`CAPTURED` → `REFUNDED`, `refunded_by`;
//!    a ledger has nothing else to give back) and announces `PaymentRefunded`; `void` announces
//!    `PaymentRefunded` with nothing refunded.
//! 4. **A trip's payment** (`payment_of_trip`): `Query PK = TRIP#<trip> AND begins_with(SK,
//!    "PAYMENT#")`, `ScanIndexForward = false`, `Limit = 1`, consistent (payment ids are UUIDv7,
//!    so the first item is the most recent).
//! 5. **A trip's payment events** ([`DynamoLedger::trip_events`]): `Query PK = OUTBOX#Payment#<trip>
//!    AND begins_with(SK, "EVENT#")`, oldest first (consumers normally get them from the table's
//!    stream).
//!
//! No GSI is needed: every pattern knows its partition key.

use aws_sdk_dynamodb::Client;
use kernel::compensation::{Action, CompensationRecords, CompensationStore, Undo};
use kernel::dynamo::compensation::{ActionRecord, EffectItem, TableRecords};
use kernel::dynamo::keys::sortable_timestamp;
use kernel::dynamo::{
    IdempotencyKey, Item, ItemBuilder, ItemReader, Key, SingleTable, StepTransaction, Write,
};
use kernel::{BoxFuture, EventEnvelope, InfraError, TripId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::decline_rules;
use crate::domain::{
    AGGREGATE_TYPE, CaptureOutcome, CardToken, Charge, PaymentCaptured, PaymentProvider,
    PaymentReceipt, PaymentRefunded, PaymentStatus, RefundReceipt,
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

impl ActionRecord for ChargeRecord {
    type Effect = PaymentReceipt;

    fn took_effect(receipt: PaymentReceipt) -> Self {
        Self::Captured { receipt }
    }

    fn compensated_by(compensation: &IdempotencyKey) -> Self {
        Self::Refunded {
            refunded_by: compensation.to_string(),
        }
    }

    fn into_action(self) -> Action<PaymentReceipt> {
        match self {
            Self::Captured { receipt } => Action::TookEffect(receipt),
            Self::Refunded { .. } => Action::Compensated,
        }
    }
}

/// The built-in payment provider's ledger in a DynamoDB single table.
#[derive(Clone, Debug)]
pub struct DynamoLedger {
    table: SingleTable,
    records: TableRecords<ChargeRecord>,
}

impl DynamoLedger {
    /// The ledger on `table` (the single table, created with `kernel::dynamo::create_table` or
    /// by CDK).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = SingleTable::new(client, table);
        Self {
            records: TableRecords::new(table.clone()),
            table,
        }
    }

    /// The outbox events of `trip_id`'s payment, oldest first (access pattern 5).
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an item does not map.
    pub async fn trip_events(&self, trip_id: TripId) -> Result<Vec<EventEnvelope>, InfraError> {
        self.table
            .events(AGGREGATE_TYPE, &trip_id.to_string())
            .await
    }

    async fn commit_capture(
        &self,
        charge: &Charge,
        key: &IdempotencyKey,
    ) -> Result<CaptureOutcome, InfraError> {
        match self.records.look_up(key).await? {
            Some(Action::TookEffect(receipt)) => return Ok(CaptureOutcome::Captured(receipt)),
            Some(Action::Compensated) => return Ok(CaptureOutcome::AlreadyRefunded),
            None => {}
        }
        if let Err(reason) = decline_rules::screen(charge.amount, &charge.card) {
            return Ok(CaptureOutcome::Declined(reason));
        }
        let now = OffsetDateTime::now_utc();
        let receipt = PaymentReceipt::captured(charge);
        let transaction = StepTransaction::new(self.table.name(), key.clone())
            .at(now)
            .write(
                "payment",
                Write::put_new(payment_item(&receipt, &charge.card, key, now)),
            )
            .announce(&PaymentCaptured::of(&receipt))?;
        match self.records.commit_action(transaction, receipt).await? {
            Ok(Action::TookEffect(receipt)) => Ok(CaptureOutcome::Captured(receipt)),
            Ok(Action::Compensated) => Ok(CaptureOutcome::AlreadyRefunded),
            // The payment id is new: its put cannot fail unless ids collide.
            Err(failed) => Err(InfraError::failed(format!(
                "capturing payment {}: the {} write failed its condition",
                charge.payment_id, failed.label
            ))),
        }
    }

    async fn refund(
        &self,
        receipt: &PaymentReceipt,
        action: &IdempotencyKey,
        refund: &IdempotencyKey,
    ) -> Result<Undo<RefundReceipt>, InfraError> {
        // A ledger gives nothing back to another item: the payment's own status is the refund.
        let announced = StepTransaction::new(self.table.name(), refund.clone())
            .announce(&PaymentRefunded::of(receipt))?;
        let refunded = EffectItem {
            label: "payment",
            key: Key::trip_payment(receipt.trip_id, receipt.payment_id),
            in_effect: PaymentStatus::Captured.as_str(),
            undone: PaymentStatus::Refunded.as_str(),
            undone_by: "refunded_by",
        };
        let outcome = RefundReceipt::refunded(receipt.amount);
        self.records
            .undo(announced, refunded, action, outcome)
            .await
    }
}

impl PaymentProvider for DynamoLedger {
    fn payment_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<PaymentReceipt>, InfraError>> {
        Box::pin(async move {
            let partition = Key::trip_partition(trip_id);
            let item = self.table.last(&partition, "PAYMENT#").await?;
            item.as_ref().map(payment_from_item).transpose()
        })
    }

    fn capture<'a>(
        &'a self,
        charge: &'a Charge,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<CaptureOutcome, InfraError>> {
        Box::pin(self.commit_capture(charge, key))
    }
}

impl CompensationStore for DynamoLedger {
    type Effect = PaymentReceipt;
    type Outcome = RefundReceipt;

    fn records(&self) -> &dyn CompensationRecords<PaymentReceipt, RefundReceipt> {
        &self.records
    }

    fn undo<'a>(
        &'a self,
        receipt: &'a PaymentReceipt,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<RefundReceipt>, InfraError>> {
        Box::pin(self.refund(receipt, action, compensation))
    }
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
