//! Adapters of [`crate::domain::HotelRepository`]: in memory and DynamoDB, passing one contract
//! suite (`tests/contract/`).

mod dynamodb;
mod in_memory;

pub use dynamodb::{DynamoHotelRepository, NIGHT_ENTITY, RESERVATION_ENTITY};
pub use in_memory::InMemoryHotelRepository;
