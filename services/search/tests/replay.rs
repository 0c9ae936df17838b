//! The replay of the dead-letter queue: each kind of message, what stays, and that a replay is
//! safe to run again and beside newer documents.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use kernel::stream::ChangeRecord;
use kernel::{BoxFuture, InfraError, TripId};
use search::application::{Projector, Replay, ReplayReport};
use search::domain::{
    BatchLocation, DeadLetter, DeadLetters, Letter, SearchRepository, StreamArchive,
};
use search::infrastructure::{InMemoryDeadLetters, InMemorySearchRepository};
use support::{STREAM, life, poison_record, records};
use trip::domain::TripStatus;

/// A stream that still holds some shards' records, by shard id.
#[derive(Default)]
struct Archive {
    shards: HashMap<String, Vec<ChangeRecord>>,
}

impl StreamArchive for Archive {
    fn read_batch<'a>(
        &'a self,
        location: &'a BatchLocation,
    ) -> BoxFuture<'a, Result<Vec<ChangeRecord>, InfraError>> {
        let number = |r: &ChangeRecord| {
            r.change
                .sequence_number
                .as_deref()
                .unwrap_or_default()
                .parse::<u128>()
                .unwrap()
        };
        let first: u128 = location.start_sequence_number.parse().unwrap();
        let last: u128 = location.end_sequence_number.parse().unwrap();
        let records = self
            .shards
            .get(&location.shard_id)
            .map(|records| {
                records
                    .iter()
                    .filter(|r| (first..=last).contains(&number(r)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Box::pin(async move { Ok(records) })
    }
}

struct World {
    table: Arc<InMemorySearchRepository>,
    queue: Arc<InMemoryDeadLetters>,
    replay: Replay,
}

fn world(archive: Archive) -> World {
    let table = Arc::new(InMemorySearchRepository::new());
    let queue = Arc::new(InMemoryDeadLetters::new());
    let projector = Projector::new(table.clone(), queue.clone());
    World {
        replay: Replay::new(queue.clone(), Arc::new(archive), projector),
        table,
        queue,
    }
}

/// The body of Lambda's on-failure record for a stream batch.
fn on_failure(shard: &str, first: &ChangeRecord, last: &ChangeRecord) -> String {
    serde_json::json!({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 6},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": first.change.sequence_number,
            "endSequenceNumber": last.change.sequence_number,
            "batchSize": 2,
            "streamArn": STREAM
        }
    })
    .to_string()
}

async fn status(table: &InMemorySearchRepository, trip_id: TripId) -> Option<TripStatus> {
    table.get(trip_id).await.unwrap().map(|d| d.status)
}

#[tokio::test]
async fn a_letter_whose_record_projects_now_is_written_and_deleted() {
    // A record an older consumer could not project (the fix has shipped since).
    let trip = TripId::new();
    let stream = records(&life(trip, TripStatus::Confirmed), false);
    let w = world(Archive::default());
    w.queue
        .send(DeadLetter {
            reason: "unknown status CONFIRMED (consumer v1)".into(),
            record: stream[1].clone(),
        })
        .await
        .unwrap();

    let report = w.replay.run().await.unwrap();

    assert_eq!(
        (report.messages, report.replayed, report.written),
        (1, 1, 1)
    );
    assert!(report.is_clean(), "{report}");
    assert_eq!(status(&w.table, trip).await, Some(TripStatus::Confirmed));
    assert!(w.queue.is_empty());
}

#[tokio::test]
async fn a_failed_batch_is_read_back_from_the_stream_and_projected() {
    let (a, b) = (TripId::new(), TripId::new());
    let mut shard = records(&life(a, TripStatus::Confirmed), false);
    let mut other = records(&life(b, TripStatus::Cancelled), false);
    // Distinct sequence numbers on one shard, as the stream would have them.
    for (n, record) in other.iter_mut().enumerate() {
        record.change.sequence_number = Some(format!("{:021}", 200 + n));
    }
    shard.append(&mut other);
    let body = on_failure("shard-1", &shard[0], &shard[3]);
    let w = world(Archive {
        shards: HashMap::from([("shard-1".to_owned(), shard)]),
    });
    w.queue.push_body(body);

    let report = w.replay.run().await.unwrap();

    assert_eq!(report.written, 4, "{report}");
    assert_eq!((report.replayed, report.kept.len()), (1, 0), "{report}");
    assert_eq!(status(&w.table, a).await, Some(TripStatus::Confirmed));
    assert_eq!(status(&w.table, b).await, Some(TripStatus::Cancelled));
    assert!(w.queue.is_empty());
}

#[tokio::test]
async fn what_cannot_be_replayed_stays_in_the_queue_with_the_reason() {
    let trip = TripId::new();
    let good = records(&life(trip, TripStatus::Confirmed), false);
    let poison = poison_record("000000000000000000150");
    let w = world(Archive {
        shards: HashMap::from([("shard-1".to_owned(), vec![good[0].clone(), poison.clone()])]),
    });
    w.queue
        .send(DeadLetter {
            reason: "unknown status".into(),
            record: poison.clone(),
        })
        .await
        .unwrap();
    // A batch of a shard the stream no longer keeps (older than 24 hours).
    w.queue
        .push_body(on_failure("shard-gone", &good[0], &good[1]));
    w.queue.push_body("{\"hello\": \"world\"}");
    // A batch with a poison record in it: the batch goes, the record waits on its own.
    w.queue.push_body(on_failure("shard-1", &good[0], &poison));

    let report = w.replay.run().await.unwrap();

    assert_eq!(report.messages, 5, "{report}");
    assert_eq!((report.replayed, report.set_aside), (1, 1), "{report}");
    let reasons: Vec<&str> = report.kept.iter().map(|k| k.reason.as_str()).collect();
    assert_eq!(reasons.len(), 4, "{report}");
    assert!(
        reasons[0].starts_with("still cannot be projected: "),
        "{report}"
    );
    assert!(
        reasons[1].contains("no longer holds shard shard-gone"),
        "{report}"
    );
    assert!(reasons[2].contains("neither a dead letter"), "{report}");
    assert!(
        reasons[3].starts_with("still cannot be projected: "),
        "{report}"
    );
    assert_eq!(status(&w.table, trip).await, Some(TripStatus::Pending));
    // What was kept shows again at once: the next replay (or a look at the queue) sees it.
    let again = w.replay.run().await.unwrap();
    assert_eq!(
        (again.messages, again.replayed, again.kept.len()),
        (4, 0, 4),
        "{again}"
    );
    let letters = w.queue.letters();
    assert_eq!(letters.len(), 4);
    assert!(
        letters
            .iter()
            .filter(|l| matches!(l, Letter::Record(letter) if letter.record == poison))
            .count()
            == 2,
        "{letters:?}"
    );
}

#[tokio::test]
async fn a_replay_run_twice_or_after_newer_documents_changes_nothing() {
    let trip = TripId::new();
    let stream = records(&life(trip, TripStatus::NeedsAttention), false);
    let w = world(Archive::default());
    // The live consumer got through the whole life in the meantime.
    let live = Projector::new(w.table.clone(), Arc::new(InMemoryDeadLetters::new()));
    assert_eq!(live.handle(&stream).await.retry_from, None);
    let latest = w.table.get(trip).await.unwrap();
    // An old record set aside twice (two deliveries of the same batch).
    for _ in 0..2 {
        w.queue
            .send(DeadLetter {
                reason: "timeout".into(),
                record: stream[0].clone(),
            })
            .await
            .unwrap();
    }

    let first = w.replay.run().await.unwrap();
    let second = w.replay.run().await.unwrap();

    assert_eq!(
        (first.replayed, first.stale, first.written),
        (2, 2, 0),
        "{first}"
    );
    assert_eq!(second, ReplayReport::default());
    assert_eq!(w.table.get(trip).await.unwrap(), latest);
    assert_eq!(latest.map(|d| d.status), Some(TripStatus::NeedsAttention));
}

/// A search table that fails every write.
struct Down;

impl SearchRepository for Down {
    fn apply(
        &self,
        _: search::domain::Projection,
    ) -> BoxFuture<'_, Result<search::domain::Applied, InfraError>> {
        Box::pin(async { Err(InfraError::unavailable("search table down")) })
    }

    fn get(
        &self,
        _: TripId,
    ) -> BoxFuture<'_, Result<Option<search::domain::TripDocument>, InfraError>> {
        Box::pin(async { Ok(None) })
    }

    fn query<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a str,
        _: Option<&'a str>,
        _: usize,
    ) -> BoxFuture<'a, Result<search::domain::BucketPage, InfraError>> {
        Box::pin(async { Ok(search::domain::BucketPage::default()) })
    }
}

#[tokio::test]
async fn a_store_failure_stops_the_replay_and_loses_no_message() {
    let stream = records(&life(TripId::new(), TripStatus::Confirmed), false);
    let queue = Arc::new(InMemoryDeadLetters::new());
    for record in &stream {
        queue
            .send(DeadLetter {
                reason: "timeout".into(),
                record: record.clone(),
            })
            .await
            .unwrap();
    }
    let replay = Replay::new(
        queue.clone(),
        Arc::new(Archive::default()),
        Projector::new(Arc::new(Down), queue.clone()),
    );

    let error = replay.run().await.unwrap_err();

    assert!(error.to_string().contains("search table down"), "{error}");
    assert_eq!(queue.len(), 2);
}
