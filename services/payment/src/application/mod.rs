//! The payment use cases, one per file, behind [`PaymentService`].

mod refund_payment;
mod service;
mod take_payment;

pub use refund_payment::{RefundError, RefundPayment};
pub use service::PaymentService;
pub use take_payment::{TakePayment, TakePaymentError};
