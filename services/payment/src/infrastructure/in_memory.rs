//! [`InMemoryLedger`]: the built-in provider in process memory, the embedded default store for
//! local runs and the fake the application tests use. It keeps the DynamoDB ledger's promises
//! (same contract suite): every method checks and changes its state under one lock, so each call
//! is atomic, as one `TransactWriteItems` is; the lock is never held across an `.await`.
//! Idempotency records and the outbox are the kernel's [`InMemoryJournal`].

use std::collections::BTreeMap;
use std::future::ready;
use std::sync::{Mutex, MutexGuard};

use kernel::compensation::{Action, CompensationRecords, CompensationStore, InMemoryJournal, Undo};
use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, EventEnvelope, InfraError, PaymentId, TripId};

use super::decline_rules;
use crate::domain::{
    CaptureOutcome, Charge, PaymentCaptured, PaymentProvider, PaymentReceipt, PaymentRefunded,
    PaymentStatus, RefundReceipt,
};

type Journal = InMemoryJournal<PaymentReceipt, RefundReceipt>;

#[derive(Debug, Default)]
struct State {
    payments: BTreeMap<PaymentId, PaymentReceipt>,
    journal: Journal,
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
        self.lock().journal.events().to_vec()
    }

    /// The events of `trip_id`'s payment, oldest first (what the DynamoDB ledger's outbox
    /// partition `OUTBOX#Payment#<trip id>` holds).
    pub fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        let id = trip_id.to_string();
        self.lock()
            .journal
            .events()
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

impl AsMut<Journal> for State {
    fn as_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }
}

impl State {
    fn capture(
        &mut self,
        charge: &Charge,
        key: &IdempotencyKey,
    ) -> Result<CaptureOutcome, InfraError> {
        match self.journal.action(key)? {
            Some(Action::TookEffect(receipt)) => return Ok(CaptureOutcome::Captured(receipt)),
            Some(Action::Compensated) => return Ok(CaptureOutcome::AlreadyRefunded),
            None => {}
        }
        if let Err(reason) = decline_rules::screen(charge.amount, &charge.card) {
            return Ok(CaptureOutcome::Declined(reason));
        }
        let receipt = PaymentReceipt::captured(charge);
        let announced = Journal::announce(&PaymentCaptured::of(&receipt))?;
        self.payments.insert(receipt.payment_id, receipt.clone());
        self.journal.took_effect(key, receipt.clone(), announced);
        Ok(CaptureOutcome::Captured(receipt))
    }

    fn refund(
        &mut self,
        receipt: &PaymentReceipt,
        action_key: &IdempotencyKey,
        refund_key: &IdempotencyKey,
    ) -> Result<Undo<RefundReceipt>, InfraError> {
        let captured = self
            .payments
            .get(&receipt.payment_id)
            .map(|p| p.status == PaymentStatus::Captured);
        let effect = format_args!("payment {}", receipt.payment_id);
        if let Some(answer) = self
            .journal
            .before_undo(action_key, refund_key, &effect, captured)?
        {
            return Ok(answer);
        }
        let announced = Journal::announce(&PaymentRefunded::of(receipt))?;
        if let Some(stored) = self.payments.get_mut(&receipt.payment_id) {
            stored.status = PaymentStatus::Refunded;
        }
        let refunded = RefundReceipt::refunded(receipt.amount);
        Ok(Undo::Undone(
            self.journal
                .undone(action_key, refund_key, refunded, announced),
        ))
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

    fn capture<'a>(
        &'a self,
        charge: &'a Charge,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<CaptureOutcome, InfraError>> {
        Box::pin(async move { self.lock().capture(charge, key) })
    }
}

impl CompensationStore for InMemoryLedger {
    type Effect = PaymentReceipt;
    type Outcome = RefundReceipt;

    fn records(&self) -> &dyn CompensationRecords<PaymentReceipt, RefundReceipt> {
        // The journal is part of the state: records and what they guard change under one lock.
        &self.state
    }

    fn undo<'a>(
        &'a self,
        receipt: &'a PaymentReceipt,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<RefundReceipt>, InfraError>> {
        Box::pin(ready(self.lock().refund(receipt, action, compensation)))
    }
}
