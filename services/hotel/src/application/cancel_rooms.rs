//! Cancel rooms: the saga's `CancelHotel` compensation.
//!
//! The protocol is the kernel's ([`kernel::compensation`]): the action's effect is a room
//! reservation, undoing it gives its rooms back on every night and marks it and the action
//! cancelled, and voiding rules the action out so a late run fails with `AlreadyCancelled`
//! instead of taking rooms.

use kernel::compensation::{Action, CompensationStore, Undo, Void, Wording, compensate};
use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use crate::domain::{
    HotelRepository, ReleaseOutcome, ReserveAction, RoomCancellation, RoomReservation, VoidOutcome,
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

/// The port, as the kernel's compensation protocol sees it: the port keeps its own names for
/// what an action left behind and for the outcomes (they are this crate's public API), and this
/// maps them onto the protocol's.
struct Rooms<'a>(&'a dyn HotelRepository);

impl CompensationStore for Rooms<'_> {
    type Effect = RoomReservation;
    type Outcome = RoomCancellation;

    const WORDING: Wording = Wording {
        effect: "reservation",
        compensation: "cancellation",
        action_did: "reserved rooms for",
        took_effect: "committed",
        undoing: "releasing",
    };

    fn trip_of(effect: &RoomReservation) -> TripId {
        effect.trip_id
    }

    fn nothing_to_undo() -> RoomCancellation {
        RoomCancellation::nothing_to_undo()
    }

    async fn action(
        &self,
        action: &IdempotencyKey,
    ) -> Result<Option<Action<RoomReservation>>, InfraError> {
        Ok(self
            .0
            .reserve_action(action)
            .await?
            .map(|found| match found {
                ReserveAction::Reserved(effect) => Action::TookEffect(effect),
                ReserveAction::Cancelled => Action::Compensated,
            }))
    }

    async fn undo(
        &self,
        effect: &RoomReservation,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
    ) -> Result<Undo<RoomCancellation>, InfraError> {
        Ok(match self.0.release(effect, action, compensation).await? {
            ReleaseOutcome::Released(result) => Undo::Undone(result),
            ReleaseOutcome::AlreadyReleased => Undo::AlreadyUndone,
        })
    }

    async fn void(
        &self,
        trip_id: TripId,
        action: &IdempotencyKey,
        compensation: &IdempotencyKey,
    ) -> Result<Void<RoomCancellation>, InfraError> {
        Ok(match self.0.void(trip_id, action, compensation).await? {
            VoidOutcome::Voided(result) => Void::Voided(result),
            VoidOutcome::ActionTookEffect => Void::ActionTookEffect,
        })
    }

    async fn record(
        &self,
        compensation: &IdempotencyKey,
        outcome: RoomCancellation,
    ) -> Result<RoomCancellation, InfraError> {
        self.0.record_cancellation(compensation, outcome).await
    }
}

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
        &Rooms(repository),
        trip_id,
        &action_idempotency_key,
        &idempotency_key,
    )
    .await?)
}
