//! The in-memory adapter: for unit tests and the local saga runner's default store.
//!
//! One mutex guards the whole state, and every port method does its read-modify-write under it,
//! so each method is as atomic as a DynamoDB transaction and concurrent reservations cannot
//! oversell. The lock is never held across an `.await` (the methods compute their result
//! synchronously and return a ready future). Idempotency records and the outbox are the
//! kernel's [`InMemoryJournal`].

use std::collections::{BTreeMap, HashMap};
use std::future::ready;
use std::sync::{Mutex, MutexGuard, PoisonError};

use kernel::compensation::{Action, CompensationRecords, CompensationStore, InMemoryJournal, Undo};
use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, BoxFuture, EventEnvelope, InfraError, TripId};

use crate::domain::{
    FlightDate, FlightInventory, FlightRepository, ReservationStatus, ReserveOutcome,
    SeatCancellation, SeatReservation, SeatsReleased, SeatsReserved,
};

type Journal = InMemoryJournal<SeatReservation, SeatCancellation>;

#[derive(Debug, Default)]
struct State {
    flights: HashMap<FlightDate, FlightInventory>,
    /// By trip, then by reservation id: ids are UUIDv7, so the last one is the most recent.
    reservations: BTreeMap<(TripId, BookingId), SeatReservation>,
    journal: Journal,
}

impl AsMut<Journal> for State {
    fn as_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }
}

impl State {
    fn reserve(
        &mut self,
        reservation: &SeatReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        match self.journal.action(key)? {
            Some(Action::TookEffect(stored)) => return Ok(ReserveOutcome::Reserved(stored)),
            Some(Action::Compensated) => return Ok(ReserveOutcome::AlreadyCancelled),
            None => {}
        }
        let event = Journal::announce(&SeatsReserved::of(reservation))?;
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
        self.journal.took_effect(key, reservation.clone(), event);
        Ok(ReserveOutcome::Reserved(reservation.clone()))
    }

    fn release(
        &mut self,
        reservation: &SeatReservation,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<Undo<SeatCancellation>, InfraError> {
        let id = (reservation.trip_id, reservation.reservation_id);
        let reserved = self
            .reservations
            .get(&id)
            .map(|r| r.status == ReservationStatus::Reserved);
        let effect = format_args!("reservation {}", reservation.reservation_id);
        if let Some(answer) = self
            .journal
            .before_undo(action_key, cancel_key, &effect, reserved)?
        {
            return Ok(answer);
        }
        let event = Journal::announce(&SeatsReleased::of(reservation))?;
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
        let released = SeatCancellation::released(reservation.seats());
        Ok(Undo::Undone(
            self.journal.undone(action_key, cancel_key, released, event),
        ))
    }
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
        self.lock().journal.events().to_vec()
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

    fn reserve<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(ready(self.lock().reserve(reservation, key)))
    }
}

impl CompensationStore for InMemoryFlightRepository {
    type Effect = SeatReservation;
    type Outcome = SeatCancellation;

    fn records(&self) -> &dyn CompensationRecords<SeatReservation, SeatCancellation> {
        // The journal is part of the state: records and what they guard change under one lock.
        &self.state
    }

    fn undo<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<SeatCancellation>, InfraError>> {
        Box::pin(ready(self.lock().release(
            reservation,
            action,
            compensation,
        )))
    }
}
