//! What the stream consumer sets aside, and the ports a replay reads it back through.
//!
//! Two kinds of message share the dead-letter queue, and a replay must read both ([`Letter`]
//! tells them apart):
//! - [`DeadLetter`]s the consumer sends itself: a record that can never be projected, in full,
//!   with the reason;
//! - the event source mapping's on-failure records: when a batch still fails after its retries
//!   (or its records grow too old), Lambda sends the batch's *location* in the stream
//!   (`DDBStreamBatchInfo`: stream ARN, shard, first and last sequence numbers), not its records.
//!   They are read back from the stream ([`StreamArchive`]), which keeps them 24 hours.

use kernel::stream::ChangeRecord;
use kernel::{BoxFuture, InfraError};
use serde::{Deserialize, Serialize};

/// A change record that can never be projected, and why: enough to look at it and to replay it
/// once the cause is fixed (it is the record itself, as Lambda delivered it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Why it was set aside.
    pub reason: String,
    /// The record.
    pub record: ChangeRecord,
}

/// Where dead letters go: an SQS queue on AWS, memory locally.
pub trait DeadLetters: Send + Sync {
    /// Keeps `letter` until it is replayed.
    ///
    /// # Errors
    /// When the queue cannot be reached: the record is then retried, never dropped.
    fn send(&self, letter: DeadLetter) -> BoxFuture<'_, Result<(), InfraError>>;
}

/// What a dead-letter message holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Letter {
    /// A poison record, sent by the consumer.
    Record(Box<DeadLetter>),
    /// A batch that failed after its retries, sent by the event source mapping.
    Batch(BatchLocation),
    /// Neither: kept in the queue and reported, never deleted.
    Unknown(String),
}

/// Where a failed batch is in the stream (`DDBStreamBatchInfo` of Lambda's on-failure record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchLocation {
    /// The stream.
    pub stream_arn: String,
    /// The shard.
    pub shard_id: String,
    /// The batch's first record.
    pub start_sequence_number: String,
    /// The batch's last record.
    pub end_sequence_number: String,
}

impl Letter {
    /// Reads a message body.
    pub fn parse(body: &str) -> Self {
        #[derive(Deserialize)]
        struct OnFailure {
            #[serde(rename = "DDBStreamBatchInfo")]
            batch: BatchLocation,
        }
        if let Ok(letter) = serde_json::from_str::<DeadLetter>(body) {
            return Letter::Record(Box::new(letter));
        }
        if let Ok(on_failure) = serde_json::from_str::<OnFailure>(body) {
            return Letter::Batch(on_failure.batch);
        }
        Letter::Unknown(body.to_owned())
    }
}

/// A message received from the queue.
#[derive(Clone, Debug)]
pub struct Received {
    /// The queue's id of the message: the same on every receive.
    pub id: String,
    /// What it holds.
    pub letter: Letter,
    /// To delete it (changes on every receive).
    pub receipt_handle: String,
}

/// The dead-letter queue as a replay reads it: receive, then delete what was replayed.
pub trait DeadLetterQueue: DeadLetters {
    /// Up to ten messages, hidden from other readers for `visibility_seconds` (a message that
    /// is not deleted in that time is received again).
    ///
    /// # Errors
    /// When the queue cannot be reached.
    fn receive(&self, visibility_seconds: i32) -> BoxFuture<'_, Result<Vec<Received>, InfraError>>;

    /// Deletes a replayed message.
    ///
    /// # Errors
    /// When the queue cannot be reached.
    fn delete<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, Result<(), InfraError>>;

    /// Makes a received message visible again now, for the next reader.
    ///
    /// # Errors
    /// When the queue cannot be reached.
    fn release<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, Result<(), InfraError>>;
}

/// The stream a failed batch is read back from.
pub trait StreamArchive: Send + Sync {
    /// The records of `location`, oldest first; fewer (or none) when the stream no longer keeps
    /// them.
    ///
    /// # Errors
    /// When the stream cannot be read, e.g. the records are older than its retention.
    fn read_batch<'a>(
        &'a self,
        location: &'a BatchLocation,
    ) -> BoxFuture<'a, Result<Vec<ChangeRecord>, InfraError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_on_failure_record_is_read_as_a_batch_location() {
        // The shape AWS documents for a DynamoDB stream's on-failure destination.
        let body = r#"{
            "requestContext": {"requestId": "316aa6d0", "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction", "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 1},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2019-11-14T00:38:06.021Z",
            "DDBStreamBatchInfo": {
                "shardId": "shardId-00000001573689847184-864758bb",
                "startSequenceNumber": "800000000003126276362",
                "endSequenceNumber": "800000000003126276362",
                "approximateArrivalOfFirstRecord": "2019-11-14T00:38:04Z",
                "approximateArrivalOfLastRecord": "2019-11-14T00:38:05Z",
                "batchSize": 1,
                "streamArn": "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
            }
        }"#;
        let Letter::Batch(location) = Letter::parse(body) else {
            panic!("not read as a batch");
        };
        assert_eq!(location.shard_id, "shardId-00000001573689847184-864758bb");
        assert_eq!(location.start_sequence_number, "800000000003126276362");
        assert!(matches!(Letter::parse("{}"), Letter::Unknown(_)));
    }

    #[test]
    fn a_dead_letter_reads_back_as_itself() {
        let letter = DeadLetter {
            reason: "the new image is not a trip".to_owned(),
            record: ChangeRecord::default(),
        };
        let body = serde_json::to_string(&letter).unwrap();
        assert_eq!(Letter::parse(&body), Letter::Record(Box::new(letter)));
    }
}
