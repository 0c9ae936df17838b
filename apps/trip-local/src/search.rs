//! The search side on this machine: the stream consumer runs beside the saga, as the event
//! source mapping runs it on AWS, and keeps the search table in step with the trips.
//!
//! On the in-memory store it reads the store's change feed; on a DynamoDB endpoint it reads the
//! table's stream through the Streams API (shards, iterators, `GetRecords`), into a search table
//! on the same endpoint. Either way the records reach the same [`Projector`], in the same
//! shape, and a failed record is retried from where it failed, as `ReportBatchItemFailures`
//! makes Lambda do.

use std::sync::Arc;
use std::time::Duration;

use kernel::InfraError;
use kernel::stream::ChangeFeed;
use search::application::{BatchOutcome, Projector, SearchService};
use search::infrastructure::{
    DynamoSearchRepository, InMemoryDeadLetters, InMemorySearchRepository, SEARCH_TABLE,
    StreamReader,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Records per read: Lambda's default batch size for a DynamoDB stream.
const BATCH_SIZE: usize = 100;
/// How long an idle consumer waits before reading again.
const IDLE: Duration = Duration::from_millis(50);
/// How long [`LocalSearch::caught_up`] waits at most.
const CATCH_UP: Duration = Duration::from_mins(1);

/// The search table and its stream consumer, running in the background until dropped.
pub struct LocalSearch {
    service: SearchService,
    dead_letters: Arc<InMemoryDeadLetters>,
    /// How many reads found nothing new: a read that starts after a write and finds nothing has
    /// seen (and projected) that write.
    idle_reads: watch::Receiver<u64>,
    consumer: JoinHandle<()>,
    table: String,
}

impl Drop for LocalSearch {
    fn drop(&mut self) {
        self.consumer.abort();
    }
}

impl LocalSearch {
    /// The search table in memory, fed by `feed` (the in-memory store's stream).
    pub fn in_memory(feed: ChangeFeed) -> Self {
        let table = Arc::new(InMemorySearchRepository::new());
        let dead_letters = Arc::new(InMemoryDeadLetters::new());
        let projector = Projector::new(table.clone(), dead_letters.clone());
        let (idle, idle_reads) = watch::channel(0);
        let consumer = tokio::spawn(consume_feed(feed, projector, idle));
        Self {
            service: SearchService::new(table),
            dead_letters,
            idle_reads,
            consumer,
            table: "in memory".to_owned(),
        }
    }

    /// The search table `<table>-search` on the DynamoDB endpoint (created when missing), fed by
    /// the stream of `table` through the Streams API.
    ///
    /// # Errors
    /// When the endpoint fails, or `table` has no stream.
    pub async fn on_endpoint(endpoint: &str, table: &str) -> Result<Self, InfraError> {
        let config = crate::store::local_sdk_config(endpoint).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let search_table = format!("{table}-search");
        crate::store::ensure_table_as(&dynamodb, &SEARCH_TABLE, &search_table).await?;
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("DescribeTable", e))?;
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| InfraError::failed(format!("table {table} has no stream")))?
            .to_owned();
        let reader = StreamReader::new(aws_sdk_dynamodbstreams::Client::new(&config), stream_arn);
        let repository = Arc::new(DynamoSearchRepository::new(dynamodb, &search_table));
        let dead_letters = Arc::new(InMemoryDeadLetters::new());
        let projector = Projector::new(repository.clone(), dead_letters.clone());
        let (idle, idle_reads) = watch::channel(0);
        let consumer = tokio::spawn(consume_stream(reader, projector, idle));
        Ok(Self {
            service: SearchService::new(repository),
            dead_letters,
            idle_reads,
            consumer,
            table: search_table,
        })
    }

    /// The search, on this search table.
    pub fn service(&self) -> &SearchService {
        &self.service
    }

    /// The search table's name (`in memory` for the in-memory one).
    pub fn table(&self) -> &str {
        &self.table
    }

    /// How many records were set aside as poison (logged as they were).
    pub fn dead_letters(&self) -> usize {
        self.dead_letters.len()
    }

    /// Waits until every change written before this call is in the search table: two reads
    /// of the stream have found nothing new since.
    ///
    /// # Errors
    /// `StoreUnavailable` when the consumer is stuck (a store that keeps failing) for a minute.
    pub async fn caught_up(&self) -> Result<(), InfraError> {
        let mut idle = self.idle_reads.clone();
        let start = *idle.borrow_and_update();
        let wait = idle.wait_for(|reads| *reads >= start + 2);
        match tokio::time::timeout(CATCH_UP, wait).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(InfraError::unavailable("the stream consumer stopped")),
            Err(_) => Err(InfraError::unavailable(
                "the stream consumer has not caught up within a minute",
            )),
        }
    }
}

/// Backs off after a failed batch, as Lambda does before redelivering it (capped).
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(Duration::from_millis(100))
    }

    async fn after(&mut self, outcome: &BatchOutcome) {
        if outcome.retry_from.is_some() {
            tokio::time::sleep(self.0).await;
            self.0 = (self.0 * 2).min(Duration::from_secs(5));
        } else {
            self.0 = Duration::from_millis(100);
        }
    }
}

async fn consume_feed(feed: ChangeFeed, projector: Projector, idle: watch::Sender<u64>) {
    let mut after: Option<String> = None;
    let mut backoff = Backoff::new();
    loop {
        let records = match feed.read(after.as_deref(), BATCH_SIZE) {
            Ok(records) => records,
            Err(trimmed) => {
                // Records were lost to the window, as after 24 hours on DynamoDB: say so and go
                // on from the oldest kept.
                tracing::error!(%trimmed, "the search projection skipped records it can no longer read");
                after = None;
                continue;
            }
        };
        if records.is_empty() {
            idle.send_modify(|reads| *reads += 1);
            feed.wait(IDLE).await;
            continue;
        }
        let outcome = projector.handle(&records).await;
        let done = match &outcome.retry_from {
            None => records.len(),
            Some(failed) => records
                .iter()
                .position(|r| r.change.sequence_number.as_ref() == Some(failed))
                .unwrap_or(0),
        };
        if done > 0 {
            after.clone_from(&records[done - 1].change.sequence_number);
        }
        backoff.after(&outcome).await;
    }
}

async fn consume_stream(mut reader: StreamReader, projector: Projector, idle: watch::Sender<u64>) {
    let mut backoff = Backoff::new();
    loop {
        let pages = match reader.poll(i32::try_from(BATCH_SIZE).unwrap_or(100)).await {
            Ok(pages) => pages,
            Err(error) => {
                tracing::warn!(%error, "reading the stream failed; reading again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut read = 0;
        for page in pages {
            if page.records.is_empty() {
                continue;
            }
            read += page.records.len();
            let outcome = projector.handle(&page.records).await;
            match &outcome.retry_from {
                Some(failed) => {
                    if let Err(error) = reader.rewind(&page.shard_id, failed).await {
                        tracing::warn!(%error, "rewinding the stream failed");
                    }
                }
                None => {
                    if let Some(last) = page
                        .records
                        .last()
                        .and_then(|r| r.change.sequence_number.as_deref())
                    {
                        reader.checkpoint(&page.shard_id, last);
                    }
                }
            }
            backoff.after(&outcome).await;
        }
        if read == 0 {
            idle.send_modify(|reads| *reads += 1);
            tokio::time::sleep(IDLE).await;
        }
    }
}
