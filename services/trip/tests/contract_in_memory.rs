//! The repository contract on the in-memory adapter.

mod contract;

#[tokio::test]
async fn in_memory_adapter_passes_the_contract() {
    contract::run_all(std::sync::Arc::new(
        trip::infrastructure::InMemoryTripRepository::new(),
    ))
    .await;
}
