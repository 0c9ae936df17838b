//! Add a flight: put its seats on sale on one day (seeding; not a saga step).

use kernel::{CalendarDate, FlightNumber, InfraError, Money, ValueError};

use crate::domain::{Fare, FlightDate, FlightInventory, FlightRepository};

/// Why a flight was not put on sale.
#[derive(Debug, thiserror::Error)]
pub enum AddFlightError {
    /// The fare cannot be sold: it is negative, or too large to charge a full party. Nothing was
    /// stored; the same request would be refused again.
    #[error("flight {flight}: {fare}")]
    InvalidFare {
        /// The flight and day.
        flight: FlightDate,
        /// What is wrong with the fare.
        fare: ValueError,
    },
    /// The store failed (see [`InfraError`] for which failures are worth retrying).
    #[error(transparent)]
    Store(#[from] InfraError),
}

impl AddFlightError {
    /// The store's failure, or this error back when the request itself was invalid: for a
    /// caller whose own errors are the store's only.
    ///
    /// # Errors
    /// `self`, when it is not the store's failure.
    pub fn into_store_error(self) -> Result<InfraError, Self> {
        match self {
            Self::Store(error) => Ok(error),
            invalid @ Self::InvalidFare { .. } => Err(invalid),
        }
    }
}

/// Puts `seats` seats of `flight` on `date` on sale at `fare` each. Idempotent: a flight already
/// on sale that day keeps its stock and fare.
pub(crate) async fn add_flight(
    repository: &dyn FlightRepository,
    flight: FlightNumber,
    date: CalendarDate,
    seats: u32,
    fare: Money,
) -> Result<(), AddFlightError> {
    let flight = FlightDate::new(flight, date);
    let fare = match Fare::new(fare) {
        Ok(fare) => fare,
        Err(error) => {
            return Err(AddFlightError::InvalidFare {
                flight,
                fare: error,
            });
        }
    };
    let inventory = FlightInventory::new(flight, seats, fare);
    Ok(repository.add_flight(&inventory).await?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kernel::Currency;

    use super::*;
    use crate::{FlightService, InMemoryFlightRepository};

    #[tokio::test]
    async fn an_invalid_fare_says_which_flight_and_what_is_wrong_and_stores_nothing() {
        let service = FlightService::new(Arc::new(InMemoryFlightRepository::new()));
        let (number, date) = (
            FlightNumber::parse("NH106").unwrap(),
            CalendarDate::parse("2026-05-01").unwrap(),
        );
        let error = service
            .add_flight(number.clone(), date, 4, Money::new(-1, Currency::Usd))
            .await
            .unwrap_err();
        let AddFlightError::InvalidFare { flight, fare } = &error else {
            panic!("expected an invalid fare, got {error:?}")
        };
        assert_eq!(*flight, FlightDate::new(number.clone(), date));
        assert_eq!(fare.what(), "fare");
        assert_eq!(
            error.to_string(),
            "flight NH106 on 2026-05-01: invalid fare `-0.01 USD`: expected a non-negative amount \
             a nine-seat booking can be charged"
        );
        assert!(error.into_store_error().is_err(), "not the store's failure");
        assert_eq!(service.seats_left(&number, date).await.unwrap(), None);
    }
}
