//! The saga's input: what a client asks for, validated as it is deserialised.

use hotel::HotelCode;
use kernel::{CalendarDate, DateRange, FlightNumber, GuestCount, PassengerCount, TripId};
use payment::CardToken;
use serde::{Deserialize, Serialize};

/// A trip to book: one flight, one hotel stay, paid by card.
///
/// Every field is a value object, so a request that deserialises is valid: the API rejects bad
/// input before an execution starts, and a step never sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TripRequest {
    /// Assigned by the API; also the key of every item of the trip.
    pub trip_id: TripId,
    /// The flight.
    pub flight: FlightLeg,
    /// The hotel stay.
    pub hotel: HotelStay,
    /// How the trip is paid.
    pub payment: PaymentDetails,
}

/// Seats on one flight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlightLeg {
    /// e.g. `NH106`.
    pub flight_number: FlightNumber,
    /// The day of departure.
    pub date: CalendarDate,
    /// How many seats.
    pub passengers: PassengerCount,
}

/// Rooms in one hotel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HotelStay {
    /// The hotel.
    pub hotel: HotelCode,
    /// Check-in (`start`) to check-out (`end`).
    pub stay: DateRange,
    /// How many guests; the hotel decides how many rooms that takes.
    pub guests: GuestCount,
}

/// The card to charge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentDetails {
    /// A tokenised card, never a card number.
    pub card: CardToken,
}
