//! Projecting change records of the single table into the search table: what the stream
//! consumer does with a batch, wherever the batch comes from (a Lambda invocation, the Streams
//! API of a DynamoDB-compatible server, the in-memory store's feed).

use std::sync::Arc;

use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use kernel::InfraError;
use kernel::dynamo::ItemReader;
use kernel::dynamo::keys::{ENTITY_TYPE, VERSION};
use kernel::stream::{ChangeRecord, EventName, image};
use trip::infrastructure::dynamodb::ENTITY as TRIP_ENTITY;
use trip::infrastructure::trip_from_item;

use crate::domain::{Applied, DeadLetter, DeadLetters, Projection, SearchRepository, TripDocument};

/// What a record asks of the search table: nothing when it is not about a trip, or the
/// projection.
///
/// # Errors
/// Why the record can never be projected (an image that is not a trip as the trip service
/// writes it, an event name DynamoDB does not send): a poison record, for the dead-letter queue.
pub fn projection(record: &ChangeRecord) -> Result<Option<Projection>, String> {
    let new = image(&record.change.new_image);
    let old = image(&record.change.old_image);
    let is_trip = |item: &kernel::dynamo::Item| {
        ItemReader::new(item)
            .optional_string(ENTITY_TYPE)
            .ok()
            .flatten()
            == Some(TRIP_ENTITY)
    };
    if !is_trip(&new) && !is_trip(&old) {
        return Ok(None);
    }
    let at = record
        .change
        .approximate_creation_date_time
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match EventName::of(record) {
        Some(EventName::Insert | EventName::Modify) => {
            let trip =
                trip_from_item(&new).map_err(|e| format!("the new image is not a trip: {e}"))?;
            Ok(Some(Projection::Upsert(TripDocument::of(&trip, at))))
        }
        Some(EventName::Remove) => {
            let reader = ItemReader::new(&old);
            let trip_id = reader
                .parse("trip_id")
                .map_err(|e| format!("the old image is not a trip: {e}"))?;
            let version = reader
                .number(VERSION)
                .map_err(|e| format!("the old image is not a trip: {e}"))?;
            Ok(Some(Projection::Remove {
                trip_id,
                version,
                removed_at: at,
            }))
        }
        None => Err(format!("unknown event name `{}`", record.event_name)),
    }
}

/// What a batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Documents written.
    pub written: usize,
    /// Records older than what the table holds (duplicates, retries, late deliveries).
    pub stale: usize,
    /// Records of other items than trips.
    pub skipped: usize,
    /// Poison records sent to the dead-letter queue.
    pub dead_lettered: usize,
    /// The first record that failed (its sequence number): it and every record after it are
    /// to be delivered again. `None` when the whole batch is done.
    pub retry_from: Option<String>,
}

impl BatchOutcome {
    fn count(&mut self, projected: Projected) {
        match projected {
            Projected::Written => self.written += 1,
            Projected::Stale => self.stale += 1,
            Projected::Skipped => self.skipped += 1,
        }
    }

    /// The answer of a Lambda function with `ReportBatchItemFailures`: the event source mapping
    /// checkpoints before the first failure and redelivers from it.
    pub fn response(&self) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        if let Some(sequence_number) = &self.retry_from {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number.clone());
            response.batch_item_failures.push(failure);
        }
        response
    }
}

/// What one record did to the search table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projected {
    /// Its document was written.
    Written,
    /// The table holds its version or a later one.
    Stale,
    /// It is not about a trip.
    Skipped,
}

/// Why a record was not projected.
#[derive(Debug)]
pub enum Unprojectable {
    /// It never can be: the reason.
    Poison(String),
    /// The search table failed: worth retrying.
    Store(InfraError),
}

/// The stream consumer's logic.
#[derive(Clone)]
pub struct Projector {
    repository: Arc<dyn SearchRepository>,
    dead_letters: Arc<dyn DeadLetters>,
}

impl Projector {
    /// Projects into `repository`, setting poison records aside in `dead_letters`.
    pub fn new(repository: Arc<dyn SearchRepository>, dead_letters: Arc<dyn DeadLetters>) -> Self {
        Self {
            repository,
            dead_letters,
        }
    }

    /// Projects `records` in order. Stops at the first record whose projection or dead letter
    /// cannot be stored (the store or the queue failed: worth retrying), and names it in
    /// [`BatchOutcome::retry_from`]; the records after it are redelivered with it, and the ones
    /// before it are not (each write is conditional on the version, so a redelivery would be
    /// harmless anyway). A record that can never be projected goes to the dead-letter queue and
    /// the batch goes on: one bad record never blocks the stream.
    pub async fn handle(&self, records: &[ChangeRecord]) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        for record in records {
            let done = match self.project(record).await {
                Ok(applied) => {
                    outcome.count(applied);
                    Ok(())
                }
                Err(Unprojectable::Poison(reason)) => {
                    tracing::error!(
                        sequence_number =
                            record.change.sequence_number.as_deref().unwrap_or_default(),
                        reason,
                        "a change record cannot be projected: sent to the dead-letter queue"
                    );
                    let letter = DeadLetter {
                        reason,
                        record: record.clone(),
                    };
                    self.dead_letters
                        .send(letter)
                        .await
                        .map(|()| outcome.dead_lettered += 1)
                }
                Err(Unprojectable::Store(error)) => Err(error),
            };
            if let Err(error) = done {
                let identifier = record
                    .change
                    .sequence_number
                    .clone()
                    .unwrap_or_else(|| record.event_id.clone());
                tracing::warn!(sequence_number = identifier, %error, "projection failed; the batch is retried from this record");
                outcome.retry_from = Some(identifier);
                break;
            }
        }
        tracing::info!(
            records = records.len(),
            written = outcome.written,
            stale = outcome.stale,
            skipped = outcome.skipped,
            dead_lettered = outcome.dead_lettered,
            retry_from = outcome.retry_from.as_deref(),
            "projected a batch"
        );
        outcome
    }

    /// Applies one record to the search table, with no dead letter for a poison one: what a
    /// batch and a replay both do with a record.
    ///
    /// # Errors
    /// [`Unprojectable::Poison`] when the record can never be projected;
    /// [`Unprojectable::Store`] when the search table failed.
    pub async fn project(&self, record: &ChangeRecord) -> Result<Projected, Unprojectable> {
        match projection(record).map_err(Unprojectable::Poison)? {
            None => Ok(Projected::Skipped),
            Some(projection) => match self.repository.apply(projection).await {
                Ok(Applied::Written) => Ok(Projected::Written),
                Ok(Applied::Stale) => Ok(Projected::Stale),
                Err(error) => Err(Unprojectable::Store(error)),
            },
        }
    }

    /// Where poison records go.
    pub fn dead_letters(&self) -> &Arc<dyn DeadLetters> {
        &self.dead_letters
    }
}
