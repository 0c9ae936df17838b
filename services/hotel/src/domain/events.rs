//! The hotel service's domain events, written to the outbox with the change they announce.
//!
//! Both belong to the aggregate `HotelReservation` identified by the trip id, so a trip's hotel
//! events share one outbox partition (`OUTBOX#HotelReservation#<trip id>`), in order.

use kernel::{BookingId, DateRange, DomainEvent, Money, TripId};
use serde::Serialize;

use super::{HotelCode, RoomReservation};

/// The aggregate type of the hotel's events.
pub const AGGREGATE_TYPE: &str = "HotelReservation";

/// Rooms were taken for a trip on every night of its stay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoomsReserved {
    /// The trip.
    pub trip_id: TripId,
    /// The reservation.
    pub reservation_id: BookingId,
    /// The hotel.
    pub hotel: HotelCode,
    /// The stay.
    pub stay: DateRange,
    /// Rooms taken on each night.
    pub rooms: u32,
    /// The price.
    pub total: Money,
}

impl RoomsReserved {
    /// The event announcing `reservation`.
    pub fn of(reservation: &RoomReservation) -> Self {
        Self {
            trip_id: reservation.trip_id,
            reservation_id: reservation.reservation_id,
            hotel: reservation.hotel.clone(),
            stay: reservation.stay,
            rooms: reservation.rooms,
            total: reservation.total,
        }
    }
}

impl DomainEvent for RoomsReserved {
    const AGGREGATE_TYPE: &'static str = AGGREGATE_TYPE;
    fn event_type(&self) -> &'static str {
        "RoomsReserved"
    }
    fn aggregate_id(&self) -> String {
        self.trip_id.to_string()
    }
}

/// A trip's hotel reservation was compensated: its rooms were given back on every night, or,
/// when the reservation never took effect (`reservation_id` absent, `released_rooms` 0), it was
/// ruled out so that a late run of it cannot take rooms.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoomsReleased {
    /// The trip.
    pub trip_id: TripId,
    /// The reservation released, or `None` when there was none to release.
    pub reservation_id: Option<BookingId>,
    /// The hotel, when a reservation was released.
    pub hotel: Option<HotelCode>,
    /// The stay, when a reservation was released.
    pub stay: Option<DateRange>,
    /// Rooms given back on each night.
    pub released_rooms: u32,
}

impl RoomsReleased {
    /// The event announcing that `reservation`'s rooms were given back.
    pub fn of(reservation: &RoomReservation) -> Self {
        Self {
            trip_id: reservation.trip_id,
            reservation_id: Some(reservation.reservation_id),
            hotel: Some(reservation.hotel.clone()),
            stay: Some(reservation.stay),
            released_rooms: reservation.rooms,
        }
    }

    /// The event announcing that `trip_id`'s reservation was ruled out before it took effect.
    pub fn nothing_reserved(trip_id: TripId) -> Self {
        Self {
            trip_id,
            reservation_id: None,
            hotel: None,
            stay: None,
            released_rooms: 0,
        }
    }
}

impl DomainEvent for RoomsReleased {
    const AGGREGATE_TYPE: &'static str = AGGREGATE_TYPE;
    fn event_type(&self) -> &'static str {
        "RoomsReleased"
    }
    fn aggregate_id(&self) -> String {
        self.trip_id.to_string()
    }
}
