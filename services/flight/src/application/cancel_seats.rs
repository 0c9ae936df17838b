//! Cancel seats: the saga's `CancelFlight` compensation.
//!
//! The protocol is the kernel's ([`kernel::compensation`]): the action's effect is a seat
//! reservation, undoing it releases its seats and marks it and the action cancelled, and voiding
//! rules the action out so a late run fails with `AlreadyCancelled` instead of taking seats.

use kernel::compensation::compensate;
use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{FlightRepository, SeatCancellation};

/// Cancel the seats reserved for `trip_id` by the invocation `action_idempotency_key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelSeats {
    /// The trip.
    pub trip_id: TripId,
    /// The idempotency key of the reservation to undo (the action's step invocation).
    pub action_idempotency_key: IdempotencyKey,
    /// This compensation invocation's key.
    pub idempotency_key: IdempotencyKey,
}

/// Why the cancellation did not complete: only the store can fail it, and the saga retries the
/// transient names. Variant names are the saga's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum CancelSeatsError {
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

kernel::impl_from_infra_error!(CancelSeatsError);

/// Runs [`CancelSeats`] on `repository`.
pub(crate) async fn cancel_seats(
    repository: &dyn FlightRepository,
    command: CancelSeats,
) -> Result<SeatCancellation, CancelSeatsError> {
    let CancelSeats {
        trip_id,
        action_idempotency_key,
        idempotency_key,
    } = command;
    Ok(compensate(
        repository,
        trip_id,
        &action_idempotency_key,
        &idempotency_key,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kernel::{CalendarDate, Currency, FlightNumber, InfraErrorKind, Money, PassengerCount};
    use saga_model::StepError;

    use super::*;
    use crate::application::doubles::Double;
    use crate::domain::{Fare, FlightDate, FlightInventory};
    use crate::{FlightService, InMemoryFlightRepository, ReserveSeats};

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    fn command(trip_id: TripId) -> CancelSeats {
        CancelSeats {
            trip_id,
            action_idempotency_key: key("e:ReserveFlight"),
            idempotency_key: key("e:CancelFlight"),
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

    #[tokio::test]
    async fn a_cancellation_releases_what_the_action_took() {
        let service = FlightService::new(Arc::new(InMemoryFlightRepository::new()));
        let flight = flight();
        let (number, date) = (flight.flight().flight.clone(), flight.flight().date);
        service
            .add_flight(number.clone(), date, 4, flight.fare().amount())
            .await
            .unwrap();
        let trip = TripId::new();
        service
            .reserve_seats(ReserveSeats {
                trip_id: trip,
                flight: number.clone(),
                date,
                passengers: PassengerCount::new(3).unwrap(),
                idempotency_key: key("e:ReserveFlight"),
            })
            .await
            .unwrap();
        assert_eq!(service.seats_left(&number, date).await.unwrap(), Some(1));
        let cancelled = service.cancel_seats(command(trip)).await.unwrap();
        assert_eq!(cancelled, SeatCancellation::released(3));
        assert_eq!(service.seats_left(&number, date).await.unwrap(), Some(4));
    }

    #[tokio::test]
    async fn a_cancellation_for_another_trip_is_refused() {
        let service = FlightService::new(Arc::new(InMemoryFlightRepository::new()));
        let flight = flight();
        let (number, date) = (flight.flight().flight.clone(), flight.flight().date);
        service
            .add_flight(number.clone(), date, 4, flight.fare().amount())
            .await
            .unwrap();
        service
            .reserve_seats(ReserveSeats {
                trip_id: TripId::new(),
                flight: number.clone(),
                date,
                passengers: PassengerCount::new(1).unwrap(),
                idempotency_key: key("e:ReserveFlight"),
            })
            .await
            .unwrap();
        let error = service
            .cancel_seats(command(TripId::new()))
            .await
            .unwrap_err();
        assert_eq!(error.name(), "StoreFailed");
        assert_eq!(service.seats_left(&number, date).await.unwrap(), Some(3));
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
                .cancel_seats(command(TripId::new()))
                .await
                .unwrap_err();
            assert_eq!(error.name(), kind.name());
        }
    }

    #[tokio::test]
    async fn a_race_that_never_settles_ends_in_a_transient_conflict() {
        let service = FlightService::new(Arc::new(Double::AlwaysRacing));
        let error = service
            .cancel_seats(command(TripId::new()))
            .await
            .unwrap_err();
        assert_eq!(error.name(), "StoreConflict");
        assert!(
            error.to_string().contains("3 cancellation rounds"),
            "{error}"
        );
    }

    #[test]
    fn the_declared_names_are_the_store_names() {
        assert_eq!(
            <CancelSeatsError as StepError>::NAMES,
            kernel::error::names::ALL
        );
    }
}
