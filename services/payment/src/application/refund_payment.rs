//! Refund a payment: the saga's `RefundPayment` compensation.
//!
//! The protocol is the kernel's ([`kernel::compensation`]): the action's effect is a captured
//! payment, undoing it refunds it in full and marks it and the action refunded, and voiding rules
//! the action out (a declined charge leaves nothing either) so a late run fails with
//! `AlreadyRefunded` instead of charging.

use kernel::compensation::{Action, CompensationStore, Undo, Void, Wording, compensate};
use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{
    ChargeAction, PaymentProvider, PaymentReceipt, RefundOutcome, RefundReceipt, VoidOutcome,
};

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

/// The port, as the kernel's compensation protocol sees it: the port keeps its own names for
/// what an action left behind and for the outcomes (they are this crate's public API), and this
/// maps them onto the protocol's.
struct Ledger<'a>(&'a dyn PaymentProvider);

impl CompensationStore for Ledger<'_> {
    type Effect = PaymentReceipt;
    type Outcome = RefundReceipt;

    const WORDING: Wording = Wording {
        effect: "payment",
        compensation: "refund",
        action_did: "charged",
        took_effect: "captured",
        undoing: "refunding",
    };

    fn trip_of(effect: &PaymentReceipt) -> TripId {
        effect.trip_id
    }

    fn nothing_to_undo() -> RefundReceipt {
        RefundReceipt::nothing_to_undo()
    }

    async fn action(
        &self,
        action: &IdempotencyKey,
    ) -> Result<Option<Action<PaymentReceipt>>, InfraError> {
        Ok(self
            .0
            .charge_action(action)
            .await?
            .map(|found| match found {
                ChargeAction::Captured(effect) => Action::TookEffect(effect),
                ChargeAction::Refunded => Action::Compensated,
            }))
    }

    async fn undo(
        &self,
        effect: &PaymentReceipt,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
    ) -> Result<Undo<RefundReceipt>, InfraError> {
        Ok(match self.0.refund(effect, action, compensation).await? {
            RefundOutcome::Refunded(result) => Undo::Undone(result),
            RefundOutcome::AlreadyRefunded => Undo::AlreadyUndone,
        })
    }

    async fn void(
        &self,
        trip_id: TripId,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
    ) -> Result<Void<RefundReceipt>, InfraError> {
        Ok(match self.0.void(trip_id, action, compensation).await? {
            VoidOutcome::Voided(result) => Void::Voided(result),
            VoidOutcome::ActionTookEffect => Void::ActionTookEffect,
        })
    }

    async fn record(
        &self,
        compensation: &IdempotencyKey,
        outcome: RefundReceipt,
    ) -> Result<RefundReceipt, InfraError> {
        self.0.record_refund(compensation, outcome).await
    }
}

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
    Ok(compensate(
        &Ledger(provider),
        trip_id,
        &action_idempotency_key,
        &idempotency_key,
    )
    .await?)
}
