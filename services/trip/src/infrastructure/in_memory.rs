//! Trips in memory: the embedded default store of local runs, and the fake of unit tests.

use std::collections::HashMap;
use std::future::ready;
use std::sync::Mutex;

use kernel::dynamo::Key;
use kernel::stream::{Change, ChangeFeed};
use kernel::{BoxFuture, EventEnvelope, InfraError, TripId};

use super::dynamodb::stored_item;
use crate::domain::{SaveOutcome, Trip, TripChange, TripRepository};

/// Trips, processed idempotency keys and the outbox, behind one lock so that each save is atomic
/// as a DynamoDB transaction is.
///
/// With a [`ChangeFeed`] ([`InMemoryTripRepository::streaming_to`]) every stored trip is also
/// published as the stream record DynamoDB would emit for its item (same key, old and new images,
/// in commit order), so that stream consumers run on the embedded store as on DynamoDB. Only
/// trip items are published: they are what the consumers read.
#[derive(Default)]
pub struct InMemoryTripRepository {
    state: Mutex<State>,
    stream: Option<ChangeFeed>,
}

#[derive(Default)]
struct State {
    trips: HashMap<TripId, Trip>,
    processed: HashMap<String, Trip>,
    outbox: Vec<EventEnvelope>,
}

impl InMemoryTripRepository {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that publishes each change of a trip item to `stream`.
    pub fn streaming_to(stream: ChangeFeed) -> Self {
        Self {
            state: Mutex::default(),
            stream: Some(stream),
        }
    }

    /// The events announced so far, oldest first.
    pub fn outbox(&self) -> Vec<EventEnvelope> {
        self.lock().outbox.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves no half-written change (each save is one
        // insertion sequence), so a poisoned lock is safe to keep using.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl InMemoryTripRepository {
    fn save_now(&self, change: TripChange) -> Result<SaveOutcome, InfraError> {
        let mut state = self.lock();
        if let Some(stored) = state.processed.get(change.key.as_str()) {
            return Ok(SaveOutcome::AlreadyProcessed(stored.clone()));
        }
        let current = state.trips.get(&change.trip.trip_id).map(|t| t.version);
        let fresh = match current {
            None => change.expected.is_new(),
            Some(version) => !change.expected.is_new() && version == change.expected,
        };
        if !fresh {
            return Ok(SaveOutcome::Stale);
        }
        let event = EventEnvelope::now(&change.event)
            .map_err(|e| InfraError::failed(format!("serialising an event: {e}")))?;
        let mut trip = change.trip;
        trip.version = change.expected.next();
        if let Some(stream) = &self.stream {
            // Under the lock, so that the stream's order is the commit order.
            let old = state
                .trips
                .get(&trip.trip_id)
                .map(stored_item)
                .transpose()?;
            let new = stored_item(&trip)?;
            stream.publish(Change::new(Key::trip(trip.trip_id), old, Some(new)));
        }
        state.trips.insert(trip.trip_id, trip.clone());
        state
            .processed
            .insert(change.key.as_str().to_owned(), trip.clone());
        state.outbox.push(event);
        Ok(SaveOutcome::Saved(trip))
    }
}

/// Each method does its work under the lock, before its future is first polled: the lock is
/// never held across an `.await`.
impl TripRepository for InMemoryTripRepository {
    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<Trip>, InfraError>> {
        let trip = self.lock().trips.get(&trip_id).cloned();
        Box::pin(ready(Ok(trip)))
    }

    fn save(&self, change: TripChange) -> BoxFuture<'_, Result<SaveOutcome, InfraError>> {
        Box::pin(ready(self.save_now(change)))
    }
}
