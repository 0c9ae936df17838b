//! Seat inventory: a finite number of seats of one flight on one day, sold at one fare.

use std::fmt;

use kernel::{CalendarDate, FlightNumber, Money, PassengerCount, ValueError};
use serde::{Deserialize, Serialize};

/// A flight on a given day: what inventory, reservations and events are about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlightDate {
    /// The flight number, e.g. `NH106`.
    pub flight: FlightNumber,
    /// The departure date.
    pub date: CalendarDate,
}

impl FlightDate {
    /// `flight` departing on `date`.
    pub fn new(flight: FlightNumber, date: CalendarDate) -> Self {
        Self { flight, date }
    }

    /// `NH106#2026-05-01`: the id under which the flight's events are published (the outbox's
    /// aggregate id), the same text its inventory key embeds.
    pub fn aggregate_id(&self) -> String {
        format!("{}#{}", self.flight, self.date)
    }
}

impl fmt::Display for FlightDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.flight, self.date)
    }
}

/// The price of one seat: never negative, and small enough that a full booking
/// ([`PassengerCount::MAX`] seats) cannot overflow, so pricing a reservation cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Money", into = "Money")]
pub struct Fare(Money);

impl Fare {
    /// The largest fare, in minor units: `i64::MAX` / [`PassengerCount::MAX`] (9; a test keeps
    /// the two in step, as `From` is not usable in a constant).
    pub const MAX_MINOR: i64 = i64::MAX / 9;

    /// Checks a fare.
    ///
    /// # Errors
    /// When `amount` is negative or above [`Self::MAX_MINOR`] minor units.
    pub fn new(amount: Money) -> Result<Self, ValueError> {
        if (0..=Self::MAX_MINOR).contains(&amount.amount_minor()) {
            Ok(Self(amount))
        } else {
            Err(ValueError::new(
                "fare",
                amount,
                "expected a non-negative amount a nine-seat booking can be charged",
            ))
        }
    }

    /// The price of one seat.
    pub const fn amount(self) -> Money {
        self.0
    }

    /// The price of `passengers` seats: fare × passengers.
    pub fn for_passengers(self, passengers: PassengerCount) -> Money {
        // Cannot overflow: the fare is at most i64::MAX / 9 and there are at most 9 passengers.
        Money::new(
            self.0.amount_minor() * i64::from(passengers.get()),
            self.0.currency(),
        )
    }
}

impl TryFrom<Money> for Fare {
    type Error = ValueError;
    fn try_from(amount: Money) -> Result<Self, Self::Error> {
        Self::new(amount)
    }
}

impl From<Fare> for Money {
    fn from(fare: Fare) -> Self {
        fare.0
    }
}

/// A reservation asked for more seats than are left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{requested} seats requested, {seats_left} left")]
pub struct NotEnoughSeats {
    /// Seats asked for.
    pub requested: PassengerCount,
    /// Seats left when asked.
    pub seats_left: u32,
}

/// The seats still for sale on a flight on a day, and their fare.
///
/// The rules every adapter applies atomically: a reservation takes its seats only if that many
/// are left (the count never goes negative), and a cancellation gives back what its reservation
/// took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlightInventory {
    flight: FlightDate,
    seats_available: u32,
    fare: Fare,
}

impl FlightInventory {
    /// `seats_available` seats of `flight` at `fare` each.
    pub fn new(flight: FlightDate, seats_available: u32, fare: Fare) -> Self {
        Self {
            flight,
            seats_available,
            fare,
        }
    }

    /// Which flight and day.
    pub fn flight(&self) -> &FlightDate {
        &self.flight
    }

    /// Seats still for sale.
    pub fn seats_available(&self) -> u32 {
        self.seats_available
    }

    /// The price of one seat.
    pub fn fare(&self) -> Fare {
        self.fare
    }

    /// What `passengers` seats cost.
    pub fn quote(&self, passengers: PassengerCount) -> Money {
        self.fare.for_passengers(passengers)
    }

    /// Takes `passengers` seats.
    ///
    /// # Errors
    /// When fewer seats are left; nothing is taken then.
    pub fn take(&mut self, passengers: PassengerCount) -> Result<(), NotEnoughSeats> {
        let wanted = u32::from(passengers);
        match self.seats_available.checked_sub(wanted) {
            Some(left) => {
                self.seats_available = left;
                Ok(())
            }
            None => Err(NotEnoughSeats {
                requested: passengers,
                seats_left: self.seats_available,
            }),
        }
    }

    /// Gives back `seats` taken by a reservation.
    pub fn release(&mut self, seats: u32) {
        // Saturating: u32::MAX seats is not a real flight; a wrap to 0 would lose the stock.
        self.seats_available = self.seats_available.saturating_add(seats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::Currency;

    pub(crate) fn nh106() -> FlightDate {
        FlightDate::new(
            FlightNumber::parse("NH106").unwrap(),
            CalendarDate::parse("2026-05-01").unwrap(),
        )
    }

    fn passengers(n: u32) -> PassengerCount {
        PassengerCount::new(n).unwrap()
    }

    #[test]
    fn fares_are_non_negative_and_bounded() {
        assert_eq!(Fare::MAX_MINOR, i64::MAX / i64::from(PassengerCount::MAX));
        assert!(Fare::new(Money::new(-1, Currency::Usd)).is_err());
        assert!(Fare::new(Money::zero(Currency::Jpy)).is_ok());
        let max = Fare::new(Money::new(Fare::MAX_MINOR, Currency::Usd)).unwrap();
        assert_eq!(
            max.for_passengers(passengers(9)).amount_minor(),
            Fare::MAX_MINOR * 9
        );
        assert!(Fare::new(Money::new(Fare::MAX_MINOR + 1, Currency::Usd)).is_err());
    }

    #[test]
    fn the_price_is_fare_times_passengers() {
        let inventory = FlightInventory::new(
            nh106(),
            10,
            Fare::new(Money::parse("312.40 USD").unwrap()).unwrap(),
        );
        assert_eq!(
            inventory.quote(passengers(3)),
            Money::parse("937.20 USD").unwrap()
        );
    }

    #[test]
    fn seats_are_taken_only_when_enough_are_left() {
        let fare = Fare::new(Money::new(100, Currency::Usd)).unwrap();
        let mut inventory = FlightInventory::new(nh106(), 3, fare);
        inventory.take(passengers(2)).unwrap();
        assert_eq!(inventory.seats_available(), 1);
        assert_eq!(
            inventory.take(passengers(2)),
            Err(NotEnoughSeats {
                requested: passengers(2),
                seats_left: 1
            })
        );
        assert_eq!(
            inventory.seats_available(),
            1,
            "a refused take takes nothing"
        );
        inventory.take(passengers(1)).unwrap();
        assert_eq!(inventory.seats_available(), 0);
        inventory.release(3);
        assert_eq!(inventory.seats_available(), 3);
    }

    #[test]
    fn a_flight_date_reads_well_and_keys_its_events() {
        assert_eq!(nh106().to_string(), "NH106 on 2026-05-01");
        assert_eq!(nh106().aggregate_id(), "NH106#2026-05-01");
    }
}
