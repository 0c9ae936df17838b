//! The single table's definition, for local runs and tests (production creates it with CDK, which
//! must match: `PK`/`SK` strings, no secondary index (every access pattern knows its partition
//! key), a NEW_AND_OLD_IMAGES stream, TTL on `expires_at`, on-demand billing).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};

use super::keys::{EXPIRES_AT, PK, SK};
use crate::error::InfraError;

/// Creates the single table `name`, waits until it is active and turns TTL on.
///
/// # Errors
/// The DynamoDB error of CreateTable/DescribeTable/UpdateTimeToLive (e.g. `StoreFailed` when the
/// table exists), or `StoreUnavailable` when it is not active within a minute.
pub async fn create_table(client: &Client, name: &str) -> Result<(), InfraError> {
    let built = |e: aws_sdk_dynamodb::error::BuildError| {
        InfraError::failed(format!("table definition: {e}"))
    };
    let string_attribute = |attribute: &str| {
        AttributeDefinition::builder()
            .attribute_name(attribute)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(built)
    };
    let key = |attribute: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(key_type)
            .build()
            .map_err(built)
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(PK)?)
        .attribute_definitions(string_attribute(SK)?)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .map_err(built)?,
        )
        .send()
        .await
        .map_err(|e| InfraError::from_sdk("CreateTable", e))?;
    wait_until_active(client, name).await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .map_err(built)?,
        )
        .send()
        .await
        .map_err(|e| InfraError::from_sdk("UpdateTimeToLive", e))?;
    Ok(())
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), InfraError> {
    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("DescribeTable", e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(InfraError::unavailable(format!(
        "table {name} is not active after a minute"
    )))
}
