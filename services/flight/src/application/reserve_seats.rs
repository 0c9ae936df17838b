//! Reserve seats: the saga's `ReserveFlight` action.

use kernel::dynamo::IdempotencyKey;
use kernel::{BookingId, CalendarDate, FlightNumber, InfraError, PassengerCount, TripId};

use crate::domain::{FlightDate, FlightRepository, ReserveOutcome, SeatReservation};

/// Reserve `passengers` seats of `flight` on `date` for `trip_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReserveSeats {
    /// The trip the seats are for.
    pub trip_id: TripId,
    /// The flight.
    pub flight: FlightNumber,
    /// Its departure date.
    pub date: CalendarDate,
    /// How many seats.
    pub passengers: PassengerCount,
    /// The step invocation's key: every retry of it has one effect.
    pub idempotency_key: IdempotencyKey,
}

/// Why seats were not reserved. Variant names are the saga's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum ReserveSeatsError {
    /// The flight does not fly that day (no inventory). Business error.
    #[error("flight {0} not found")]
    FlightNotFound(FlightDate),
    /// Fewer seats are left than passengers. Business error.
    #[error("sold out: {requested} seats requested, {seats_left} left")]
    SoldOut {
        /// Seats asked for.
        requested: PassengerCount,
        /// Seats left when asked.
        seats_left: u32,
    },
    /// This invocation's reservation was compensated (or ruled out by a compensation that ran
    /// before it): it must not take seats. Business error.
    #[error("the reservation of this invocation was already cancelled")]
    AlreadyCancelled,
    /// Transient.
    #[error(transparent)]
    StoreThrottled(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreUnavailable(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreConflict(InfraError),
    /// Not transient.
    #[error(transparent)]
    StoreFailed(InfraError),
}

kernel::impl_from_infra_error!(ReserveSeatsError);

/// Runs [`ReserveSeats`] on `repository`.
pub(crate) async fn reserve_seats(
    repository: &dyn FlightRepository,
    command: ReserveSeats,
) -> Result<SeatReservation, ReserveSeatsError> {
    let flight = FlightDate::new(command.flight, command.date);
    // Read for the fare and to tell "no such flight" early. The seat count read here decides
    // nothing: the repository takes seats with a conditional write, so concurrent reservations
    // cannot oversell, and a retry of a committed reservation succeeds even when sold out since.
    let Some(inventory) = repository.inventory(&flight).await? else {
        return Err(ReserveSeatsError::FlightNotFound(flight));
    };
    let reservation = SeatReservation::new(
        BookingId::new(),
        command.trip_id,
        &inventory,
        command.passengers,
    );
    match repository
        .reserve(&reservation, &command.idempotency_key)
        .await?
    {
        ReserveOutcome::Reserved(reservation) => Ok(reservation),
        ReserveOutcome::AlreadyCancelled => Err(ReserveSeatsError::AlreadyCancelled),
        // The inventory vanished between the read and the write; flights are never deleted, so
        // this is an operator's hand at work, and "not found" is still the truth.
        ReserveOutcome::FlightNotFound => Err(ReserveSeatsError::FlightNotFound(flight)),
        ReserveOutcome::SoldOut { seats_left } => Err(ReserveSeatsError::SoldOut {
            requested: command.passengers,
            seats_left,
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kernel::{Currency, InfraErrorKind, Money};
    use saga_model::StepError;

    use super::*;
    use crate::application::doubles::Double;
    use crate::domain::{Fare, FlightInventory, ReservationStatus};
    use crate::{FlightService, InMemoryFlightRepository};

    fn command(trip_id: TripId, passengers: u32, key: &str) -> ReserveSeats {
        ReserveSeats {
            trip_id,
            flight: FlightNumber::parse("NH106").unwrap(),
            date: CalendarDate::parse("2026-05-01").unwrap(),
            passengers: PassengerCount::new(passengers).unwrap(),
            idempotency_key: IdempotencyKey::parse(key).unwrap(),
        }
    }

    fn flight() -> FlightInventory {
        FlightInventory::new(
            FlightDate::new(
                FlightNumber::parse("NH106").unwrap(),
                CalendarDate::parse("2026-05-01").unwrap(),
            ),
            4,
            Fare::new(Money::new(10_000, Currency::Jpy)).unwrap(),
        )
    }

    async fn service_with_flight() -> FlightService {
        let service = FlightService::new(Arc::new(InMemoryFlightRepository::new()));
        let flight = flight();
        service
            .add_flight(
                flight.flight().flight.clone(),
                flight.flight().date,
                flight.seats_available(),
                flight.fare().amount(),
            )
            .await
            .unwrap();
        service
    }

    #[tokio::test]
    async fn a_reservation_is_priced_fare_times_passengers() {
        let service = service_with_flight().await;
        let trip = TripId::new();
        let reservation = service
            .reserve_seats(command(trip, 3, "e:ReserveFlight"))
            .await
            .unwrap();
        assert_eq!(reservation.total, Money::new(30_000, Currency::Jpy));
        assert_eq!(reservation.status, ReservationStatus::Reserved);
        assert_eq!(reservation.trip_id, trip);
    }

    #[tokio::test]
    async fn business_refusals_carry_their_saga_names_and_details() {
        let service = service_with_flight().await;
        let sold_out = service
            .reserve_seats(command(TripId::new(), 5, "e1:ReserveFlight"))
            .await
            .unwrap_err();
        assert_eq!(sold_out.name(), "SoldOut");
        assert_eq!(sold_out.to_string(), "sold out: 5 seats requested, 4 left");

        let missing = ReserveSeats {
            date: CalendarDate::parse("2026-05-02").unwrap(),
            ..command(TripId::new(), 1, "e2:ReserveFlight")
        };
        let not_found = service.reserve_seats(missing).await.unwrap_err();
        assert_eq!(not_found.name(), "FlightNotFound");
        assert_eq!(
            not_found.to_string(),
            "flight NH106 on 2026-05-02 not found"
        );
    }

    #[tokio::test]
    async fn store_failures_map_to_the_four_store_names() {
        for kind in [
            InfraErrorKind::Throttled,
            InfraErrorKind::Unavailable,
            InfraErrorKind::Conflict,
            InfraErrorKind::Failed,
        ] {
            let service = FlightService::new(Arc::new(Double::Failing {
                kind,
                flight: flight(),
            }));
            let error = service
                .reserve_seats(command(TripId::new(), 1, "e:ReserveFlight"))
                .await
                .unwrap_err();
            assert_eq!(error.name(), kind.name());
        }
    }

    #[test]
    fn the_declared_names_are_the_sagas() {
        assert_eq!(
            <ReserveSeatsError as StepError>::NAMES,
            [
                "FlightNotFound",
                "SoldOut",
                "AlreadyCancelled",
                "StoreThrottled",
                "StoreUnavailable",
                "StoreConflict",
                "StoreFailed"
            ]
        );
    }
}
