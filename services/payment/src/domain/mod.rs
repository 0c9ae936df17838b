//! The payment domain: value objects, payments and refunds, decline reasons, events and the
//! payment-provider port. No AWS types here.

mod card_token;
mod events;
mod payment;
mod provider;

pub use card_token::CardToken;
pub use events::{AGGREGATE_TYPE, PaymentCaptured, PaymentRefunded};
pub use payment::{Charge, DeclineReason, PaymentReceipt, PaymentStatus, RefundReceipt};
pub use provider::{CaptureOutcome, PaymentProvider};
