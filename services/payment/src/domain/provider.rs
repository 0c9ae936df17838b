//! The payment-provider port: authorise and capture, refund, look up.
//!
//! A provider keeps its own books; the built-in one is a ledger in the single table (or in
//! memory), with the decline rules of [`crate::infrastructure::decline_rules`]. Each
//! state-changing method is one atomic, idempotent step: the change, its outbox event and the
//! idempotency record of the invocation that made it are stored together or not at all, and a
//! second call with the same idempotency key returns what the first stored without changing
//! anything. The adapters ([`crate::InMemoryLedger`], [`crate::DynamoLedger`]) pass the same
//! contract suite (`tests/contract/`).

use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, InfraError, TripId};

use super::{Charge, DeclineReason, PaymentReceipt, RefundReceipt};

/// What a payment invocation (identified by its idempotency key) left behind.
#[derive(Clone, Debug, PartialEq)]
pub enum ChargeAction {
    /// It captured this payment, and it has not been refunded since (refunding it marks the
    /// action [`ChargeAction::Refunded`] in the same write).
    Captured(PaymentReceipt),
    /// It was refunded, or ruled out before it ran. A later invocation with this key must not
    /// charge.
    Refunded,
}

/// The result of [`PaymentProvider::capture`].
#[derive(Clone, Debug, PartialEq)]
pub enum CaptureOutcome {
    /// The payment is captured: by this call, or by an earlier one with the same key (then this
    /// is the receipt that call stored, and nothing was charged now).
    Captured(PaymentReceipt),
    /// The provider refused the charge; nothing was taken or recorded.
    Declined(DeclineReason),
    /// The key's payment was refunded, or ruled out by a refund that ran first: nothing was
    /// taken.
    AlreadyRefunded,
}

/// The result of [`PaymentProvider::refund`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// The refund is recorded under its key: by this call, or by an earlier one (then this is
    /// what that call stored).
    Refunded(RefundReceipt),
    /// The payment was already refunded under another key; nothing was written.
    AlreadyRefunded,
}

/// The result of [`PaymentProvider::void`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoidOutcome {
    /// The action is ruled out and the refund recorded (now, or by an earlier call with the same
    /// refund key, whose result this is).
    Voided(RefundReceipt),
    /// The action captured after all (between the caller's look-up and this call); nothing was
    /// written: refund its payment instead.
    ActionTookEffect,
}

/// The payment provider: takes and gives back money, and remembers what each invocation did.
pub trait PaymentProvider: Send + Sync {
    /// The most recent payment of `trip_id`, captured or refunded.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the stored payment does not map.
    fn payment_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<PaymentReceipt>, InfraError>>;

    /// What the payment invocation `action_key` left behind, if anything.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the key's record is not a payment's.
    fn charge_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ChargeAction>, InfraError>>;

    /// Authorises and captures `charge` unless the provider declines it, and stores the payment,
    /// a `PaymentCaptured` event and `key`'s record, atomically. A key that already has a record
    /// gets that record's answer, whatever the rules say now.
    ///
    /// # Errors
    /// The store's failure (transient ones are worth retrying: nothing was written); `StoreFailed`
    /// when `key` was used by another kind of invocation.
    fn capture<'a>(
        &'a self,
        charge: &'a Charge,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<CaptureOutcome, InfraError>>;

    /// Refunds `receipt` (captured by `action_key`) in full if it is still captured: marks it
    /// refunded, marks `action_key` refunded, and stores a `PaymentRefunded` event and
    /// `refund_key`'s record with [`RefundReceipt::refunded`], atomically.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the payment or the action's record is missing, or
    /// `refund_key` was used by another kind of invocation.
    fn refund<'a>(
        &'a self,
        receipt: &'a PaymentReceipt,
        action_key: &'a IdempotencyKey,
        refund_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<RefundOutcome, InfraError>>;

    /// Rules out the payment invocation `action_key`, which has not captured: stores its record
    /// as [`ChargeAction::Refunded`], a `PaymentRefunded` event (nothing refunded) and
    /// `refund_key`'s record with [`RefundReceipt::nothing_to_undo`], atomically, provided
    /// `action_key` has no record yet.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when `refund_key` was used by another kind of
    /// invocation.
    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        refund_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>>;

    /// Records `result` as `refund_key`'s result, changing nothing else; returns the result
    /// stored earlier under that key if there is one.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when `refund_key` was used by another kind of
    /// invocation.
    fn record_refund<'a>(
        &'a self,
        refund_key: &'a IdempotencyKey,
        result: RefundReceipt,
    ) -> BoxFuture<'a, Result<RefundReceipt, InfraError>>;
}
