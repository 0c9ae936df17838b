//! The hotel domain: value objects, the per-night room inventory, reservations, events and the
//! storage port. No AWS types here.

mod events;
mod hotel_code;
mod inventory;
mod repository;
mod reservation;

pub use events::{AGGREGATE_TYPE, RoomsReleased, RoomsReserved};
pub use hotel_code::HotelCode;
pub use inventory::{HotelNight, RoomNight};
pub use repository::{HotelRepository, ReserveOutcome};
pub use reservation::{
    GUESTS_PER_ROOM, ReservationStatus, RoomCancellation, RoomReservation, rooms_for,
};
