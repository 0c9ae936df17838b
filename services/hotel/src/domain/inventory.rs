//! Room inventory: how many rooms a hotel has left on one night, and at what rate.

use std::fmt;

use kernel::{CalendarDate, Money, ValueError};

use super::HotelCode;

/// One night of one hotel: the unit rooms are sold in (a stay takes a room on each of its nights).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HotelNight {
    /// The hotel.
    pub hotel: HotelCode,
    /// The night, by the date it starts (check-in day).
    pub night: CalendarDate,
}

impl fmt::Display for HotelNight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on the night of {}", self.hotel, self.night)
    }
}

/// The rooms of a hotel on one night: how many it sells, how many are left, the nightly rate.
///
/// `rooms_available <= rooms_total` always; reservations take rooms only through a conditional
/// write (`rooms_available >= n`), so the count never goes below zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomNight {
    night: HotelNight,
    rooms_total: u32,
    rooms_available: u32,
    nightly_rate: Money,
}

impl RoomNight {
    /// A night on sale with all its `rooms` free, each at `nightly_rate` per night.
    ///
    /// # Errors
    /// When the rate is negative (a free room, rate zero, is allowed).
    pub fn new(night: HotelNight, rooms: u32, nightly_rate: Money) -> Result<Self, ValueError> {
        Self::restore(night, rooms, rooms, nightly_rate)
    }

    /// A night as stored, with `rooms_available` of its `rooms_total` left.
    ///
    /// # Errors
    /// When the rate is negative or more rooms are available than the hotel has.
    pub fn restore(
        night: HotelNight,
        rooms_total: u32,
        rooms_available: u32,
        nightly_rate: Money,
    ) -> Result<Self, ValueError> {
        if nightly_rate.is_negative() {
            return Err(ValueError::new(
                "nightly rate",
                nightly_rate,
                "expected zero or more",
            ));
        }
        if rooms_available > rooms_total {
            return Err(ValueError::new(
                "rooms available",
                rooms_available,
                "expected at most the hotel's rooms on that night",
            ));
        }
        Ok(Self {
            night,
            rooms_total,
            rooms_available,
            nightly_rate,
        })
    }

    /// Which hotel and night.
    pub fn night(&self) -> &HotelNight {
        &self.night
    }

    /// The rooms the hotel sells on this night.
    pub fn rooms_total(&self) -> u32 {
        self.rooms_total
    }

    /// The rooms still free.
    pub fn rooms_available(&self) -> u32 {
        self.rooms_available
    }

    /// The price of one room for this night.
    pub fn nightly_rate(&self) -> Money {
        self.nightly_rate
    }

    /// This night with `rooms` more taken, if that many are free (the in-memory adapter's write;
    /// DynamoDB does the same with a conditional update).
    pub(crate) fn take(&self, rooms: u32) -> Option<Self> {
        let rooms_available = self.rooms_available.checked_sub(rooms)?;
        Some(Self {
            rooms_available,
            ..self.clone()
        })
    }

    /// This night with `rooms` given back, never above the total.
    pub(crate) fn give_back(&self, rooms: u32) -> Self {
        Self {
            rooms_available: self
                .rooms_available
                .saturating_add(rooms)
                .min(self.rooms_total),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn night(rooms: u32, rate: &str) -> Result<RoomNight, ValueError> {
        let night = HotelNight {
            hotel: HotelCode::parse("TOKYO01").unwrap(),
            night: CalendarDate::parse("2026-12-01").unwrap(),
        };
        RoomNight::new(night, rooms, Money::parse(rate).unwrap())
    }

    #[test]
    fn a_negative_rate_or_more_free_rooms_than_rooms_is_refused() {
        assert!(night(5, "-1.00 USD").is_err());
        assert!(night(5, "0.00 USD").is_ok());
        let ok = night(5, "150.00 USD").unwrap();
        assert!(RoomNight::restore(ok.night().clone(), 5, 6, ok.nightly_rate()).is_err());
        assert_eq!(ok.night().to_string(), "TOKYO01 on the night of 2026-12-01");
    }

    #[test]
    fn rooms_are_taken_only_while_free_and_given_back_up_to_the_total() {
        let full = night(2, "150.00 USD").unwrap();
        let taken = full.take(2).unwrap();
        assert_eq!(taken.rooms_available(), 0);
        assert_eq!(taken.take(1), None);
        assert_eq!(taken.give_back(1).rooms_available(), 1);
        assert_eq!(taken.give_back(9).rooms_available(), 2);
    }
}
