//! The flight service's domain events, written to the outbox with the change they announce.

use kernel::{BookingId, DomainEvent, Money, TripId};
use serde::{Deserialize, Serialize};

use super::inventory::FlightDate;
use super::reservation::SeatReservation;

/// Seats were taken for a trip. Aggregate: `Flight`, id `<flight>#<date>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatsReserved {
    /// The reservation made.
    pub reservation_id: BookingId,
    /// The trip the seats are for.
    pub trip_id: TripId,
    /// The flight and day.
    pub flight: FlightDate,
    /// How many seats were taken.
    pub seats: u32,
    /// What they cost.
    pub total: Money,
}

impl SeatsReserved {
    /// The event announcing `reservation`.
    pub fn of(reservation: &SeatReservation) -> Self {
        Self {
            reservation_id: reservation.reservation_id,
            trip_id: reservation.trip_id,
            flight: reservation.flight_date(),
            seats: reservation.seats(),
            total: reservation.total,
        }
    }
}

impl DomainEvent for SeatsReserved {
    const AGGREGATE_TYPE: &'static str = "Flight";
    fn event_type(&self) -> &'static str {
        "SeatsReserved"
    }
    fn aggregate_id(&self) -> String {
        self.flight.aggregate_id()
    }
}

/// A reservation was cancelled and its seats given back. Aggregate: `Flight`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatsReleased {
    /// The reservation cancelled.
    pub reservation_id: BookingId,
    /// Its trip.
    pub trip_id: TripId,
    /// The flight and day.
    pub flight: FlightDate,
    /// How many seats went back on sale.
    pub seats: u32,
}

impl SeatsReleased {
    /// The event announcing the cancellation of `reservation`.
    pub fn of(reservation: &SeatReservation) -> Self {
        Self {
            reservation_id: reservation.reservation_id,
            trip_id: reservation.trip_id,
            flight: reservation.flight_date(),
            seats: reservation.seats(),
        }
    }
}

impl DomainEvent for SeatsReleased {
    const AGGREGATE_TYPE: &'static str = "Flight";
    fn event_type(&self) -> &'static str {
        "SeatsReleased"
    }
    fn aggregate_id(&self) -> String {
        self.flight.aggregate_id()
    }
}

/// A reservation that had not happened was ruled out: its invocation (`action_idempotency_key`)
/// can no longer take seats. Aggregate: `FlightReservation`, id the trip id (the flight is not
/// known: the reservation never happened).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReservationVoided {
    /// The trip whose reservation was ruled out.
    pub trip_id: TripId,
    /// The idempotency key of the reservation invocation that can no longer take effect.
    pub action_idempotency_key: String,
}

impl DomainEvent for ReservationVoided {
    const AGGREGATE_TYPE: &'static str = "FlightReservation";
    fn event_type(&self) -> &'static str {
        "ReservationVoided"
    }
    fn aggregate_id(&self) -> String {
        self.trip_id.to_string()
    }
}
