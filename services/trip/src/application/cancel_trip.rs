//! Cancel the trip: the compensation of its creation, the last one of the chain.

use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use super::TripService;
use super::service::Changed;
use crate::domain::{Trip, TripStatus};

impl TripService {
    /// Pending → cancelled with `reason`. A trip that was never created is recorded as
    /// cancelled, so its status can be read and a late creation cannot revive it. Cancelling
    /// again changes nothing.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn cancel(
        &self,
        trip_id: TripId,
        reason: &str,
        key: &IdempotencyKey,
    ) -> Result<Trip, InfraError> {
        let changed = self
            .change(
                trip_id,
                key,
                |trip| trip.cancel(reason.to_owned()),
                || {
                    Some(Trip::settled_without_request(
                        trip_id,
                        TripStatus::Cancelled,
                        reason.to_owned(),
                    ))
                },
            )
            .await?;
        match changed {
            Changed::Done(trip) | Changed::Refused(trip) => Ok(trip),
            Changed::Missing => unreachable!("a missing trip is recorded"),
        }
    }
}
