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
    //! Test doubles of the port for what the in-memory adapter never does: fail, or keep losing
    //! a race.

    use std::future::ready;

    use kernel::BoxFuture;
    use kernel::dynamo::IdempotencyKey;
    use kernel::{InfraError, InfraErrorKind, TripId};

    use crate::domain::{
        FlightDate, FlightInventory, FlightRepository, ReleaseOutcome, ReserveAction,
        ReserveOutcome, SeatCancellation, SeatReservation, VoidOutcome,
    };

    /// Fails every call with an error of `kind`, except `inventory`, which finds `flight` (so a
    /// reservation gets as far as its write).
    pub(crate) struct Failing {
        pub(crate) kind: InfraErrorKind,
        pub(crate) flight: FlightInventory,
    }

    /// Never sees the action's record, and always finds it committed when it tries to void it:
    /// the race a cancellation must not loop on forever.
    pub(crate) struct AlwaysRacing;

    fn fail<T: Send + 'static>(kind: InfraErrorKind) -> BoxFuture<'static, Result<T, InfraError>> {
        Box::pin(ready(Err(InfraError::new(kind, "injected"))))
    }

    impl FlightRepository for Failing {
        fn add_flight<'a>(
            &'a self,
            _: &'a FlightInventory,
        ) -> BoxFuture<'a, Result<(), InfraError>> {
            fail(self.kind)
        }
        fn inventory<'a>(
            &'a self,
            _: &'a FlightDate,
        ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>> {
            Box::pin(ready(Ok(Some(self.flight.clone()))))
        }
        fn reservation_of_trip(
            &self,
            _: TripId,
        ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>> {
            fail(self.kind)
        }
        fn reserve_action<'a>(
            &'a self,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>> {
            fail(self.kind)
        }
        fn reserve<'a>(
            &'a self,
            _: &'a SeatReservation,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
            fail(self.kind)
        }
        fn release<'a>(
            &'a self,
            _: &'a SeatReservation,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>> {
            fail(self.kind)
        }
        fn void<'a>(
            &'a self,
            _: TripId,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
            fail(self.kind)
        }
        fn record_cancellation<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            _: SeatCancellation,
        ) -> BoxFuture<'a, Result<SeatCancellation, InfraError>> {
            fail(self.kind)
        }
    }

    impl FlightRepository for AlwaysRacing {
        fn add_flight<'a>(
            &'a self,
            _: &'a FlightInventory,
        ) -> BoxFuture<'a, Result<(), InfraError>> {
            unreachable!("not used by cancellations")
        }
        fn inventory<'a>(
            &'a self,
            _: &'a FlightDate,
        ) -> BoxFuture<'a, Result<Option<FlightInventory>, InfraError>> {
            unreachable!("not used by cancellations")
        }
        fn reservation_of_trip(
            &self,
            _: TripId,
        ) -> BoxFuture<'_, Result<Option<SeatReservation>, InfraError>> {
            unreachable!("not used by cancellations")
        }
        fn reserve_action<'a>(
            &'a self,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<Option<ReserveAction>, InfraError>> {
            Box::pin(ready(Ok(None)))
        }
        fn reserve<'a>(
            &'a self,
            _: &'a SeatReservation,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<ReserveOutcome, InfraError>> {
            unreachable!("not used by cancellations")
        }
        fn release<'a>(
            &'a self,
            _: &'a SeatReservation,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<ReleaseOutcome, InfraError>> {
            unreachable!("the action is never seen")
        }
        fn void<'a>(
            &'a self,
            _: TripId,
            _: &'a IdempotencyKey,
            _: &'a IdempotencyKey,
        ) -> BoxFuture<'a, Result<VoidOutcome, InfraError>> {
            Box::pin(ready(Ok(VoidOutcome::ActionTookEffect)))
        }
        fn record_cancellation<'a>(
            &'a self,
            _: &'a IdempotencyKey,
            _: SeatCancellation,
        ) -> BoxFuture<'a, Result<SeatCancellation, InfraError>> {
            unreachable!("the action is never seen")
        }
    }
}
