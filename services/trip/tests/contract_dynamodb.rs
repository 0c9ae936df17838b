//! The repository contract on the DynamoDB adapter, against moto started by the test itself.

mod contract;

#[tokio::test]
async fn dynamodb_adapter_passes_the_contract() {
    let table = kernel::testing::test_table().await;
    let repository =
        trip::infrastructure::DynamoTripRepository::new(table.client.clone(), &table.name);
    contract::run_all(std::sync::Arc::new(repository)).await;
}
