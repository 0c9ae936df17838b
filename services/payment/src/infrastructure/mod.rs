//! The built-in [`crate::domain::PaymentProvider`]: a ledger with explicit
//! [`decline_rules`], in memory and in DynamoDB, passing one contract suite (`tests/contract/`).

pub mod decline_rules;
mod dynamodb;
mod in_memory;

pub use dynamodb::{DynamoLedger, PAYMENT_ENTITY};
pub use in_memory::InMemoryLedger;
