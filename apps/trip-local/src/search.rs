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
use search::application::{BatchOutcome, Projector, Replay, ReplayReport, SearchService};
use search::infrastructure::{
    DynamoSearchRepository, InMemoryDeadLetters, InMemorySearchRepository, SEARCH_TABLE,
    SqsDeadLetters, StreamReader, StreamsArchive,
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
    dead_letters: Queue,
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
            dead_letters: Queue::InMemory(dead_letters, "in memory".to_owned()),
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
        let search_table = search_table_name(table);
        crate::store::ensure_table_as(&dynamodb, &SEARCH_TABLE, &search_table).await?;
        // A DynamoDB-compatible server need not serve SQS: the search still works, with its
        // dead letters in memory (and the serve banner saying so).
        let dead_letters = match SqsDeadLetters::ensure(
            aws_sdk_sqs::Client::new(&config),
            &dead_letter_queue_name(table),
        )
        .await
        {
            Ok(queue) => Queue::Sqs(queue),
            Err(error) => Queue::InMemory(
                Arc::new(InMemoryDeadLetters::new()),
                format!(
                    "in memory: {endpoint} has no SQS queue for them ({})",
                    sqs_refusal(&error)
                ),
            ),
        };
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
        let projector = Projector::new(repository.clone(), dead_letters.sink());
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

    /// How many messages wait in the dead-letter queue (each poison record was logged as it
    /// was set aside).
    ///
    /// # Errors
    /// When the queue cannot be reached.
    pub async fn dead_letters(&self) -> Result<usize, InfraError> {
        match &self.dead_letters {
            Queue::InMemory(queue, _) => Ok(queue.len()),
            Queue::Sqs(queue) => queue.approximate_len().await,
        }
    }

    /// Where the dead letters wait: `in memory` (and why, on an endpoint), or the SQS queue's
    /// URL.
    pub fn dead_letter_queue(&self) -> &str {
        match &self.dead_letters {
            Queue::InMemory(_, place) => place,
            Queue::Sqs(queue) => queue.url(),
        }
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

/// The dead-letter queue of a local consumer: in memory beside the in-memory store; an SQS queue
/// on the DynamoDB endpoint's server (moto serves both), so that it outlives the process and
/// `trip-local replay-dead-letters` can re-drive it, as on AWS; in memory again when that server
/// serves no SQS.
enum Queue {
    /// The queue, and how to say where it is.
    InMemory(Arc<InMemoryDeadLetters>, String),
    Sqs(SqsDeadLetters),
}

impl Queue {
    /// Where the projector sends dead letters.
    fn sink(&self) -> Arc<dyn search::domain::DeadLetters> {
        match self {
            Queue::InMemory(queue, _) => queue.clone(),
            Queue::Sqs(queue) => Arc::new(queue.clone()),
        }
    }
}

/// The search table of the single table `table` on a local endpoint.
pub fn search_table_name(table: &str) -> String {
    format!("{table}-search")
}

/// The stream consumer's dead-letter queue for the single table `table` on a local endpoint.
pub fn dead_letter_queue_name(table: &str) -> String {
    format!("{table}-search-dead-letters")
}

/// Where a replay reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayTarget {
    /// A DynamoDB-compatible endpoint that also serves SQS (moto): the queue and search table a
    /// local consumer of `table` uses, unless named.
    Endpoint {
        /// The server.
        endpoint: String,
        /// The single table.
        table: String,
        /// The search table, if not `<table>-search`.
        search_table: Option<String>,
    },
    /// A deployed stack, with the credentials and region of the environment.
    Aws {
        /// Its `SearchTableName` output.
        search_table: String,
        /// Its `SearchDeadLetterQueueUrl` output.
        queue_url: String,
    },
}

/// Re-drives the stream consumer's dead-letter queue into the search table (see
/// [`Replay`]): nothing else runs meanwhile, and the live consumer may (each write is
/// conditional on the trip's version).
///
/// # Errors
/// When the queue, the stream or the search table fails; what was replayed is deleted, the
/// rest stays for the next replay.
pub async fn replay_dead_letters(target: &ReplayTarget) -> Result<ReplayReport, InfraError> {
    let (config, search_table, queue) = match target {
        ReplayTarget::Endpoint {
            endpoint,
            table,
            search_table,
        } => {
            let config = crate::store::local_sdk_config(endpoint).await;
            let search_table = search_table
                .clone()
                .unwrap_or_else(|| search_table_name(table));
            let dynamodb = aws_sdk_dynamodb::Client::new(&config);
            crate::store::ensure_table_as(&dynamodb, &SEARCH_TABLE, &search_table).await?;
            let queue = SqsDeadLetters::ensure(
                aws_sdk_sqs::Client::new(&config),
                &dead_letter_queue_name(table),
            )
            .await?;
            (config, search_table, queue)
        }
        ReplayTarget::Aws {
            search_table,
            queue_url,
        } => {
            let config = trip_saga::environment_sdk_config().await;
            let queue = SqsDeadLetters::new(aws_sdk_sqs::Client::new(&config), queue_url);
            (config, search_table.clone(), queue)
        }
    };
    let queue = Arc::new(queue);
    let repository = Arc::new(DynamoSearchRepository::new(
        aws_sdk_dynamodb::Client::new(&config),
        search_table,
    ));
    let archive = Arc::new(StreamsArchive::new(aws_sdk_dynamodbstreams::Client::new(
        &config,
    )));
    Replay::new(queue.clone(), archive, Projector::new(repository, queue))
        .run()
        .await
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

/// Why an endpoint gave no queue, in a few words: the error code SQS's `CreateQueue` was
/// answered with (`UnknownOperationException` from a server that serves DynamoDB alone), or the
/// kind of failure when there was no answer.
fn sqs_refusal(error: &InfraError) -> String {
    use aws_sdk_sqs::error::ProvideErrorMetadata;
    use aws_sdk_sqs::operation::create_queue::CreateQueueError;
    type CreateQueueFailure =
        aws_sdk_sqs::error::SdkError<CreateQueueError, aws_sdk_sqs::config::http::HttpResponse>;
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<CreateQueueFailure>())
        .and_then(ProvideErrorMetadata::code)
        .map_or_else(
            || error.name().to_owned(),
            |code| format!("CreateQueue: {code}"),
        )
}
