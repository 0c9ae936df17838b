//! The storage port of the hotel service.
//!
//! Each state-changing method is one atomic, idempotent step: the change, its outbox event and
//! the idempotency record of the invocation that made it are stored together or not at all, and
//! a second call with the same idempotency key returns what the first stored without changing
//! anything. Room counts change only by conditional writes (never read, then write), so
//! concurrent reservations cannot oversell. The adapters ([`crate::InMemoryHotelRepository`],
//! [`crate::DynamoHotelRepository`]) pass the same contract suite (`tests/contract/`).

use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, CalendarDate, DateRange, InfraError, TripId};

use super::{HotelCode, RoomCancellation, RoomNight, RoomReservation};

/// What a reservation invocation (identified by its idempotency key) left behind.
#[derive(Clone, Debug, PartialEq)]
pub enum ReserveAction {
    /// It reserved these rooms, and they have not been released since (releasing them marks the
    /// action [`ReserveAction::Cancelled`] in the same write).
    Reserved(RoomReservation),
    /// It was cancelled: its rooms were released, or it was ruled out before it ran. A later
    /// invocation with this key must not reserve.
    Cancelled,
}

/// The result of [`HotelRepository::reserve`].
#[derive(Clone, Debug, PartialEq)]
pub enum ReserveOutcome {
    /// The rooms are reserved: by this call, or by an earlier one with the same key (then this is
    /// the reservation that call stored, and nothing was taken now).
    Reserved(RoomReservation),
    /// The key's reservation was cancelled, or ruled out by a compensation that ran first: nothing
    /// was taken.
    AlreadyCancelled,
    /// This night of the stay is not on sale (no inventory); nothing was taken.
    NightNotOnSale(CalendarDate),
    /// Fewer rooms than asked are left on this night; nothing was taken on any night.
    NoRooms {
        /// The first night of the stay found short.
        night: CalendarDate,
        /// Rooms left on it when the reservation was refused.
        rooms_left: u32,
    },
}

/// The result of [`HotelRepository::release`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseOutcome {
    /// The cancellation is recorded under its key: by this call, or by an earlier one (then this
    /// is what that call stored).
    Released(RoomCancellation),
    /// The reservation was already cancelled under another key; nothing was written.
    AlreadyReleased,
}

/// The result of [`HotelRepository::void`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoidOutcome {
    /// The action is ruled out and the cancellation recorded (now, or by an earlier call with the
    /// same cancellation key, whose result this is).
    Voided(RoomCancellation),
    /// The action committed after all (between the caller's look-up and this call); nothing was
    /// written: release its reservation instead.
    ActionTookEffect,
}

/// Where room inventory, reservations, idempotency records and outbox events are kept.
pub trait HotelRepository: Send + Sync {
    /// Stores each night unless that hotel-night already exists, which is kept as it is (seeding
    /// is idempotent and never resets rooms that reservations have taken, nor the rate).
    ///
    /// # Errors
    /// The store's failure, as [`InfraError`]; nights already stored stay stored.
    fn add_nights<'a>(&'a self, nights: &'a [RoomNight]) -> BoxFuture<'a, Result<(), InfraError>>;

    /// One night of `hotel`, if it is on sale; read strongly consistent.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the stored item does not map.
    fn night<'a>(
        &'a self,
        hotel: &'a HotelCode,
        night: CalendarDate,
    ) -> BoxFuture<'a, Result<Option<RoomNight>, InfraError>>;

    /// The nights of `stay` that `hotel` has on sale, in date order (a night not on sale is left
    /// out); read strongly consistent.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when a stored item does not map.
    fn nights<'a>(
        &'a self,
        hotel: &'a HotelCode,
        stay: DateRange,
    ) -> BoxFuture<'a, Result<Vec<RoomNight>, InfraError>>;

    /// The most recent room reservation of `trip_id`, reserved or cancelled.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the stored item does not map.
    fn reservation_of_trip(
        &self,
        trip_id: TripId,
    ) -> BoxFuture<'_, Result<Option<RoomReservation>, InfraError>>;

    /// What the reservation invocation `action_key` left behind, if anything.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when the key's record is not a reservation's.
    fn reserve_action<'a>(
        &'a self,
        action_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>>;

    /// Takes `reservation.rooms` rooms on every night of its stay, provided each night is on
    /// sale and has that many left, and stores the reservation, a `RoomsReserved` event and
    /// `key`'s record, atomically: all nights or none.
    ///
    /// # Errors
    /// The store's failure (transient ones are worth retrying: nothing was written); `StoreFailed`
    /// when `key` was used by another kind of invocation.
    fn reserve<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>>;

    /// Cancels `reservation` (made by `action_key`) if it is still reserved: gives its rooms back
    /// on every night, marks it cancelled, marks `action_key` cancelled, and stores a
    /// `RoomsReleased` event and `cancel_key`'s record with [`RoomCancellation::released`],
    /// atomically.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when a night or the action's record is missing, or
    /// `cancel_key` was used by another kind of invocation.
    fn release<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        action_key: &'a IdempotencyKey,
        cancel_key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>>;

    /// Rules out the reservation invocation `action_key`, which has not committed: stores its
    /// record as [`ReserveAction::Cancelled`], a `RoomsReleased` event (nothing released) and
    /// `cancel_key`'s record with [`RoomCancellation::nothing_to_undo`], atomically, provided
    /// `action_key` has no record yet.
    ///
    /// # Errors
    /// The store's failure; `StoreFailed` when `cancel_key` was used by another kind of
    /// invocation.
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
        result: RoomCancellation,
    ) -> BoxFuture<'a, Result<RoomCancellation, InfraError>>;
}
