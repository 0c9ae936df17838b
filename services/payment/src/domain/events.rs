//! The payment service's domain events, written to the outbox with the change they announce.
//!
//! Both belong to the aggregate `Payment` identified by the trip id, so a trip's payment events
//! share one outbox partition (`OUTBOX#Payment#<trip id>`), in order.

use kernel::{DomainEvent, Money, PaymentId, TripId};
use serde::Serialize;

use super::PaymentReceipt;

/// The aggregate type of the payment's events.
pub const AGGREGATE_TYPE: &str = "Payment";

/// A payment was authorised and captured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaymentCaptured {
    /// The trip.
    pub trip_id: TripId,
    /// The payment.
    pub payment_id: PaymentId,
    /// The amount taken.
    pub amount: Money,
}

impl PaymentCaptured {
    /// The event announcing `receipt`.
    pub fn of(receipt: &PaymentReceipt) -> Self {
        Self {
            trip_id: receipt.trip_id,
            payment_id: receipt.payment_id,
            amount: receipt.amount,
        }
    }
}

impl DomainEvent for PaymentCaptured {
    const AGGREGATE_TYPE: &'static str = AGGREGATE_TYPE;
    fn event_type(&self) -> &'static str {
        "PaymentCaptured"
    }
    fn aggregate_id(&self) -> String {
        self.trip_id.to_string()
    }
}

/// A trip's payment was compensated: refunded in full, or, when it never took effect
/// (`payment_id` and `refunded` absent), ruled out so that a late run of it cannot charge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaymentRefunded {
    /// The trip.
    pub trip_id: TripId,
    /// The payment refunded, or `None` when there was none.
    pub payment_id: Option<PaymentId>,
    /// The amount given back, or `None` when nothing was.
    pub refunded: Option<Money>,
}

impl PaymentRefunded {
    /// The event announcing that `receipt`'s amount was given back.
    pub fn of(receipt: &PaymentReceipt) -> Self {
        Self {
            trip_id: receipt.trip_id,
            payment_id: Some(receipt.payment_id),
            refunded: Some(receipt.amount),
        }
    }

    /// The event announcing that `trip_id`'s payment was ruled out before it took effect.
    pub fn nothing_taken(trip_id: TripId) -> Self {
        Self {
            trip_id,
            payment_id: None,
            refunded: None,
        }
    }
}

impl DomainEvent for PaymentRefunded {
    const AGGREGATE_TYPE: &'static str = AGGREGATE_TYPE;
    fn event_type(&self) -> &'static str {
        "PaymentRefunded"
    }
    fn aggregate_id(&self) -> String {
        self.trip_id.to_string()
    }
}
