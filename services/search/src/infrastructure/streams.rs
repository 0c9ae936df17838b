//! Reading a DynamoDB stream through the Streams API: what the event source mapping does on
//! AWS, done here for a DynamoDB-compatible server (locally, the stream consumer polls it) and
//! for a replay of a failed batch (on AWS or locally).
//!
//! Records are converted to the Lambda event's record type ([`ChangeRecord`]), so the projector
//! sees the same thing from every source.

use std::collections::BTreeMap;

use aws_lambda_events::event::dynamodb::{StreamRecord, StreamViewType};
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use kernel::stream::ChangeRecord;
use kernel::{BoxFuture, InfraError};

use crate::domain::{BatchLocation, StreamArchive};

/// One stream, read shard by shard from where each was last processed.
///
/// Shards are read parent before child (DynamoDB splits and closes shards; a child's records
/// follow its parent's), one page at a time.
#[derive(Debug)]
pub struct StreamReader {
    client: Client,
    stream_arn: String,
    shards: BTreeMap<String, Shard>,
}

#[derive(Debug, Default)]
struct Shard {
    parent: Option<String>,
    /// Where the next read starts when the consumer rewound it; otherwise the next read starts
    /// after the checkpoint.
    iterator: Option<String>,
    /// The last record processed.
    checkpoint: Option<String>,
    /// The shard is closed and read to its end.
    finished: bool,
}

/// One page of one shard.
#[derive(Debug, Clone)]
pub struct ShardPage {
    /// The shard.
    pub shard_id: String,
    /// Its records, oldest first; empty when nothing new was written.
    pub records: Vec<ChangeRecord>,
}

impl StreamReader {
    /// The stream `stream_arn`, from the oldest record it keeps (`TRIM_HORIZON`, as the event
    /// source mapping is deployed: nothing written before the consumer starts is lost).
    pub fn new(client: Client, stream_arn: impl Into<String>) -> Self {
        Self {
            client,
            stream_arn: stream_arn.into(),
            shards: BTreeMap::new(),
        }
    }

    /// The stream's ARN.
    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    /// The next page of each shard that can be read now (parents before children).
    ///
    /// # Errors
    /// When the Streams API fails; reading again later resumes where it stopped.
    pub async fn poll(&mut self, limit: i32) -> Result<Vec<ShardPage>, InfraError> {
        self.refresh_shards().await?;
        let ready: Vec<String> = self
            .shards
            .iter()
            .filter(|(_, shard)| !shard.finished)
            .filter(|(_, shard)| {
                shard
                    .parent
                    .as_ref()
                    .and_then(|p| self.shards.get(p))
                    .is_none_or(|parent| parent.finished)
            })
            .map(|(id, _)| id.clone())
            .collect();
        let mut pages = Vec::new();
        for shard_id in ready {
            // A fresh iterator from the checkpoint on every read: iterators expire (15 minutes
            // on DynamoDB), and not every compatible server advances a returned one.
            let rewound = self
                .shards
                .get_mut(&shard_id)
                .and_then(|s| s.iterator.take());
            let iterator = if let Some(rewound) = rewound {
                rewound
            } else {
                let checkpoint = self.shards[&shard_id].checkpoint.clone();
                self.iterator(&shard_id, checkpoint.as_deref(), false)
                    .await?
            };
            let output = self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(limit)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("GetRecords", e))?;
            let records = output
                .records()
                .iter()
                .map(|r| change_record(r, &self.stream_arn))
                .collect();
            let shard = self.shards.get_mut(&shard_id).expect("listed above");
            // A closed shard read to its end has no next iterator.
            shard.finished = output.next_shard_iterator().is_none() && output.records().is_empty();
            pages.push(ShardPage { shard_id, records });
        }
        Ok(pages)
    }

    /// Marks `sequence_number` of `shard_id` processed.
    pub fn checkpoint(&mut self, shard_id: &str, sequence_number: &str) {
        if let Some(shard) = self.shards.get_mut(shard_id) {
            shard.checkpoint = Some(sequence_number.to_owned());
        }
    }

    /// Reads `shard_id` again from `sequence_number` (included): what the event source mapping
    /// does after a batch item failure.
    ///
    /// # Errors
    /// When the Streams API fails.
    pub async fn rewind(
        &mut self,
        shard_id: &str,
        sequence_number: &str,
    ) -> Result<(), InfraError> {
        let iterator = self.iterator(shard_id, Some(sequence_number), true).await?;
        if let Some(shard) = self.shards.get_mut(shard_id) {
            shard.iterator = Some(iterator);
            shard.finished = false;
        }
        Ok(())
    }

    async fn iterator(
        &self,
        shard_id: &str,
        sequence_number: Option<&str>,
        at: bool,
    ) -> Result<String, InfraError> {
        let kind = match (sequence_number, at) {
            (None, _) => ShardIteratorType::TrimHorizon,
            (Some(_), true) => ShardIteratorType::AtSequenceNumber,
            (Some(_), false) => ShardIteratorType::AfterSequenceNumber,
        };
        let output = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard_id)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence_number.map(ToOwned::to_owned))
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetShardIterator", e))?;
        output
            .shard_iterator()
            .map(ToOwned::to_owned)
            .ok_or_else(|| InfraError::failed(format!("no iterator for shard {shard_id}")))
    }

    async fn refresh_shards(&mut self) -> Result<(), InfraError> {
        let mut start = None;
        loop {
            let output = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("DescribeStream", e))?;
            let Some(description) = output.stream_description() else {
                return Ok(());
            };
            for shard in description.shards() {
                let Some(id) = shard.shard_id() else { continue };
                self.shards.entry(id.to_owned()).or_insert_with(|| Shard {
                    parent: shard.parent_shard_id().map(ToOwned::to_owned),
                    ..Shard::default()
                });
            }
            start = description.last_evaluated_shard_id().map(ToOwned::to_owned);
            if start.is_none() {
                return Ok(());
            }
        }
    }
}

/// The Streams API as the place failed batches are read back from (a stream keeps its records
/// 24 hours).
#[derive(Clone, Debug)]
pub struct StreamsArchive {
    client: Client,
}

impl StreamsArchive {
    /// Reads through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl StreamArchive for StreamsArchive {
    fn read_batch<'a>(
        &'a self,
        location: &'a BatchLocation,
    ) -> BoxFuture<'a, Result<Vec<ChangeRecord>, InfraError>> {
        Box::pin(read_batch(&self.client, location))
    }
}

/// The records of a failed batch, read back from the stream.
///
/// # Errors
/// When the Streams API fails, e.g. when the records are older than the stream's retention
/// (`TrimmedDataAccessException`): they are then lost to the stream, and the message says so.
async fn read_batch(
    client: &Client,
    location: &BatchLocation,
) -> Result<Vec<ChangeRecord>, InfraError> {
    let output = client
        .get_shard_iterator()
        .stream_arn(&location.stream_arn)
        .shard_id(&location.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&location.start_sequence_number)
        .send()
        .await
        .map_err(|e| InfraError::from_sdk("GetShardIterator", e))?;
    let mut iterator = output.shard_iterator().map(ToOwned::to_owned);
    let end = sequence(&location.end_sequence_number);
    let mut records = Vec::new();
    while let Some(current) = iterator {
        let page = client
            .get_records()
            .shard_iterator(current)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetRecords", e))?;
        for record in page.records() {
            let number = record
                .dynamodb()
                .and_then(|d| d.sequence_number())
                .map_or(0, sequence);
            if number > end {
                return Ok(records);
            }
            records.push(change_record(record, &location.stream_arn));
        }
        if page.records().is_empty() {
            // The end of what the shard holds now: the batch's last record was read or lost.
            return Ok(records);
        }
        iterator = page.next_shard_iterator().map(ToOwned::to_owned);
    }
    Ok(records)
}

/// Sequence numbers are decimal strings of varying length: compared as numbers.
fn sequence(text: &str) -> u128 {
    text.parse().unwrap_or(0)
}

/// A Streams API record as the Lambda event carries it.
pub fn change_record(record: &Record, stream_arn: &str) -> ChangeRecord {
    let mut change = StreamRecord::default();
    if let Some(source) = record.dynamodb() {
        let item = |image: Option<
            &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
        >| { serde_dynamo::Item::from(image.cloned().unwrap_or_default()) };
        if let Some(at) = source.approximate_creation_date_time() {
            let nanos = at.as_nanos();
            change.approximate_creation_date_time =
                chrono::DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX));
        }
        change.keys = item(source.keys());
        change.new_image = item(source.new_image());
        change.old_image = item(source.old_image());
        change.sequence_number = source.sequence_number().map(ToOwned::to_owned);
        change.size_bytes = source.size_bytes().unwrap_or_default();
        change.stream_view_type = source.stream_view_type().and_then(|v| {
            serde_json::from_value::<StreamViewType>(serde_json::Value::String(
                v.as_str().to_owned(),
            ))
            .ok()
        });
    }
    let mut converted = ChangeRecord::default();
    record
        .aws_region()
        .unwrap_or_default()
        .clone_into(&mut converted.aws_region);
    converted.change = change;
    record
        .event_id()
        .unwrap_or_default()
        .clone_into(&mut converted.event_id);
    converted.event_name = record
        .event_name()
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    converted.event_source = record.event_source().map(ToOwned::to_owned);
    converted.event_version = record.event_version().map(ToOwned::to_owned);
    converted.event_source_arn = Some(stream_arn.to_owned());
    converted
}
