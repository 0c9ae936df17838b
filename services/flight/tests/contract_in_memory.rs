//! The repository contract on the in-memory adapter.

mod contract;

use std::future::ready;
use std::sync::Arc;

use flight::InMemoryFlightRepository;
use flight::domain::FlightDate;

#[expect(
    clippy::unused_async,
    reason = "the contract awaits every subject; the DynamoDB one must create its table"
)]
async fn in_memory() -> contract::Subject {
    let repository = Arc::new(InMemoryFlightRepository::new());
    let outbox = repository.clone();
    contract::Subject {
        repository,
        flight_events: Box::new(move |flight: FlightDate| {
            let events = outbox
                .outbox()
                .into_iter()
                .filter(|e| e.aggregate_type == "Flight" && e.aggregate_id == flight.aggregate_id())
                .collect();
            Box::pin(ready(events))
        }),
    }
}

contract::contract_tests!(in_memory());
