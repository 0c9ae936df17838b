//! [`TripService`]: the use cases over a [`TripRepository`].

use std::sync::Arc;

use kernel::dynamo::IdempotencyKey;
use kernel::{AggregateVersion, InfraError, TripId};

use crate::domain::{
    SaveOutcome, Transition, Trip, TripChange, TripEvent, TripRepository, TripStatus,
};

/// How often a change is re-decided when the trip changed under it before the step gives up
/// with `StoreConflict` (which the state machine retries with backoff).
const STALE_READS: usize = 3;

/// The trip's use cases.
#[derive(Clone)]
pub struct TripService {
    pub(super) repository: Arc<dyn TripRepository>,
}

impl TripService {
    /// The use cases over `repository`.
    pub fn new(repository: Arc<dyn TripRepository>) -> Self {
        Self { repository }
    }

    /// The trip, if it exists.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn get(&self, trip_id: TripId) -> Result<Option<Trip>, InfraError> {
        self.repository.get(trip_id).await
    }

    /// Reads the trip, applies `decide` and stores the result, again from a fresh read when the
    /// trip changed meanwhile. `absent` builds the trip when none is stored (or refuses by
    /// returning `None`).
    pub(super) async fn change(
        &self,
        trip_id: TripId,
        key: &IdempotencyKey,
        decide: impl Fn(&mut Trip) -> Transition,
        absent: impl Fn() -> Option<(Trip, TripEvent)>,
    ) -> Result<Changed, InfraError> {
        for _ in 0..STALE_READS {
            let (trip, event, expected, from) = match self.repository.get(trip_id).await? {
                Some(mut trip) => {
                    let expected = trip.version;
                    let from = trip.status;
                    match decide(&mut trip) {
                        Transition::Unchanged => return Ok(Changed::Done(trip, None)),
                        Transition::Refused { .. } => return Ok(Changed::Refused(trip)),
                        Transition::Changed(event) => (trip, event, expected, Some(from)),
                    }
                }
                None => match absent() {
                    None => return Ok(Changed::Missing),
                    Some((trip, event)) => (trip, event, AggregateVersion::NEW, None),
                },
            };
            let change = TripChange {
                trip,
                expected,
                event,
                key: key.clone(),
            };
            match self.repository.save(change).await? {
                SaveOutcome::Saved(trip) => {
                    return Ok(Changed::Done(trip, Some(Committed { from })));
                }
                SaveOutcome::AlreadyProcessed(trip) => return Ok(Changed::Done(trip, None)),
                SaveOutcome::Stale => {}
            }
        }
        Err(InfraError::conflict(format!(
            "trip {trip_id} kept changing while being updated"
        )))
    }
}

/// What [`TripService::change`] ended with.
pub(super) enum Changed {
    /// The trip as stored now, and the change this call committed: `None` when there was
    /// nothing to change, or an earlier call with the same key changed it (a retry). The facts a
    /// metric counts are counted on `Some`, so a retried step counts once.
    Done(Trip, Option<Committed>),
    /// The change is not allowed; the trip as it is.
    Refused(Trip),
    /// No trip, and none was created.
    Missing,
}

/// A change this call stored.
pub(super) struct Committed {
    /// The trip's status before it; `None` when the trip was created by it.
    pub(super) from: Option<TripStatus>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kernel::dynamo::IdempotencyKey;
    use kernel::{Money, TripId};

    use super::TripService;
    use crate::application::{ConfirmTripError, CreateTripError, Locked};
    use crate::domain::{Charges, TripRequest, TripStatus};
    use crate::infrastructure::InMemoryTripRepository;

    fn charges() -> Charges {
        let usd = |text| Money::parse(text).unwrap();
        Charges {
            flight: usd("600.00 USD"),
            hotel: usd("450.00 USD"),
            paid: usd("1050.00 USD"),
        }
    }

    fn key(text: &str) -> IdempotencyKey {
        IdempotencyKey::parse(text).unwrap()
    }

    fn request(trip_id: TripId) -> TripRequest {
        serde_json::from_value(serde_json::json!({
            "trip_id": trip_id,
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": "tok_visa_4242" }
        }))
        .unwrap()
    }

    fn service() -> (TripService, Arc<InMemoryTripRepository>) {
        let repository = Arc::new(InMemoryTripRepository::new());
        (TripService::new(repository.clone()), repository)
    }

    #[tokio::test]
    async fn creating_twice_creates_once() {
        let (trips, repository) = service();
        let trip_id = TripId::new();
        let first = trips
            .create(request(trip_id), &key("e1:CreateTrip"))
            .await
            .unwrap();
        let again = trips
            .create(request(trip_id), &key("e1:CreateTrip"))
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.status, TripStatus::Pending);
        assert_eq!(repository.outbox().len(), 1, "one TripRequested event");
    }

    #[tokio::test]
    async fn a_late_creation_does_not_revive_a_cancelled_trip() {
        let (trips, _) = service();
        let trip_id = TripId::new();
        let cancelled = trips
            .cancel(trip_id, "States.Timeout", &key("e1:CancelTrip"))
            .await
            .unwrap();
        assert_eq!(
            (cancelled.status, cancelled.request),
            (TripStatus::Cancelled, None)
        );
        let late = trips
            .create(request(trip_id), &key("e1:CreateTrip"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                late,
                CreateTripError::AlreadySettled(_, TripStatus::Cancelled)
            ),
            "{late}"
        );
        assert_eq!(
            trips.get(trip_id).await.unwrap().unwrap().status,
            TripStatus::Cancelled
        );
    }

    /// The semantic lock: once the pivot's guard has locked a trip, no confirmation can take
    /// effect, whatever its timing; once a trip is confirmed, the guard says so and changes
    /// nothing. Both answers hold when asked again.
    #[tokio::test]
    async fn the_lock_and_the_confirmation_exclude_each_other() {
        let (trips, _) = service();
        let locked = TripId::new();
        trips
            .create(request(locked), &key("e1:CreateTrip"))
            .await
            .unwrap();
        for _ in 0..2 {
            let answer = trips
                .lock(locked, "PaymentDeclined", &key("e1:LockTrip"))
                .await
                .unwrap();
            assert!(
                matches!(&answer, Locked::Locked(t) if t.status == TripStatus::Cancelling),
                "{answer:?}"
            );
        }
        let late = trips
            .confirm(locked, charges(), &key("e1:ConfirmTrip"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                late,
                ConfirmTripError::TripNotPending(_, TripStatus::Cancelling)
            ),
            "{late}"
        );
        let cancelled = trips
            .cancel(locked, "PaymentDeclined", &key("e1:CancelTrip"))
            .await
            .unwrap();
        assert_eq!(cancelled.status, TripStatus::Cancelled);
        assert!(matches!(
            trips
                .lock(locked, "again", &key("e1:LockTrip"))
                .await
                .unwrap(),
            Locked::Locked(_)
        ));

        let confirmed = TripId::new();
        trips
            .create(request(confirmed), &key("e2:CreateTrip"))
            .await
            .unwrap();
        trips
            .confirm(confirmed, charges(), &key("e2:ConfirmTrip"))
            .await
            .unwrap();
        for _ in 0..2 {
            let answer = trips
                .lock(confirmed, "Lambda.Unknown", &key("e2:LockTrip"))
                .await
                .unwrap();
            assert!(
                matches!(&answer, Locked::Confirmed(t) if t.status == TripStatus::Confirmed),
                "{answer:?}"
            );
        }
        assert!(matches!(
            trips
                .lock(TripId::new(), "x", &key("e3:LockTrip"))
                .await
                .unwrap(),
            Locked::Missing
        ));
    }

    #[tokio::test]
    async fn only_a_pending_trip_confirms() {
        let (trips, repository) = service();
        let missing = trips
            .confirm(TripId::new(), charges(), &key("e0:ConfirmTrip"))
            .await
            .unwrap_err();
        assert!(matches!(missing, ConfirmTripError::TripNotFound(_)));
        let trip_id = TripId::new();
        trips
            .create(request(trip_id), &key("e1:CreateTrip"))
            .await
            .unwrap();
        assert_eq!(
            trips
                .confirm(trip_id, charges(), &key("e1:ConfirmTrip"))
                .await
                .unwrap()
                .status,
            TripStatus::Confirmed
        );
        assert_eq!(
            trips
                .confirm(trip_id, charges(), &key("e1:ConfirmTrip"))
                .await
                .unwrap()
                .status,
            TripStatus::Confirmed
        );
        assert_eq!(repository.outbox().len(), 2, "TripRequested, TripConfirmed");
        let other = TripId::new();
        trips
            .create(request(other), &key("e2:CreateTrip"))
            .await
            .unwrap();
        trips
            .cancel(other, "SoldOut", &key("e2:CancelTrip"))
            .await
            .unwrap();
        let refused = trips
            .confirm(other, charges(), &key("e2:ConfirmTrip"))
            .await
            .unwrap_err();
        assert!(matches!(
            refused,
            ConfirmTripError::TripNotPending(_, TripStatus::Cancelled)
        ));
    }

    #[tokio::test]
    async fn escalation_marks_a_cancelled_trip_for_attention() {
        let (trips, repository) = service();
        let trip_id = TripId::new();
        trips
            .create(request(trip_id), &key("e1:CreateTrip"))
            .await
            .unwrap();
        trips
            .cancel(trip_id, "Declined", &key("e1:CancelTrip"))
            .await
            .unwrap();
        let escalated = trips
            .escalate(trip_id, "left undone: CancelHotel", &key("e1:EscalateTrip"))
            .await
            .unwrap();
        assert_eq!(escalated.status, TripStatus::NeedsAttention);
        assert_eq!(
            escalated.reason.as_deref(),
            Some("left undone: CancelHotel")
        );
        let types: Vec<String> = repository
            .outbox()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(
            types,
            ["TripRequested", "TripCancelled", "TripNeedsAttention"]
        );
    }
}
