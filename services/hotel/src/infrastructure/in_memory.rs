//! The in-memory adapter: the embedded default store for local runs, and the fake the
//! application tests use. It keeps the DynamoDB adapter's promises (same contract suite): every
//! method checks and changes its state under one lock, so each call is atomic, as one
//! `TransactWriteItems` is; the lock is never held across an `.await`. Idempotency records and
//! the outbox are the kernel's [`InMemoryJournal`].

use std::collections::BTreeMap;
use std::future::ready;
use std::sync::{Mutex, MutexGuard};

use kernel::compensation::{Action, CompensationRecords, CompensationStore, InMemoryJournal, Undo};
use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, BoxFuture, CalendarDate, DateRange, EventEnvelope, InfraError, TripId};

use crate::domain::{
    HotelCode, HotelRepository, ReservationStatus, ReserveOutcome, RoomCancellation, RoomNight,
    RoomReservation, RoomsReleased, RoomsReserved,
};

type Journal = InMemoryJournal<RoomReservation, RoomCancellation>;

#[derive(Debug, Default)]
struct State {
    nights: BTreeMap<(HotelCode, CalendarDate), RoomNight>,
    reservations: BTreeMap<BookingId, RoomReservation>,
    journal: Journal,
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
        self.lock().journal.events().to_vec()
    }

    /// The events of `trip_id`'s hotel reservation, oldest first (what the DynamoDB adapter's
    /// outbox partition `OUTBOX#HotelReservation#<trip id>` holds).
    pub fn trip_events(&self, trip_id: TripId) -> Vec<EventEnvelope> {
        let id = trip_id.to_string();
        self.lock()
            .journal
            .events()
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

impl AsMut<Journal> for State {
    fn as_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }
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
        match self.journal.action(key)? {
            Some(Action::TookEffect(stored)) => return Ok(ReserveOutcome::Reserved(stored)),
            Some(Action::Compensated) => return Ok(ReserveOutcome::AlreadyCancelled),
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
        let announced = Journal::announce(&RoomsReserved::of(reservation))?;
        for night in taken {
            let id = night.night().clone();
            self.nights.insert((id.hotel, id.night), night);
        }
        self.reservations
            .insert(reservation.reservation_id, reservation.clone());
        self.journal
            .took_effect(key, reservation.clone(), announced);
        Ok(ReserveOutcome::Reserved(reservation.clone()))
    }

    fn release(
        &mut self,
        reservation: &RoomReservation,
        action_key: &IdempotencyKey,
        cancel_key: &IdempotencyKey,
    ) -> Result<Undo<RoomCancellation>, InfraError> {
        let reserved = self
            .reservations
            .get(&reservation.reservation_id)
            .map(|r| r.status == ReservationStatus::Reserved);
        let effect = format_args!("reservation {}", reservation.reservation_id);
        if let Some(answer) = self
            .journal
            .before_undo(action_key, cancel_key, &effect, reserved)?
        {
            return Ok(answer);
        }
        let nights = self
            .stay_nights(&reservation.hotel, reservation.stay)
            .map_err(|night| {
                InfraError::failed(format!(
                    "{} has no inventory on the night of {night} to give rooms back to",
                    reservation.hotel
                ))
            })?;
        let announced = Journal::announce(&RoomsReleased::of(reservation))?;
        for night in nights {
            let given_back = night.give_back(reservation.rooms);
            let id = given_back.night().clone();
            self.nights.insert((id.hotel, id.night), given_back);
        }
        if let Some(stored) = self.reservations.get_mut(&reservation.reservation_id) {
            stored.status = ReservationStatus::Cancelled;
        }
        let released = RoomCancellation::released(reservation.rooms);
        Ok(Undo::Undone(
            self.journal
                .undone(action_key, cancel_key, released, announced),
        ))
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

    fn reserve<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
        Box::pin(async move { self.lock().reserve(reservation, key) })
    }
}

impl CompensationStore for InMemoryHotelRepository {
    type Effect = RoomReservation;
    type Outcome = RoomCancellation;

    fn records(&self) -> &dyn CompensationRecords<RoomReservation, RoomCancellation> {
        // The journal is part of the state: records and what they guard change under one lock.
        &self.state
    }

    fn undo<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        action: &'a IdempotencyKey,
        compensation: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Undo<RoomCancellation>, InfraError>> {
        Box::pin(ready(self.lock().release(
            reservation,
            action,
            compensation,
        )))
    }
}
