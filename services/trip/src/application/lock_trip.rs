//! Lock the trip against confirmation: the guard of the saga's pivot (`ConfirmTrip`), the first
//! thing that runs when the confirmation fails.

use kernel::dynamo::IdempotencyKey;
use kernel::{InfraError, TripId};

use super::TripService;
use super::service::Changed;
use crate::domain::{Trip, TripStatus};

/// What locking found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locked {
    /// The trip is confirmed: the confirmation took effect (its answer was lost), so nothing is
    /// to be undone.
    Confirmed(Trip),
    /// The trip can no longer be confirmed (cancelling, or settled otherwise): its bookings are
    /// to be undone.
    Locked(Trip),
    /// There is no trip: nothing can confirm it.
    Missing,
}

impl TripService {
    /// Pending → cancelling, with a conditional write, unless the trip is confirmed already.
    /// Either answer is final: a confirmation that arrives later finds the trip cancelling and
    /// is refused (`TripNotPending`), and a confirmed trip stays confirmed. Locking again
    /// answers the same.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn lock(
        &self,
        trip_id: TripId,
        reason: &str,
        key: &IdempotencyKey,
    ) -> Result<Locked, InfraError> {
        let changed = self
            .change(trip_id, key, |trip| trip.lock(reason.to_owned()), || None)
            .await?;
        Ok(match changed {
            Changed::Refused(trip) | Changed::Done(trip, _)
                if trip.status == TripStatus::Confirmed =>
            {
                Locked::Confirmed(trip)
            }
            Changed::Done(trip, _) | Changed::Refused(trip) => Locked::Locked(trip),
            Changed::Missing => Locked::Missing,
        })
    }
}
