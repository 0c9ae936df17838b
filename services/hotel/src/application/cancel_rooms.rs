//! Cancel rooms: the saga's `CancelHotel` compensation.
//!
//! It runs after the reservation step failed or a later step did, and must cope with every state
//! the reservation can be in:
//!
//! | what the action key left behind | what cancelling does                                         |
//! |---------------------------------|--------------------------------------------------------------|
//! | a reservation                   | gives its rooms back on every night, marks it and the action cancelled |
//! | a cancelled action              | nothing (already released or ruled out): `nothing_to_undo`   |
//! | nothing (the action never committed, or has not *yet*: a timed-out invocation may still be running) | rules the action out, so a late run fails with `AlreadyCancelled` instead of taking rooms: `nothing_to_undo` |
//!
//! Each path stores its result under the cancellation's own key, so a retried cancellation
//! returns the first one's answer.

use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{
    HotelRepository, ReleaseOutcome, ReserveAction, RoomCancellation, VoidOutcome,
};

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
#[derive(Debug, thiserror::Error, saga_runtime::StepError)]
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

/// How many look-up-then-write rounds a cancellation makes. A round is lost only when the action
/// commits between the look-up and the write; the next round then sees the reservation, which
/// cannot change again, so two rounds suffice and a third is margin.
const ROUNDS: usize = 3;

/// Runs [`CancelRooms`] on `repository`.
pub(crate) async fn cancel_rooms(
    repository: &dyn HotelRepository,
    command: CancelRooms,
) -> Result<RoomCancellation, CancelRoomsError> {
    let CancelRooms {
        trip_id,
        action_idempotency_key: action,
        idempotency_key: cancel,
    } = command;
    for _ in 0..ROUNDS {
        match repository.reserve_action(&action).await? {
            Some(ReserveAction::Reserved(reservation)) => {
                if reservation.trip_id != trip_id {
                    return Err(InfraError::failed(format!(
                        "action {action} reserved rooms for trip {}, not {trip_id}",
                        reservation.trip_id
                    ))
                    .into());
                }
                return match repository.release(&reservation, &action, &cancel).await? {
                    ReleaseOutcome::Released(result) => Ok(result),
                    // Another cancellation released it first; answer (and remember) "nothing".
                    ReleaseOutcome::AlreadyReleased => Ok(repository
                        .record_cancellation(&cancel, RoomCancellation::nothing_to_undo())
                        .await?),
                };
            }
            Some(ReserveAction::Cancelled) => {
                // Released or ruled out already, possibly by this very key: recording returns the
                // first answer stored under it, so a retry reports what it actually did.
                return Ok(repository
                    .record_cancellation(&cancel, RoomCancellation::nothing_to_undo())
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
