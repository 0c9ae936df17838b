//! The payment service: charges a trip's card and refunds it when the trip booking saga
//! compensates.
//!
//! - [`domain`]: [`CardToken`], [`PaymentReceipt`], [`RefundReceipt`], [`DeclineReason`], the
//!   `PaymentCaptured` / `PaymentRefunded` events and the payment-provider port
//!   [`PaymentProvider`] (authorise and capture, refund, look up).
//! - [`application`]: one use case per file ([`TakePayment`], [`RefundPayment`]) behind
//!   [`PaymentService`].
//! - [`infrastructure`]: the built-in provider, a ledger ([`InMemoryLedger`], [`DynamoLedger`];
//!   one contract suite, `tests/contract/`) with explicit [`decline_rules`]: a charge is declined
//!   when its amount is not positive, when its card token starts with `tok_decline` (the test
//!   card), or when it is above 5,000 whole units of its currency.
//!
//! The promises: a payment and its refund are idempotent per idempotency key (one charge, one
//! refund, the same answer on every retry); a refund gives back what its action captured,
//! succeeds with `nothing_to_undo` when the action never took effect (declined, or not run), and
//! rules that action out so that a late run of it fails with `AlreadyRefunded` and charges
//! nothing.
//!
//! The saga's `ProcessPayment` and `RefundPayment` steps, on the in-memory ledger:
//!
//! ```
//! use std::sync::Arc;
//!
//! use kernel::dynamo::IdempotencyKey;
//! use kernel::{Money, TripId};
//! use payment::{
//!     CardToken, InMemoryLedger, PaymentService, PaymentStatus, RefundPayment, TakePayment,
//!     TakePaymentError,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let payments = PaymentService::new(Arc::new(InMemoryLedger::new()));
//! let trip_id = TripId::new();
//! let take = TakePayment {
//!     trip_id,
//!     amount: Money::parse("1050.00 USD")?,
//!     card: CardToken::parse("tok_visa_4242")?,
//!     idempotency_key: IdempotencyKey::parse("exec-1:ProcessPayment")?,
//! };
//! let receipt = payments.take_payment(take.clone()).await?;
//! assert_eq!(receipt.status, PaymentStatus::Captured);
//! // A retry of the same invocation returns the same receipt and charges nothing more.
//! assert_eq!(payments.take_payment(take.clone()).await?, receipt);
//!
//! // The test card is always declined, with the reason.
//! let declined = payments
//!     .take_payment(TakePayment {
//!         card: CardToken::parse("tok_decline")?,
//!         idempotency_key: IdempotencyKey::parse("exec-2:ProcessPayment")?,
//!         ..take.clone()
//!     })
//!     .await;
//! assert!(matches!(declined, Err(TakePaymentError::PaymentDeclined { .. })));
//!
//! // A later step failed: the compensation refunds the payment in full.
//! let refund = payments
//!     .refund(RefundPayment {
//!         trip_id,
//!         action_idempotency_key: take.idempotency_key.clone(),
//!         idempotency_key: IdempotencyKey::parse("exec-1:RefundPayment")?,
//!     })
//!     .await?;
//! assert_eq!(refund.refunded, Some(receipt.amount));
//! assert_eq!(payments.payment(trip_id).await?.unwrap().status, PaymentStatus::Refunded);
//! // The refunded invocation, run late, cannot charge again.
//! assert!(matches!(payments.take_payment(take).await, Err(TakePaymentError::AlreadyRefunded)));
//! # Ok(())
//! # }
//! ```

pub mod application;
pub mod domain;
pub mod infrastructure;

pub use application::{PaymentService, RefundError, RefundPayment, TakePayment, TakePaymentError};
pub use domain::{
    CardToken, DeclineReason, PaymentCaptured, PaymentProvider, PaymentReceipt, PaymentRefunded,
    PaymentStatus, RefundReceipt,
};
pub use infrastructure::decline_rules::{
    self, DECLINING_CARD_PREFIX, PER_PAYMENT_LIMIT_MAJOR_UNITS,
};
pub use infrastructure::{DynamoLedger, InMemoryLedger};
