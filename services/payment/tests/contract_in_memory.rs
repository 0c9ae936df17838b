//! The contract suite on [`InMemoryLedger`].

mod contract;

use std::sync::Arc;

use kernel::{EventEnvelope, TripId};
use payment::{InMemoryLedger, PaymentService};

struct InMemory {
    ledger: Arc<InMemoryLedger>,
    service: PaymentService,
}

impl contract::Harness for InMemory {
    fn service(&self) -> &PaymentService {
        &self.service
    }

    async fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        self.ledger.trip_events(trip_id)
    }
}

async fn in_memory() -> InMemory {
    let ledger = Arc::new(InMemoryLedger::new());
    InMemory {
        service: PaymentService::new(ledger.clone()),
        ledger,
    }
}

contract::contract_tests!(in_memory);
