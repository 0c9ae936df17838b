//! The projector on the change records a trip's life produces: each record type, duplicates,
//! out-of-order and late delivery, deletion, poison records and store failures; then a property:
//! whatever the order, duplication and batching, the search table ends at the document of the
//! trip's last change.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kernel::dynamo::{ItemBuilder, Key};
use kernel::stream::Change;
use kernel::{BoxFuture, InfraError, TripId};
use proptest::prelude::*;
use search::application::{Projector, projection};
use search::domain::{
    Applied, BucketPage, DeadLetters, Letter, Projection, SearchRepository, TripDocument,
};
use search::infrastructure::{InMemoryDeadLetters, InMemorySearchRepository};
use time::OffsetDateTime;
use trip::domain::TripStatus;

mod support;

use support::{STREAM, life, poison_record, records};

fn projector() -> (
    Projector,
    Arc<InMemorySearchRepository>,
    Arc<InMemoryDeadLetters>,
) {
    let table = Arc::new(InMemorySearchRepository::new());
    let letters = Arc::new(InMemoryDeadLetters::new());
    (
        Projector::new(table.clone(), letters.clone()),
        table,
        letters,
    )
}

fn document(table: &InMemorySearchRepository, trip_id: TripId) -> Option<TripDocument> {
    futures_lite(table.get(trip_id)).unwrap()
}

/// The repository's futures are ready at once (in memory).
fn futures_lite<T>(future: BoxFuture<'_, T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

#[tokio::test]
async fn each_record_type_projects_and_duplicates_or_late_records_change_nothing() {
    let trip_id = TripId::new();
    let versions = life(trip_id, TripStatus::Confirmed);
    let stream = records(&versions, false);
    let (projector, table, _) = projector();

    let inserted = projector.handle(&stream[..1]).await;
    assert_eq!(
        (inserted.written, inserted.retry_from.as_deref()),
        (1, None)
    );
    let pending = table.get(trip_id).await.unwrap().unwrap();
    assert_eq!(pending.status, TripStatus::Pending);
    assert_eq!(pending.version, 1);
    assert_eq!(
        pending.flight.as_ref().unwrap().departure_date.to_string(),
        "2026-12-03"
    );
    assert_eq!(pending.charges, None);

    let modified = projector.handle(&stream[1..]).await;
    assert_eq!(modified.written, 1);
    let confirmed = table.get(trip_id).await.unwrap().unwrap();
    assert_eq!(confirmed.status, TripStatus::Confirmed);
    assert_eq!(confirmed.charges.unwrap().paid.to_string(), "1050.00 USD");
    assert_eq!(confirmed.updated_at, "1970-01-01T00:01:41.000Z");

    // The whole stream again (a retried batch), and the INSERT alone, late.
    let again = projector.handle(&stream).await;
    assert_eq!((again.written, again.stale), (0, 2));
    assert_eq!(projector.handle(&stream[..1]).await.stale, 1);
    assert_eq!(table.get(trip_id).await.unwrap().unwrap(), confirmed);
    // The card token never reaches the search table.
    assert!(
        !serde_json::to_string(&confirmed)
            .unwrap()
            .contains("tok_visa")
    );
}

#[tokio::test]
async fn a_removed_trip_leaves_a_tombstone_that_older_records_cannot_lift() {
    let trip_id = TripId::new();
    let stream = records(&life(trip_id, TripStatus::Cancelled), true);
    let (projector, table, _) = projector();
    let outcome = projector.handle(&stream).await;
    assert_eq!(outcome.written, 3);
    assert_eq!(table.get(trip_id).await.unwrap(), None);
    assert!(table.is_empty());
    let late = projector.handle(&stream[..2]).await;
    assert_eq!(late.stale, 2);
    assert_eq!(table.get(trip_id).await.unwrap(), None);
}

#[tokio::test]
async fn a_poison_record_is_dead_lettered_and_the_batch_goes_on() {
    let good = TripId::new();
    let mut stream = records(&life(good, TripStatus::Confirmed), false);
    let poison = poison_record("000000000000000000050");
    stream.insert(1, poison.clone());
    // Another entity's record: not the search table's business.
    let booking = ItemBuilder::new(&Key::new(format!("TRIP#{good}"), "FLIGHT#1"))
        .entity_type("FLIGHT_BOOKING")
        .build();
    stream.push(
        Change::new(Key::new("x", "y"), None, Some(booking)).into_record(
            "000000000000000000060".into(),
            OffsetDateTime::UNIX_EPOCH,
            STREAM,
        ),
    );
    let (projector, table, letters) = projector();
    let outcome = projector.handle(&stream).await;
    assert_eq!(
        (
            outcome.written,
            outcome.dead_lettered,
            outcome.skipped,
            outcome.retry_from
        ),
        (2, 1, 1, None)
    );
    assert_eq!(
        table.get(good).await.unwrap().unwrap().status,
        TripStatus::Confirmed
    );
    let letters = letters.letters();
    let [Letter::Record(letter)] = letters.as_slice() else {
        panic!("one dead letter expected: {letters:?}");
    };
    assert_eq!(letter.record, poison);
    assert!(letter.reason.contains("trip_id"), "{}", letter.reason);
    // The letter is the record as Lambda delivered it: a replay projects it as it is.
    assert!(projection(&letter.record).is_err());
}

/// Fails the `fail_at`-th apply (1-based) with a throttling error, then works.
struct Flaky {
    inner: InMemorySearchRepository,
    calls: AtomicUsize,
    fail_at: usize,
}

impl SearchRepository for Flaky {
    fn apply(&self, projection: Projection) -> BoxFuture<'_, Result<Applied, InfraError>> {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            return Box::pin(async { Err(InfraError::throttled("search table throttled")) });
        }
        self.inner.apply(projection)
    }

    fn get(&self, trip_id: TripId) -> BoxFuture<'_, Result<Option<TripDocument>, InfraError>> {
        self.inner.get(trip_id)
    }

    fn query<'a>(
        &'a self,
        bucket: &'a str,
        first: &'a str,
        last: &'a str,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<BucketPage, InfraError>> {
        self.inner.query(bucket, first, last, after, limit)
    }
}

/// A queue that cannot be reached.
struct Unreachable;

impl DeadLetters for Unreachable {
    fn send(&self, _: search::domain::DeadLetter) -> BoxFuture<'_, Result<(), InfraError>> {
        Box::pin(async { Err(InfraError::unavailable("queue unreachable")) })
    }
}

#[tokio::test]
async fn a_store_failure_reports_the_record_to_retry_from_and_a_retry_completes() {
    let trip_id = TripId::new();
    let stream = records(&life(trip_id, TripStatus::NeedsAttention), false);
    let flaky = Arc::new(Flaky {
        inner: InMemorySearchRepository::new(),
        calls: AtomicUsize::new(0),
        fail_at: 2,
    });
    let projector = Projector::new(flaky.clone(), Arc::new(InMemoryDeadLetters::new()));
    let outcome = projector.handle(&stream).await;
    let second = stream[1].change.sequence_number.clone();
    assert_eq!(outcome.retry_from, second);
    assert_eq!(outcome.written, 1);
    let response = serde_json::to_value(outcome.response()).unwrap();
    assert_eq!(
        response,
        serde_json::json!({ "batchItemFailures": [{ "itemIdentifier": second }] })
    );
    // Lambda redelivers from the failed record.
    let retried = projector.handle(&stream[1..]).await;
    assert_eq!((retried.written, retried.retry_from), (2, None));
    assert_eq!(
        flaky.get(trip_id).await.unwrap().unwrap().status,
        TripStatus::NeedsAttention
    );

    // A poison record whose dead letter cannot be sent is retried, never dropped.
    let mut bad = stream[0].clone();
    bad.event_name = "UPSERT".into();
    let lost_queue = Projector::new(
        Arc::new(InMemorySearchRepository::new()),
        Arc::new(Unreachable),
    );
    assert_eq!(
        lost_queue.handle(&[bad.clone()]).await.retry_from,
        bad.change.sequence_number
    );
    assert_eq!(
        serde_json::to_value(search::application::BatchOutcome::default().response()).unwrap()["batchItemFailures"],
        serde_json::json!([])
    );
}

/// A trip's history as delivered: each record `copies` times, in `order`, in batches.
#[derive(Debug, Clone)]
struct Delivery {
    last: TripStatus,
    removed: bool,
    /// Which record each delivery is (indexes into the stream; every record at least once).
    order: Vec<usize>,
    /// Batch sizes over `order`.
    batches: Vec<usize>,
}

fn delivery() -> impl Strategy<Value = Delivery> {
    let statuses = prop::sample::select(TripStatus::ALL.to_vec());
    (statuses, any::<bool>())
        .prop_flat_map(|(last, removed)| {
            let count = life(TripId::new(), last).len() + usize::from(removed);
            let duplicates = prop::collection::vec(0..count, 0..6);
            (Just(last), Just(removed), duplicates, Just(count))
        })
        .prop_flat_map(|(last, removed, duplicates, count)| {
            let mut order: Vec<usize> = (0..count).collect();
            order.extend(duplicates);
            let len = order.len();
            (
                Just(last),
                Just(removed),
                Just(order).prop_shuffle(),
                prop::collection::vec(1..4usize, len),
            )
        })
        .prop_map(|(last, removed, order, batches)| Delivery {
            last,
            removed,
            order,
            batches,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Any interleaving, duplication and batch split of a trip's records converges to the
    /// document built from its last record alone.
    #[test]
    fn any_delivery_converges_to_the_last_change(delivery in delivery()) {
        let trip_id = TripId::new();
        let stream = records(&life(trip_id, delivery.last), delivery.removed);
        let (projector, table, letters) = projector();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut rest: &[usize] = &delivery.order;
        for size in &delivery.batches {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at((*size).min(rest.len()));
            rest = tail;
            let records: Vec<_> = batch.iter().map(|i| stream[*i].clone()).collect();
            let outcome = runtime.block_on(projector.handle(&records));
            prop_assert_eq!(outcome.retry_from, None);
        }
        if !rest.is_empty() {
            let records: Vec<_> = rest.iter().map(|i| stream[*i].clone()).collect();
            runtime.block_on(projector.handle(&records));
        }
        let expected = match projection(stream.last().unwrap()).unwrap().unwrap() {
            Projection::Upsert(document) => Some(document),
            Projection::Remove { .. } => None,
        };
        prop_assert_eq!(document(&table, trip_id), expected);
        prop_assert!(letters.is_empty());
    }
}
