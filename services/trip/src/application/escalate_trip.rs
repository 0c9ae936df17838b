//! Mark the trip as needing attention: the saga's escalation, when compensations are left undone.

use kernel::dynamo::IdempotencyKey;
use kernel::telemetry::metrics;
use kernel::{InfraError, TripId};

use super::TripService;
use super::service::Changed;
use crate::domain::{Trip, TripStatus};

impl TripService {
    /// Any status but confirmed → needs attention, with `reason` saying what is left undone.
    /// The call that first marks the trip counts the escalation (`trip.saga.escalations`); a
    /// later one that only rewrites the reason (the escalation after `CancelTrip` found
    /// something held) does not.
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
            Changed::Done(trip, Some(committed))
                if committed.from != Some(TripStatus::NeedsAttention) =>
            {
                metrics::escalated();
                Ok(trip)
            }
            Changed::Done(trip, _) | Changed::Refused(trip) => Ok(trip),
            Changed::Missing => unreachable!("a missing trip is recorded"),
        }
    }
}
