//! Take a payment: the saga's `ProcessPayment` action (authorise and capture in one step).

use kernel::dynamo::IdempotencyKey;
use kernel::telemetry::metrics;
use kernel::{InfraError, Money, PaymentId, TripId};

use crate::domain::{
    CaptureOutcome, CardToken, Charge, DeclineReason, PaymentProvider, PaymentReceipt,
};

/// Charge `amount` to `card` for `trip_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakePayment {
    /// The trip paid for.
    pub trip_id: TripId,
    /// How much.
    pub amount: Money,
    /// The card.
    pub card: CardToken,
    /// The step invocation's key: every retry of it charges once.
    pub idempotency_key: IdempotencyKey,
}

/// Why no payment was taken. Variant names are the saga's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum TakePaymentError {
    /// The provider refused the charge. Business error.
    #[error("payment declined: {reason}")]
    PaymentDeclined {
        /// Why.
        reason: DeclineReason,
    },
    /// This invocation's payment was refunded (or ruled out by a refund that ran before it): it
    /// must not charge. Business error.
    #[error("the payment of this invocation was already refunded")]
    AlreadyRefunded,
    /// Transient.
    #[error(transparent)]
    StoreThrottled(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreUnavailable(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreConflict(InfraError),
    /// Not transient.
    #[error(transparent)]
    StoreFailed(InfraError),
}

kernel::impl_from_infra_error!(TakePaymentError);

/// Runs [`TakePayment`] on `provider`.
pub(crate) async fn take_payment(
    provider: &dyn PaymentProvider,
    command: TakePayment,
) -> Result<PaymentReceipt, TakePaymentError> {
    let charge = Charge {
        // A retry makes a new id; the provider keeps the first one's (same key, same receipt).
        payment_id: PaymentId::new(),
        trip_id: command.trip_id,
        amount: command.amount,
        card: command.card,
    };
    match provider.capture(&charge, &command.idempotency_key).await? {
        CaptureOutcome::Captured(receipt) => {
            // A retry's charge has a fresh id and gets the first call's receipt back: only the
            // call whose charge was stored counts the payment.
            if receipt.payment_id == charge.payment_id {
                metrics::payment_captured(receipt.amount);
            }
            Ok(receipt)
        }
        CaptureOutcome::Declined(reason) => Err(TakePaymentError::PaymentDeclined { reason }),
        CaptureOutcome::AlreadyRefunded => Err(TakePaymentError::AlreadyRefunded),
    }
}
