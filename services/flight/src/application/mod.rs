//! The flight service's use cases, one per file (seeding included), and [`FlightService`], their
//! entry point.

mod add_flight;
mod cancel_seats;
mod reserve_seats;
mod service;

pub use add_flight::AddFlightError;
pub use cancel_seats::{CancelSeats, CancelSeatsError};
pub use reserve_seats::{ReserveSeats, ReserveSeatsError};
pub use service::FlightService;

#[cfg(test)]
pub(crate) mod doubles {
    //! A test double of the port for what the in-memory adapter never does: fail, or keep
    //! losing a race.

    use std::future::ready;

    use kernel::compensation::{Action, CompensationRecords, CompensationStore, Undo, Void};
    use kernel::dynamo::IdempotencyKey;
    use kernel::{BoxFuture, EventEnvelope, InfraError, InfraErrorKind, TripId};

    use crate::domain::{
        FlightDate, FlightInventory, FlightRepository, ReserveOutcome, SeatCancellation,
        SeatReservation,
    };

    /// A store that misbehaves.
    pub(crate) enum Double {
        /// Fails every call with an error of `kind`, except `inventory`, which finds `flight` (so
        /// a reservation gets as far as its write).
        Failing {
            kind: InfraErrorKind,
            flight: FlightInventory,
        },
        /// Never sees the action's record, and always finds it committed when it tries to void
        /// it: the race a cancellation must not loop on forever. Nothing else is called.
        AlwaysRacing,
    }

    impl Double {
        /// The answer of a call that only fails.
        fn fail<'a, T: Send + 'a>(&self) -> BoxFuture<'a, Result<T, InfraError>> {
            let Self::Failing { kind, .. } = self else {
                unreachable!("a racing cancellation makes no such call")
            };
            Box::pin(ready(Err(InfraError::new(*kind, "injected"))))
        }

        /// The answer of a call that fails, or finds nothing while racing.
        fn fail_or<'a, T: Send + 'a>(&self, racing: T) -> BoxFuture<'a, Result<T, InfraError>> {
            match self {
                Self::Failing { .. } => self.fail(),
                Self::AlwaysRacing => Box::pin(ready(Ok(racing))),
            }
        }
    }

    impl FlightRepository for Double {
        fn add_flight<'a>(
            &'a self,
            _: &'a FlightInventory,
        ) -> BoxFuture<'a, Result<(), InfraError>> {
            self.fail()
        }
        fn inventory<'a>(
            &'a self,
            _: &'a FlightDate,
        ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>> {
            let Self::Failing { flight, .. } = self else {
                unreachable!("a racing cancellation reads no inventory")
            };
            Box::pin(ready(Ok(Some(flight.clone()))))
        }
        fn reservation_of_trip(
            &self,
            _: TripId,
        ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>> {
            self.fail()
        }
        fn reserve<'a>(
            &'a self,
            _: &'a SeatReservation,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
            self.fail()
        }
    }

    impl CompensationRecords<SeatReservation, SeatCancellation> for Double {
        fn action<'a>(
            &'a self,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<Option<Action<SeatReservation>>, InfraError>> {
            self.fail_or(None)
        }
        fn void<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
            _: EventEnvelope,
        ) -> BoxFuture<'a, Result<Void<SeatCancellation>, InfraError>> {
            self.fail_or(Void::ActionTookEffect)
        }
        fn record<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            _: SeatCancellation,
        ) -> BoxFuture<'a, Result<SeatCancellation, InfraError>> {
            self.fail()
        }
    }

    impl CompensationStore for Double {
        type Effect = SeatReservation;
        type Outcome = SeatCancellation;
        fn records(&self) -> &dyn CompensationRecords<SeatReservation, SeatCancellation> {
            self
        }
        fn undo<'a>(
            &'a self,
            _: &'a SeatReservation,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<Undo<SeatCancellation>, InfraError>> {
            self.fail()
        }
    }
}
