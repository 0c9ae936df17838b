//! Adapters of the search ports: DynamoDB (the search table), memory, SQS (the dead-letter
//! queue), and the Streams API (reading a stream where no event source mapping does it).

pub mod dynamodb;
mod in_memory;
pub mod sqs;
pub mod streams;

pub use dynamodb::{DynamoSearchRepository, SEARCH_TABLE};
pub use in_memory::{InMemoryDeadLetters, InMemorySearchRepository};
pub use sqs::SqsDeadLetters;
pub use streams::{StreamReader, StreamsArchive};
