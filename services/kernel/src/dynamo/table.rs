//! The single table: [`SingleTable`], a handle with the reads and the seeding write every service
//! makes the same way; [`TABLE`], its definition (`PK`/`SK` strings, no secondary index (every
//! access pattern knows its partition key), a NEW_AND_OLD_IMAGES stream, TTL on `expires_at`,
//! on-demand billing); and [`create_table`], which creates it from [`TABLE`] for local runs and
//! tests.
//!
//! Production creates the table with CDK (`infra/`), which reads the same definition from
//! `generated/trip_table.json` ([`TABLE_FILE`], the serde form of [`TABLE`]): the keys the code
//! writes and the table that is deployed come from one place.
//!
//! ```
//! use kernel::dynamo::table::{TABLE, definition_json};
//!
//! let sort_key = TABLE.sort_key.as_ref().map(|key| key.name);
//! assert_eq!((TABLE.partition_key.name, sort_key), ("PK", Some("SK")));
//! let json: serde_json::Value = serde_json::from_str(&definition_json()).unwrap();
//! assert_eq!(json["stream_view_type"], "NEW_AND_OLD_IMAGES");
//! ```

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TableStatus, TimeToLiveSpecification,
};
use serde::Serialize;

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

/// Where `make gen` writes [`definition_json`], for the infrastructure (`infra/`) to read.
pub const TABLE_FILE: &str = "generated/trip_table.json";

/// The command that rewrites [`TABLE_FILE`] (`make gen` runs it too).
pub const REGENERATE: &str = "cargo run -p trip-local -- table --out generated/trip_table.json";

/// The single table as the code expects it. Values are DynamoDB's own API names (`S`,
/// `PAY_PER_REQUEST`, `NEW_AND_OLD_IMAGES`), so every consumer maps them without a table of its
/// own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TableDefinition {
    /// The environment variable that gives a Lambda function the table's name (the name itself
    /// is the deployment's: CloudFormation chooses it).
    pub name_variable: &'static str,
    /// The partition key.
    pub partition_key: KeyAttribute,
    /// The sort key, if the table has one.
    pub sort_key: Option<KeyAttribute>,
    /// `PAY_PER_REQUEST`: the saga's traffic comes in bursts that provisioned capacity would
    /// either throttle or pay for idle.
    pub billing_mode: &'static str,
    /// The stream, if the table has one: `NEW_AND_OLD_IMAGES` on the single table, so that
    /// stream consumers (the search projection) see both sides of a change.
    pub stream_view_type: Option<&'static str>,
    /// The TTL attribute ([`EXPIRES_AT`]): idempotency records expire.
    pub time_to_live_attribute: &'static str,
    /// Secondary indexes, each with the access pattern it serves (none on the single table: see
    /// [`super::keys`]).
    pub global_secondary_indexes: &'static [IndexDefinition],
}

/// A key attribute: its name and DynamoDB scalar type (`S`, `N` or `B`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KeyAttribute {
    /// The attribute's name.
    pub name: &'static str,
    /// Its scalar type.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A global secondary index, projecting all attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct IndexDefinition {
    /// The index name.
    pub name: &'static str,
    /// Its partition key.
    pub partition_key: KeyAttribute,
    /// Its sort key, if any.
    pub sort_key: Option<KeyAttribute>,
    /// The access pattern it serves (documentation for the reader of the JSON).
    pub serves: &'static str,
}

/// The single table.
pub const TABLE: TableDefinition = TableDefinition {
    name_variable: "TABLE_NAME",
    partition_key: KeyAttribute {
        name: PK,
        kind: "S",
    },
    sort_key: Some(KeyAttribute {
        name: SK,
        kind: "S",
    }),
    billing_mode: "PAY_PER_REQUEST",
    stream_view_type: Some("NEW_AND_OLD_IMAGES"),
    time_to_live_attribute: EXPIRES_AT,
    global_secondary_indexes: &[],
};

/// [`TABLE`] as the JSON committed at [`TABLE_FILE`], with its "generated" marker.
#[must_use]
pub fn definition_json() -> String {
    TABLE.to_json("kernel::dynamo::table::TABLE", REGENERATE)
}

impl TableDefinition {
    /// The definition as the JSON file `infra/` reads, with a "generated" marker naming
    /// `source` (the Rust constant) and the command that rewrites the file.
    #[must_use]
    pub fn to_json(self, source: &str, regenerate: &str) -> String {
        #[derive(Serialize)]
        struct File {
            generated: String,
            #[serde(flatten)]
            table: TableDefinition,
        }
        let file = File {
            generated: format!(
                "Generated from {source} by trip-local; do not edit. Regenerate with `{regenerate}` (or `make gen`)."
            ),
            table: self,
        };
        let mut json = serde_json::to_string_pretty(&file).expect("the definition serializes");
        json.push('\n');
        json
    }
}

/// Creates the single table `name` as [`TABLE`] defines it, waits until it is active and turns
/// TTL on.
///
/// # Errors
/// The DynamoDB error of CreateTable/DescribeTable/UpdateTimeToLive (e.g. `StoreFailed` when the
/// table exists), or `StoreUnavailable` when it is not active within a minute.
pub async fn create_table(client: &Client, name: &str) -> Result<(), InfraError> {
    create_table_as(client, &TABLE, name).await
}

/// Creates the table `name` as `definition` says, waits until it is active and turns TTL on.
///
/// # Errors
/// As [`create_table`].
pub async fn create_table_as(
    client: &Client,
    definition: &TableDefinition,
    name: &str,
) -> Result<(), InfraError> {
    let built = |e: aws_sdk_dynamodb::error::BuildError| {
        InfraError::failed(format!("table definition: {e}"))
    };
    let key = |attribute: &KeyAttribute, key_type| {
        KeySchemaElement::builder()
            .attribute_name(attribute.name)
            .key_type(key_type)
            .build()
            .map_err(built)
    };
    let mut attributes = vec![definition.partition_key];
    attributes.extend(definition.sort_key);
    let mut indexes = Vec::new();
    for index in definition.global_secondary_indexes {
        attributes.push(index.partition_key);
        let mut schema = vec![key(&index.partition_key, KeyType::Hash)?];
        if let Some(sort_key) = &index.sort_key {
            attributes.push(*sort_key);
            schema.push(key(sort_key, KeyType::Range)?);
        }
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(schema))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(built)?,
        );
    }
    attributes.sort_by_key(|a| a.name);
    attributes.dedup_by_key(|a| a.name);
    let definitions = attributes
        .iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(a.name)
                .attribute_type(ScalarAttributeType::from(a.kind))
                .build()
                .map_err(built)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut schema = vec![key(&definition.partition_key, KeyType::Hash)?];
    if let Some(sort_key) = &definition.sort_key {
        schema.push(key(sort_key, KeyType::Range)?);
    }
    let stream = match definition.stream_view_type {
        Some(view) => StreamSpecification::builder()
            .stream_enabled(true)
            .stream_view_type(StreamViewType::from(view)),
        None => StreamSpecification::builder().stream_enabled(false),
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(definition.billing_mode))
        .set_attribute_definitions(Some(definitions))
        .set_key_schema(Some(schema))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .stream_specification(stream.build().map_err(built)?)
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
                .attribute_name(definition.time_to_live_attribute)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_definition_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(TABLE_FILE);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == definition_json(),
            "{TABLE_FILE} is stale: run `{REGENERATE}` (or `make gen`) and commit the result"
        );
    }

    #[test]
    fn every_value_is_a_name_dynamodb_knows() {
        // A typo would reach DynamoDB (and CloudFormation) as an unknown value, not a compile
        // error: the SDK's enums say which names exist.
        assert!(BillingMode::values().contains(&TABLE.billing_mode));
        assert!(StreamViewType::values().contains(&TABLE.stream_view_type.unwrap()));
        let mut keys = vec![TABLE.partition_key];
        keys.extend(TABLE.sort_key);
        for index in TABLE.global_secondary_indexes {
            keys.push(index.partition_key);
            keys.extend(index.sort_key);
        }
        for key in keys {
            assert!(ScalarAttributeType::values().contains(&key.kind), "{key:?}");
        }
    }

    #[test]
    fn the_json_names_the_keys_the_code_writes() {
        let json: serde_json::Value = serde_json::from_str(&definition_json()).unwrap();
        assert_eq!(json["partition_key"]["name"], PK);
        assert_eq!(json["sort_key"]["name"], SK);
        assert_eq!(json["time_to_live_attribute"], EXPIRES_AT);
        assert!(json["generated"].as_str().unwrap().contains("do not edit"));
    }
}
