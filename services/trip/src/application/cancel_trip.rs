//! Cancel the trip: the compensation of its creation, the last one of the chain.

use kernel::dynamo::IdempotencyKey;
use kernel::telemetry::metrics::{self, Compensated};
use kernel::{InfraError, TripId};

use super::TripService;
use super::service::Changed;
use crate::domain::{Trip, TripStatus};

impl TripService {
    /// Pending → cancelled with `reason`. A trip that was never created is recorded as
    /// cancelled, so its status can be read and a late creation cannot revive it. Cancelling
    /// again changes nothing.
    ///
    /// The call that stores the cancellation counts it: a cancelled booking
    /// (`trip.bookings.cancelled`), and the compensation of the trip's creation, tagged with
    /// the state named by `key` (`undone`, or `voided` for a trip that was never created).
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
            Changed::Done(trip, Some(committed)) if trip.status == TripStatus::Cancelled => {
                metrics::booking_cancelled();
                let result = match committed.from {
                    None => Compensated::Voided,
                    Some(_) => Compensated::Undone,
                };
                metrics::compensated_by(key, result);
                Ok(trip)
            }
            Changed::Done(trip, _) | Changed::Refused(trip) => Ok(trip),
            Changed::Missing => unreachable!("a missing trip is recorded"),
        }
    }
}
