//! Cancel rooms: the saga's `CancelHotel` compensation.
//!
//! The protocol is the kernel's ([`kernel::compensation`]): the action's effect is a room
//! reservation, undoing it gives its rooms back on every night and marks it and the action
//! cancelled, and voiding rules the action out so a late run fails with `AlreadyCancelled`
//! instead of taking rooms.

use kernel::compensation::compensate;
use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{HotelRepository, RoomCancellation};

/// Cancel the rooms reserved for `trip_id` by the invocation `action_idempotency_key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRooms {
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
pub enum CancelRoomsError {
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

kernel::impl_from_infra_error!(CancelRoomsError);

/// Runs [`CancelRooms`] on `repository`.
pub(crate) async fn cancel_rooms(
    repository: &dyn HotelRepository,
    command: CancelRooms,
) -> Result<RoomCancellation, CancelRoomsError> {
    let CancelRooms {
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
