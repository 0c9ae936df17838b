//! A payment of a trip, why one may be declined, and what refunding one did.

use std::fmt;
use std::str::FromStr;

use kernel::compensation::{ActionEffect, CompensationOutcome, Wording};
use kernel::dynamo::IdempotencyKey;
use kernel::{Money, PaymentId, TripId, ValueError};
use serde::{Deserialize, Serialize};

use super::CardToken;
use super::PaymentRefunded;

/// Where a payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Authorised and captured: the money is taken.
    Captured,
    /// Given back in full (the saga compensated the payment).
    Refunded,
}

impl PaymentStatus {
    /// `CAPTURED` or `REFUNDED`: the JSON and stored form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Captured => "CAPTURED",
            Self::Refunded => "REFUNDED",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PaymentStatus {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input {
            "CAPTURED" => Ok(Self::Captured),
            "REFUNDED" => Ok(Self::Refunded),
            _ => Err(ValueError::new(
                "payment status",
                input,
                "expected CAPTURED or REFUNDED",
            )),
        }
    }
}

/// A charge to make: what the service asks the provider to authorise and capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    /// The id the payment will have if it is captured.
    pub payment_id: PaymentId,
    /// The trip paid for.
    pub trip_id: TripId,
    /// How much.
    pub amount: Money,
    /// The card.
    pub card: CardToken,
}

/// A captured (or since refunded) payment: the `ProcessPayment` step's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentReceipt {
    /// The payment's id.
    pub payment_id: PaymentId,
    /// The trip paid for.
    pub trip_id: TripId,
    /// The amount captured.
    pub amount: Money,
    /// Captured, or refunded since.
    pub status: PaymentStatus,
}

impl PaymentReceipt {
    /// The receipt of `charge`, captured.
    pub fn captured(charge: &Charge) -> Self {
        Self {
            payment_id: charge.payment_id,
            trip_id: charge.trip_id,
            amount: charge.amount,
            status: PaymentStatus::Captured,
        }
    }
}

/// What a `RefundPayment` compensation did: the `RefundPayment` step's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundReceipt {
    /// The amount given back, or `None` when nothing was.
    pub refunded: Option<Money>,
    /// The payment had not been taken (or was refunded already): nothing was given back.
    pub nothing_to_undo: bool,
}

impl RefundReceipt {
    /// `amount` was given back.
    pub fn refunded(amount: Money) -> Self {
        Self {
            refunded: Some(amount),
            nothing_to_undo: false,
        }
    }

    /// There was nothing to give back.
    pub fn nothing_to_undo() -> Self {
        Self {
            refunded: None,
            nothing_to_undo: true,
        }
    }
}

/// A captured payment is what the saga's `RefundPayment` compensation undoes.
impl ActionEffect for PaymentReceipt {
    const WORDING: Wording = Wording {
        effect: "payment",
        compensation: "refund",
        action_did: "charged",
        took_effect: "captured",
        undoing: "refunding",
    };

    type Voided = PaymentRefunded;

    fn trip_id(&self) -> TripId {
        self.trip_id
    }

    fn voided(trip_id: TripId, _: &IdempotencyKey) -> PaymentRefunded {
        PaymentRefunded::nothing_taken(trip_id)
    }
}

impl CompensationOutcome for RefundReceipt {
    fn nothing_to_undo() -> Self {
        Self::nothing_to_undo()
    }
}

/// Why the provider declined a payment; carried by the `PaymentDeclined` error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DeclineReason {
    /// The amount is zero or negative: there is nothing to charge.
    NotPositive {
        /// The amount asked for.
        amount: Money,
    },
    /// The card is a test card that is always declined.
    DecliningCard {
        /// The card.
        card: CardToken,
    },
    /// The amount is above what one payment may take.
    OverLimit {
        /// The amount asked for.
        amount: Money,
        /// The most one payment may take, in the amount's currency.
        limit: Money,
    },
}

impl fmt::Display for DeclineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPositive { amount } => write!(f, "the amount {amount} is not positive"),
            Self::DecliningCard { card } => write!(f, "card {card} is always declined"),
            Self::OverLimit { amount, limit } => {
                write!(f, "{amount} is over the per-payment limit of {limit}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_one_spelling() {
        assert_eq!(
            serde_json::to_string(&PaymentStatus::Refunded).unwrap(),
            "\"REFUNDED\""
        );
        assert_eq!(
            "CAPTURED".parse::<PaymentStatus>().unwrap(),
            PaymentStatus::Captured
        );
        assert!("captured".parse::<PaymentStatus>().is_err());
    }

    #[test]
    fn decline_reasons_say_what_to_fix() {
        let amount = Money::parse("6000.00 USD").unwrap();
        let limit = Money::parse("5000.00 USD").unwrap();
        assert_eq!(
            DeclineReason::OverLimit { amount, limit }.to_string(),
            "6000.00 USD is over the per-payment limit of 5000.00 USD"
        );
        let json = serde_json::to_value(DeclineReason::NotPositive {
            amount: Money::zero(kernel::Currency::Jpy),
        })
        .unwrap();
        assert_eq!(json["reason"], "not_positive");
    }
}
