//! The single table: [`SingleTable`], a handle with the reads and the seeding write every service
//! makes the same way, and [`create_table`], its definition for local runs and tests (production
//! creates it with CDK, which must match: `PK`/`SK` strings, no secondary index (every access
//! pattern knows its partition key), a NEW_AND_OLD_IMAGES stream, TTL on `expires_at`, on-demand
//! billing).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};

use super::item::Item;
use super::keys::{EXPIRES_AT, Key, PK, SK};
use super::outbox;
use crate::error::InfraError;
use crate::events::EventEnvelope;

/// The single table and a client to reach it: what a service's DynamoDB adapter holds. Cheap to
/// clone (the client is shared).
#[derive(Clone, Debug)]
pub struct SingleTable {
    client: Client,
    name: String,
}

impl SingleTable {
    /// The table `name`, reached with `client`.
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The item with `key`, read strongly consistent (a step reads what the step before it
    /// wrote).
    ///
    /// # Errors
    /// The store's failure.
    pub async fn get(&self, key: &Key) -> Result<Option<Item>, InfraError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key.to_attributes()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetItem", e))?;
        Ok(output.item().cloned())
    }

    /// The item of `partition` with the greatest sort key that starts with `prefix`, read
    /// strongly consistent: the most recent one when the sort keys end in a UUIDv7 id.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn last(&self, partition: &str, prefix: &str) -> Result<Option<Item>, InfraError> {
        let output = self
            .query(partition, prefix)
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("Query", e))?;
        Ok(output.items().first().cloned())
    }

    /// A strongly consistent query of the items of `partition` whose sort key starts with
    /// `prefix`.
    fn query(&self, partition: &str, prefix: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.name)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(partition.to_owned()))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
            .consistent_read(true)
    }

    /// Puts `item` unless an item with its key exists, which is kept as it is: seeding is
    /// idempotent and never resets stock that reservations have taken. Answers whether `item`
    /// was written.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn put_if_absent(&self, item: Item) -> Result<bool, InfraError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({PK})"))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(error) => Err(InfraError::from_sdk("PutItem", error)),
        }
    }

    /// The outbox events of one aggregate, oldest first (occurred-at sorts as text), every
    /// page. Consumers normally get events from the table's stream; this reads them back.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when an outbox item does not map.
    pub async fn events(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope>, InfraError> {
        let partition = Key::outbox_partition(aggregate_type, aggregate_id);
        let mut events = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .query(&partition, "EVENT#")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("Query", e))?;
            for item in page.items() {
                events.push(outbox::event_from_item(item)?);
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(events);
            }
        }
    }
}

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
