//! DynamoDB helpers for the single table: the clients ([`client`]: the SDK's HTTP client, a
//! Lambda function's SDK configuration and a client for local emulators), key design and access patterns ([`keys`]), item mapping
//! ([`item`]), the step transaction with outbox and idempotency record ([`transaction`]), the
//! compensation port's writes ([`compensation`]), and the table itself ([`table`]: a handle and
//! its definition).

pub mod client;
pub mod compensation;
pub mod idempotency;
pub mod item;
pub mod keys;
pub mod outbox;
pub mod table;
pub mod transaction;

pub use client::{https_client, lambda_sdk_config, lambda_sdk_config_from, local_client};
pub use idempotency::{IdempotencyKey, stored_result};
pub use item::{Item, ItemBuilder, ItemError, ItemProblem, ItemReader};
pub use keys::Key;
pub use table::{SingleTable, create_table, create_table_as};
pub use transaction::{ConditionFailed, StepTransaction, TransactionOutcome, Write};
