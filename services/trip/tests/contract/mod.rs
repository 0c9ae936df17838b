//! The contract every `TripRepository` adapter passes; run against the in-memory adapter and
//! against DynamoDB (moto) by the two test files beside this folder.

use std::sync::Arc;

use kernel::dynamo::IdempotencyKey;
use kernel::{AggregateVersion, TripId};
use trip::domain::{SaveOutcome, Transition, Trip, TripChange, TripRepository, TripStatus};

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(&format!("{text}-{}", TripId::new())).unwrap()
}

fn new_change(trip_id: TripId, key: IdempotencyKey) -> TripChange {
    let (trip, event) =
        Trip::settled_without_request(trip_id, TripStatus::Cancelled, "SoldOut".into());
    TripChange {
        trip,
        expected: AggregateVersion::NEW,
        event,
        key,
    }
}

/// Runs every case on `repository`.
pub(crate) async fn run_all(repository: Arc<dyn TripRepository>) {
    a_new_trip_is_stored_once(repository.as_ref()).await;
    a_change_needs_the_version_it_read(repository.as_ref()).await;
    a_repeated_step_gets_what_it_stored(repository.as_ref()).await;
    an_unknown_trip_is_none(repository.as_ref()).await;
}

async fn a_new_trip_is_stored_once(repository: &dyn TripRepository) {
    let trip_id = TripId::new();
    let SaveOutcome::Saved(saved) = repository
        .save(new_change(trip_id, key("create")))
        .await
        .unwrap()
    else {
        panic!("a new trip is saved");
    };
    assert_eq!(saved.version, AggregateVersion::NEW.next());
    assert_eq!(repository.get(trip_id).await.unwrap(), Some(saved));
    let again = repository
        .save(new_change(trip_id, key("other")))
        .await
        .unwrap();
    assert_eq!(
        again,
        SaveOutcome::Stale,
        "a second new trip with the same id is refused"
    );
}

async fn a_change_needs_the_version_it_read(repository: &dyn TripRepository) {
    let trip_id = TripId::new();
    repository
        .save(new_change(trip_id, key("create")))
        .await
        .unwrap();
    let read = repository.get(trip_id).await.unwrap().unwrap();
    let mut changed = read.clone();
    let Transition::Changed(event) = changed.needs_attention("CancelHotel failed".into()) else {
        panic!()
    };
    let first = TripChange {
        trip: changed.clone(),
        expected: read.version,
        event: event.clone(),
        key: key("escalate"),
    };
    let SaveOutcome::Saved(stored) = repository.save(first).await.unwrap() else {
        panic!("the first writer wins")
    };
    assert_eq!(stored.status, TripStatus::NeedsAttention);
    assert_eq!(stored.version, read.version.next());
    let late = TripChange {
        trip: changed,
        expected: read.version,
        event,
        key: key("escalate-late"),
    };
    assert_eq!(
        repository.save(late).await.unwrap(),
        SaveOutcome::Stale,
        "a writer with an old version loses"
    );
    assert_eq!(
        repository.get(trip_id).await.unwrap().unwrap().version,
        stored.version
    );
}

async fn a_repeated_step_gets_what_it_stored(repository: &dyn TripRepository) {
    let trip_id = TripId::new();
    let step = key("create");
    let SaveOutcome::Saved(first) = repository
        .save(new_change(trip_id, step.clone()))
        .await
        .unwrap()
    else {
        panic!()
    };
    let repeated = repository.save(new_change(trip_id, step)).await.unwrap();
    assert_eq!(repeated, SaveOutcome::AlreadyProcessed(first));
}

async fn an_unknown_trip_is_none(repository: &dyn TripRepository) {
    assert_eq!(repository.get(TripId::new()).await.unwrap(), None);
}
