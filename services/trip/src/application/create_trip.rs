//! Create the trip, pending, as the saga's first step.

use kernel::InfraError;
use kernel::dynamo::IdempotencyKey;

use super::TripService;
use super::service::Changed;
use crate::domain::{Transition, Trip, TripRequest, TripStatus};

/// Why a trip could not be created. Variant names are the state machine's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum CreateTripError {
    /// The trip was settled before its creation ran: its saga already failed and compensated (a
    /// creation that arrives late after a timeout). Creating it now would resurrect it.
    #[error("trip {0} is already {1}; it will not be created again")]
    AlreadySettled(kernel::TripId, TripStatus),
    /// Transient.
    #[error(transparent)]
    StoreThrottled(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreUnavailable(InfraError),
    /// Transient.
    #[error(transparent)]
    StoreConflict(InfraError),
    /// Not retried.
    #[error(transparent)]
    StoreFailed(InfraError),
}

kernel::impl_from_infra_error!(CreateTripError);

impl TripService {
    /// Creates the trip `request` describes, pending. Creating it again is harmless: the same
    /// pending trip is returned.
    ///
    /// # Errors
    /// [`CreateTripError::AlreadySettled`] when the trip was cancelled before it was created.
    pub async fn create(
        &self,
        request: TripRequest,
        key: &IdempotencyKey,
    ) -> Result<Trip, CreateTripError> {
        let trip_id = request.trip_id;
        let changed = self
            .change(
                trip_id,
                key,
                |trip| match trip.status {
                    TripStatus::Pending => Transition::Unchanged,
                    current => Transition::Refused { current },
                },
                || Some(Trip::requested(request.clone())),
            )
            .await?;
        match changed {
            Changed::Done(trip, _) => Ok(trip),
            Changed::Refused(trip) => {
                Err(CreateTripError::AlreadySettled(trip.trip_id, trip.status))
            }
            Changed::Missing => unreachable!("a missing trip is created"),
        }
    }
}
