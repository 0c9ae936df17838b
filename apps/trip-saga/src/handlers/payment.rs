//! `ProcessPayment` and its compensation `RefundPayment`.

use kernel::{InfraError, Money};
use payment::{
    PaymentReceipt, RefundError, RefundPayment, RefundReceipt, TakePayment, TakePaymentError,
};
use saga_runtime::{ActionRequest, CompensationRequest};

use super::{action_key, step_key};
use crate::TripContext;
use crate::trip_booking::results;
use trip::domain::TripRequest;

/// Why the trip could not be paid. Variant names are the state machine's error names; those of
/// the payment service are kept as they are.
#[derive(Debug, thiserror::Error, saga_runtime::StepError)]
pub enum ChargeError {
    /// The card was declined.
    #[error(transparent)]
    PaymentDeclined(TakePaymentError),
    /// The payment was refunded before it ran (a late invocation).
    #[error(transparent)]
    AlreadyRefunded(TakePaymentError),
    /// The bookings' prices cannot be added up (different currencies).
    #[error("the trip's price is unavailable: {0}")]
    PriceUnavailable(String),
    /// Transient.
    #[error(transparent)]
    StoreThrottled(TakePaymentError),
    /// Transient.
    #[error(transparent)]
    StoreUnavailable(TakePaymentError),
    /// Transient.
    #[error(transparent)]
    StoreConflict(TakePaymentError),
    /// Not retried.
    #[error(transparent)]
    StoreFailed(TakePaymentError),
}

impl From<TakePaymentError> for ChargeError {
    fn from(error: TakePaymentError) -> Self {
        // Exhaustive on purpose: a new payment error must be given a name here (and then be
        // declared in `saga!`), never filed under another one silently.
        match error {
            e @ TakePaymentError::PaymentDeclined { .. } => Self::PaymentDeclined(e),
            e @ TakePaymentError::AlreadyRefunded => Self::AlreadyRefunded(e),
            e @ TakePaymentError::StoreThrottled(_) => Self::StoreThrottled(e),
            e @ TakePaymentError::StoreUnavailable(_) => Self::StoreUnavailable(e),
            e @ TakePaymentError::StoreConflict(_) => Self::StoreConflict(e),
            e @ TakePaymentError::StoreFailed(_) => Self::StoreFailed(e),
        }
    }
}

impl From<InfraError> for ChargeError {
    fn from(error: InfraError) -> Self {
        TakePaymentError::from(error).into()
    }
}

/// Charges the flight's and the hotel's totals to the trip's card: the reservations come typed
/// from the steps before this one.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn charge(
    context: &TripContext,
    request: ActionRequest<TripRequest, results::ProcessPayment>,
) -> Result<PaymentReceipt, ChargeError> {
    let bookings = &request.results;
    let amount: Money = bookings
        .reserve_flight
        .total
        .checked_add(bookings.reserve_hotel.total)
        .map_err(|e| ChargeError::PriceUnavailable(e.to_string()))?;
    let command = TakePayment {
        trip_id: request.input.trip_id,
        amount,
        card: request.input.payment.card.clone(),
        idempotency_key: step_key(&request.context)?,
    };
    Ok(context.payments.take_payment(command).await?)
}

/// Refunds what `ProcessPayment` captured, if it captured anything.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn refund(
    context: &TripContext,
    request: CompensationRequest<TripRequest, PaymentReceipt>,
) -> Result<RefundReceipt, RefundError> {
    let command = RefundPayment {
        trip_id: request.input.trip_id,
        action_idempotency_key: action_key(&request.action_idempotency_key)?,
        idempotency_key: step_key(&request.context)?,
    };
    context.payments.refund(command).await
}
