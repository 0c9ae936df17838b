//! The payment-provider port: authorise and capture, refund, look up.
//!
//! A provider keeps its own books; the built-in one is a ledger in the single table (or in
//! memory), with the decline rules of [`crate::infrastructure::decline_rules`]. Each
//! state-changing method is one atomic, idempotent step: the change, its outbox event and the
//! idempotency record of the invocation that made it are stored together or not at all, and a
//! second call with the same idempotency key returns what the first stored without changing
//! anything. The adapters ([`crate::InMemoryLedger`], [`crate::DynamoLedger`]) pass the same
//! contract suite (`tests/contract/`).

use kernel::compensation::CompensationStore;
use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, InfraError, TripId};

use super::{Charge, DeclineReason, PaymentReceipt, RefundReceipt};

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

/// The payment provider: takes and gives back money, and remembers what each invocation did.
///
/// Its compensation half is the kernel's port: a captured payment is the effect the saga's
/// `RefundPayment` undoes ([`CompensationStore::undo`] refunds it in full, marks it and its
/// action refunded and stores a `PaymentRefunded` event; a payment ruled out before it ran is
/// announced by a `PaymentRefunded` event with nothing refunded).
pub trait PaymentProvider:
    CompensationStore<Effect = PaymentReceipt, Outcome = RefundReceipt>
{
    /// The most recent payment of `trip_id`, captured or refunded.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the stored payment does not map.
    fn payment_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<PaymentReceipt>, InfraError>>;

    /// Authorises and captures `charge` unless the provider declines it, and stores the payment,
    /// a `PaymentCaptured` event and `key`'s record, atomically. A key that already has a record
    /// gets that record's answer, whatever the rules say now: a refunded (or ruled out) one
    /// answers [`CaptureOutcome::AlreadyRefunded`].
    ///
    /// # Errors
    /// The store's failure (transient ones are worth retrying: nothing was written); `StoreFailed`
    /// when `key` was used by another kind of invocation.
    fn capture<'a>(
        &'a self,
        charge: &'a Charge,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<CaptureOutcome, InfraError>>;
}
