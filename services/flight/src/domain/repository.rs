//! The storage port of the flight service.
//!
//! Each state-changing method is one atomic, idempotent step: the change, its outbox event and
//! the idempotency record of the invocation that made it are stored together or not at all, and
//! a second call with the same idempotency key returns what the first stored without changing
//! anything. The adapters ([`crate::InMemoryFlightRepository`], [`crate::DynamoFlightRepository`])
//! pass the same contract test suite (`tests/contract/`).

use kernel::compensation::CompensationStore;
use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, InfraError, TripId};

use super::inventory::{FlightDate, FlightInventory};
use super::reservation::{SeatCancellation, SeatReservation};

/// The result of [`FlightRepository::reserve`].
#[derive(Clone, Debug, PartialEq)]
pub enum ReserveOutcome {
    /// The seats are reserved: by this call, or by an earlier one with the same key (then this is
    /// the reservation that call stored, and nothing was taken now).
    Reserved(SeatReservation),
    /// The key's reservation was cancelled, or ruled out by a compensation that ran first: nothing
    /// was taken.
    AlreadyCancelled,
    /// No inventory exists for the flight on that day.
    FlightNotFound,
    /// Fewer seats than asked are left; nothing was taken.
    SoldOut {
        /// Seats left when the reservation was refused.
        seats_left: u32,
    },
}

/// Where flights, reservations, idempotency records and outbox events are kept.
///
/// Its compensation half is the kernel's port: a reservation is the effect the saga's
/// `CancelFlight` undoes ([`CompensationStore::undo`] gives its seats back, marks it and its
/// action cancelled and stores a `SeatsReleased` event; a reservation ruled out before it ran is
/// announced by a `ReservationVoided` event).
pub trait FlightRepository:
    CompensationStore<Effect = SeatReservation, Outcome = SeatCancellation>
{
    /// Stores `inventory` unless the flight on that day already has one, which is kept as it is
    /// (seeding is idempotent and never resets stock that reservations have taken).
    ///
    /// # Errors
    /// The store's failure, as [`InfraError`].
    fn add_flight<'a>(
        &'a self,
        inventory: &'a FlightInventory,
    ) -> BoxFuture<'a, Result<(), InfraError>>;

    /// The inventory of `flight`, if it exists; read strongly consistent.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the stored item does not map.
    fn inventory<'a>(
        &'a self,
        flight: &'a FlightDate,
    ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>>;

    /// The most recent seat reservation of `trip_id`, reserved or cancelled.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the stored item does not map.
    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>>;

    /// Takes `reservation.passengers` seats of its flight, provided that many are left, and stores
    /// the reservation, a `SeatsReserved` event and `key`'s record, atomically. A key whose
    /// action was compensated (or ruled out) answers [`ReserveOutcome::AlreadyCancelled`].
    ///
    /// # Errors
    /// The store's failure (transient ones are worth retrying: nothing was written); `StoreFailed`
    /// when `key` was used by another kind of invocation.
    fn reserve<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>>;
}
