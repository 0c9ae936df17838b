//! The search table in DynamoDB.
//!
//! | item | `trip_id` (partition key) | index `by_status_departure`: `status_month` / `departure_key` |
//! |---|---|---|
//! | document | the trip id | `<STATUS>#<YYYY-MM>` / `<departure date>#<trip id>` |
//! | tombstone (`removed = true`, `expires_at`) | the trip id | absent: not indexed |
//!
//! Attributes of a document: `status`, `reason`, `flight_number`, `departure_date`,
//! `passengers`, `hotel`, `check_in`, `check_out`, `guests`, `flight_total`, `hotel_total`,
//! `paid`, `updated_at`, `version` (the trip item's).
//!
//! Access patterns:
//! 1. A trip's document: `GetItem trip_id = <id>`.
//! 2. Trips of one status departing in a range, by date: for each month of the range,
//!    `Query` on `by_status_departure` with `status_month = <STATUS>#<month>` and
//!    `departure_key BETWEEN <from># AND <to>#~`, paged with `ExclusiveStartKey`.
//! 3. Apply a change: `PutItem` on the condition that the table holds no later version
//!    ([`Projection::supersedes`], written as a condition expression).
//!
//! Why the index partition is a status *and a month*: all CONFIRMED trips under one key would
//! put every confirmation into one index partition (about 1,000 writes per second at most) and
//! make it grow without end. With the month in the key, writes spread over the months travellers
//! leave in, a partition holds one month of one status, and a range query still needs no
//! fan-out or merge: it reads its months in order. A single month that outgrows a partition's
//! write rate would take a day in the key instead (`<STATUS>#<YYYY-MM-DD>`, one query per day of
//! the range): the keys are built in one place (`crate::domain::query`).
//!
//! Tombstones keep a deleted trip's last version so that a late record cannot bring it back;
//! they expire after [`TOMBSTONE_DAYS`], longer than a record can be redelivered (24 hours of
//! stream retention, 14 days in the dead-letter queue).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use kernel::dynamo::keys::EXPIRES_AT;
use kernel::dynamo::table::{IndexDefinition, KeyAttribute, TableDefinition};
use kernel::dynamo::{Item, ItemProblem, ItemReader};
use kernel::{BoxFuture, GuestCount, InfraError, PassengerCount, TripId};
use time::OffsetDateTime;
use trip::domain::Charges;

use crate::domain::{
    Applied, BucketPage, DepartureKey, FlightSummary, Projection, SearchRepository, StaySummary,
    TripDocument, bucket,
};

/// The partition key.
pub const TRIP_ID: &str = "trip_id";
/// The status index.
pub const INDEX: &str = "by_status_departure";
/// The status index's partition key: `<STATUS>#<YYYY-MM>`.
pub const STATUS_MONTH: &str = "status_month";
/// The status index's sort key: `<YYYY-MM-DD>#<trip id>`.
pub const DEPARTURE_KEY: &str = "departure_key";
/// How long a tombstone is kept.
pub const TOMBSTONE_DAYS: i64 = 15;

/// The search table as the code expects it (`generated/trip_search_table.json` for `infra/`).
pub const SEARCH_TABLE: TableDefinition = TableDefinition {
    name_variable: "SEARCH_TABLE_NAME",
    partition_key: KeyAttribute {
        name: TRIP_ID,
        kind: "S",
    },
    sort_key: None,
    billing_mode: "PAY_PER_REQUEST",
    stream_view_type: None,
    time_to_live_attribute: EXPIRES_AT,
    global_secondary_indexes: &[IndexDefinition {
        name: INDEX,
        partition_key: KeyAttribute {
            name: STATUS_MONTH,
            kind: "S",
        },
        sort_key: Some(KeyAttribute {
            name: DEPARTURE_KEY,
            kind: "S",
        }),
        serves: "trips of one status departing in a date range, by date: one Query per month of the range",
    }],
};

/// Where `make gen` writes [`SEARCH_TABLE`].
pub const SEARCH_TABLE_FILE: &str = "generated/trip_search_table.json";

/// The command that rewrites [`SEARCH_TABLE_FILE`].
pub const REGENERATE: &str =
    "cargo run -p trip-local -- search-table --out generated/trip_search_table.json";

/// [`SEARCH_TABLE`] as the JSON committed at [`SEARCH_TABLE_FILE`].
pub fn definition_json() -> String {
    SEARCH_TABLE.to_json("search::infrastructure::dynamodb::SEARCH_TABLE", REGENERATE)
}

/// The search table in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoSearchRepository {
    client: Client,
    table: String,
}

impl DynamoSearchRepository {
    /// The search table `table`, as [`SEARCH_TABLE`] defines it.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn apply_now(&self, projection: Projection) -> Result<Applied, InfraError> {
        let (item, condition) = match &projection {
            Projection::Upsert(document) => (
                document_item(document),
                "attribute_not_exists(#trip_id) OR #version < :version",
            ),
            Projection::Remove {
                trip_id,
                version,
                removed_at,
            } => (
                tombstone_item(*trip_id, *version, removed_at),
                "attribute_not_exists(#trip_id) OR #version < :version \
                 OR (#version = :version AND attribute_not_exists(#removed))",
            ),
        };
        let version = match &projection {
            Projection::Upsert(document) => document.version,
            Projection::Remove { version, .. } => *version,
        };
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_names("#trip_id", TRIP_ID)
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":version", AttributeValue::N(version.to_string()));
        if matches!(projection, Projection::Remove { .. }) {
            put = put.expression_attribute_names("#removed", "removed");
        }
        match put.send().await {
            Ok(_) => Ok(Applied::Written),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(Applied::Stale)
            }
            Err(error) => Err(InfraError::from_sdk("PutItem", error)),
        }
    }

    async fn get_now(&self, trip_id: TripId) -> Result<Option<TripDocument>, InfraError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(TRIP_ID, AttributeValue::S(trip_id.to_string()))
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetItem", e))?;
        match output.item() {
            Some(item) if !item.contains_key("removed") => Ok(Some(document_from_item(item)?)),
            _ => Ok(None),
        }
    }

    async fn query_now(
        &self,
        bucket: &str,
        first: &str,
        last: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<BucketPage, InfraError> {
        let start = after
            .map(|after| {
                let key: DepartureKey = after
                    .parse()
                    .map_err(|e| InfraError::failed(format!("a page's start key: {e}")))?;
                Ok::<_, InfraError>(Item::from([
                    (
                        TRIP_ID.to_owned(),
                        AttributeValue::S(key.trip_id.to_string()),
                    ),
                    (
                        STATUS_MONTH.to_owned(),
                        AttributeValue::S(bucket.to_owned()),
                    ),
                    (
                        DEPARTURE_KEY.to_owned(),
                        AttributeValue::S(after.to_owned()),
                    ),
                ]))
            })
            .transpose()?;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(INDEX)
            .key_condition_expression("#bucket = :bucket AND #key BETWEEN :first AND :last")
            .expression_attribute_names("#bucket", STATUS_MONTH)
            .expression_attribute_names("#key", DEPARTURE_KEY)
            .expression_attribute_values(":bucket", AttributeValue::S(bucket.to_owned()))
            .expression_attribute_values(":first", AttributeValue::S(first.to_owned()))
            .expression_attribute_values(":last", AttributeValue::S(last.to_owned()))
            .set_exclusive_start_key(start)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("Query", e))?;
        let documents = output
            .items()
            .iter()
            .map(document_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let last_key = output
            .last_evaluated_key()
            .and_then(|key| key.get(DEPARTURE_KEY))
            .and_then(|key| key.as_s().ok())
            .cloned();
        Ok(BucketPage {
            documents,
            last_key,
        })
    }
}

impl SearchRepository for DynamoSearchRepository {
    fn apply(&self, projection: Projection) -> BoxFuture<'_, Result<Applied, InfraError>> {
        Box::pin(self.apply_now(projection))
    }

    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<TripDocument>, InfraError>> {
        Box::pin(self.get_now(trip_id))
    }

    fn query<'a>(
        &'a self,
        bucket: &'a str,
        first: &'a str,
        last: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<BucketPage, InfraError>> {
        Box::pin(self.query_now(bucket, first, last, after, limit))
    }
}

fn s(value: &impl ToString) -> AttributeValue {
    AttributeValue::S(value.to_string())
}

fn n(value: &impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The item of a document, with its index keys when it departs on a known day.
fn document_item(document: &TripDocument) -> Item {
    let mut item = Item::from([
        (TRIP_ID.to_owned(), s(&document.trip_id)),
        ("status".to_owned(), s(&document.status)),
        ("updated_at".to_owned(), s(&document.updated_at)),
        ("version".to_owned(), n(&document.version)),
    ]);
    if let Some(reason) = &document.reason {
        item.insert("reason".to_owned(), s(&reason));
    }
    if let Some(flight) = &document.flight {
        item.insert("flight_number".to_owned(), s(&flight.flight_number));
        item.insert("departure_date".to_owned(), s(&flight.departure_date));
        item.insert("passengers".to_owned(), n(&flight.passengers.get()));
        let key = DepartureKey {
            date: flight.departure_date,
            trip_id: document.trip_id,
        };
        item.insert(
            STATUS_MONTH.to_owned(),
            s(&bucket(document.status, flight.departure_date)),
        );
        item.insert(DEPARTURE_KEY.to_owned(), s(&key));
    }
    if let Some(hotel) = &document.hotel {
        item.insert("hotel".to_owned(), s(&hotel.hotel));
        item.insert("check_in".to_owned(), s(&hotel.check_in));
        item.insert("check_out".to_owned(), s(&hotel.check_out));
        item.insert("guests".to_owned(), n(&hotel.guests.get()));
    }
    if let Some(charges) = &document.charges {
        item.insert("flight_total".to_owned(), s(&charges.flight));
        item.insert("hotel_total".to_owned(), s(&charges.hotel));
        item.insert("paid".to_owned(), s(&charges.paid));
    }
    item
}

fn tombstone_item(trip_id: TripId, version: u64, removed_at: &str) -> Item {
    let expires =
        OffsetDateTime::now_utc() + Duration::from_secs(86_400 * TOMBSTONE_DAYS.unsigned_abs());
    Item::from([
        (TRIP_ID.to_owned(), s(&trip_id)),
        ("version".to_owned(), n(&version)),
        ("removed".to_owned(), AttributeValue::Bool(true)),
        ("updated_at".to_owned(), s(&removed_at)),
        (EXPIRES_AT.to_owned(), n(&expires.unix_timestamp())),
    ])
}

fn document_from_item(item: &Item) -> Result<TripDocument, InfraError> {
    let reader = ItemReader::new(item);
    let has = |attribute: &str| item.contains_key(attribute);
    let invalid = |attribute: &str, e: kernel::ValueError| {
        InfraError::from(reader.error_for(attribute, ItemProblem::Invalid(e.to_string())))
    };
    let flight = if has("flight_number") {
        Some(FlightSummary {
            flight_number: reader.parse("flight_number")?,
            departure_date: reader.parse("departure_date")?,
            passengers: PassengerCount::new(reader.number("passengers")?)
                .map_err(|e| invalid("passengers", e))?,
        })
    } else {
        None
    };
    let hotel = if has("hotel") {
        Some(StaySummary {
            hotel: reader.parse("hotel")?,
            check_in: reader.parse("check_in")?,
            check_out: reader.parse("check_out")?,
            guests: GuestCount::new(reader.number("guests")?).map_err(|e| invalid("guests", e))?,
        })
    } else {
        None
    };
    let charges = if has("paid") {
        Some(Charges {
            flight: reader.money("flight_total")?,
            hotel: reader.money("hotel_total")?,
            paid: reader.money("paid")?,
        })
    } else {
        None
    };
    Ok(TripDocument {
        trip_id: reader.parse(TRIP_ID)?,
        status: reader.parse("status")?,
        reason: reader.optional_string("reason")?.map(ToOwned::to_owned),
        flight,
        hotel,
        charges,
        updated_at: reader.string("updated_at")?.to_owned(),
        version: reader.number("version")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_definition_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SEARCH_TABLE_FILE);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == definition_json(),
            "{SEARCH_TABLE_FILE} is stale: run `{REGENERATE}` (or `make gen`) and commit the result"
        );
    }
}
