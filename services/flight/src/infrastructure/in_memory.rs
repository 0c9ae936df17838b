//! The in-memory adapter: for unit tests and the local saga runner's default store.
//!
//! One mutex guards the whole state, and every port method does its read-modify-write under it,
//! so each method is as atomic as a DynamoDB transaction and concurrent reservations cannot
//! oversell. The lock is never held across an `.await` (the methods compute their result
//! synchronously and return a ready future).

use std::collections::{BTreeMap, HashMap};
use std::future::ready;
use std::sync::{Mutex, MutexGuard, PoisonError};

use kernel::BoxFuture;
use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, DomainEvent, EventEnvelope, InfraError, TripId};

use crate::domain::{
    FlightDate, FlightInventory, FlightRepository, ReleaseOutcome, ReservationStatus,
    ReservationVoided, ReserveAction, ReserveOutcome, SeatCancellation, SeatReservation,
    SeatsReleased, SeatsReserved, VoidOutcome,
};

/// What an idempotency key stands for, as the DynamoDB adapter's idempotency records do.
#[derive(Clone, Debug)]
enum Record {
    Reserve(ReserveAction),
    Cancel(SeatCancellation),
}

#[derive(Debug, Default)]
struct State {
    flights: HashMap<FlightDate, FlightInventory>,
    /// By trip, then by reservation id: ids are UUIDv7, so the last one is the most recent.
    reservations: BTreeMap<(TripId, BookingId), SeatReservation>,
    records: HashMap<IdempotencyKey, Record>,
    outbox: Vec<EventEnvelope>,
}

/// The outbox envelope of `event`, built before any change so that a failure changes nothing.
fn envelope(event: &impl DomainEvent) -> Result<EventEnvelope, InfraError> {
    EventEnvelope::now(event).map_err(|e| InfraError::failed(format!("serialising an event: {e}")))
}

impl State {
    fn cancellation(&self, key: &IdempotencyKey) -> Result<Option<SeatCancellation>, InfraError> {
        match self.records.get(key) {
            None => Ok(None),
            Some(Record::Cancel(result)) => Ok(Some(result.clone())),
            Some(Record::Reserve(_)) => Err(wrong_kind(key, "reservation")),
        }
    }

    fn reserve_action(&self, key: &IdempotencyKey) -> Result<Option<ReserveAction>, InfraError> {
        match self.records.get(key) {
            None => Ok(None),
            Some(Record::Reserve(action)) => Ok(Some(action.clone())),
            Some(Record::Cancel(_)) => Err(wrong_kind(key, "cancellation")),
        }
    }

    fn reserve(
        &mut self,
        reservation: &SeatReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        match self.reserve_action(key)? {
            Some(ReserveAction::Reserved(stored)) => return Ok(ReserveOutcome::Reserved(stored)),
            Some(ReserveAction::Cancelled) => return Ok(ReserveOutcome::AlreadyCancelled),
            None => {}
        }
        let event = envelope(&SeatsReserved::of(reservation))?;
        let Some(inventory) = self.flights.get_mut(&reservation.flight_date()) else {
            return Ok(ReserveOutcome::FlightNotFound);
        };
        if let Err(refused) = inventory.take(reservation.passengers) {
            return Ok(ReserveOutcome::SoldOut {
                seats_left: refused.seats_left,
            });
        }
        self.reservations.insert(
            (reservation.trip_id, reservation.reservation_id),
            reservation.clone(),
        );
        self.records.insert(
            key.clone(),
            Record::Reserve(ReserveAction::Reserved(reservation.clone())),
        );
        self.outbox.push(event);
        Ok(ReserveOutcome::Reserved(reservation.clone()))
    }

    fn release(
        &mut self,
        reservation: &SeatReservation,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<ReleaseOutcome, InfraError> {
        if let Some(stored) = self.cancellation(cancel_key)? {
            return Ok(ReleaseOutcome::Released(stored));
        }
        let id = (reservation.trip_id, reservation.reservation_id);
        match self.reservations.get(&id).map(|r| r.status) {
            Some(ReservationStatus::Reserved) => {}
            Some(ReservationStatus::Cancelled) | None => {
                return Ok(ReleaseOutcome::AlreadyReleased);
            }
        }
        if !self.records.contains_key(action_key) {
            return Err(InfraError::failed(format!(
                "the record of action {action_key} is missing"
            )));
        }
        let event = envelope(&SeatsReleased::of(reservation))?;
        let flight = reservation.flight_date();
        let Some(inventory) = self.flights.get_mut(&flight) else {
            return Err(InfraError::failed(format!(
                "flight {flight} of reservation {} is missing",
                reservation.reservation_id
            )));
        };
        inventory.release(reservation.seats());
        if let Some(stored) = self.reservations.get_mut(&id) {
            stored.status = ReservationStatus::Cancelled;
        }
        self.records.insert(
            action_key.clone(),
            Record::Reserve(ReserveAction::Cancelled),
        );
        let result = SeatCancellation::released(reservation.seats());
        self.records
            .insert(cancel_key.clone(), Record::Cancel(result.clone()));
        self.outbox.push(event);
        Ok(ReleaseOutcome::Released(result))
    }

    fn void(
        &mut self,
        trip_id: TripId,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<VoidOutcome, InfraError> {
        if let Some(stored) = self.cancellation(cancel_key)? {
            return Ok(VoidOutcome::Voided(stored));
        }
        if self.records.contains_key(action_key) {
            return Ok(VoidOutcome::ActionTookEffect);
        }
        let event = envelope(&ReservationVoided {
            trip_id,
            action_idempotency_key: action_key.to_string(),
        })?;
        self.records.insert(
            action_key.clone(),
            Record::Reserve(ReserveAction::Cancelled),
        );
        let result = SeatCancellation::nothing_to_undo();
        self.records
            .insert(cancel_key.clone(), Record::Cancel(result.clone()));
        self.outbox.push(event);
        Ok(VoidOutcome::Voided(result))
    }

    fn record_cancellation(
        &mut self,
        cancel_key: &IdempotencyKey,
        result: SeatCancellation,
    ) -> Result<SeatCancellation, InfraError> {
        if let Some(stored) = self.cancellation(cancel_key)? {
            return Ok(stored);
        }
        self.records
            .insert(cancel_key.clone(), Record::Cancel(result.clone()));
        Ok(result)
    }
}

fn wrong_kind(key: &IdempotencyKey, found: &str) -> InfraError {
    InfraError::failed(format!(
        "idempotency key {key} belongs to a {found}, not this kind of step"
    ))
}

/// Flights, reservations, idempotency records and outbox events in memory.
#[derive(Debug, Default)]
pub struct InMemoryFlightRepository {
    state: Mutex<State>,
}

impl InMemoryFlightRepository {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event written to the outbox so far, oldest first.
    pub fn outbox(&self) -> Vec<EventEnvelope> {
        self.lock().outbox.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under the lock happened between complete steps (each method mutates only after
        // its checks pass and cannot panic midway), so the state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FlightRepository for InMemoryFlightRepository {
    fn add_flight<'a>(
        &'a self,
        inventory: &'a FlightInventory,
    ) -> BoxFuture<'a, Result<(), InfraError>> {
        self.lock()
            .flights
            .entry(inventory.flight().clone())
            .or_insert_with(|| inventory.clone());
        Box::pin(ready(Ok(())))
    }

    fn inventory<'a>(
        &'a self,
        flight: &'a FlightDate,
    ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>> {
        let found = self.lock().flights.get(flight).cloned();
        Box::pin(ready(Ok(found)))
    }

    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>> {
        let state = self.lock();
        let latest = state
            .reservations
            .iter()
            .filter(|((trip, _), _)| *trip == trip_id)
            .map(|(_, reservation)| reservation.clone())
            .next_back();
        Box::pin(ready(Ok(latest)))
    }

    fn reserve_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>> {
        let result = self.lock().reserve_action(action_key);
        Box::pin(ready(result))
    }

    fn reserve<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        let result = self.lock().reserve(reservation, key);
        Box::pin(ready(result))
    }

    fn release<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>> {
        let result = self.lock().release(reservation, action_key, cancel_key);
        Box::pin(ready(result))
    }

    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
        let result = self.lock().void(trip_id, action_key, cancel_key);
        Box::pin(ready(result))
    }

    fn record_cancellation<'a>(
        &'a self,
        cancel_key: &'a IdempotencyKey,
        result: SeatCancellation,
    ) -> BoxFuture<'a, Result<SeatCancellation, InfraError>> {
        let result = self.lock().record_cancellation(cancel_key, result);
        Box::pin(ready(result))
    }
}
