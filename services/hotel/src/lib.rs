//! The hotel service: rooms sold per night, reserved for a whole stay at once, and given back
//! when the trip booking saga compensates.
//!
//! - [`domain`]: [`HotelCode`], the per-night inventory ([`RoomNight`]), [`RoomReservation`],
//!   the `RoomsReserved` / `RoomsReleased` events and the storage port [`HotelRepository`].
//! - [`application`]: one use case per file ([`ReserveRooms`], [`CancelRooms`], seeding) behind
//!   [`HotelService`].
//! - [`infrastructure`]: [`InMemoryHotelRepository`] and [`DynamoHotelRepository`], the same
//!   promises (one contract suite, `tests/contract/`).
//!
//! The promises: a reservation takes `ceil(guests / 2)` rooms on *every* night of the stay or on
//! none, by conditional writes, so concurrent reservations never oversell; a reservation and its
//! cancellation are idempotent per idempotency key; a cancellation gives back what its action
//! took on every night, succeeds with `nothing_to_undo` when the action never took effect, and
//! rules that action out so that a late run of it fails with `AlreadyCancelled`.
//!
//! The saga's `ReserveHotel` and `CancelHotel` steps, on the in-memory store:
//!
//! ```
//! use std::sync::Arc;
//!
//! use hotel::{
//!     CancelRooms, HotelCode, HotelService, InMemoryHotelRepository, ReserveRooms,
//!     ReserveRoomsError, ReservationStatus,
//! };
//! use kernel::dynamo::IdempotencyKey;
//! use kernel::{CalendarDate, DateRange, GuestCount, Money, TripId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hotels = HotelService::new(Arc::new(InMemoryHotelRepository::new()));
//! let tokyo = HotelCode::parse("TOKYO01")?;
//! let first_night = CalendarDate::parse("2026-12-01")?;
//! // 5 rooms a night at 150.00 USD, for 10 nights.
//! hotels.add_hotel(tokyo.clone(), first_night, 10, 5, Money::parse("150.00 USD")?).await?;
//!
//! let trip_id = TripId::new();
//! let stay = DateRange::new(first_night, CalendarDate::parse("2026-12-04")?)?;
//! let reserve = ReserveRooms {
//!     trip_id,
//!     hotel: tokyo.clone(),
//!     stay,
//!     guests: GuestCount::new(3)?, // two rooms
//!     idempotency_key: IdempotencyKey::parse("exec-1:ReserveHotel")?,
//! };
//! let reservation = hotels.reserve_rooms(reserve.clone()).await?;
//! assert_eq!((reservation.rooms, reservation.total), (2, Money::parse("900.00 USD")?));
//! assert_eq!(hotels.rooms_left(&tokyo, first_night).await?, Some(3));
//! // A retry of the same invocation returns the same reservation and takes nothing more.
//! assert_eq!(hotels.reserve_rooms(reserve.clone()).await?, reservation);
//! assert_eq!(hotels.rooms_left(&tokyo, first_night).await?, Some(3));
//!
//! // A later step failed: the compensation gives the rooms back on every night.
//! let cancelled = hotels
//!     .cancel_rooms(CancelRooms {
//!         trip_id,
//!         action_idempotency_key: reserve.idempotency_key.clone(),
//!         idempotency_key: IdempotencyKey::parse("exec-1:CancelHotel")?,
//!     })
//!     .await?;
//! assert_eq!((cancelled.released_rooms, cancelled.nothing_to_undo), (2, false));
//! assert_eq!(hotels.rooms_left(&tokyo, first_night).await?, Some(5));
//! assert_eq!(hotels.reservation(trip_id).await?.unwrap().status, ReservationStatus::Cancelled);
//! // The compensated invocation, run late, cannot take the rooms again.
//! assert!(matches!(hotels.reserve_rooms(reserve).await, Err(ReserveRoomsError::AlreadyCancelled)));
//! # Ok(())
//! # }
//! ```

pub mod application;
pub mod domain;
pub mod infrastructure;

pub use application::{
    AddHotelError, CancelRooms, CancelRoomsError, HotelService, ReserveRooms, ReserveRoomsError,
};
pub use domain::{
    HotelCode, HotelNight, HotelRepository, ReservationStatus, RoomCancellation, RoomNight,
    RoomReservation, RoomsReleased, RoomsReserved,
};
pub use infrastructure::{DynamoHotelRepository, InMemoryHotelRepository};
