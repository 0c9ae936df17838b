//! Reserve rooms: the saga's `ReserveHotel` action.

use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, CalendarDate, DateRange, GuestCount, InfraError, TripId};

use crate::domain::{
    HotelCode, HotelNight, HotelRepository, ReserveOutcome, RoomReservation, rooms_for,
};

/// Reserve rooms for `guests` in `hotel` on every night of `stay`, for `trip_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReserveRooms {
    /// The trip the rooms are for.
    pub trip_id: TripId,
    /// The hotel.
    pub hotel: HotelCode,
    /// Check-in to check-out.
    pub stay: DateRange,
    /// How many guests; one room per two, rounded up ([`rooms_for`]).
    pub guests: GuestCount,
    /// The step invocation's key: every retry of it has one effect.
    pub idempotency_key: IdempotencyKey,
}

/// Why rooms were not reserved. Variant names are the saga's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum ReserveRoomsError {
    /// The hotel is unknown, or does not sell this night of the stay. Business error.
    #[error("hotel not found: {0} is not on sale")]
    HotelNotFound(HotelNight),
    /// Some night of the stay has fewer rooms left than needed; nothing was taken. Business
    /// error.
    #[error("no rooms on the night of {night}: {requested} needed, {rooms_left} left")]
    NoRooms {
        /// The first night found short.
        night: CalendarDate,
        /// Rooms needed on each night.
        requested: u32,
        /// Rooms left on that night.
        rooms_left: u32,
    },
    /// This invocation's reservation was compensated (or ruled out by a compensation that ran
    /// before it): it must not take rooms. Business error.
    #[error("the reservation of this invocation was already cancelled")]
    AlreadyCancelled,
    /// Transient.
    #[error(transparent)]
    StoreThrottled(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreUnavailable(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreConflict(InfraError),
    /// Not transient.
    #[error(transparent)]
    StoreFailed(InfraError),
}

kernel::impl_from_infra_error!(ReserveRoomsError);

/// Runs [`ReserveRooms`] on `repository`.
pub(crate) async fn reserve_rooms(
    repository: &dyn HotelRepository,
    command: ReserveRooms,
) -> Result<RoomReservation, ReserveRoomsError> {
    let ReserveRooms {
        trip_id,
        hotel,
        stay,
        guests,
        idempotency_key,
    } = command;
    let rooms = rooms_for(guests);
    // Read for the rates and to tell "not on sale" early. The room counts read here decide
    // nothing: the repository takes rooms with conditional writes, so concurrent reservations
    // cannot oversell, and a retry of a committed reservation succeeds even when full since.
    let on_sale = repository.nights(&hotel, stay).await?;
    if let Some(night) = stay
        .each_night()
        .find(|night| !on_sale.iter().any(|n| n.night().night == *night))
    {
        return Err(ReserveRoomsError::HotelNotFound(HotelNight {
            hotel,
            night,
        }));
    }
    let reservation = RoomReservation::price(
        BookingId::new(),
        trip_id,
        hotel.clone(),
        stay,
        rooms,
        &on_sale,
    )
    .map_err(|e| {
        // Rates of one hotel in two currencies is bad data: retrying cannot help.
        InfraError::failed(format!("pricing a stay at {hotel}: {e}")).with_source(e)
    })?;
    match repository.reserve(&reservation, &idempotency_key).await? {
        ReserveOutcome::Reserved(reservation) => Ok(reservation),
        ReserveOutcome::AlreadyCancelled => Err(ReserveRoomsError::AlreadyCancelled),
        // Nights are never deleted, so a night that vanished between the read and the write is an
        // operator's hand at work; "not on sale" is still the truth.
        ReserveOutcome::NightNotOnSale(night) => {
            Err(ReserveRoomsError::HotelNotFound(HotelNight {
                hotel,
                night,
            }))
        }
        ReserveOutcome::NoRooms { night, rooms_left } => Err(ReserveRoomsError::NoRooms {
            night,
            requested: rooms,
            rooms_left,
        }),
    }
}
