//! [`FlightService`]: the flight service's use cases over one repository.

use std::sync::Arc;

use kernel::{CalendarDate, FlightNumber, InfraError, Money, TripId};

use super::add_flight::{AddFlightError, add_flight};
use super::cancel_seats::{CancelSeats, CancelSeatsError, cancel_seats};
use super::reserve_seats::{ReserveSeats, ReserveSeatsError, reserve_seats};
use crate::domain::{FlightDate, FlightRepository, SeatCancellation, SeatReservation};

/// The flight service. Cheap to clone; build it once per Lambda (cold start) or test.
#[derive(Clone)]
pub struct FlightService {
    repository: Arc<dyn FlightRepository>,
}

impl std::fmt::Debug for FlightService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightService").finish_non_exhaustive()
    }
}

impl FlightService {
    /// A service storing into `repository`.
    pub fn new(repository: Arc<dyn FlightRepository>) -> Self {
        Self { repository }
    }

    /// Puts `seats` seats of `flight` on `date` on sale at `fare` each (catalogue seeding).
    ///
    /// Idempotent: when the flight already has an inventory on that day it is kept as it is,
    /// stock and fare, so re-running a seed never gives back seats that were sold.
    ///
    /// # Errors
    /// [`AddFlightError::InvalidFare`] when `fare` is negative or too large to charge nine
    /// passengers; the store's failure otherwise.
    pub async fn add_flight(
        &self,
        flight: FlightNumber,
        date: CalendarDate,
        seats: u32,
        fare: Money,
    ) -> Result<(), AddFlightError> {
        add_flight(self.repository.as_ref(), flight, date, seats, fare).await
    }

    /// Seats still for sale on `flight` on `date`; `None` when it does not fly that day.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn seats_left(
        &self,
        flight: &FlightNumber,
        date: CalendarDate,
    ) -> Result<Option<u32>, InfraError> {
        let flight = FlightDate::new(flight.clone(), date);
        let inventory = self.repository.inventory(&flight).await?;
        Ok(inventory.map(|i| i.seats_available()))
    }

    /// The trip's most recent seat reservation, reserved or cancelled.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn reservation(
        &self,
        trip_id: TripId,
    ) -> Result<Option<SeatReservation>, InfraError> {
        self.repository.reservation_of_trip(trip_id).await
    }

    /// Reserves seats; see [`ReserveSeats`] and [`ReserveSeatsError`].
    ///
    /// # Errors
    /// `FlightNotFound`, `SoldOut`, `AlreadyCancelled` (business), or a store failure.
    pub async fn reserve_seats(
        &self,
        command: ReserveSeats,
    ) -> Result<SeatReservation, ReserveSeatsError> {
        reserve_seats(self.repository.as_ref(), command).await
    }

    /// Cancels the seats a reservation took, or rules it out if it has not happened; see
    /// [`CancelSeats`]. Succeeds with `nothing_to_undo` when there was nothing to release.
    ///
    /// # Errors
    /// A store failure.
    pub async fn cancel_seats(
        &self,
        command: CancelSeats,
    ) -> Result<SeatCancellation, CancelSeatsError> {
        cancel_seats(self.repository.as_ref(), command).await
    }
}
