//! Refund a payment: the saga's `RefundPayment` compensation.
//!
//! It runs after the payment step failed or a later step did, and must cope with every state
//! the payment can be in:
//!
//! | what the action key left behind | what refunding does                                          |
//! |---------------------------------|--------------------------------------------------------------|
//! | a captured payment              | refunds it in full, marks it and the action refunded         |
//! | a refunded action               | nothing (refunded or ruled out already): `nothing_to_undo`   |
//! | nothing (declined, never ran, or has not *yet*: a timed-out invocation may still be running) | rules the action out, so a late run fails with `AlreadyRefunded` instead of charging: `nothing_to_undo` |
//!
//! Each path stores its result under the refund's own key, so a retried refund returns the first
//! one's answer.

use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{ChargeAction, PaymentProvider, RefundOutcome, RefundReceipt, VoidOutcome};

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
#[derive(Debug, thiserror::Error, saga_runtime::StepError)]
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

/// How many look-up-then-write rounds a refund makes. A round is lost only when the action
/// captures between the look-up and the write; the next round then sees the payment, which
/// cannot change again, so two rounds suffice and a third is margin.
const ROUNDS: usize = 3;

/// Runs [`RefundPayment`] on `provider`.
pub(crate) async fn refund_payment(
    provider: &dyn PaymentProvider,
    command: RefundPayment,
) -> Result<RefundReceipt, RefundError> {
    let RefundPayment {
        trip_id,
        action_idempotency_key: action,
        idempotency_key: refund,
    } = command;
    for _ in 0..ROUNDS {
        match provider.charge_action(&action).await? {
            Some(ChargeAction::Captured(receipt)) => {
                if receipt.trip_id != trip_id {
                    return Err(InfraError::failed(format!(
                        "action {action} charged trip {}, not {trip_id}",
                        receipt.trip_id
                    ))
                    .into());
                }
                return match provider.refund(&receipt, &action, &refund).await? {
                    RefundOutcome::Refunded(result) => Ok(result),
                    // Another refund gave the money back first; answer (and remember) "nothing".
                    RefundOutcome::AlreadyRefunded => Ok(provider
                        .record_refund(&refund, RefundReceipt::nothing_to_undo())
                        .await?),
                };
            }
            Some(ChargeAction::Refunded) => {
                // Refunded or ruled out already, possibly by this very key: recording returns the
                // first answer stored under it, so a retry reports what it actually did.
                return Ok(provider
                    .record_refund(&refund, RefundReceipt::nothing_to_undo())
                    .await?);
            }
            None => match provider.void(trip_id, &action, &refund).await? {
                VoidOutcome::Voided(result) => return Ok(result),
                VoidOutcome::ActionTookEffect => {
                    tracing::info!(action_idempotency_key = %action, "the payment captured during its refund; refunding it");
                }
            },
        }
    }
    Err(InfraError::conflict(format!(
        "the payment {action} kept changing during {ROUNDS} refund rounds"
    ))
    .into())
}
