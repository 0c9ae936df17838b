//! The stream consumer's dead-letter queue on SQS.
//!
//! Two kinds of message share it, and a replay must read both ([`Letter`] tells them apart; the
//! replay command itself is still to come):
//! - [`DeadLetter`]s the consumer sends itself: a record that can never be projected, in full,
//!   with the reason;
//! - the event source mapping's on-failure records: when a batch still fails after its retries
//!   (or its records grow too old), Lambda sends the batch's *location* in the stream
//!   (`DDBStreamBatchInfo`: stream ARN, shard, first and last sequence numbers), not its records.
//!   They are read back from the stream, which keeps them 24 hours.

use aws_sdk_sqs::Client;
use kernel::{BoxFuture, InfraError};
use serde::Deserialize;

use crate::domain::{DeadLetter, DeadLetters};

/// Dead letters as SQS messages (JSON bodies).
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    /// The queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Up to ten messages, each with its receipt handle (to [`SqsDeadLetters::delete`] it once
    /// replayed); hidden from other readers for `visibility_seconds`.
    ///
    /// # Errors
    /// When SQS fails.
    pub async fn receive(&self, visibility_seconds: i32) -> Result<Vec<Message>, InfraError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility_seconds)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("ReceiveMessage", e))?;
        Ok(output
            .messages()
            .iter()
            .map(|m| Message {
                body: Letter::parse(m.body().unwrap_or_default()),
                receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Deletes a replayed message.
    ///
    /// # Errors
    /// When SQS fails.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), InfraError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("DeleteMessage", e))?;
        Ok(())
    }
}

impl DeadLetters for SqsDeadLetters {
    fn send(&self, letter: DeadLetter) -> BoxFuture<'_, Result<(), InfraError>> {
        Box::pin(async move {
            let body = serde_json::to_string(&letter)
                .map_err(|e| InfraError::failed(format!("serialising a dead letter: {e}")))?;
            self.client
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(body)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("SendMessage", e))?;
            Ok(())
        })
    }
}

/// A message of the queue.
#[derive(Clone, Debug)]
pub struct Message {
    /// What it holds.
    pub body: Letter,
    /// To delete it.
    pub receipt_handle: String,
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
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
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
}
