//! The stream consumer's dead-letter queue on SQS: the consumer sends poison records to it, the
//! event source mapping sends the location of batches that failed for good, and a replay
//! ([`crate::application::Replay`]) receives both and deletes what it re-drove.

use std::sync::{Arc, LazyLock};

use aws_sdk_sqs::Client;
use kernel::{BoxFuture, InfraError};

use crate::domain::{DeadLetter, DeadLetterQueue, DeadLetters, Letter, Received};

/// A client built when it is first used.
type Deferred = LazyLock<Client, Box<dyn FnOnce() -> Client + Send>>;

/// Dead letters as SQS messages (JSON bodies).
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    client: Arc<Deferred>,
    queue_url: String,
}

impl SqsDeadLetters {
    /// The queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self::deferred(move || client, queue_url)
    }

    /// The queue at `queue_url`, its client built by `client` when the first message goes out.
    ///
    /// For the stream consumer, which sends one only for a record it can never project: building
    /// an SDK client (its configuration, plugins and interceptors) is part of every cold start,
    /// for a queue most execution environments never use.
    ///
    /// ```no_run
    /// # fn config() -> aws_sdk_sqs::config::Config { unimplemented!() }
    /// use search::infrastructure::SqsDeadLetters;
    ///
    /// let config = config();
    /// let queue = SqsDeadLetters::deferred(
    ///     move || aws_sdk_sqs::Client::from_conf(config),
    ///     "https://sqs.ap-northeast-1.amazonaws.com/123456789012/trip-search-dead-letters",
    /// );
    /// assert!(queue.url().ends_with("/trip-search-dead-letters"));
    /// ```
    pub fn deferred(
        client: impl FnOnce() -> Client + Send + 'static,
        queue_url: impl Into<String>,
    ) -> Self {
        Self {
            client: Arc::new(LazyLock::new(Box::new(client))),
            queue_url: queue_url.into(),
        }
    }

    /// The queue named `name`, created when missing (`CreateQueue` answers an existing queue's
    /// URL when its attributes match): for local runs, where no stack creates it.
    ///
    /// # Errors
    /// When SQS fails.
    pub async fn ensure(client: Client, name: &str) -> Result<Self, InfraError> {
        let output = client
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("CreateQueue", e))?;
        let url = output
            .queue_url()
            .ok_or_else(|| InfraError::failed(format!("CreateQueue {name} answered no URL")))?
            .to_owned();
        Ok(Self::new(client, url))
    }

    /// The queue's URL.
    pub fn url(&self) -> &str {
        &self.queue_url
    }

    /// How many messages wait (SQS's approximate count: visible and in flight).
    ///
    /// # Errors
    /// When SQS fails.
    pub async fn approximate_len(&self) -> Result<usize, InfraError> {
        use aws_sdk_sqs::types::QueueAttributeName as Name;
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(Name::ApproximateNumberOfMessages)
            .attribute_names(Name::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| InfraError::from_sdk("GetQueueAttributes", e))?;
        let count = |name: Name| {
            output
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0)
        };
        Ok(count(Name::ApproximateNumberOfMessages)
            + count(Name::ApproximateNumberOfMessagesNotVisible))
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

impl DeadLetterQueue for SqsDeadLetters {
    fn receive(&self, visibility_seconds: i32) -> BoxFuture<'_, Result<Vec<Received>, InfraError>> {
        Box::pin(async move {
            let output = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(visibility_seconds)
                // Short polling can answer empty while messages wait on other servers; a
                // second of long polling cannot.
                .wait_time_seconds(1)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("ReceiveMessage", e))?;
            Ok(output
                .messages()
                .iter()
                .map(|m| Received {
                    id: m.message_id().unwrap_or_default().to_owned(),
                    letter: Letter::parse(m.body().unwrap_or_default()),
                    receipt_handle: m.receipt_handle().unwrap_or_default().to_owned(),
                })
                .collect())
        })
    }

    fn delete<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, Result<(), InfraError>> {
        Box::pin(async move {
            self.client
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt_handle)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("DeleteMessage", e))?;
            Ok(())
        })
    }

    fn release<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, Result<(), InfraError>> {
        Box::pin(async move {
            self.client
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt_handle)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("ChangeMessageVisibility", e))?;
            Ok(())
        })
    }
}
