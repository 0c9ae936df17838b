//! Cancel seats: the saga's `CancelFlight` compensation.
//!
//! It runs after the reservation step failed or a later step did, and must cope with every state
//! the reservation can be in:
//!
//! | what the action key left behind | what cancelling does                                          |
//! |---------------------------------|---------------------------------------------------------------|
//! | a reservation                   | releases its seats, marks it and the action cancelled         |
//! | a cancelled action              | nothing (already released or ruled out): `nothing_to_undo`    |
//! | nothing (the action never committed, or has not *yet*: a timed-out invocation may still be running) | rules the action out, so a late run fails with `AlreadyCancelled` instead of taking seats: `nothing_to_undo` |
//!
//! Each path stores its result under the cancellation's own key, so a retried cancellation
//! returns the first one's answer.

use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{
    FlightRepository, ReleaseOutcome, ReserveAction, SeatCancellation, VoidOutcome,
};

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
#[derive(Debug, thiserror::Error, saga_runtime::StepError)]
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

/// How many look-up-then-write rounds a cancellation makes. A round is lost only when the action
/// commits between the look-up and the write; the next round then sees the reservation, which
/// cannot change again, so two rounds suffice and a third is margin.
const ROUNDS: usize = 3;

/// Runs [`CancelSeats`] on `repository`.
pub(crate) async fn cancel_seats(
    repository: &dyn FlightRepository,
    command: CancelSeats,
) -> Result<SeatCancellation, CancelSeatsError> {
    let CancelSeats {
        trip_id,
        action_idempotency_key: action,
        idempotency_key: cancel,
    } = command;
    for _ in 0..ROUNDS {
        match repository.reserve_action(&action).await? {
            Some(ReserveAction::Reserved(reservation)) => {
                if reservation.trip_id != trip_id {
                    return Err(InfraError::failed(format!(
                        "action {action} reserved seats for trip {}, not {trip_id}",
                        reservation.trip_id
                    ))
                    .into());
                }
                return match repository.release(&reservation, &action, &cancel).await? {
                    ReleaseOutcome::Released(result) => Ok(result),
                    // Another cancellation released it first; answer (and remember) "nothing".
                    ReleaseOutcome::AlreadyReleased => Ok(repository
                        .record_cancellation(&cancel, SeatCancellation::nothing_to_undo())
                        .await?),
                };
            }
            Some(ReserveAction::Cancelled) => {
                // Released or ruled out already, possibly by this very key: recording returns the
                // first answer stored under it, so a retry reports what it actually did.
                return Ok(repository
                    .record_cancellation(&cancel, SeatCancellation::nothing_to_undo())
                    .await?);
            }
            None => match repository.void(trip_id, &action, &cancel).await? {
                VoidOutcome::Voided(result) => return Ok(result),
                VoidOutcome::ActionTookEffect => {
                    tracing::info!(action_idempotency_key = %action, "the reservation committed during its cancellation; releasing it");
                }
            },
        }
    }
    Err(InfraError::conflict(format!(
        "the reservation {action} kept changing during {ROUNDS} cancellation rounds"
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kernel::{CalendarDate, Currency, FlightNumber, InfraErrorKind, Money, PassengerCount};
    use saga_runtime::StepError;

    use super::*;
    use crate::application::doubles::{AlwaysRacing, Failing};
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
            let service = FlightService::new(Arc::new(Failing {
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
        let service = FlightService::new(Arc::new(AlwaysRacing));
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
