//! The storage port of the hotel service.
//!
//! Each state-changing method is one atomic, idempotent step: the change, its outbox event and
//! the idempotency record of the invocation that made it are stored together or not at all, and
//! a second call with the same idempotency key returns what the first stored without changing
//! anything. Room counts change only by conditional writes (never read, then write), so
//! concurrent reservations cannot oversell. The adapters ([`crate::InMemoryHotelRepository`],
//! [`crate::DynamoHotelRepository`]) pass the same contract suite (`tests/contract/`).

use kernel::compensation::CompensationStore;
use kernel::dynamo::IdempotencyKey;
use kernel::{BoxFuture, CalendarDate, DateRange, InfraError, TripId};

use super::{HotelCode, RoomCancellation, RoomNight, RoomReservation};

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

/// Where room inventory, reservations, idempotency records and outbox events are kept.
///
/// Its compensation half is the kernel's port: a reservation is the effect the saga's
/// `CancelHotel` undoes ([`CompensationStore::undo`] gives its rooms back on every night, marks
/// it and its action cancelled and stores a `RoomsReleased` event; a reservation ruled out
/// before it ran is announced by a `RoomsReleased` event with nothing released).
pub trait HotelRepository:
    CompensationStore<Effect = RoomReservation, Outcome = RoomCancellation>
{
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

    /// Takes `reservation.rooms` rooms on every night of its stay, provided each night is on
    /// sale and has that many left, and stores the reservation, a `RoomsReserved` event and
    /// `key`'s record, atomically: all nights or none. A key whose action was compensated (or
    /// ruled out) answers [`ReserveOutcome::AlreadyCancelled`].
    ///
    /// # Errors
    /// The store's failure (transient ones are worth retrying: nothing was written); `StoreFailed`
    /// when `key` was used by another kind of invocation.
    fn reserve<'a>(
        &'a self,
        reservation: &'a RoomReservation,
        key: &'a IdempotencyKey,
    ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>>;
}
