//! `ReserveHotel` and its compensation `CancelHotel`.

use hotel::{
    CancelRooms, CancelRoomsError, ReserveRooms, ReserveRoomsError, RoomCancellation,
    RoomReservation,
};
use saga_runtime::{ActionRequest, CompensationRequest};

use super::{action_key, step_key};
use crate::TripContext;
use trip::domain::TripRequest;

/// Takes the rooms the trip's stay needs.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn reserve(
    context: &TripContext,
    request: ActionRequest<TripRequest>,
) -> Result<RoomReservation, ReserveRoomsError> {
    let stay = &request.input.hotel;
    let command = ReserveRooms {
        trip_id: request.input.trip_id,
        hotel: stay.hotel.clone(),
        stay: stay.stay,
        guests: stay.guests,
        idempotency_key: step_key(&request.context)?,
    };
    context.hotels.reserve_rooms(command).await
}

/// Releases the rooms `ReserveHotel` took, if it took any.
#[tracing::instrument(skip_all, fields(trip_id = %request.input.trip_id))]
pub async fn cancel(
    context: &TripContext,
    request: CompensationRequest<TripRequest, RoomReservation>,
) -> Result<RoomCancellation, CancelRoomsError> {
    let command = CancelRooms {
        trip_id: request.input.trip_id,
        action_idempotency_key: action_key(&request.action_idempotency_key)?,
        idempotency_key: step_key(&request.context)?,
    };
    context.hotels.cancel_rooms(command).await
}
