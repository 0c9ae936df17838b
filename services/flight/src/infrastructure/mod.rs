//! Adapters of the [`FlightRepository`](crate::domain::FlightRepository) port.

pub mod dynamodb;
pub mod in_memory;

pub use dynamodb::DynamoFlightRepository;
pub use in_memory::InMemoryFlightRepository;
