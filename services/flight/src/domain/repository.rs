//! The storage port of the flight service.
//!
//! Each state-changing method is one atomic, idempotent step: the change, its outbox event and
//! the idempotency record of the invocation that made it are stored together or not at all, and
//! a second call with the same idempotency key returns what the first stored without changing
//! anything. The adapters ([`crate::InMemoryFlightRepository`], [`crate::DynamoFlightRepository`])
//! pass the same contract test suite (`tests/contract/`).

use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, InfraError, TripId};

use super::inventory::{FlightDate, FlightInventory};
use super::reservation::{SeatCancellation, SeatReservation};

/// What a reservation invocation (identified by its idempotency key) left behind.
#[derive(Clone, Debug, PartialEq)]
pub enum ReserveAction {
    /// It reserved these seats, and they have not been released since (releasing them marks the
    /// action [`ReserveAction::Cancelled`] in the same write).
    Reserved(SeatReservation),
    /// It was cancelled: either its seats were released, or it was ruled out before it ran. A
    /// later invocation with this key must not reserve.
    Cancelled,
}

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

/// The result of [`FlightRepository::release`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// The cancellation is recorded under its key: by this call, or by an earlier one (then this
    /// is what that call stored).
    Released(SeatCancellation),
    /// The reservation was already cancelled under another key; nothing was written.
    AlreadyReleased,
}

/// The result of [`FlightRepository::void`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoidOutcome {
    /// The action is ruled out and the cancellation recorded (now, or by an earlier call with
    /// the same cancellation key, whose result this is).
    Voided(SeatCancellation),
    /// The action committed after all (it ran between the caller's look-up and this call);
    /// nothing was written: release its reservation instead.
    ActionTookEffect,
}

/// Where flights, reservations, idempotency records and outbox events are kept.
pub trait FlightRepository: Send + Sync {
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

    /// What the reservation invocation `action_key` left behind, if anything.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the key's record is not a reservation's.
    fn reserve_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>>;

    /// Takes `reservation.passengers` seats of its flight, provided that many are left, and stores
    /// the reservation, a `SeatsReserved` event and `key`'s record, atomically.
    ///
    /// # Errors
    /// The store's failure (transient ones are worth retrying: nothing was written); `StoreFailed`
    /// when `key` was used by another kind of invocation.
    fn reserve<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>>;

    /// Cancels `reservation` (made by `action_key`) if it is still reserved: gives its seats back,
    /// marks it cancelled, marks `action_key` cancelled, and stores a `SeatsReleased` event and
    /// `cancel_key`'s record with [`SeatCancellation::released`], atomically.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the flight or the action's record is missing.
    fn release<'a>(
        &'a self,
        reservation: &'a SeatReservation,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>>;

    /// Rules out the reservation invocation `action_key`, which has not committed: stores its
    /// record as [`ReserveAction::Cancelled`], a `ReservationVoided` event and `cancel_key`'s
    /// record with [`SeatCancellation::nothing_to_undo`], atomically, provided `action_key` has
    /// no record yet.
    ///
    /// # Errors
    /// The store's failure.
    fn void<'a>(
        &'a self,
        trip_id: TripId,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>>;

    /// Records `result` as `cancel_key`'s result, changing nothing else; returns the result stored
    /// earlier under that key if there is one.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when `cancel_key` was used by another kind of invocation.
    fn record_cancellation<'a>(
        &'a self,
        cancel_key: &'a IdempotencyKey,
        result: SeatCancellation,
    ) -> BoxFuture<'a, Result<SeatCancellation, InfraError>>;
}
