//! `ReserveFlight` and its compensation `CancelFlight`.

use flight::{
    CancelSeats, CancelSeatsError, ReserveSeats, ReserveSeatsError, SeatCancellation,
    SeatReservation,
};
use saga_runtime::{ActionRequest, CompensationRequest};

use super::{action_key, step_key};
use crate::TripContext;
use trip::domain::TripRequest;

/// Takes the seats the trip asks for.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn reserve(
    context: &TripContext,
    request: ActionRequest<TripRequest>,
) -> Result<SeatReservation, ReserveSeatsError> {
    let leg = &request.input.flight;
    let command = ReserveSeats {
        trip_id: request.input.trip_id,
        flight: leg.flight_number.clone(),
        date: leg.date,
        passengers: leg.passengers,
        idempotency_key: step_key(&request.context)?,
    };
    context.flights.reserve_seats(command).await
}

/// Releases the seats `ReserveFlight` took, if it took any.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn cancel(
    context: &TripContext,
    request: CompensationRequest<TripRequest, SeatReservation>,
) -> Result<SeatCancellation, CancelSeatsError> {
    let command = CancelSeats {
        trip_id: request.input.trip_id,
        action_idempotency_key: action_key(&request.action_idempotency_key)?,
        idempotency_key: step_key(&request.context)?,
    };
    context.flights.cancel_seats(command).await
}
