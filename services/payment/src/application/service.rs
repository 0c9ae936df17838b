//! [`PaymentService`]: the payment use cases on one provider.

use std::sync::Arc;

use kernel::{InfraError, TripId};

use super::refund_payment::{RefundError, RefundPayment, refund_payment};
use super::take_payment::{TakePayment, TakePaymentError, take_payment};
use crate::domain::{PaymentProvider, PaymentReceipt, RefundReceipt};

/// The payment service: what the saga's payment steps call. Cheap to clone (the provider is
/// shared).
#[derive(Clone)]
pub struct PaymentService {
    provider: Arc<dyn PaymentProvider>,
}

impl std::fmt::Debug for PaymentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentService").finish_non_exhaustive()
    }
}

impl PaymentService {
    /// The service on `provider` (the built-in ledger in memory or in DynamoDB, …).
    pub fn new(provider: Arc<dyn PaymentProvider>) -> Self {
        Self { provider }
    }

    /// The most recent payment of `trip_id`, captured or refunded.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn payment(&self, trip_id: TripId) -> Result<Option<PaymentReceipt>, InfraError> {
        self.provider.payment_of_trip(trip_id).await
    }

    /// Authorises and captures a payment (see [`TakePayment`]).
    ///
    /// # Errors
    /// [`TakePaymentError`]: `PaymentDeclined`, `AlreadyRefunded` or the store's.
    pub async fn take_payment(
        &self,
        command: TakePayment,
    ) -> Result<PaymentReceipt, TakePaymentError> {
        take_payment(&*self.provider, command).await
    }

    /// Gives back what the payment `command.action_idempotency_key` took, if anything (see
    /// [`RefundPayment`]).
    ///
    /// # Errors
    /// [`RefundError`]: only the store's.
    pub async fn refund(&self, command: RefundPayment) -> Result<RefundReceipt, RefundError> {
        refund_payment(&*self.provider, command).await
    }
}

#[cfg(test)]
mod tests {
    use kernel::Money;
    use kernel::dynamo::IdempotencyKey;
    use saga_model::StepError;

    use super::*;
    use crate::{CardToken, InMemoryLedger, PaymentStatus};

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    fn take(trip_id: TripId, action: &str) -> TakePayment {
        TakePayment {
            trip_id,
            amount: Money::parse("100.00 USD").unwrap(),
            card: CardToken::parse("tok_visa_4242").unwrap(),
            idempotency_key: key(action),
        }
    }

    #[tokio::test]
    async fn a_key_of_another_kind_of_invocation_is_store_failed() {
        let service = PaymentService::new(Arc::new(InMemoryLedger::new()));
        let trip = TripId::new();
        // A refund recorded under the key first; the payment then must not read it as its own.
        service
            .refund(RefundPayment {
                trip_id: trip,
                action_idempotency_key: key("e1:ProcessPayment"),
                idempotency_key: key("e1:Shared"),
            })
            .await
            .unwrap();
        let error = service
            .take_payment(take(trip, "e1:Shared"))
            .await
            .unwrap_err();
        assert_eq!(error.name(), "StoreFailed", "{error}");
        assert_eq!(service.payment(trip).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_refund_for_another_trip_is_store_failed_and_changes_nothing() {
        let ledger = Arc::new(InMemoryLedger::new());
        let service = PaymentService::new(ledger.clone());
        let trip = TripId::new();
        service
            .take_payment(take(trip, "e1:ProcessPayment"))
            .await
            .unwrap();
        let error = service
            .refund(RefundPayment {
                trip_id: TripId::new(),
                action_idempotency_key: key("e1:ProcessPayment"),
                idempotency_key: key("e1:RefundPayment"),
            })
            .await
            .unwrap_err();
        assert_eq!(error.name(), "StoreFailed");
        let payment = service.payment(trip).await.unwrap().unwrap();
        assert_eq!(payment.status, PaymentStatus::Captured);
        assert_eq!(ledger.events().len(), 1, "only the capture's event");
    }

    #[test]
    fn error_names_are_the_state_machine_names() {
        assert_eq!(
            <TakePaymentError as StepError>::NAMES,
            [
                "PaymentDeclined",
                "AlreadyRefunded",
                "StoreThrottled",
                "StoreUnavailable",
                "StoreConflict",
                "StoreFailed"
            ]
        );
        assert_eq!(<RefundError as StepError>::NAMES, kernel::error::names::ALL);
    }
}
