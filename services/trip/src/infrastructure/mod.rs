//! Adapters of [`TripRepository`](crate::domain::TripRepository).

pub mod dynamodb;
mod in_memory;

pub use dynamodb::{DynamoTripRepository, stored_item, trip_from_item};
pub use in_memory::InMemoryTripRepository;
