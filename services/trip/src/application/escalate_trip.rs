//! Mark the trip as needing attention: the saga's escalation, when compensations are left undone.

use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use super::TripService;
use super::service::Changed;
use crate::domain::{Trip, TripStatus};

impl TripService {
    /// Any status but confirmed → needs attention, with `reason` saying what is left undone.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn escalate(
        &self,
        trip_id: TripId,
        reason: &str,
        key: &IdempotencyKey,
    ) -> Result<Trip, InfraError> {
        let changed = self
            .change(
                trip_id,
                key,
                |trip| trip.needs_attention(reason.to_owned()),
                || {
                    Some(Trip::settled_without_request(
                        trip_id,
                        TripStatus::NeedsAttention,
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
