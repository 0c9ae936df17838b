//! The executions `serve` accepted, kept where they outlive the process: what Step Functions
//! keeps for an execution, so that a `202` stays a promise across a stop, a crash or a restart.
//!
//! One record per execution (`trip-<id>`): the input it was started with (so that a retry of
//! the request is told apart from another request with the same `Idempotency-Key`), its last
//! checkpoint (the top-level state it entered and that state's input, see
//! [`asl_executor::Journal`]) while it runs, and how it ended once it has. The record is created
//! with a conditional write before the `202` is sent, so two servers on one store cannot both
//! start a trip; an ended record expires after [`RETENTION_DAYS`], as Step Functions forgets
//! closed executions after 90 days.
//!
//! On a DynamoDB endpoint the records are a table of their own beside the single table,
//! `<table>-executions` ([`EXECUTIONS_TABLE`]): they are the local runtime's state, not the
//! booking system's, and on AWS Step Functions keeps them. Running executions carry the
//! attribute of a sparse index, so that a starting server finds what to resume with one query
//! however many executions have ended. In memory, the records live as long as the store does.
//!
//! ```
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! use trip_local::journal::{ExecutionLog, ExecutionRecord, Started};
//!
//! let log = ExecutionLog::in_memory();
//! let record = ExecutionRecord::running("trip-1", r#"{"trip_id":"1"}"#, "CreateTrip", 0);
//! assert!(matches!(log.start(&record).await?, Started::Now));
//! // The same name again, whatever the input: the first record wins.
//! assert!(matches!(log.start(&record).await?, Started::Already(_)));
//! assert_eq!(log.unfinished().await?.len(), 1);
//! # Ok::<(), kernel::InfraError>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use kernel::InfraError;
use kernel::dynamo::table::{IndexDefinition, KeyAttribute, TableDefinition};

/// How long an ended execution's record is kept (and its name refused for a new execution).
pub const RETENTION_DAYS: i64 = 90;

const NAME: &str = "name";
const INPUT: &str = "input";
const STATUS: &str = "status";
const STATE: &str = "state";
const STATE_INPUT: &str = "state_input";
const STARTED_MS: &str = "started_ms";
const ENTERED_MS: &str = "entered_ms";
const VIEW: &str = "view";
const EARLIER: &str = "earlier";
const EXPIRES_AT: &str = kernel::dynamo::keys::EXPIRES_AT;
/// Present only while the execution runs: the key of the sparse index of unfinished ones.
const UNFINISHED: &str = "unfinished";
const UNFINISHED_INDEX: &str = "unfinished";
/// The one value of [`UNFINISHED`]: the index is one partition, read whole at start-up.
const RUNNING: &str = "RUNNING";

/// The executions table, `<table>-executions` on a DynamoDB endpoint.
pub const EXECUTIONS_TABLE: TableDefinition = TableDefinition {
    name_variable: "EXECUTIONS_TABLE_NAME",
    partition_key: KeyAttribute {
        name: NAME,
        kind: "S",
    },
    sort_key: None,
    billing_mode: "PAY_PER_REQUEST",
    stream_view_type: None,
    time_to_live_attribute: EXPIRES_AT,
    global_secondary_indexes: &[IndexDefinition {
        name: UNFINISHED_INDEX,
        partition_key: KeyAttribute {
            name: UNFINISHED,
            kind: "S",
        },
        sort_key: None,
        serves: "the executions still running, which a starting server resumes",
    }],
};

/// The executions table of the single table `table`.
pub fn executions_table_name(table: &str) -> String {
    format!("{table}-executions")
}

/// One execution, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRecord {
    /// `trip-<id>`.
    pub name: String,
    /// The input it was started with, as sent to the state machine.
    pub input: String,
    /// `RUNNING` until it ends, then `SUCCEEDED`, `FAILED` or `TIMED_OUT`.
    pub status: String,
    /// The top-level state it last entered.
    pub state: String,
    /// That state's input (JSON).
    pub state_input: String,
    /// When it started, epoch milliseconds.
    pub started_ms: i64,
    /// When it entered `state`, on its clock.
    pub entered_ms: i64,
    /// How it ended (the API's execution view, JSON), once it has.
    pub view: Option<String>,
    /// What it did before `state`, while it runs ([`Earlier`], JSON): a resumed execution's
    /// view starts with it.
    pub earlier: Option<String>,
}

/// What an execution did before the checkpoint it is resumed from: the path, the invocations
/// and the retries that the resumed run's own are added to, so that its view shows the whole
/// execution, as Step Functions' history does across a worker's restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Earlier {
    /// Every state entered before the checkpoint's, in order.
    pub states_visited: Vec<String>,
    /// Every invocation that returned before it.
    pub invocations: Vec<crate::api::body::Invocation>,
    /// The retries scheduled before it.
    pub retries: u32,
}

impl Earlier {
    /// The path of `states_visited`, `calls` and `retries`, as one run saw them.
    pub fn of<'a>(
        states_visited: impl IntoIterator<Item = &'a str>,
        calls: &[crate::functions::Call],
        retries: usize,
    ) -> Self {
        Self {
            states_visited: states_visited.into_iter().map(str::to_owned).collect(),
            invocations: calls
                .iter()
                .map(crate::api::body::Invocation::from)
                .collect(),
            retries: u32::try_from(retries).unwrap_or(u32::MAX),
        }
    }

    /// This followed by `later`: what an execution resumed after `self` has done by `later`.
    #[must_use]
    pub fn then(&self, later: Self) -> Self {
        let mut both = self.clone();
        both.states_visited.extend(later.states_visited);
        both.invocations.extend(later.invocations);
        both.retries = both.retries.saturating_add(later.retries);
        both
    }
}

impl ExecutionRecord {
    /// A record of an execution about to enter its first state, `state`, with `input`.
    pub fn running(name: &str, input: &str, state: &str, started_ms: i64) -> Self {
        Self {
            name: name.to_owned(),
            input: input.to_owned(),
            status: RUNNING.to_owned(),
            state: state.to_owned(),
            state_input: input.to_owned(),
            started_ms,
            entered_ms: started_ms,
            view: None,
            earlier: None,
        }
    }

    /// Whether it still runs (or ran when its process stopped).
    pub fn is_running(&self) -> bool {
        self.status == RUNNING
    }
}

/// What [`ExecutionLog::start`] found.
#[derive(Debug)]
pub enum Started {
    /// The record is new: this process runs the execution.
    Now,
    /// An execution of that name exists (running or ended): this one.
    Already(ExecutionRecord),
}

/// Where the records are.
#[derive(Clone)]
pub enum ExecutionLog {
    /// In this process (with the in-memory store, which does not outlive it either).
    InMemory(Arc<Mutex<HashMap<String, ExecutionRecord>>>),
    /// A table on a DynamoDB endpoint.
    DynamoDb {
        /// The endpoint's client.
        client: Client,
        /// The executions table.
        table: String,
    },
}

impl ExecutionLog {
    /// Records kept in memory.
    pub fn in_memory() -> Self {
        Self::InMemory(Arc::default())
    }

    /// Records in `<table>-executions` on the endpoint of `client`, created when missing.
    ///
    /// # Errors
    /// When the table can be neither found nor created.
    pub async fn on_dynamodb(client: Client, table: &str) -> Result<Self, InfraError> {
        let table = executions_table_name(table);
        crate::store::ensure_table_as(&client, &EXECUTIONS_TABLE, &table).await?;
        Ok(Self::DynamoDb { client, table })
    }

    /// Records `record` unless an execution of its name exists, atomically.
    ///
    /// # Errors
    /// The store's.
    pub async fn start(&self, record: &ExecutionRecord) -> Result<Started, InfraError> {
        match self {
            Self::InMemory(records) => {
                let mut records = records.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(existing) = records.get(&record.name) {
                    return Ok(Started::Already(existing.clone()));
                }
                records.insert(record.name.clone(), record.clone());
                Ok(Started::Now)
            }
            Self::DynamoDb { client, table } => {
                let put = client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item(record)))
                    .condition_expression("attribute_not_exists(#name)")
                    .expression_attribute_names("#name", NAME)
                    .send()
                    .await;
                match put {
                    Ok(_) => Ok(Started::Now),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
                    {
                        let existing = self.get(&record.name).await?.ok_or_else(|| {
                            InfraError::conflict(format!(
                                "execution {} exists but could not be read back",
                                record.name
                            ))
                        })?;
                        Ok(Started::Already(existing))
                    }
                    Err(e) => Err(InfraError::from_sdk("PutItem", e)),
                }
            }
        }
    }

    /// Records that the running execution `name` entered `state` with `state_input`, after
    /// doing `earlier` ([`Earlier`], JSON).
    ///
    /// # Errors
    /// The store's; an execution that has ended is left as it is.
    pub async fn checkpoint(
        &self,
        name: &str,
        state: &str,
        state_input: &str,
        entered_ms: i64,
        earlier: &str,
    ) -> Result<(), InfraError> {
        match self {
            Self::InMemory(records) => {
                let mut records = records.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(record) = records.get_mut(name).filter(|r| r.is_running()) {
                    state.clone_into(&mut record.state);
                    state_input.clone_into(&mut record.state_input);
                    record.entered_ms = entered_ms;
                    record.earlier = Some(earlier.to_owned());
                }
                Ok(())
            }
            Self::DynamoDb { client, table } => {
                let update = client
                    .update_item()
                    .table_name(table)
                    .key(NAME, s(name))
                    .update_expression(
                        "SET #state = :state, #input = :input, #at = :at, #earlier = :earlier",
                    )
                    .condition_expression("#status = :running")
                    .expression_attribute_names("#state", STATE)
                    .expression_attribute_names("#input", STATE_INPUT)
                    .expression_attribute_names("#at", ENTERED_MS)
                    .expression_attribute_names("#earlier", EARLIER)
                    .expression_attribute_names("#status", STATUS)
                    .expression_attribute_values(":state", s(state))
                    .expression_attribute_values(":input", s(state_input))
                    .expression_attribute_values(":at", n(entered_ms))
                    .expression_attribute_values(":earlier", s(earlier))
                    .expression_attribute_values(":running", s(RUNNING))
                    .send()
                    .await;
                match update {
                    Ok(_) => Ok(()),
                    Err(e)
                        if e.as_service_error().is_some_and(
                            UpdateItemError::is_conditional_check_failed_exception,
                        ) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(InfraError::from_sdk("UpdateItem", e)),
                }
            }
        }
    }

    /// Records that `name` ended with `status`, as `view` shows it; it expires
    /// [`RETENTION_DAYS`] after `now_ms`.
    ///
    /// # Errors
    /// The store's.
    pub async fn finish(
        &self,
        name: &str,
        status: &str,
        view: &str,
        now_ms: i64,
    ) -> Result<(), InfraError> {
        match self {
            Self::InMemory(records) => {
                let mut records = records.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(record) = records.get_mut(name) {
                    status.clone_into(&mut record.status);
                    record.view = Some(view.to_owned());
                    // What resumption needed is of no use any more: the view has it all.
                    record.state_input = String::new();
                    record.earlier = None;
                }
                Ok(())
            }
            Self::DynamoDb { client, table } => {
                let expires_at = now_ms / 1000 + RETENTION_DAYS * 24 * 60 * 60;
                client
                    .update_item()
                    .table_name(table)
                    .key(NAME, s(name))
                    .update_expression(
                        "SET #status = :status, #view = :view, #expires = :expires \
                         REMOVE #unfinished, #input, #earlier",
                    )
                    .condition_expression("attribute_exists(#name)")
                    .expression_attribute_names("#name", NAME)
                    .expression_attribute_names("#status", STATUS)
                    .expression_attribute_names("#view", VIEW)
                    .expression_attribute_names("#expires", EXPIRES_AT)
                    .expression_attribute_names("#unfinished", UNFINISHED)
                    .expression_attribute_names("#input", STATE_INPUT)
                    .expression_attribute_names("#earlier", EARLIER)
                    .expression_attribute_values(":status", s(status))
                    .expression_attribute_values(":view", s(view))
                    .expression_attribute_values(":expires", n(expires_at))
                    .send()
                    .await
                    .map_err(|e| InfraError::from_sdk("UpdateItem", e))?;
                Ok(())
            }
        }
    }

    /// The record of `name`, if there is one.
    ///
    /// # Errors
    /// The store's, or a record that does not read as one.
    pub async fn get(&self, name: &str) -> Result<Option<ExecutionRecord>, InfraError> {
        match self {
            Self::InMemory(records) => Ok(records
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(name)
                .cloned()),
            Self::DynamoDb { client, table } => {
                let got = client
                    .get_item()
                    .table_name(table)
                    .key(NAME, s(name))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| InfraError::from_sdk("GetItem", e))?;
                got.item().map(record).transpose()
            }
        }
    }

    /// Every execution still running (or running when its process stopped).
    ///
    /// # Errors
    /// The store's, or a record that does not read as one.
    pub async fn unfinished(&self) -> Result<Vec<ExecutionRecord>, InfraError> {
        match self {
            Self::InMemory(records) => {
                let records = records.lock().unwrap_or_else(PoisonError::into_inner);
                let mut running: Vec<_> = records
                    .values()
                    .filter(|r| r.is_running())
                    .cloned()
                    .collect();
                running.sort_by_key(|r| r.started_ms);
                Ok(running)
            }
            Self::DynamoDb { client, table } => {
                let mut running = Vec::new();
                let mut pages = client
                    .query()
                    .table_name(table)
                    .index_name(UNFINISHED_INDEX)
                    .key_condition_expression("#unfinished = :running")
                    .expression_attribute_names("#unfinished", UNFINISHED)
                    .expression_attribute_values(":running", s(RUNNING))
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| InfraError::from_sdk("Query", e))?;
                    for item in page.items() {
                        running.push(record(item)?);
                    }
                }
                // The index is eventually consistent: trust only what the table says.
                running.retain(ExecutionRecord::is_running);
                running.sort_by_key(|r| r.started_ms);
                Ok(running)
            }
        }
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: i64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

fn item(record: &ExecutionRecord) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (NAME.to_owned(), s(&record.name)),
        (INPUT.to_owned(), s(&record.input)),
        (STATUS.to_owned(), s(&record.status)),
        (STATE.to_owned(), s(&record.state)),
        (STATE_INPUT.to_owned(), s(&record.state_input)),
        (STARTED_MS.to_owned(), n(record.started_ms)),
        (ENTERED_MS.to_owned(), n(record.entered_ms)),
    ]);
    if record.is_running() {
        item.insert(UNFINISHED.to_owned(), s(RUNNING));
    }
    if let Some(view) = &record.view {
        item.insert(VIEW.to_owned(), s(view));
    }
    if let Some(earlier) = &record.earlier {
        item.insert(EARLIER.to_owned(), s(earlier));
    }
    item
}

fn record(item: &HashMap<String, AttributeValue>) -> Result<ExecutionRecord, InfraError> {
    let name = item
        .get(NAME)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default();
    let invalid = |field: &str| {
        InfraError::failed(format!(
            "execution record {name:?}: `{field}` is missing or not of its type"
        ))
    };
    let text = |field: &str| {
        item.get(field)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| invalid(field))
    };
    let number = |field: &str| {
        item.get(field)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| invalid(field))
    };
    Ok(ExecutionRecord {
        input: text(INPUT)?,
        status: text(STATUS)?,
        state: text(STATE)?,
        // Dropped once the execution has ended.
        state_input: text(STATE_INPUT).unwrap_or_default(),
        started_ms: number(STARTED_MS)?,
        entered_ms: number(ENTERED_MS)?,
        view: text(VIEW).ok(),
        earlier: text(EARLIER).ok(),
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ended_execution_is_not_resumed_and_keeps_how_it_ended() {
        let log = ExecutionLog::in_memory();
        let record = ExecutionRecord::running("trip-1", "{}", "CreateTrip", 5);
        log.start(&record).await.unwrap();
        log.checkpoint("trip-1", "ReserveFlight", r#"{"a":1}"#, 9, r#"{"e":2}"#)
            .await
            .unwrap();
        let running = log.unfinished().await.unwrap();
        assert_eq!(running[0].state, "ReserveFlight");
        assert_eq!(running[0].state_input, r#"{"a":1}"#);
        assert_eq!(running[0].entered_ms, 9);
        assert_eq!(running[0].earlier.as_deref(), Some(r#"{"e":2}"#));

        log.finish("trip-1", "SUCCEEDED", "{\"status\":\"SUCCEEDED\"}", 10)
            .await
            .unwrap();
        assert!(log.unfinished().await.unwrap().is_empty());
        // A late checkpoint (a duplicate runner) does not reopen it.
        log.checkpoint("trip-1", "CancelHotel", "{}", 11, "{}")
            .await
            .unwrap();
        let ended = log.get("trip-1").await.unwrap().unwrap();
        assert_eq!(ended.status, "SUCCEEDED");
        assert_eq!(ended.state, "ReserveFlight");
        assert_eq!(ended.view.as_deref(), Some("{\"status\":\"SUCCEEDED\"}"));
        assert_eq!(ended.earlier, None, "the view holds it all");
    }

    #[test]
    fn items_read_back_as_the_records_written() {
        let mut record = ExecutionRecord::running("trip-2", "{\"x\":1}", "CreateTrip", 7);
        assert_eq!(super::record(&item(&record)).unwrap(), record);
        assert!(item(&record).contains_key(UNFINISHED));
        record.earlier = Some(r#"{"retries":1}"#.into());
        assert_eq!(super::record(&item(&record)).unwrap(), record);
        record.status = "FAILED".into();
        record.view = Some("{}".into());
        record.earlier = None;
        assert_eq!(super::record(&item(&record)).unwrap(), record);
        assert!(
            !item(&record).contains_key(UNFINISHED),
            "ended: not indexed"
        );
        let mut broken = item(&record);
        broken.remove(STARTED_MS);
        let error = super::record(&broken).unwrap_err().to_string();
        assert!(error.contains("started_ms"), "{error}");
    }
}
