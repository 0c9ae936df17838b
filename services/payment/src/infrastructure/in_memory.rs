//! [`InMemoryLedger`]: the built-in provider in process memory, the embedded default store for
//! local runs and the fake the application tests use. It keeps the DynamoDB ledger's promises
//! (same contract suite): every method checks and changes its state under one lock, so each call
//! is atomic, as one `TransactWriteItems` is; the lock is never held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use kernel::BoxFuture;
use kernel::dynamo::IdempotencyKey;
use kernel::{DomainEvent, EventEnvelope, InfraError, PaymentId, TripId};

use super::decline_rules;
use crate::domain::{
    CaptureOutcome, Charge, ChargeAction, PaymentCaptured, PaymentProvider, PaymentReceipt,
    PaymentRefunded, PaymentStatus, RefundOutcome, RefundReceipt, VoidOutcome,
};

/// What an idempotency key recorded: the in-memory twin of the idempotency records' `result`.
#[derive(Clone, Debug)]
enum Record {
    Charge(ChargeAction),
    Refund(RefundReceipt),
}

#[derive(Debug, Default)]
struct State {
    payments: BTreeMap<PaymentId, PaymentReceipt>,
    records: HashMap<IdempotencyKey, Record>,
    events: Vec<EventEnvelope>,
}

/// The built-in payment provider, in memory, with the [`decline_rules`].
#[derive(Debug, Default)]
pub struct InMemoryLedger {
    state: Mutex<State>,
}

impl InMemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event written to the outbox so far, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.lock().events.clone()
    }

    /// The events of `trip_id`'s payment, oldest first (what the DynamoDB ledger's outbox
    /// partition `OUTBOX#Payment#<trip id>` holds).
    pub fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        let id = trip_id.to_string();
        self.lock()
            .events
            .iter()
            .filter(|e| e.aggregate_id == id)
            .cloned()
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock happens only in a failing test; the data is still
        // consistent (every change is applied after all its checks), so keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn event(event: &impl DomainEvent) -> Result<EventEnvelope, InfraError> {
    EventEnvelope::now(event).map_err(|e| InfraError::failed(format!("event: {e}")).with_source(e))
}

fn wrong_kind(key: &IdempotencyKey) -> InfraError {
    InfraError::failed(format!(
        "idempotency key {key} was used by another kind of invocation"
    ))
}

impl State {
    fn capture(
        &mut self,
        charge: &Charge,
        key: &IdempotencyKey,
    ) -> Result<CaptureOutcome, InfraError> {
        match self.records.get(key) {
            Some(Record::Charge(ChargeAction::Captured(receipt))) => {
                return Ok(CaptureOutcome::Captured(receipt.clone()));
            }
            Some(Record::Charge(ChargeAction::Refunded)) => {
                return Ok(CaptureOutcome::AlreadyRefunded);
            }
            Some(Record::Refund(_)) => return Err(wrong_kind(key)),
            None => {}
        }
        if let Err(reason) = decline_rules::screen(charge.amount, &charge.card) {
            return Ok(CaptureOutcome::Declined(reason));
        }
        let receipt = PaymentReceipt::captured(charge);
        let announced = event(&PaymentCaptured::of(&receipt))?;
        self.payments.insert(receipt.payment_id, receipt.clone());
        self.records.insert(
            key.clone(),
            Record::Charge(ChargeAction::Captured(receipt.clone())),
        );
        self.events.push(announced);
        Ok(CaptureOutcome::Captured(receipt))
    }

    fn refund(
        &mut self,
        receipt: &PaymentReceipt,
        action_key: &IdempotencyKey,
        refund_key: &IdempotencyKey,
    ) -> Result<RefundOutcome, InfraError> {
        match self.records.get(refund_key) {
            Some(Record::Refund(stored)) => return Ok(RefundOutcome::Refunded(stored.clone())),
            Some(Record::Charge(_)) => return Err(wrong_kind(refund_key)),
            None => {}
        }
        match self.payments.get(&receipt.payment_id).map(|p| p.status) {
            Some(PaymentStatus::Captured) => {}
            Some(PaymentStatus::Refunded) => return Ok(RefundOutcome::AlreadyRefunded),
            None => {
                return Err(InfraError::failed(format!(
                    "payment {} is not stored",
                    receipt.payment_id
                )));
            }
        }
        if !matches!(self.records.get(action_key), Some(Record::Charge(_))) {
            return Err(InfraError::failed(format!(
                "the payment's action record {action_key} is missing"
            )));
        }
        let announced = event(&PaymentRefunded::of(receipt))?;
        if let Some(stored) = self.payments.get_mut(&receipt.payment_id) {
            stored.status = PaymentStatus::Refunded;
        }
        self.records
            .insert(action_key.clone(), Record::Charge(ChargeAction::Refunded));
        let result = RefundReceipt::refunded(receipt.amount);
        self.records
            .insert(refund_key.clone(), Record::Refund(result.clone()));
        self.events.push(announced);
        Ok(RefundOutcome::Refunded(result))
    }

    fn void(
        &mut self,
        trip_id: TripId,
        action_key: &IdempotencyKey,
        refund_key: &IdempotencyKey,
    ) -> Result<VoidOutcome, InfraError> {
        match self.records.get(refund_key) {
            Some(Record::Refund(stored)) => return Ok(VoidOutcome::Voided(stored.clone())),
            Some(Record::Charge(_)) => return Err(wrong_kind(refund_key)),
            None => {}
        }
        if self.records.contains_key(action_key) {
            return Ok(VoidOutcome::ActionTookEffect);
        }
        let announced = event(&PaymentRefunded::nothing_taken(trip_id))?;
        self.records
            .insert(action_key.clone(), Record::Charge(ChargeAction::Refunded));
        let result = RefundReceipt::nothing_to_undo();
        self.records
            .insert(refund_key.clone(), Record::Refund(result.clone()));
        self.events.push(announced);
        Ok(VoidOutcome::Voided(result))
    }
}

impl PaymentProvider for InMemoryLedger {
    fn payment_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<PaymentReceipt>, InfraError>> {
        Box::pin(async move {
            // Ids are UUIDv7, so the greatest is the most recent, as in the DynamoDB query.
            Ok(self
                .lock()
                .payments
                .values()
                .rfind(|p| p.trip_id == trip_id)
                .cloned())
        })
    }

    fn charge_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ChargeAction>, InfraError>> {
        Box::pin(async move {
            match self.lock().records.get(action_key) {
                None => Ok(None),
                Some(Record::Charge(action)) => Ok(Some(action.clone())),
                Some(Record::Refund(_)) => Err(wrong_kind(action_key)),
            }
        })
    }

    fn capture<'a>(
        &'a self,
        charge: &'a Charge,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<CaptureOutcome, InfraError>> {
        Box::pin(async move { self.lock().capture(charge, key) })
    }

    fn refund<'a>(
        &'a self,
        receipt: &'a PaymentReceipt,
        action_key: &'a IdempotencyKey,
        refund_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<RefundOutcome, InfraError>> {
        Box::pin(async move { self.lock().refund(receipt, action_key, refund_key) })
    }

    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        refund_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
        Box::pin(async move { self.lock().void(trip_id, action_key, refund_key) })
    }

    fn record_refund<'a>(
        &'a self,
        refund_key: &'a IdempotencyKey,
        result: RefundReceipt,
    ) -> BoxFuture<'a, Result<RefundReceipt, InfraError>> {
        Box::pin(async move {
            let mut state = self.lock();
            match state.records.get(refund_key) {
                Some(Record::Refund(stored)) => Ok(stored.clone()),
                Some(Record::Charge(_)) => Err(wrong_kind(refund_key)),
                None => {
                    state
                        .records
                        .insert(refund_key.clone(), Record::Refund(result.clone()));
                    Ok(result)
                }
            }
        })
    }
}
