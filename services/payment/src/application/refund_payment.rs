//! Refund a payment: the saga's `RefundPayment` compensation.
//!
//! The protocol is the kernel's ([`kernel::compensation`]): the action's effect is a captured
//! payment, undoing it refunds it in full and marks it and the action refunded, and voiding rules
//! the action out (a declined charge leaves nothing either) so a late run fails with
//! `AlreadyRefunded` instead of charging.

use kernel::compensation::compensate;
use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{PaymentProvider, RefundReceipt};

/// Refund what the invocation `action_idempotency_key` charged for `trip_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundPayment {
    /// The trip.
    pub trip_id: TripId,
    /// The idempotency key of the payment to undo (the action's step invocation).
    pub action_idempotency_key: IdempotencyKey,
    /// This compensation invocation's key.
    pub idempotency_key: IdempotencyKey,
}

/// Why the refund did not complete: only the store can fail it, and the saga retries the
/// transient names. Variant names are the saga's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum RefundError {
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

kernel::impl_from_infra_error!(RefundError);

/// Runs [`RefundPayment`] on `provider`.
pub(crate) async fn refund_payment(
    provider: &dyn PaymentProvider,
    command: RefundPayment,
) -> Result<RefundReceipt, RefundError> {
    let RefundPayment {
        trip_id,
        action_idempotency_key,
        idempotency_key,
    } = command;
    Ok(compensate(provider, trip_id, &action_idempotency_key, &idempotency_key).await?)
}
