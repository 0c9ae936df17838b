//! The Flight service: seats of a flight on a day, reserved for trips and released when the trip
//! booking saga compensates.
//!
//! Layers, inner to outer:
//!
//! - [`domain`]: [`FlightInventory`] (finite seats, one [`Fare`]), [`SeatReservation`] and its
//!   [`ReservationStatus`], the events it publishes, and the storage port [`FlightRepository`].
//! - [`application`]: one use case per file ([`ReserveSeats`], [`CancelSeats`]) behind
//!   [`FlightService`], with one error enum per operation whose variant names are the saga's error
//!   names.
//! - [`infrastructure`]: [`InMemoryFlightRepository`] and [`DynamoFlightRepository`], two adapters
//!   of the port that pass the same contract tests.
//!
//! The saga glue (step functions, Lambda binaries) lives in the `trip` crate; this crate knows
//! nothing of the saga's payloads.
//!
//! ```
//! use std::sync::Arc;
//! use flight::{
//!     CalendarDate, CancelSeats, FlightNumber, FlightService, IdempotencyKey,
//!     InMemoryFlightRepository, Money, PassengerCount, ReserveSeats, ReserveSeatsError, TripId,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let service = FlightService::new(Arc::new(InMemoryFlightRepository::new()));
//! let (flight, date) = (FlightNumber::parse("NH106")?, CalendarDate::parse("2026-05-01")?);
//! service.add_flight(flight.clone(), date, 3, Money::parse("312.40 USD")?).await?;
//!
//! let trip_id = TripId::new();
//! let reserve = ReserveSeats {
//!     trip_id,
//!     flight: flight.clone(),
//!     date,
//!     passengers: PassengerCount::new(2)?,
//!     idempotency_key: IdempotencyKey::parse("exec-1:ReserveFlight")?,
//! };
//! let reservation = service.reserve_seats(reserve.clone()).await?;
//! assert_eq!(reservation.total, Money::parse("624.80 USD")?);
//! assert_eq!(service.seats_left(&flight, date).await?, Some(1));
//!
//! // A retry of the same invocation returns the same reservation and takes nothing more.
//! assert_eq!(service.reserve_seats(reserve.clone()).await?, reservation);
//! assert_eq!(service.seats_left(&flight, date).await?, Some(1));
//!
//! // The saga compensates: the seats go back on sale.
//! let cancellation = service
//!     .cancel_seats(CancelSeats {
//!         trip_id,
//!         action_idempotency_key: reserve.idempotency_key.clone(),
//!         idempotency_key: IdempotencyKey::parse("exec-1:CancelFlight")?,
//!     })
//!     .await?;
//! assert_eq!(cancellation.released_seats, 2);
//! assert_eq!(service.seats_left(&flight, date).await?, Some(3));
//!
//! // A late duplicate of the reservation cannot resurrect it.
//! let late = service.reserve_seats(reserve).await.unwrap_err();
//! assert!(matches!(late, ReserveSeatsError::AlreadyCancelled));
//! assert_eq!(saga_model::StepError::name(&late), "AlreadyCancelled");
//! # Ok(())
//! # }
//! ```

pub mod application;
pub mod domain;
pub mod infrastructure;

pub use application::{
    AddFlightError, CancelSeats, CancelSeatsError, FlightService, ReserveSeats, ReserveSeatsError,
};
pub use domain::{
    Fare, FlightDate, FlightInventory, FlightRepository, ReservationStatus, SeatCancellation,
    SeatReservation,
};
pub use infrastructure::{DynamoFlightRepository, InMemoryFlightRepository};
pub use kernel::dynamo::IdempotencyKey;
pub use kernel::{
    BookingId, CalendarDate, Currency, FlightNumber, InfraError, Money, PassengerCount, TripId,
};
