//! Seat reservations and their cancellation.

use std::fmt;
use std::str::FromStr;

use kernel::compensation::{ActionEffect, CompensationOutcome, Wording};
use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, CalendarDate, FlightNumber, Money, PassengerCount, TripId, ValueError};
use serde::{Deserialize, Serialize};

use super::events::ReservationVoided;
use super::inventory::{FlightDate, FlightInventory};

/// Whether a reservation still holds its seats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    /// The seats are taken for the trip.
    Reserved,
    /// The seats were given back (the saga compensated).
    Cancelled,
}

impl ReservationStatus {
    /// `RESERVED` or `CANCELLED`, as stored and serialised.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "RESERVED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReservationStatus {
    type Err = ValueError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        [Self::Reserved, Self::Cancelled]
            .into_iter()
            .find(|status| status.as_str() == input)
            .ok_or_else(|| {
                ValueError::new(
                    "reservation status",
                    input,
                    "expected RESERVED or CANCELLED",
                )
            })
    }
}

/// Seats of one flight on one day held for a trip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeatReservation {
    /// The reservation's own id (a booking id: the trip's flight booking).
    pub reservation_id: BookingId,
    /// The trip the seats are for.
    pub trip_id: TripId,
    /// The flight.
    pub flight: FlightNumber,
    /// Its departure date.
    pub date: CalendarDate,
    /// How many seats: one per passenger.
    pub passengers: PassengerCount,
    /// What the seats cost: fare × passengers.
    pub total: Money,
    /// Whether the seats are still held.
    pub status: ReservationStatus,
}

impl SeatReservation {
    /// A new reservation of `passengers` seats of `inventory`'s flight for `trip_id`, priced at
    /// its fare. Taking the seats is the repository's job, atomically with storing this.
    pub fn new(
        reservation_id: BookingId,
        trip_id: TripId,
        inventory: &FlightInventory,
        passengers: PassengerCount,
    ) -> Self {
        let flight = inventory.flight();
        Self {
            reservation_id,
            trip_id,
            flight: flight.flight.clone(),
            date: flight.date,
            passengers,
            total: inventory.quote(passengers),
            status: ReservationStatus::Reserved,
        }
    }

    /// The flight and day the seats are on.
    pub fn flight_date(&self) -> FlightDate {
        FlightDate::new(self.flight.clone(), self.date)
    }

    /// How many seats the reservation holds while reserved.
    pub fn seats(&self) -> u32 {
        u32::from(self.passengers)
    }

    /// The same reservation, cancelled.
    #[must_use]
    pub fn cancelled(self) -> Self {
        Self {
            status: ReservationStatus::Cancelled,
            ..self
        }
    }
}

/// A reservation is what the saga's `CancelFlight` compensation undoes.
impl ActionEffect for SeatReservation {
    const WORDING: Wording = Wording {
        effect: "reservation",
        compensation: "cancellation",
        action_did: "reserved seats for",
        took_effect: "committed",
        undoing: "releasing",
    };

    type Voided = ReservationVoided;

    fn trip_id(&self) -> TripId {
        self.trip_id
    }

    fn voided(trip_id: TripId, action: &IdempotencyKey) -> ReservationVoided {
        ReservationVoided {
            trip_id,
            action_idempotency_key: action.to_string(),
        }
    }
}

/// What a cancellation (the reservation's compensation) did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatCancellation {
    /// Seats given back to the inventory; 0 when there was nothing to undo.
    pub released_seats: u32,
    /// True when the reservation never took effect (or was already cancelled), so nothing was
    /// released.
    pub nothing_to_undo: bool,
}

impl SeatCancellation {
    /// `seats` were given back.
    pub const fn released(seats: u32) -> Self {
        Self {
            released_seats: seats,
            nothing_to_undo: false,
        }
    }

    /// There was no reservation to cancel.
    pub const fn nothing_to_undo() -> Self {
        Self {
            released_seats: 0,
            nothing_to_undo: true,
        }
    }
}

impl CompensationOutcome for SeatCancellation {
    fn nothing_to_undo() -> Self {
        Self::nothing_to_undo()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fare;
    use kernel::Currency;

    fn reservation() -> SeatReservation {
        let flight = FlightDate::new(
            FlightNumber::parse("NH106").unwrap(),
            CalendarDate::parse("2026-05-01").unwrap(),
        );
        let fare = Fare::new(Money::new(31_240, Currency::Usd)).unwrap();
        let inventory = FlightInventory::new(flight, 5, fare);
        SeatReservation::new(
            BookingId::new(),
            TripId::new(),
            &inventory,
            PassengerCount::new(2).unwrap(),
        )
    }

    #[test]
    fn a_new_reservation_is_priced_and_reserved() {
        let reservation = reservation();
        assert_eq!(reservation.total, Money::new(62_480, Currency::Usd));
        assert_eq!(reservation.status, ReservationStatus::Reserved);
        assert_eq!(reservation.seats(), 2);
        assert_eq!(reservation.flight_date().aggregate_id(), "NH106#2026-05-01");
        assert_eq!(
            reservation.clone().cancelled().status,
            ReservationStatus::Cancelled
        );
    }

    #[test]
    fn the_json_shape_is_stable() {
        let reservation = reservation();
        let json = serde_json::to_value(&reservation).unwrap();
        assert_eq!(json["status"], "RESERVED");
        assert_eq!(json["flight"], "NH106");
        assert_eq!(json["date"], "2026-05-01");
        assert_eq!(json["passengers"], 2);
        assert_eq!(json["total"]["amount_minor"], 62_480);
        let back: SeatReservation = serde_json::from_value(json).unwrap();
        assert_eq!(back, reservation);
    }

    #[test]
    fn statuses_parse_only_their_stored_names() {
        for status in [ReservationStatus::Reserved, ReservationStatus::Cancelled] {
            assert_eq!(status.as_str().parse::<ReservationStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(status.as_str())
            );
        }
        assert!("reserved".parse::<ReservationStatus>().is_err());
    }

    #[test]
    fn cancellations_say_whether_anything_was_undone() {
        assert_eq!(
            serde_json::to_value(SeatCancellation::released(2)).unwrap(),
            serde_json::json!({ "released_seats": 2, "nothing_to_undo": false })
        );
        assert!(SeatCancellation::nothing_to_undo().nothing_to_undo);
    }
}
