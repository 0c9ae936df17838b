//! The in-memory adapter: the embedded default store for local runs, and the fake the
//! application tests use. It keeps the DynamoDB adapter's promises (same contract suite): every
//! method checks and changes its state under one lock, so each call is atomic, as one
//! `TransactWriteItems` is; the lock is never held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use kernel::BoxFuture;
use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, CalendarDate, DateRange, DomainEvent, EventEnvelope, InfraError, TripId};

use crate::domain::{
    HotelCode, HotelRepository, ReleaseOutcome, ReservationStatus, ReserveAction, ReserveOutcome,
    RoomCancellation, RoomNight, RoomReservation, RoomsReleased, RoomsReserved, VoidOutcome,
};

/// What an idempotency key recorded: the in-memory twin of the idempotency records' `result`.
#[derive(Clone, Debug)]
enum Record {
    Reserve(ReserveAction),
    Cancel(RoomCancellation),
}

#[derive(Debug, Default)]
struct State {
    nights: BTreeMap<(HotelCode, CalendarDate), RoomNight>,
    reservations: BTreeMap<BookingId, RoomReservation>,
    records: HashMap<IdempotencyKey, Record>,
    events: Vec<EventEnvelope>,
}

/// Hotels, reservations, idempotency records and outbox events in process memory.
#[derive(Debug, Default)]
pub struct InMemoryHotelRepository {
    state: Mutex<State>,
}

impl InMemoryHotelRepository {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event written to the outbox so far, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.lock().events.clone()
    }

    /// The events of `trip_id`'s hotel reservation, oldest first (what the DynamoDB adapter's
    /// outbox partition `OUTBOX#HotelReservation#<trip id>` holds).
    pub fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        let id = trip_id.to_string();
        self.lock()
            .events
            .iter()
            .filter(|e| e.aggregate_id == id)
            .cloned()
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock happens only in a failing test; the data is still
        // consistent (every change is applied after all its checks), so keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn event(event: &impl DomainEvent) -> Result<EventEnvelope, InfraError> {
    EventEnvelope::now(event).map_err(|e| InfraError::failed(format!("event: {e}")).with_source(e))
}

fn wrong_kind(key: &IdempotencyKey) -> InfraError {
    InfraError::failed(format!(
        "idempotency key {key} was used by another kind of invocation"
    ))
}

impl State {
    /// The stored nights of `stay`, or the first night not on sale.
    fn stay_nights(
        &self,
        hotel: &HotelCode,
        stay: DateRange,
    ) -> Result<Vec<RoomNight>, CalendarDate> {
        stay.each_night()
            .map(|night| {
                self.nights
                    .get(&(hotel.clone(), night))
                    .cloned()
                    .ok_or(night)
            })
            .collect()
    }

    fn reserve(
        &mut self,
        reservation: &RoomReservation,
        key: &IdempotencyKey,
    ) -> Result<ReserveOutcome, InfraError> {
        match self.records.get(key) {
            Some(Record::Reserve(ReserveAction::Reserved(stored))) => {
                return Ok(ReserveOutcome::Reserved(stored.clone()));
            }
            Some(Record::Reserve(ReserveAction::Cancelled)) => {
                return Ok(ReserveOutcome::AlreadyCancelled);
            }
            Some(Record::Cancel(_)) => return Err(wrong_kind(key)),
            None => {}
        }
        let nights = match self.stay_nights(&reservation.hotel, reservation.stay) {
            Ok(nights) => nights,
            Err(night) => return Ok(ReserveOutcome::NightNotOnSale(night)),
        };
        // Check every night before changing any: all or nothing, as the transaction.
        let mut taken = Vec::with_capacity(nights.len());
        for night in &nights {
            match night.take(reservation.rooms) {
                Some(after) => taken.push(after),
                None => {
                    return Ok(ReserveOutcome::NoRooms {
                        night: night.night().night,
                        rooms_left: night.rooms_available(),
                    });
                }
            }
        }
        let announced = event(&RoomsReserved::of(reservation))?;
        for night in taken {
            let id = night.night().clone();
            self.nights.insert((id.hotel, id.night), night);
        }
        self.reservations
            .insert(reservation.reservation_id, reservation.clone());
        self.records.insert(
            key.clone(),
            Record::Reserve(ReserveAction::Reserved(reservation.clone())),
        );
        self.events.push(announced);
        Ok(ReserveOutcome::Reserved(reservation.clone()))
    }

    fn release(
        &mut self,
        reservation: &RoomReservation,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<ReleaseOutcome, InfraError> {
        match self.records.get(cancel_key) {
            Some(Record::Cancel(stored)) => return Ok(ReleaseOutcome::Released(stored.clone())),
            Some(Record::Reserve(_)) => return Err(wrong_kind(cancel_key)),
            None => {}
        }
        let status = self
            .reservations
            .get(&reservation.reservation_id)
            .map(|r| r.status);
        match status {
            Some(ReservationStatus::Reserved) => {}
            Some(ReservationStatus::Cancelled) => return Ok(ReleaseOutcome::AlreadyReleased),
            None => {
                return Err(InfraError::failed(format!(
                    "reservation {} is not stored",
                    reservation.reservation_id
                )));
            }
        }
        if !matches!(self.records.get(action_key), Some(Record::Reserve(_))) {
            return Err(InfraError::failed(format!(
                "the reservation's action record {action_key} is missing"
            )));
        }
        let nights = self
            .stay_nights(&reservation.hotel, reservation.stay)
            .map_err(|night| {
                InfraError::failed(format!(
                    "{} has no inventory on the night of {night} to give rooms back to",
                    reservation.hotel
                ))
            })?;
        let announced = event(&RoomsReleased::of(reservation))?;
        for night in nights {
            let given_back = night.give_back(reservation.rooms);
            let id = given_back.night().clone();
            self.nights.insert((id.hotel, id.night), given_back);
        }
        if let Some(stored) = self.reservations.get_mut(&reservation.reservation_id) {
            stored.status = ReservationStatus::Cancelled;
        }
        self.records.insert(
            action_key.clone(),
            Record::Reserve(ReserveAction::Cancelled),
        );
        let result = RoomCancellation::released(reservation.rooms);
        self.records
            .insert(cancel_key.clone(), Record::Cancel(result.clone()));
        self.events.push(announced);
        Ok(ReleaseOutcome::Released(result))
    }

    fn void(
        &mut self,
        trip_id: TripId,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<VoidOutcome, InfraError> {
        match self.records.get(cancel_key) {
            Some(Record::Cancel(stored)) => return Ok(VoidOutcome::Voided(stored.clone())),
            Some(Record::Reserve(_)) => return Err(wrong_kind(cancel_key)),
            None => {}
        }
        if self.records.contains_key(action_key) {
            return Ok(VoidOutcome::ActionTookEffect);
        }
        let announced = event(&RoomsReleased::nothing_reserved(trip_id))?;
        self.records.insert(
            action_key.clone(),
            Record::Reserve(ReserveAction::Cancelled),
        );
        let result = RoomCancellation::nothing_to_undo();
        self.records
            .insert(cancel_key.clone(), Record::Cancel(result.clone()));
        self.events.push(announced);
        Ok(VoidOutcome::Voided(result))
    }
}

impl HotelRepository for InMemoryHotelRepository {
    fn add_nights<'a>(&'a self, nights: &'a [RoomNight]) -> BoxFuture<'a, Result<(), InfraError>> {
        Box::pin(async move {
            let mut state = self.lock();
            for night in nights {
                let id = night.night().clone();
                state
                    .nights
                    .entry((id.hotel, id.night))
                    .or_insert_with(|| night.clone());
            }
            Ok(())
        })
    }

    fn night<'a>(
        &'a self,
        hotel: &'a HotelCode,
        night: CalendarDate,
    ) -> BoxFuture<'a, Result<Option<RoomNight>, InfraError>> {
        Box::pin(async move { Ok(self.lock().nights.get(&(hotel.clone(), night)).cloned()) })
    }

    fn nights<'a>(
        &'a self,
        hotel: &'a HotelCode,
        stay: DateRange,
    ) -> BoxFuture<'a, Result<Vec<RoomNight>, InfraError>> {
        Box::pin(async move {
            let state = self.lock();
            Ok(stay
                .each_night()
                .filter_map(|night| state.nights.get(&(hotel.clone(), night)).cloned())
                .collect())
        })
    }

    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<RoomReservation>, InfraError>> {
        Box::pin(async move {
            // Ids are UUIDv7, so the greatest is the most recent, as in the DynamoDB query.
            Ok(self
                .lock()
                .reservations
                .values()
                .rfind(|r| r.trip_id == trip_id)
                .cloned())
        })
    }

    fn reserve_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>> {
        Box::pin(async move {
            match self.lock().records.get(action_key) {
                None => Ok(None),
                Some(Record::Reserve(action)) => Ok(Some(action.clone())),
                Some(Record::Cancel(_)) => Err(wrong_kind(action_key)),
            }
        })
    }

    fn reserve<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(async move { self.lock().reserve(reservation, key) })
    }

    fn release<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>> {
        Box::pin(async move { self.lock().release(reservation, action_key, cancel_key) })
    }

    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
        Box::pin(async move { self.lock().void(trip_id, action_key, cancel_key) })
    }

    fn record_cancellation<'a>(
        &'a self,
        cancel_key: &'a IdempotencyKey,
        result: RoomCancellation,
    ) -> BoxFuture<'a, Result<RoomCancellation, InfraError>> {
        Box::pin(async move {
            let mut state = self.lock();
            match state.records.get(cancel_key) {
                Some(Record::Cancel(stored)) => Ok(stored.clone()),
                Some(Record::Reserve(_)) => Err(wrong_kind(cancel_key)),
                None => {
                    state
                        .records
                        .insert(cancel_key.clone(), Record::Cancel(result.clone()));
                    Ok(result)
                }
            }
        })
    }
}
