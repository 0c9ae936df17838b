//! Confirm the trip: the saga's last step, once flight, hotel and payment are in place.

use kernel::dynamo::IdempotencyKey;
use kernel::telemetry::metrics;
use kernel::{InfraError, TripId};

use super::TripService;
use super::service::Changed;
use crate::domain::{Charges, Trip, TripStatus};

/// Why a trip could not be confirmed. Variant names are the state machine's error names.
#[derive(Debug, thiserror::Error, saga_macros::StepError)]
pub enum ConfirmTripError {
    /// No such trip: the saga's first step did not create it.
    #[error("trip {0} does not exist")]
    TripNotFound(TripId),
    /// The trip was settled otherwise (cancelled, or needs attention).
    #[error("trip {0} is {1}, not pending")]
    TripNotPending(TripId, TripStatus),
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

kernel::impl_from_infra_error!(ConfirmTripError);

impl TripService {
    /// Pending → confirmed, for `charges`. Confirming a confirmed trip again returns it
    /// unchanged, with the charges it was confirmed for. The confirmation is counted
    /// (`trip.bookings.confirmed`) by the call that stores it, never by a retry.
    ///
    /// # Errors
    /// When the trip does not exist or is not pending.
    pub async fn confirm(
        &self,
        trip_id: TripId,
        charges: Charges,
        key: &IdempotencyKey,
    ) -> Result<Trip, ConfirmTripError> {
        let confirm = |trip: &mut Trip| trip.confirm(charges);
        match self.change(trip_id, key, confirm, || None).await? {
            Changed::Done(trip, committed) => {
                if committed.is_some() {
                    metrics::booking_confirmed();
                }
                Ok(trip)
            }
            Changed::Refused(trip) => Err(ConfirmTripError::TripNotPending(trip_id, trip.status)),
            Changed::Missing => Err(ConfirmTripError::TripNotFound(trip_id)),
        }
    }
}
