//! The search table in memory: the embedded default store of local runs, and the fake of unit
//! tests. It keeps the status index as DynamoDB would (same partitions and sort keys, same
//! paging), so a search behaves the same on both.

use std::collections::{BTreeMap, HashMap};
use std::future::ready;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use kernel::{BoxFuture, InfraError, TripId};

use crate::domain::{
    Applied, BucketPage, DeadLetter, DeadLetterQueue, DeadLetters, DepartureKey, Letter,
    Projection, Received, SearchRepository, Stored, TripDocument, bucket,
};

/// Documents and their status index, behind one lock: each apply is atomic, as a conditional
/// write is.
#[derive(Default)]
pub struct InMemorySearchRepository {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<TripId, Entry>,
    /// (partition, sort key) → trip, for documents with a departure date.
    index: BTreeMap<(String, String), TripId>,
}

enum Entry {
    Document(TripDocument),
    Tombstone { version: u64 },
}

impl Entry {
    fn stored(&self) -> Stored {
        match self {
            Entry::Document(document) => Stored {
                version: document.version,
                removed: false,
            },
            Entry::Tombstone { version } => Stored {
                version: *version,
                removed: true,
            },
        }
    }
}

fn index_key(document: &TripDocument) -> Option<(String, String)> {
    let date = document.departure_date()?;
    let key = DepartureKey {
        date,
        trip_id: document.trip_id,
    };
    Some((bucket(document.status, date), key.to_string()))
}

impl InMemorySearchRepository {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many documents it holds (tombstones not counted).
    pub fn len(&self) -> usize {
        let state = self.lock();
        state
            .entries
            .values()
            .filter(|e| matches!(e, Entry::Document(_)))
            .count()
    }

    /// Whether it holds no document.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each apply checks, then changes both maps without an await or a panic in between.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn apply_now(&self, projection: Projection) -> Applied {
        let mut state = self.lock();
        let trip_id = projection.trip_id();
        let stored = state.entries.get(&trip_id).map(Entry::stored);
        if !projection.supersedes(stored) {
            return Applied::Stale;
        }
        if let Some(Entry::Document(old)) = state.entries.get(&trip_id)
            && let Some(key) = index_key(old)
        {
            state.index.remove(&key);
        }
        let entry = match projection {
            Projection::Upsert(document) => {
                if let Some(key) = index_key(&document) {
                    state.index.insert(key, trip_id);
                }
                Entry::Document(document)
            }
            Projection::Remove { version, .. } => Entry::Tombstone { version },
        };
        state.entries.insert(trip_id, entry);
        Applied::Written
    }

    fn query_now(
        &self,
        bucket: &str,
        first: &str,
        last: &str,
        after: Option<&str>,
        limit: usize,
    ) -> BucketPage {
        let state = self.lock();
        let from = (bucket.to_owned(), first.to_owned());
        let to = (bucket.to_owned(), last.to_owned());
        let documents: Vec<TripDocument> = state
            .index
            .range(from..=to)
            .filter(|((_, key), _)| after.is_none_or(|after| key.as_str() > after))
            .take(limit)
            .filter_map(|(_, trip_id)| match state.entries.get(trip_id) {
                Some(Entry::Document(document)) => Some(document.clone()),
                _ => None,
            })
            .collect();
        // As DynamoDB: a page that reached the limit says where it stopped, even when nothing
        // follows.
        let last_key = (limit > 0 && documents.len() == limit)
            .then(|| documents.last().and_then(index_key).map(|(_, key)| key))
            .flatten();
        BucketPage {
            documents,
            last_key,
        }
    }
}

impl SearchRepository for InMemorySearchRepository {
    fn apply(&self, projection: Projection) -> BoxFuture<'_, Result<Applied, InfraError>> {
        Box::pin(ready(Ok(self.apply_now(projection))))
    }

    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<TripDocument>, InfraError>> {
        let document = match self.lock().entries.get(&trip_id) {
            Some(Entry::Document(document)) => Some(document.clone()),
            _ => None,
        };
        Box::pin(ready(Ok(document)))
    }

    fn query<'a>(
        &'a self,
        bucket: &'a str,
        first: &'a str,
        last: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<BucketPage, InfraError>> {
        Box::pin(ready(Ok(self.query_now(bucket, first, last, after, limit))))
    }
}

/// Dead letters in memory, kept as SQS keeps them (JSON bodies, receive hides a message for a
/// while, delete removes it): the local runs' queue, and the fake of the replay's tests.
#[derive(Default)]
pub struct InMemoryDeadLetters {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    next_id: u64,
    messages: Vec<Message>,
}

struct Message {
    id: String,
    body: String,
    /// Set while received and not deleted: the receipt handle and when it shows again.
    in_flight: Option<(String, Instant)>,
}

impl InMemoryDeadLetters {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message with this body, as any sender to the queue can (e.g. the event source
    /// mapping's on-failure record).
    pub fn push_body(&self, body: impl Into<String>) {
        let mut queue = self.lock();
        queue.next_id += 1;
        let id = format!("m{}", queue.next_id);
        queue.messages.push(Message {
            id,
            body: body.into(),
            in_flight: None,
        });
    }

    /// The letters that wait, oldest first, whether in flight or not.
    pub fn letters(&self) -> Vec<Letter> {
        self.lock()
            .messages
            .iter()
            .map(|m| Letter::parse(&m.body))
            .collect()
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        self.lock().messages.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DeadLetters for InMemoryDeadLetters {
    fn send(&self, letter: DeadLetter) -> BoxFuture<'_, Result<(), InfraError>> {
        let sent = serde_json::to_string(&letter)
            .map(|body| self.push_body(body))
            .map_err(|e| InfraError::failed(format!("serialising a dead letter: {e}")));
        Box::pin(ready(sent))
    }
}

impl DeadLetterQueue for InMemoryDeadLetters {
    fn receive(&self, visibility_seconds: i32) -> BoxFuture<'_, Result<Vec<Received>, InfraError>> {
        let now = Instant::now();
        let hidden_until =
            now + Duration::from_secs(u64::try_from(visibility_seconds).unwrap_or(0));
        let mut queue = self.lock();
        queue.next_id += 1;
        let receive = queue.next_id;
        let received = queue
            .messages
            .iter_mut()
            .filter(|m| m.in_flight.as_ref().is_none_or(|(_, until)| *until <= now))
            .take(10)
            .map(|m| {
                let receipt_handle = format!("{}@{receive}", m.id);
                m.in_flight = Some((receipt_handle.clone(), hidden_until));
                Received {
                    id: m.id.clone(),
                    letter: Letter::parse(&m.body),
                    receipt_handle,
                }
            })
            .collect();
        Box::pin(ready(Ok(received)))
    }

    fn delete<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, Result<(), InfraError>> {
        // As SQS: a stale handle (the message was received again since) deletes nothing.
        self.lock().messages.retain(|m| {
            m.in_flight
                .as_ref()
                .is_none_or(|(handle, _)| handle != receipt_handle)
        });
        Box::pin(ready(Ok(())))
    }

    fn release<'a>(&'a self, receipt_handle: &'a str) -> BoxFuture<'a, Result<(), InfraError>> {
        for message in &mut self.lock().messages {
            if message
                .in_flight
                .as_ref()
                .is_some_and(|(handle, _)| handle == receipt_handle)
            {
                message.in_flight = None;
            }
        }
        Box::pin(ready(Ok(())))
    }
}
