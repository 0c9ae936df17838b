//! The contract suite on [`InMemoryHotelRepository`].

mod contract;

use std::sync::Arc;

use hotel::{HotelService, InMemoryHotelRepository};
use kernel::{EventEnvelope, TripId};

struct InMemory {
    repository: Arc<InMemoryHotelRepository>,
    service: HotelService,
}

impl contract::Harness for InMemory {
    fn service(&self) -> &HotelService {
        &self.service
    }

    async fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        self.repository.trip_events(trip_id)
    }
}

async fn in_memory() -> InMemory {
    let repository = Arc::new(InMemoryHotelRepository::new());
    InMemory {
        service: HotelService::new(repository.clone()),
        repository,
    }
}

contract::contract_tests!(in_memory);
