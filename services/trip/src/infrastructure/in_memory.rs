//! Trips in memory: the embedded default store of local runs, and the fake of unit tests.

use std::collections::HashMap;
use std::future::ready;
use std::sync::Mutex;

use kernel::{BoxFuture, EventEnvelope, InfraError, TripId};

use crate::domain::{SaveOutcome, Trip, TripChange, TripRepository};

/// Trips, processed idempotency keys and the outbox, behind one lock so that each save is atomic
/// as a DynamoDB transaction is.
#[derive(Default)]
pub struct InMemoryTripRepository {
    state: Mutex<State>,
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
