//! The hotel's use cases, one per file, behind [`HotelService`].

mod add_hotel;
mod cancel_rooms;
mod reserve_rooms;
mod service;

pub use add_hotel::AddHotelError;
pub use cancel_rooms::{CancelRooms, CancelRoomsError};
pub use reserve_rooms::{ReserveRooms, ReserveRoomsError};
pub use service::HotelService;
