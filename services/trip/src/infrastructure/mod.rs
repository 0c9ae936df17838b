//! Adapters of [`TripRepository`](crate::domain::TripRepository).

mod dynamodb;
mod in_memory;

pub use dynamodb::DynamoTripRepository;
pub use in_memory::InMemoryTripRepository;
