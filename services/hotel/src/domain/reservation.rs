//! A room reservation of a trip, and what cancelling one did.

use std::fmt;
use std::str::FromStr;

use kernel::compensation::{ActionEffect, CompensationOutcome, Wording};
use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, DateRange, GuestCount, Money, MoneyError, TripId, ValueError};
use serde::{Deserialize, Serialize};

use super::RoomsReleased;
use super::{HotelCode, RoomNight};

/// How many guests share a room. Rooms are doubles: 3 guests take 2 rooms.
pub const GUESTS_PER_ROOM: u32 = 2;

/// The rooms `guests` need: one per [`GUESTS_PER_ROOM`] guests, rounded up (1..=5 for 1..=9).
pub fn rooms_for(guests: GuestCount) -> u32 {
    u32::from(guests).div_ceil(GUESTS_PER_ROOM)
}

/// Whether a reservation still holds its rooms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    /// The rooms are taken for the trip.
    Reserved,
    /// The rooms were given back (the saga compensated the reservation).
    Cancelled,
}

impl ReservationStatus {
    /// `RESERVED` or `CANCELLED`: the JSON and stored form.
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
        match input {
            "RESERVED" => Ok(Self::Reserved),
            "CANCELLED" => Ok(Self::Cancelled),
            _ => Err(ValueError::new(
                "reservation status",
                input,
                "expected RESERVED or CANCELLED",
            )),
        }
    }
}

/// Rooms in one hotel for every night of a stay, for one trip: the `ReserveHotel` step's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoomReservation {
    /// The reservation's own id.
    pub reservation_id: BookingId,
    /// The trip it belongs to.
    pub trip_id: TripId,
    /// The hotel.
    pub hotel: HotelCode,
    /// Check-in to check-out; a room is taken on each night.
    pub stay: DateRange,
    /// Rooms taken on each night.
    pub rooms: u32,
    /// What the stay costs: the sum over its nights of the nightly rate times the rooms.
    pub total: Money,
    /// Whether the rooms are still held.
    pub status: ReservationStatus,
}

impl RoomReservation {
    /// A new reservation of `rooms` rooms on every night of `stay`, priced from `nights` (the
    /// stay's nights, each on sale).
    ///
    /// # Errors
    /// When the nights' rates are in different currencies, or the total overflows.
    pub fn price(
        reservation_id: BookingId,
        trip_id: TripId,
        hotel: HotelCode,
        stay: DateRange,
        rooms: u32,
        nights: &[RoomNight],
    ) -> Result<Self, MoneyError> {
        let per_night = nights
            .iter()
            .map(|night| night.nightly_rate().checked_mul(rooms))
            .collect::<Result<Vec<_>, _>>()?;
        let currency = per_night
            .first()
            .map_or(kernel::Currency::Usd, |m| m.currency());
        let total = Money::sum(currency, per_night)?;
        Ok(Self {
            reservation_id,
            trip_id,
            hotel,
            stay,
            rooms,
            total,
            status: ReservationStatus::Reserved,
        })
    }
}

/// A reservation is what the saga's `CancelHotel` compensation undoes.
impl ActionEffect for RoomReservation {
    const WORDING: Wording = Wording {
        effect: "reservation",
        compensation: "cancellation",
        action_did: "reserved rooms for",
        took_effect: "committed",
        undoing: "releasing",
    };

    type Voided = RoomsReleased;

    fn trip_id(&self) -> TripId {
        self.trip_id
    }

    fn voided(trip_id: TripId, _: &IdempotencyKey) -> RoomsReleased {
        RoomsReleased::nothing_reserved(trip_id)
    }
}

/// What a `CancelHotel` compensation did: the `CancelHotel` step's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCancellation {
    /// Rooms given back on each night of the stay (0 when there was nothing to undo).
    pub released_rooms: u32,
    /// The reservation had not taken effect (or was undone already): nothing was released.
    pub nothing_to_undo: bool,
}

impl RoomCancellation {
    /// `rooms` rooms were given back on every night.
    pub fn released(rooms: u32) -> Self {
        Self {
            released_rooms: rooms,
            nothing_to_undo: false,
        }
    }

    /// There was nothing to give back.
    pub fn nothing_to_undo() -> Self {
        Self {
            released_rooms: 0,
            nothing_to_undo: true,
        }
    }
}

impl CompensationOutcome for RoomCancellation {
    fn nothing_to_undo() -> Self {
        Self::nothing_to_undo()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::HotelNight;
    use kernel::CalendarDate;

    fn date(text: &str) -> CalendarDate {
        CalendarDate::parse(text).unwrap()
    }

    #[test]
    fn two_guests_share_a_room() {
        let rooms: Vec<u32> = (1..=9)
            .map(|g| rooms_for(GuestCount::new(g).unwrap()))
            .collect();
        assert_eq!(rooms, [1, 1, 2, 2, 3, 3, 4, 4, 5]);
    }

    #[test]
    fn the_total_adds_each_nights_rate_times_the_rooms() {
        let hotel = HotelCode::parse("TOKYO01").unwrap();
        let stay = DateRange::new(date("2026-12-01"), date("2026-12-03")).unwrap();
        let nights: Vec<RoomNight> = [("2026-12-01", "150.00 USD"), ("2026-12-02", "180.50 USD")]
            .iter()
            .map(|(night, rate)| {
                let night = HotelNight {
                    hotel: hotel.clone(),
                    night: date(night),
                };
                RoomNight::new(night, 5, Money::parse(rate).unwrap()).unwrap()
            })
            .collect();
        let reservation =
            RoomReservation::price(BookingId::new(), TripId::new(), hotel, stay, 2, &nights)
                .unwrap();
        assert_eq!(reservation.total, Money::parse("661.00 USD").unwrap());
        assert_eq!(reservation.status, ReservationStatus::Reserved);
    }

    #[test]
    fn statuses_have_one_spelling() {
        assert_eq!(
            serde_json::to_string(&ReservationStatus::Cancelled).unwrap(),
            "\"CANCELLED\""
        );
        assert_eq!(
            "RESERVED".parse::<ReservationStatus>().unwrap(),
            ReservationStatus::Reserved
        );
        assert!("reserved".parse::<ReservationStatus>().is_err());
    }
}
