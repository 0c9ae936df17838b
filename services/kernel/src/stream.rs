//! Change records of the single table, in the shape DynamoDB Streams gives them to a Lambda
//! function (`aws_lambda_events`' DynamoDB event), and [`ChangeFeed`], the stream of the
//! in-memory store.
//!
//! One record type for every source: a Lambda invocation's batch, the Streams API of a
//! DynamoDB-compatible server (converted record by record), and the in-memory store. A consumer
//! is written once and tested on all three.
//!
//! ```
//! use kernel::dynamo::{ItemBuilder, Key};
//! use kernel::stream::{Change, ChangeFeed, EventName};
//!
//! let feed = ChangeFeed::new("trips");
//! let item = ItemBuilder::new(&Key::new("TRIP#1", "META")).string("status", "PENDING").build();
//! feed.publish(Change::new(Key::new("TRIP#1", "META"), None, Some(item)));
//!
//! let read = feed.read(None, 100)?;
//! assert_eq!(read.len(), 1);
//! assert_eq!(EventName::of(&read[0]), Some(EventName::Insert));
//! // Sequence numbers grow; a reader resumes after the last one it processed.
//! assert!(feed.read(read[0].change.sequence_number.as_deref(), 100)?.is_empty());
//! # Ok::<(), kernel::stream::Trimmed>(())
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use aws_lambda_events::event::dynamodb::{Event as ChangeBatch, EventRecord as ChangeRecord};
use aws_lambda_events::event::dynamodb::{StreamRecord, StreamViewType};
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::dynamo::keys::{PK, SK};
use crate::dynamo::{Item, Key};

/// What happened to an item: the record's `eventName`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventName {
    /// The item was created.
    Insert,
    /// The item was replaced or updated.
    Modify,
    /// The item was deleted (by a writer, or by TTL).
    Remove,
}

impl EventName {
    /// The name in a record.
    pub fn as_str(self) -> &'static str {
        match self {
            EventName::Insert => "INSERT",
            EventName::Modify => "MODIFY",
            EventName::Remove => "REMOVE",
        }
    }

    /// The record's event name, if it is one DynamoDB sends.
    pub fn of(record: &ChangeRecord) -> Option<Self> {
        match record.event_name.as_str() {
            "INSERT" => Some(EventName::Insert),
            "MODIFY" => Some(EventName::Modify),
            "REMOVE" => Some(EventName::Remove),
            _ => None,
        }
    }
}

/// A committed change of one item: its key and its images before and after.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    key: Key,
    old: Option<Item>,
    new: Option<Item>,
}

impl Change {
    /// The change of the item with `key` from `old` to `new` (`None`: absent).
    pub fn new(key: Key, old: Option<Item>, new: Option<Item>) -> Self {
        Self { key, old, new }
    }

    /// `INSERT` without an old image, `REMOVE` without a new one, else `MODIFY`.
    pub fn event_name(&self) -> EventName {
        match (&self.old, &self.new) {
            (None, _) => EventName::Insert,
            (Some(_), None) => EventName::Remove,
            (Some(_), Some(_)) => EventName::Modify,
        }
    }

    /// The record DynamoDB Streams delivers for this change, with view type
    /// `NEW_AND_OLD_IMAGES`, from the stream `stream_arn`.
    pub fn into_record(
        self,
        sequence_number: String,
        at: OffsetDateTime,
        stream_arn: &str,
    ) -> ChangeRecord {
        let event_name = self.event_name();
        let keys: Item = [
            (
                PK.to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S(self.key.pk().to_owned()),
            ),
            (
                SK.to_owned(),
                aws_sdk_dynamodb::types::AttributeValue::S(self.key.sk().to_owned()),
            ),
        ]
        .into();
        let size = approximate_size(&keys)
            + self.old.as_ref().map_or(0, approximate_size)
            + self.new.as_ref().map_or(0, approximate_size);
        let mut change = StreamRecord::default();
        change.approximate_creation_date_time = chrono_time(at);
        change.keys = keys.into();
        change.old_image = self.old.unwrap_or_default().into();
        change.new_image = self.new.unwrap_or_default().into();
        change.sequence_number = Some(sequence_number.clone());
        change.size_bytes = i64::try_from(size).unwrap_or(i64::MAX);
        change.stream_view_type = Some(StreamViewType::NewAndOldImages);
        let mut record = ChangeRecord::default();
        region_of(stream_arn).clone_into(&mut record.aws_region);
        record.change = change;
        // DynamoDB's event ids are opaque and unique per record; the sequence number is too.
        record.event_id = sequence_number;
        event_name.as_str().clone_into(&mut record.event_name);
        record.event_source = Some("aws:dynamodb".to_owned());
        record.event_version = Some("1.1".to_owned());
        record.event_source_arn = Some(stream_arn.to_owned());
        record
    }
}

fn chrono_time(at: OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    let nanos = at.unix_timestamp_nanos();
    chrono::DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}

/// The region of an ARN (`arn:aws:dynamodb:<region>:…`), or `""`.
fn region_of(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// About what DynamoDB counts in `SizeBytes`: attribute names and values.
fn approximate_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + format!("{value:?}").len())
        .sum()
}

/// A reader asked for records after one the feed no longer keeps: as DynamoDB's
/// `TrimmedDataAccessException`, the records in between are lost to it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the stream no longer holds the records after {after}: the oldest kept is {oldest}")]
pub struct Trimmed {
    /// The sequence number asked for.
    pub after: String,
    /// The oldest sequence number still held.
    pub oldest: String,
}

/// The in-memory store's stream: every committed change of the items it holds, in commit order,
/// as one shard whose records a reader pages through by sequence number.
///
/// Like a DynamoDB stream it keeps a bounded window (here a number of records, there 24 hours):
/// memory does not grow with the number of changes, and a reader that falls further behind than
/// the window is told so ([`Trimmed`]) instead of silently skipping records.
#[derive(Clone)]
pub struct ChangeFeed {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    published: Notify,
    stream_arn: String,
    capacity: usize,
}

struct State {
    records: VecDeque<ChangeRecord>,
    /// The number of the next record; sequence numbers are never reused.
    next: u64,
}

/// How many records [`ChangeFeed::new`] keeps: far more than a local run writes before its
/// consumer catches up, and a few tens of MB at most.
pub const DEFAULT_CAPACITY: usize = 100_000;

impl ChangeFeed {
    /// The stream of the local table `table`, keeping [`DEFAULT_CAPACITY`] records.
    pub fn new(table: &str) -> Self {
        Self::with_capacity(table, DEFAULT_CAPACITY)
    }

    /// The stream of `table`, keeping the last `capacity` records (at least one).
    pub fn with_capacity(table: &str, capacity: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    records: VecDeque::new(),
                    next: 1,
                }),
                published: Notify::new(),
                stream_arn: format!(
                    "arn:aws:dynamodb:local:000000000000:table/{table}/stream/local"
                ),
                capacity: capacity.max(1),
            }),
        }
    }

    /// The stream's ARN, as records carry it in `eventSourceARN`.
    pub fn stream_arn(&self) -> &str {
        &self.shared.stream_arn
    }

    /// Appends the record of `change`. Call it while the change's commit still holds the
    /// store's lock, so that the stream's order is the commit order.
    pub fn publish(&self, change: Change) {
        let mut state = self.lock();
        let record = change.into_record(
            sequence_number(state.next),
            OffsetDateTime::now_utc(),
            &self.shared.stream_arn,
        );
        state.next += 1;
        state.records.push_back(record);
        while state.records.len() > self.shared.capacity {
            state.records.pop_front();
        }
        drop(state);
        self.shared.published.notify_waiters();
    }

    /// Up to `limit` records after the sequence number `after` (from the oldest kept when
    /// `None`), oldest first.
    ///
    /// # Errors
    /// [`Trimmed`] when records after `after` are no longer held.
    pub fn read(&self, after: Option<&str>, limit: usize) -> Result<Vec<ChangeRecord>, Trimmed> {
        let state = self.lock();
        let first_kept = state.next - state.records.len() as u64;
        let start = match after {
            None => 0,
            Some(after) => {
                let after: u64 = after.parse().unwrap_or(0);
                if after + 1 < first_kept {
                    return Err(Trimmed {
                        after: sequence_number(after),
                        oldest: sequence_number(first_kept),
                    });
                }
                usize::try_from((after + 1).saturating_sub(first_kept)).unwrap_or(usize::MAX)
            }
        };
        Ok(state
            .records
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect())
    }

    /// The sequence number of the last record published, if any.
    pub fn last_sequence_number(&self) -> Option<String> {
        let state = self.lock();
        (state.next > 1).then(|| sequence_number(state.next - 1))
    }

    /// Waits until a record is published after this call starts (or a moment passes, so that a
    /// reader polling in a loop never misses a wake-up).
    pub async fn wait(&self, at_most: std::time::Duration) {
        let _ = tokio::time::timeout(at_most, self.shared.published.notified()).await;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each publish is one push under the lock: a panic cannot leave it half done.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("stream_arn", &self.shared.stream_arn)
            .field("capacity", &self.shared.capacity)
            .finish_non_exhaustive()
    }
}

/// DynamoDB's sequence numbers are decimal strings of 21 or more digits that grow within a
/// shard; fixed width keeps them sortable as text too.
fn sequence_number(n: u64) -> String {
    format!("{n:021}")
}

/// The image of an item in a record, as the SDK's item type (what the services' item readers
/// take); empty when the record has none.
pub fn image(image: &serde_dynamo::Item) -> Item {
    image.clone().into()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::AttributeValue;

    use super::*;
    use crate::dynamo::ItemBuilder;

    fn item(status: &str) -> Item {
        ItemBuilder::new(&Key::new("TRIP#1", "META"))
            .string("status", status)
            .number("version", 1)
            .build()
    }

    #[test]
    fn a_record_has_the_shape_lambda_delivers() {
        let change = Change::new(
            Key::new("TRIP#1", "META"),
            Some(item("PENDING")),
            Some(item("CONFIRMED")),
        );
        let record = change.into_record(
            sequence_number(7),
            OffsetDateTime::UNIX_EPOCH,
            "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x",
        );
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["eventName"], "MODIFY");
        assert_eq!(json["eventSource"], "aws:dynamodb");
        assert_eq!(json["awsRegion"], "eu-west-1");
        assert_eq!(json["dynamodb"]["Keys"]["PK"]["S"], "TRIP#1");
        assert_eq!(json["dynamodb"]["OldImage"]["status"]["S"], "PENDING");
        assert_eq!(json["dynamodb"]["NewImage"]["version"]["N"], "1");
        assert_eq!(json["dynamodb"]["SequenceNumber"], "000000000000000000007");
        assert_eq!(json["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        // And back: what the Lambda runtime would hand the consumer.
        let back: ChangeRecord = serde_json::from_value(json).unwrap();
        assert_eq!(
            image(&back.change.new_image)["status"],
            AttributeValue::S("CONFIRMED".into())
        );
    }

    #[test]
    fn the_event_name_follows_the_images() {
        let key = Key::new("TRIP#1", "META");
        assert_eq!(
            Change::new(key.clone(), None, Some(item("A"))).event_name(),
            EventName::Insert
        );
        assert_eq!(
            Change::new(key.clone(), Some(item("A")), Some(item("B"))).event_name(),
            EventName::Modify
        );
        assert_eq!(
            Change::new(key, Some(item("A")), None).event_name(),
            EventName::Remove
        );
    }

    #[test]
    fn a_reader_pages_through_and_is_told_when_it_fell_out_of_the_window() {
        let feed = ChangeFeed::with_capacity("t", 3);
        for status in ["A", "B", "C", "D", "E"] {
            feed.publish(Change::new(
                Key::new("TRIP#1", "META"),
                None,
                Some(item(status)),
            ));
        }
        let kept = feed.read(None, 10).unwrap();
        let numbers: Vec<_> = kept
            .iter()
            .map(|r| r.change.sequence_number.clone().unwrap())
            .collect();
        assert_eq!(
            numbers,
            [sequence_number(3), sequence_number(4), sequence_number(5)]
        );
        assert_eq!(feed.read(Some(&sequence_number(3)), 1).unwrap().len(), 1);
        assert_eq!(feed.read(Some(&sequence_number(2)), 10).unwrap().len(), 3);
        assert_eq!(
            feed.read(Some(&sequence_number(1)), 10),
            Err(Trimmed {
                after: sequence_number(1),
                oldest: sequence_number(3)
            })
        );
        assert!(feed.read(Some(&sequence_number(5)), 10).unwrap().is_empty());
    }
}
