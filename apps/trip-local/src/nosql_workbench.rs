//! `trip-local nosql-workbench`: the single table as a NoSQL Workbench data model, the JSON its
//! "Import data model" reads (format 3.0, as the models NoSQL Workbench exports): the key schema,
//! indexes and billing mode of [`TABLE`], and one facet per kind of item (`entity_type`) whose
//! sample data are the items the services really write. They are read back from a DynamoDB
//! endpoint after two trips booked with the real saga, one confirmed and one cancelled after a
//! declined card; then their ids and times are replaced by fixed ones, so that the committed file
//! (`generated/trip_table.nosql_workbench.json`) changes when what the code writes changes, and
//! only then.
//!
//! Without `--dynamodb-endpoint` it starts `moto_server` (which `make setup` installs for the
//! tests) on a free port and stops it when done. The booking goes to a table of its own, deleted
//! afterwards, so an endpoint's other tables are neither read nor touched.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use kernel::TripId;
use kernel::dynamo::Item;
use kernel::dynamo::table::{KeyAttribute, TABLE, TableDefinition};
use serde_json::{Map, Value, json};
use trip_local::demo::{DECLINED_CARD, GOOD_CARD, trip_request};
use trip_local::execution::Saga;
use trip_local::faults::FaultPlan;
use trip_local::store::{self, DAY, HOTEL, NIGHTS, ROOMY_FLIGHT, Store};

/// Where [`REGENERATE`] writes the model (the course's chapter 2 opens it in NoSQL Workbench).
#[cfg(test)]
const MODEL_FILE: &str = "generated/trip_table.nosql_workbench.json";

/// The command that rewrites `generated/trip_table.nosql_workbench.json`.
pub(crate) const REGENERATE: &str =
    "cargo run -p trip-local -- nosql-workbench --out generated/trip_table.nosql_workbench.json";

/// The table's name in the model: the one local runs give it (deployed, CloudFormation names it).
const TABLE_NAME: &str = "trips";

/// The sample trips' ids: a client chooses its trip's id, so these are as real as random ones.
const CONFIRMED_TRIP: &str = "0193a2b4-5c00-7000-8000-000000000001";
const CANCELLED_TRIP: &str = "0193a2b4-5c00-7000-8000-000000000002";

/// What every other id becomes, numbered in the order the sorted items first mention it.
const ID_PREFIX: &str = "0193a2b4-5c00-7000-8000-0000000001";

/// What the earliest time becomes; every later one is a second after the one before.
const FIRST_TIME: (i64, u32, u32, u32) = (2026, 11, 20, 9 * 3600);

/// A kind of item and its key design (`kernel::dynamo::keys`), in the order the model lists them.
struct Facet {
    entity: &'static str,
    partition: &'static str,
    sort: Option<&'static str>,
}

const FACETS: &[Facet] = &[
    Facet {
        entity: "TRIP",
        partition: "TRIP#<trip id>",
        sort: Some("META"),
    },
    Facet {
        entity: "FLIGHT_BOOKING",
        partition: "TRIP#<trip id>",
        sort: Some("FLIGHT#<booking id>"),
    },
    Facet {
        entity: "HOTEL_BOOKING",
        partition: "TRIP#<trip id>",
        sort: Some("HOTEL#<booking id>"),
    },
    Facet {
        entity: "PAYMENT",
        partition: "TRIP#<trip id>",
        sort: Some("PAYMENT#<payment id>"),
    },
    Facet {
        entity: "FLIGHT_INVENTORY",
        partition: "FLIGHT#<flight number>#<date>",
        sort: Some("INVENTORY"),
    },
    Facet {
        entity: "HOTEL_NIGHT",
        partition: "HOTEL#<hotel code>#<night>",
        sort: Some("INVENTORY"),
    },
    Facet {
        entity: "IDEMPOTENCY",
        partition: "IDEMPOTENCY#<execution name>:<state name>",
        sort: Some("META"),
    },
    Facet {
        entity: "OUTBOX",
        partition: "OUTBOX#<aggregate type>#<aggregate id>",
        sort: Some("EVENT#<occurred at>#<event id>"),
    },
];

/// The model of the single table, as pretty JSON with a final newline.
///
/// # Errors
/// When moto cannot be started, the endpoint fails, or the items cannot be modelled (an
/// attribute with two types, a kind of item without a facet).
pub(crate) async fn generate(endpoint: Option<&str>) -> Result<String, String> {
    let server = match endpoint {
        Some(_) => None,
        None => Some(MotoServer::start()?),
    };
    let endpoint = endpoint
        .or(server.as_ref().map(|s| s.endpoint.as_str()))
        .expect("an endpoint was given or started");
    let items = book_sample_trips(endpoint).await?;
    let model = model(&TABLE, &normalize(&samples(items))?)?;
    let mut json = serde_json::to_string_pretty(&model).expect("JSON values serialize");
    json.push('\n');
    Ok(json)
}

/// Books the sample trips on a table of their own and answers every item they left.
async fn book_sample_trips(endpoint: &str) -> Result<Vec<Item>, String> {
    let table = format!("nosql-workbench-{}", TripId::new());
    let store = Store::DynamoDb {
        endpoint: endpoint.to_owned(),
        table: table.clone(),
    };
    let context = store::connect(&store)
        .await
        .map_err(|e| format!("connecting to the store ({store}): {e}"))?;
    let saga = Saga::new(context);
    store::seed(saga.context())
        .await
        .map_err(|e| format!("seeding the catalogue: {e}"))?;
    let trips = [
        (CONFIRMED_TRIP, GOOD_CARD, "SUCCEEDED"),
        (CANCELLED_TRIP, DECLINED_CARD, "FAILED PaymentDeclined"),
    ];
    for (trip, card, expected) in trips {
        let trip_id = TripId::parse(trip).expect("the sample trip ids are trip ids");
        let request = trip_request(trip_id, ROOMY_FLIGHT, HOTEL, card);
        let report = saga
            .run(request, FaultPlan::none(), Arc::new(()), 0)
            .await
            .map_err(|e| format!("booking the sample trip {trip}: {e}"))?;
        if report.outcome() != expected {
            return Err(format!(
                "the sample trip {trip} ended {}, not {expected}",
                report.outcome()
            ));
        }
    }
    let client = store::local_client(endpoint);
    let items = scan(&client, &table).await;
    // Best effort: the items are read, and a table left behind harms nothing.
    let _ = client.delete_table().table_name(&table).send().await;
    items
}

async fn scan(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| format!("scanning {table}: {e:?}"))?;
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// The items to show: all the trips', and the stock of the demo's day rather than two weeks of
/// it (the seeded catalogue).
fn samples(items: Vec<Item>) -> Vec<Item> {
    let text = |item: &Item, name: &str| match item.get(name) {
        Some(AttributeValue::S(text)) => Some(text.clone()),
        _ => None,
    };
    items
        .into_iter()
        .filter(|item| match text(item, "entity_type").as_deref() {
            Some("FLIGHT_INVENTORY") => text(item, "date").as_deref() == Some(DAY),
            Some("HOTEL_NIGHT") => text(item, "night").is_some_and(|n| NIGHTS.contains(&&*n)),
            _ => true,
        })
        .collect()
}

/// An item in DynamoDB's JSON (`{"S": "…"}`), keys first, then its attributes by name.
fn item_json(item: &Item) -> Result<Map<String, Value>, String> {
    let mut names: Vec<&String> = item.keys().collect();
    names.sort_by_key(|name| (!is_table_key(name), name.as_str()));
    names
        .into_iter()
        .map(|name| Ok((name.clone(), attribute_json(&item[name])?)))
        .collect()
}

fn is_table_key(name: &str) -> bool {
    name == TABLE.partition_key.name || TABLE.sort_key.is_some_and(|key| key.name == name)
}

fn attribute_json(value: &AttributeValue) -> Result<Value, String> {
    Ok(match value {
        AttributeValue::S(text) => json!({ "S": text }),
        AttributeValue::N(number) => json!({ "N": number }),
        AttributeValue::Bool(flag) => json!({ "BOOL": flag }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(texts) => json!({ "SS": texts }),
        AttributeValue::Ns(numbers) => json!({ "NS": numbers }),
        AttributeValue::L(values) => {
            let values: Result<Vec<_>, _> = values.iter().map(attribute_json).collect();
            json!({ "L": values? })
        }
        AttributeValue::M(map) => {
            let entries: Result<Map<_, _>, String> = map
                .iter()
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .map(|(name, value)| Ok((name.clone(), attribute_json(value)?)))
                .collect();
            json!({ "M": entries? })
        }
        other => {
            return Err(format!(
                "an attribute NoSQL Workbench samples cannot show: {other:?}"
            ));
        }
    })
}

/// The items with fixed ids and times, sorted by key: the sample trips keep their ids, every
/// other id is numbered in the order the items mention it, and every time becomes
/// [`FIRST_TIME`] plus its rank, in seconds, so that times that were equal stay equal and the
/// order of events stays. `expires_at` (epoch seconds) keeps its distance from its item's own
/// time, to the minute.
fn normalize(items: &[Item]) -> Result<Vec<Map<String, Value>>, String> {
    let mut items: Vec<Map<String, Value>> =
        items.iter().map(item_json).collect::<Result<_, _>>()?;
    // The order the ids are numbered in must not depend on the ids: sort on the items with their
    // ids masked (their times are not: they order the events of one aggregate).
    items.sort_by_cached_key(|item| mask_ids(&Value::Object(item.clone()).to_string()));
    let mut ids = IdMap::default();
    let mut times = BTreeSet::new();
    for item in &items {
        visit_strings(&Value::Object(item.clone()), &mut |text| {
            for span in uuid_spans(text) {
                ids.number(&text[span]);
            }
            times.extend(
                timestamp_spans(text)
                    .into_iter()
                    .map(|(_, stamp)| stamp.instant()),
            );
        });
    }
    let times: HashMap<_, _> = times.into_iter().zip(0..).collect();
    for item in &mut items {
        let ttl = time_to_live(item)?;
        let mut rewritten = std::mem::take(item);
        for (name, value) in &mut rewritten {
            // RFC 3339 as `time` writes it drops a fraction's trailing zeros, so its width
            // varies from run to run: a whole second is written without one.
            let fraction = if name == "occurred_at" {
                Fraction::None
            } else {
                Fraction::AsWritten
            };
            rewrite_strings(value, &mut |text| rewrite(text, &ids, &times, fraction));
        }
        if let Some(ttl) = ttl {
            let own = own_time(&rewritten).ok_or("an item lost its time")?;
            let expires = epoch_seconds(&own) + ttl;
            rewritten.insert("expires_at".into(), json!({ "N": expires.to_string() }));
        }
        *item = rewritten;
    }
    items.sort_by_key(key_of);
    Ok(items)
}

/// The fixed ids, in the order they were first seen.
#[derive(Default)]
struct IdMap(HashMap<String, String>);

impl IdMap {
    fn number(&mut self, id: &str) {
        if id == CONFIRMED_TRIP || id == CANCELLED_TRIP || self.0.contains_key(id) {
            return;
        }
        let fixed = format!("{ID_PREFIX}{:02x}", self.0.len() + 1);
        self.0.insert(id.to_owned(), fixed);
    }

    fn get<'a>(&'a self, id: &'a str) -> &'a str {
        self.0.get(id).map_or(id, String::as_str)
    }
}

/// How a fixed time writes its (zero) fraction.
#[derive(Clone, Copy)]
enum Fraction {
    /// With as many digits as the time it replaces: the keys' fixed width of six.
    AsWritten,
    /// Without any.
    None,
}

fn rewrite(
    text: &str,
    ids: &IdMap,
    times: &HashMap<(String, u32), i64>,
    fraction: Fraction,
) -> String {
    let mut out = text.to_owned();
    // Right to left, so that the earlier spans keep their offsets.
    let mut edits: Vec<(Range<usize>, String)> = uuid_spans(text)
        .into_iter()
        .map(|span| (span.clone(), ids.get(&text[span]).to_owned()))
        .collect();
    for (span, stamp) in timestamp_spans(text) {
        let rank = times[&stamp.instant()];
        edits.push((span, stamp.replaced_by(rank, fraction)));
    }
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    for (span, replacement) in edits {
        out.replace_range(span, &replacement);
    }
    out
}

fn mask_ids(text: &str) -> String {
    let mut out = text.to_owned();
    for span in uuid_spans(text).into_iter().rev() {
        if !matches!(&text[span.clone()], CONFIRMED_TRIP | CANCELLED_TRIP) {
            out.replace_range(span, "<id>");
        }
    }
    out
}

/// The seconds between an item's `expires_at` and its own time, to the minute (the writer
/// truncates both to seconds, one of them after adding the TTL).
fn time_to_live(item: &Map<String, Value>) -> Result<Option<i64>, String> {
    let Some(expires) = item.get("expires_at") else {
        return Ok(None);
    };
    let expires: i64 = expires["N"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("expires_at is not a number of seconds: {expires}"))?;
    let own = own_time(item).ok_or_else(|| {
        format!("an item with expires_at has neither created_at nor occurred_at: {item:?}")
    })?;
    let ttl = expires - epoch_seconds(&own);
    Ok(Some((ttl + 30).div_euclid(60) * 60))
}

fn own_time(item: &Map<String, Value>) -> Option<Stamp> {
    ["created_at", "occurred_at"].iter().find_map(|name| {
        let text = item.get(*name)?["S"].as_str()?;
        let (span, stamp) = timestamp_spans(text).into_iter().next()?;
        (span == (0..text.len())).then_some(stamp)
    })
}

fn key_of(item: &Map<String, Value>) -> (String, String) {
    let key = |attribute: Option<KeyAttribute>| {
        attribute
            .and_then(|a| item.get(a.name))
            .map(Value::to_string)
            .unwrap_or_default()
    };
    (key(Some(TABLE.partition_key)), key(TABLE.sort_key))
}

fn visit_strings(value: &Value, visit: &mut impl FnMut(&str)) {
    match value {
        Value::String(text) => visit(text),
        Value::Array(values) => values.iter().for_each(|v| visit_strings(v, visit)),
        Value::Object(map) => map.values().for_each(|v| visit_strings(v, visit)),
        _ => {}
    }
}

fn rewrite_strings(value: &mut Value, rewrite: &mut impl FnMut(&str) -> String) {
    match value {
        Value::String(text) => *text = rewrite(text),
        Value::Array(values) => values.iter_mut().for_each(|v| rewrite_strings(v, rewrite)),
        Value::Object(map) => map.values_mut().for_each(|v| rewrite_strings(v, rewrite)),
        _ => {}
    }
}

/// Where `text` holds a lowercase hyphenated UUID, as the ids print.
fn uuid_spans(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let is_uuid = |window: &[u8]| {
        window.iter().enumerate().all(|(at, byte)| match at {
            8 | 13 | 18 | 23 => *byte == b'-',
            _ => byte.is_ascii_digit() || (b'a'..=b'f').contains(byte),
        })
    };
    let bounded = |at: usize| at >= bytes.len() || !bytes[at].is_ascii_alphanumeric();
    let mut spans = Vec::new();
    let mut at = 0;
    while at + 36 <= bytes.len() {
        if is_uuid(&bytes[at..at + 36]) && (at == 0 || bounded(at - 1)) && bounded(at + 36) {
            spans.push(at..at + 36);
            at += 36;
        } else {
            at += 1;
        }
    }
    spans
}

/// A UTC time as the code prints it: `2026-12-01T09:30:00.123456Z` (0 to 9 fraction digits).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    /// `2026-12-01T09:30:00`.
    seconds: String,
    /// The fraction as written.
    fraction: String,
}

impl Stamp {
    /// The instant to the microsecond: the same time is written with 6 digits in keys and
    /// `created_at`, and with 9 in an event's `occurred_at`.
    fn instant(&self) -> (String, u32) {
        let micros = format!("{:0<6}", self.fraction.get(..6).unwrap_or(&self.fraction));
        (self.seconds.clone(), micros.parse().unwrap_or(0))
    }

    /// [`FIRST_TIME`] plus `rank` seconds.
    fn replaced_by(&self, rank: i64, fraction: Fraction) -> String {
        let (year, month, day, start) = FIRST_TIME;
        let seconds = i64::from(start) + rank;
        let fraction = match fraction {
            Fraction::AsWritten if !self.fraction.is_empty() => {
                format!(".{}", "0".repeat(self.fraction.len()))
            }
            _ => String::new(),
        };
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )
    }
}

fn timestamp_spans(text: &str) -> Vec<(Range<usize>, Stamp)> {
    const SHAPE: &[u8] = b"0000-00-00T00:00:00";
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = 0;
    while at + SHAPE.len() < bytes.len() {
        let shaped = SHAPE.iter().zip(&bytes[at..]).all(|(shape, byte)| {
            if *shape == b'0' {
                byte.is_ascii_digit()
            } else {
                shape == byte
            }
        });
        if !shaped || (at > 0 && bytes[at - 1].is_ascii_alphanumeric()) {
            at += 1;
            continue;
        }
        let mut end = at + SHAPE.len();
        let mut fraction = String::new();
        if bytes.get(end) == Some(&b'.') {
            let digits = bytes[end + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            text[end + 1..end + 1 + digits].clone_into(&mut fraction);
            end += 1 + digits;
        }
        if bytes.get(end) == Some(&b'Z') && fraction.len() <= 9 {
            let stamp = Stamp {
                seconds: text[at..at + SHAPE.len()].to_owned(),
                fraction,
            };
            spans.push((at..end + 1, stamp));
            at = end + 1;
        } else {
            at += 1;
        }
    }
    spans
}

/// Seconds since the Unix epoch of a UTC time (the proleptic Gregorian calendar, as
/// `days_from_civil` in Howard Hinnant's date algorithms).
fn epoch_seconds(stamp: &Stamp) -> i64 {
    let field = |range: Range<usize>| -> i64 { stamp.seconds[range].parse().unwrap_or(0) };
    let (year, month, day) = (field(0..4), field(5..7), field(8..10));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    days * 86_400 + field(11..13) * 3600 + field(14..16) * 60 + field(17..19)
}

/// The NoSQL Workbench model of `table` with `items` as its facets' sample data.
fn model(table: &TableDefinition, items: &[Map<String, Value>]) -> Result<Value, String> {
    let key_names: BTreeSet<&str> = std::iter::once(table.partition_key.name)
        .chain(table.sort_key.map(|key| key.name))
        .collect();
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for index in table.global_secondary_indexes {
        for key in std::iter::once(index.partition_key).chain(index.sort_key) {
            types.insert(key.name.to_owned(), key.kind.to_owned());
        }
    }
    let mut by_entity: BTreeMap<String, Vec<&Map<String, Value>>> = BTreeMap::new();
    for item in items {
        for (name, value) in item {
            if key_names.contains(name.as_str()) {
                continue;
            }
            let kind = value
                .as_object()
                .and_then(|typed| typed.keys().next())
                .ok_or_else(|| format!("{name} is not an attribute value: {value}"))?;
            if let Some(other) = types
                .insert(name.clone(), kind.clone())
                .filter(|o| o != kind)
            {
                return Err(format!(
                    "attribute {name} is {other} in one item and {kind} in another: NoSQL Workbench models one type per attribute"
                ));
            }
        }
        let entity = item
            .get("entity_type")
            .and_then(|v| v["S"].as_str())
            .ok_or_else(|| format!("an item without entity_type: {item:?}"))?;
        by_entity.entry(entity.to_owned()).or_default().push(item);
    }
    if let Some(unknown) = by_entity
        .keys()
        .find(|e| FACETS.iter().all(|f| f.entity != *e))
    {
        return Err(format!(
            "items of entity_type {unknown} have no facet: add their key design to nosql_workbench::FACETS"
        ));
    }
    let facets = FACETS
        .iter()
        .map(|facet| {
            let items = by_entity.get(facet.entity).ok_or_else(|| {
                format!(
                    "the sample trips wrote no {} item: its facet would be empty",
                    facet.entity
                )
            })?;
            Ok(facet_json(table, facet, items))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let description = format!(
        "Generated by trip-local from kernel::dynamo::table::TABLE and the items the trip services write: two trips booked with the real saga on a DynamoDB endpoint (one confirmed; one cancelled, its card declined), the stock of their day, and the idempotency records and outbox events of every step, their ids and times replaced by fixed ones. Do not edit: regenerate with `{REGENERATE}`. TTL attribute: {}; stream: {}.",
        table.time_to_live_attribute,
        table.stream_view_type.unwrap_or("none")
    );
    Ok(json!({
        "ModelName": "TripBookingSingleTable",
        "ModelMetadata": {
            "Author": "trip-local (generated)",
            "DateCreated": "Nov 20, 2026, 09:00 AM",
            "DateLastModified": "Nov 20, 2026, 09:00 AM",
            "Description": description,
            "AWSService": "Amazon DynamoDB",
            "Version": "3.0"
        },
        "DataModel": [{
            "TableName": TABLE_NAME,
            "KeyAttributes": key_attributes(table.partition_key, table.sort_key),
            "NonKeyAttributes": types
                .iter()
                .map(|(name, kind)| json!({ "AttributeName": name, "AttributeType": kind }))
                .collect::<Vec<_>>(),
            "TableFacets": facets,
            "GlobalSecondaryIndexes": table
                .global_secondary_indexes
                .iter()
                .map(|index| json!({
                    "IndexName": index.name,
                    "KeyAttributes": key_attributes(index.partition_key, index.sort_key),
                    "Projection": { "ProjectionType": "ALL" }
                }))
                .collect::<Vec<_>>(),
            "DataAccess": { "MySql": {} },
            "BillingMode": table.billing_mode
        }]
    }))
}

fn key_attributes(partition: KeyAttribute, sort: Option<KeyAttribute>) -> Value {
    let attribute =
        |key: KeyAttribute| json!({ "AttributeName": key.name, "AttributeType": key.kind });
    let mut keys = Map::new();
    keys.insert("PartitionKey".into(), attribute(partition));
    if let Some(sort) = sort {
        keys.insert("SortKey".into(), attribute(sort));
    }
    Value::Object(keys)
}

fn facet_json(table: &TableDefinition, facet: &Facet, items: &[&Map<String, Value>]) -> Value {
    let mut alias = Map::new();
    alias.insert("PartitionKeyAlias".into(), facet.partition.into());
    if let (Some(sort), Some(_)) = (facet.sort, table.sort_key) {
        alias.insert("SortKeyAlias".into(), sort.into());
    }
    let names: BTreeSet<&String> = items
        .iter()
        .flat_map(|item| item.keys())
        .filter(|name| !is_key_of(table, name))
        .collect();
    json!({
        "FacetName": facet.entity,
        "KeyAttributeAlias": alias,
        "TableData": items,
        "NonKeyAttributes": names,
        "DataAccess": { "MySql": {} }
    })
}

fn is_key_of(table: &TableDefinition, name: &str) -> bool {
    name == table.partition_key.name || table.sort_key.is_some_and(|key| key.name == name)
}

/// `moto_server` on a free loopback port, stopped when dropped.
struct MotoServer {
    child: Child,
    endpoint: String,
}

impl MotoServer {
    fn start() -> Result<Self, String> {
        let binary = moto_binary()?;
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "{} exited with {status} before listening",
                    binary.display()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on port {port} within 30 s",
                    binary.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$MOTO_SERVER`, the workspace's `.venv/bin/moto_server`, or `moto_server` on `PATH`: where
/// the tests look too (`kernel::testing`).
fn moto_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        return Ok(PathBuf::from(path));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if venv.is_file() {
        return Ok(venv);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            "nosql-workbench books sample trips on a DynamoDB endpoint: give --dynamodb-endpoint URL, \
             or install moto_server (`make setup` puts it in .venv/) so that it starts one"
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(attributes: &[(&str, AttributeValue)]) -> Item {
        attributes
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    fn s(text: &str) -> AttributeValue {
        AttributeValue::S(text.to_owned())
    }

    fn n(number: i64) -> AttributeValue {
        AttributeValue::N(number.to_string())
    }

    const BOOKING: &str = "01a24d63-6624-73fb-b925-7656fa75c59f";
    const EVENT: &str = "01a24d63-6624-73fb-b925-76575e2992ca";

    /// A flight booking and the outbox event of the same step, as a run writes them.
    fn booking_and_event(at_micros: &str, at_nanos: &str, expires: i64) -> Vec<Item> {
        vec![
            item(&[
                ("PK", s(&format!("TRIP#{CONFIRMED_TRIP}"))),
                ("SK", s(&format!("FLIGHT#{BOOKING}"))),
                ("entity_type", s("FLIGHT_BOOKING")),
                ("reservation_id", s(BOOKING)),
                ("created_at", s(at_micros)),
            ]),
            item(&[
                ("PK", s("OUTBOX#Flight#NH106#2026-12-01")),
                ("SK", s(&format!("EVENT#{at_micros}#{EVENT}"))),
                ("entity_type", s("OUTBOX")),
                ("event_id", s(EVENT)),
                (
                    "payload",
                    s(&format!(
                        r#"{{"reservation_id":"{BOOKING}","trip_id":"{CONFIRMED_TRIP}"}}"#
                    )),
                ),
                ("occurred_at", s(at_nanos)),
                ("expires_at", n(expires)),
            ]),
        ]
    }

    #[test]
    fn ids_and_times_become_fixed_and_keep_what_they_share() {
        // 2026-12-06T22:04:49Z is 1796594689; the outbox keeps its events 7 days.
        let items = booking_and_event(
            "2026-12-06T22:04:49.572523Z",
            "2026-12-06T22:04:49.572523437Z",
            1_796_594_689 + 604_800,
        );
        let normalized = normalize(&items).unwrap();
        // Numbered as the sorted items mention them: the outbox item sorts first, its key names
        // the event.
        let event = format!("{ID_PREFIX}01");
        let booking = format!("{ID_PREFIX}02");
        let (outbox, flight) = (&normalized[0], &normalized[1]);
        assert_eq!(flight["SK"]["S"], format!("FLIGHT#{booking}"));
        assert_eq!(flight["reservation_id"]["S"], booking.as_str());
        assert_eq!(flight["created_at"]["S"], "2026-11-20T09:00:00.000000Z");
        assert_eq!(
            outbox["SK"]["S"],
            format!("EVENT#2026-11-20T09:00:00.000000Z#{event}")
        );
        assert_eq!(outbox["occurred_at"]["S"], "2026-11-20T09:00:00Z");
        assert_eq!(
            outbox["payload"]["S"],
            format!(r#"{{"reservation_id":"{booking}","trip_id":"{CONFIRMED_TRIP}"}}"#)
        );
        let first = epoch_seconds(&timestamp_spans("2026-11-20T09:00:00Z")[0].1);
        assert_eq!(outbox["expires_at"]["N"], (first + 604_800).to_string());
    }

    #[test]
    fn another_run_gives_the_same_items() {
        let run = |at: &str, nanos: &str, expires| {
            let mut items = booking_and_event(at, nanos, expires);
            items.reverse();
            normalize(&items).unwrap()
        };
        let earlier = run(
            "2026-12-06T22:04:49.572523Z",
            "2026-12-06T22:04:49.572523437Z",
            1_797_199_489,
        );
        // `time` trims an RFC 3339 fraction's trailing zeros: its width varies by run.
        let later = run(
            "2027-03-01T00:00:01.000001Z",
            "2027-03-01T00:00:01.0000019Z",
            1_803_859_201 + 604_800,
        );
        assert_eq!(earlier, later);
    }

    #[test]
    fn later_times_rank_later() {
        let mut items = booking_and_event(
            "2026-12-06T22:04:49.572523Z",
            "2026-12-06T22:04:49.572523437Z",
            1_797_199_489,
        );
        items[0].insert("created_at".into(), s("2026-12-06T22:04:50.000001Z"));
        let normalized = normalize(&items).unwrap();
        assert_eq!(
            normalized[1]["created_at"]["S"],
            "2026-11-20T09:00:01.000000Z"
        );
        assert_eq!(normalized[0]["occurred_at"]["S"], "2026-11-20T09:00:00Z");
    }

    #[test]
    fn epoch_seconds_follow_the_calendar() {
        let seconds = |text: &str| epoch_seconds(&timestamp_spans(text)[0].1);
        assert_eq!(seconds("1970-01-01T00:00:00Z"), 0);
        assert_eq!(seconds("2000-03-01T00:00:00Z"), 951_868_800);
        assert_eq!(seconds("2026-12-06T22:04:49.9Z"), 1_796_594_689);
    }

    #[test]
    fn uuids_and_times_are_found_where_the_code_writes_them() {
        let text = format!("IDEMPOTENCY#trip-{CONFIRMED_TRIP}:ReserveFlight");
        assert_eq!(uuid_spans(&text), vec![17..53]);
        assert!(uuid_spans("0193a2b4-5c00-7000-8000-0000000000011").is_empty());
        assert!(uuid_spans("0193A2B4-5C00-7000-8000-000000000001").is_empty());
        let spans = timestamp_spans(
            "EVENT#2026-12-06T22:04:49.572523Z#x, 2026-12-01, 2026-12-01T10:00:00Z",
        );
        let stamps: Vec<_> = spans.iter().map(|(_, s)| s.fraction.as_str()).collect();
        assert_eq!(stamps, ["572523", ""]);
        assert_eq!(spans[0].0, 6..33);
    }

    #[test]
    fn the_model_has_the_tables_keys_and_a_facet_per_kind_of_item() {
        let items = normalize(&booking_and_event(
            "2026-12-06T22:04:49.572523Z",
            "2026-12-06T22:04:49.572523437Z",
            1_797_199_489,
        ))
        .unwrap();
        let error = model(&TABLE, &items).unwrap_err();
        assert!(error.contains("wrote no TRIP item"), "{error}");
        let mut with_every_entity = items.clone();
        for facet in FACETS {
            let mut sample = items[1].clone();
            sample.insert("entity_type".into(), json!({ "S": facet.entity }));
            with_every_entity.push(sample);
        }
        let model = model(&TABLE, &with_every_entity).unwrap();
        let table = &model["DataModel"][0];
        assert_eq!(
            table["KeyAttributes"]["PartitionKey"]["AttributeName"],
            "PK"
        );
        assert_eq!(table["KeyAttributes"]["SortKey"]["AttributeName"], "SK");
        assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
        let names: Vec<&str> = table["TableFacets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["FacetName"].as_str().unwrap())
            .collect();
        let entities: Vec<&str> = FACETS.iter().map(|f| f.entity).collect();
        assert_eq!(names, entities);
        let attributes = table["NonKeyAttributes"].as_array().unwrap();
        assert!(
            attributes.contains(&json!({ "AttributeName": "expires_at", "AttributeType": "N" }))
        );
        assert!(attributes.iter().all(|a| a["AttributeName"] != "PK"));
    }

    #[test]
    fn indexes_and_a_table_without_sort_key_are_modelled() {
        // The search table has both: a partition key only, and an index.
        let table = search::infrastructure::dynamodb::SEARCH_TABLE;
        let facet = Facet {
            entity: "TRIP",
            partition: "<trip id>",
            sort: Some("never shown"),
        };
        let item: Map<String, Value> = serde_json::from_value(json!({
            "trip_id": { "S": CONFIRMED_TRIP },
            "status_month": { "S": "CONFIRMED#2026-12" },
        }))
        .unwrap();
        let facet = facet_json(&table, &facet, &[&item]);
        assert_eq!(
            facet["KeyAttributeAlias"],
            json!({ "PartitionKeyAlias": "<trip id>" })
        );
        assert_eq!(facet["NonKeyAttributes"], json!(["status_month"]));
        assert_eq!(
            key_attributes(table.partition_key, table.sort_key),
            json!({ "PartitionKey": { "AttributeName": "trip_id", "AttributeType": "S" } })
        );
    }

    #[test]
    fn an_attribute_with_two_types_cannot_be_modelled() {
        let mut items = normalize(&booking_and_event(
            "2026-12-06T22:04:49.572523Z",
            "2026-12-06T22:04:49.572523437Z",
            1_797_199_489,
        ))
        .unwrap();
        items[0].insert("reservation_id".into(), json!({ "N": "1" }));
        let error = model(&TABLE, &items).unwrap_err();
        assert!(error.contains("attribute reservation_id is"), "{error}");
    }

    /// The committed model: what NoSQL Workbench imports, and what the key design says.
    #[test]
    fn the_committed_model_shows_every_kind_of_item_under_its_key_design() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(MODEL_FILE);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{MODEL_FILE}: {e}"));
        let model: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(model["ModelMetadata"]["Version"], "3.0");
        assert_eq!(model["ModelMetadata"]["AWSService"], "Amazon DynamoDB");
        let description = model["ModelMetadata"]["Description"].as_str().unwrap();
        assert!(description.contains("Do not edit") && description.contains(REGENERATE));
        let table = &model["DataModel"][0];
        let declared: HashMap<&str, &str> = table["NonKeyAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["AttributeName"].as_str().unwrap(),
                    a["AttributeType"].as_str().unwrap(),
                )
            })
            .collect();
        let facets = table["TableFacets"].as_array().unwrap();
        assert_eq!(facets.len(), FACETS.len());
        for (facet, design) in facets.iter().zip(FACETS) {
            let items = facet["TableData"].as_array().unwrap();
            assert!(!items.is_empty(), "{}", design.entity);
            for item in items {
                assert_eq!(item["entity_type"]["S"], design.entity);
                let pk = item["PK"]["S"].as_str().unwrap();
                let sk = item["SK"]["S"].as_str().unwrap();
                assert!(
                    fits(design.partition, pk),
                    "{pk} is not {}",
                    design.partition
                );
                assert!(
                    fits(design.sort.unwrap(), sk),
                    "{sk} is not {:?}",
                    design.sort
                );
                for (name, value) in item.as_object().unwrap() {
                    if name != "PK" && name != "SK" {
                        let kind = value.as_object().unwrap().keys().next().unwrap();
                        assert_eq!(declared.get(name.as_str()), Some(&kind.as_str()), "{name}");
                    }
                }
            }
        }
    }

    /// Whether `key` is written as `design` says: its text, with any non-empty value in each
    /// `<placeholder>`.
    fn fits(design: &str, key: &str) -> bool {
        let mut rest = key;
        let mut parts = design.split('<');
        let literal = parts.next().unwrap();
        let Some(after) = rest.strip_prefix(literal) else {
            return false;
        };
        rest = after;
        let pieces: Vec<&str> = parts.map(|p| p.split_once('>').unwrap().1).collect();
        for (i, literal) in pieces.iter().enumerate() {
            let last = i + 1 == pieces.len();
            let found = if literal.is_empty() {
                last.then_some(rest.len())
            } else if last {
                rest.ends_with(literal).then(|| rest.len() - literal.len())
            } else {
                rest[1..].find(literal).map(|at| at + 1)
            };
            let Some(at) = found.filter(|at| *at > 0) else {
                return false;
            };
            rest = &rest[at + literal.len()..];
        }
        rest.is_empty()
    }

    #[test]
    fn keys_fit_their_design() {
        assert!(fits("TRIP#<trip id>", &format!("TRIP#{CONFIRMED_TRIP}")));
        assert!(fits("META", "META"));
        assert!(!fits("META", "METADATA"));
        assert!(fits(
            "HOTEL#<hotel code>#<night>",
            "HOTEL#TOKYO01#2026-12-01"
        ));
        assert!(!fits("HOTEL#<hotel code>#<night>", "HOTEL#TOKYO01"));
        assert!(fits(
            "EVENT#<occurred at>#<event id>",
            "EVENT#2026-11-20T09:00:00.000000Z#0193a2b4-5c00-7000-8000-000000000101"
        ));
        assert!(fits(
            "IDEMPOTENCY#<execution name>:<state name>",
            &format!("IDEMPOTENCY#trip-{CONFIRMED_TRIP}:ReserveFlight")
        ));
    }
}
